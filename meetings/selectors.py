"""Reads of meetings and activities, always within one tenant."""

from __future__ import annotations

import datetime as dt

from django.db.models import Prefetch, QuerySet

from core.errors import NotFound
from meetings.models import Activity, Attendee, Highlight, Meeting
from tenants.models import Tenant


def meeting_list(
    *,
    tenant: Tenant,
    status: str | None = None,
    start_after: dt.datetime | None = None,
    start_before: dt.datetime | None = None,
) -> QuerySet[Meeting]:
    meetings = Meeting.objects.filter(tenant=tenant).prefetch_related(
        Prefetch("attendees", queryset=Attendee.objects.order_by("email"))
    )
    if status:
        meetings = meetings.filter(status=status)
    if start_after:
        meetings = meetings.filter(start__gte=start_after)
    if start_before:
        meetings = meetings.filter(start__lt=start_before)
    return meetings.select_related("tenant", "transcript").order_by("-start", "id")


def meeting_get(*, tenant: Tenant, external_id: str) -> Meeting:
    meeting = meeting_list(tenant=tenant).filter(external_id=external_id).first()
    if meeting is None:
        raise NotFound(f"No meeting with external id '{external_id}'.")
    return meeting


def attendees_external(*, meeting: Meeting) -> list[Attendee]:
    """Attendees outside the tenant's own domains: the only ones matched in Salesforce."""
    tenant = meeting.tenant
    return [a for a in meeting.attendees.all() if not tenant.is_internal_email(a.email)]


def highlight_list(*, meeting: Meeting, include_deleted: bool = False) -> QuerySet[Highlight]:
    highlights = Highlight.objects.filter(tenant=meeting.tenant, meeting=meeting)
    if not include_deleted:
        highlights = highlights.filter(is_deleted=False)
    return highlights.order_by("offset_seconds", "id")


def highlight_get(*, tenant: Tenant, meeting_external_id: str, external_id: str) -> Highlight:
    highlight = (
        Highlight.objects.select_related("meeting", "tenant")
        .filter(
            tenant=tenant,
            meeting__external_id=meeting_external_id,
            external_id=external_id,
            is_deleted=False,
        )
        .first()
    )
    if highlight is None:
        raise NotFound(f"No highlight '{external_id}' on meeting '{meeting_external_id}'.")
    return highlight


def activity_list(
    *,
    tenant: Tenant,
    kind: str | None = None,
    started_after: dt.datetime | None = None,
    started_before: dt.datetime | None = None,
) -> QuerySet[Activity]:
    activities = Activity.objects.filter(tenant=tenant).prefetch_related("participants")
    if kind:
        activities = activities.filter(kind=kind)
    if started_after:
        activities = activities.filter(started_at__gte=started_after)
    if started_before:
        activities = activities.filter(started_at__lt=started_before)
    return activities.order_by("-started_at", "id")


def activity_get(*, tenant: Tenant, external_id: str) -> Activity:
    activity = activity_list(tenant=tenant).filter(external_id=external_id).first()
    if activity is None:
        raise NotFound(f"No activity with external id '{external_id}'.")
    return activity
