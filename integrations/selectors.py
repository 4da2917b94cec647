"""Reads of sync state, always within one tenant."""

from __future__ import annotations

import functools
import operator
from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.contrib.contenttypes.prefetch import GenericPrefetch
from django.db import models
from django.db.models import Prefetch, Q, QuerySet

from core.errors import NotFound
from integrations.models import (
    IntegrationSettings,
    OutsidePerson,
    SalesforceConnection,
    SyncAttempt,
    SyncJob,
    SyncMapping,
)
from meetings.models import Activity, ActivityParticipant, Attendee, Highlight, Meeting
from scheduler.models import Booking
from tenants.emails import email_is_internal
from tenants.models import Tenant


def sync_jobs_for_object(*, tenant: Tenant, local_object: models.Model) -> QuerySet[SyncJob]:
    return SyncJob.objects.filter(
        tenant=tenant,
        content_type=ContentType.objects.get_for_model(local_object),
        object_id=local_object.pk,
    ).order_by("-created_at", "-id")


def sync_mappings_for_object(
    *, tenant: Tenant, local_object: models.Model
) -> QuerySet[SyncMapping]:
    return SyncMapping.objects.filter(
        tenant=tenant,
        content_type=ContentType.objects.get_for_model(local_object),
        object_id=local_object.pk,
    ).order_by("purpose")


def _local_objects() -> GenericPrefetch[str]:
    """Load the local object of each job or mapping, with what names it (a highlight's
    meeting, a participant's activity), in one query per kind of object."""
    return GenericPrefetch(
        "local_object",
        [
            Meeting.objects.all(),
            Highlight.objects.select_related("meeting"),
            Attendee.objects.select_related("meeting"),
            Activity.objects.prefetch_related("participants"),
            ActivityParticipant.objects.select_related("activity"),
            Booking.objects.all(),
        ],
    )


def sync_jobs_with_objects(jobs: QuerySet[SyncJob]) -> QuerySet[SyncJob]:
    """Jobs of any tenants, each with its tenant and its local object and what names it
    (see `sync_object_label`), in a number of queries that does not grow with the rows."""
    return jobs.select_related("tenant", "content_type").prefetch_related(_local_objects())


def sync_job_list(
    *, tenant: Tenant, state: str | None = None, operation: str | None = None
) -> QuerySet[SyncJob]:
    jobs = SyncJob.objects.filter(tenant=tenant).select_related("content_type")
    if state:
        jobs = jobs.filter(state=state)
    if operation:
        jobs = jobs.filter(operation=operation)
    return jobs.prefetch_related(_local_objects()).order_by("-created_at", "-id")


def sync_job_error_codes() -> list[str]:
    """The Salesforce error codes jobs of any tenant last ended an attempt with."""
    codes = (
        SyncJob.objects.exclude(last_error_code="")
        .order_by("last_error_code")
        .values_list("last_error_code", flat=True)
        .distinct()
    )
    return list(codes)


def sync_job_get(*, tenant: Tenant, job_id: int) -> SyncJob:
    job = (
        sync_job_list(tenant=tenant)
        .prefetch_related(
            Prefetch("attempts", queryset=SyncAttempt.objects.order_by("started_at", "id"))
        )
        .filter(pk=job_id)
        .first()
    )
    if job is None:
        raise NotFound(f"No sync job {job_id}.")
    return job


@dataclass
class SyncState:
    """Where some local objects stand in Salesforce: the records they are, and the
    latest jobs about them."""

    records: list[SyncMapping]
    jobs: list[SyncJob]


SYNC_STATE_JOBS = 20


def _sync_state(*, tenant: Tenant, objects: Sequence[models.Model]) -> SyncState:
    ids_by_type: dict[int, list[int]] = {}
    for obj in objects:
        content_type = ContentType.objects.get_for_model(obj)
        ids_by_type.setdefault(content_type.pk, []).append(obj.pk)
    of_objects = functools.reduce(
        operator.or_,
        (Q(content_type_id=ct_id, object_id__in=ids) for ct_id, ids in ids_by_type.items()),
    )
    records = (
        SyncMapping.objects.filter(of_objects, tenant=tenant)
        .select_related("content_type")
        .prefetch_related(_local_objects())
        .order_by("content_type_id", "object_id", "purpose")
    )
    jobs = sync_job_list(tenant=tenant).filter(of_objects)[:SYNC_STATE_JOBS]
    return SyncState(records=list(records), jobs=list(jobs))


def meeting_sync_state(*, tenant: Tenant, meeting: Meeting) -> SyncState:
    """The meeting's records (Note, Event, created Account/Opportunity), those of its
    attendees (Contacts, contact roles, event relations) and of its highlights (their
    Notes), with the jobs about any of them."""
    objects: list[models.Model] = [meeting]
    objects += list(Attendee.objects.filter(meeting=meeting, meeting__tenant=tenant))
    objects += list(Highlight.objects.filter(meeting=meeting, tenant=tenant))
    # Contacts the portal made belong to the tenant's outside person (one per address).
    emails = [a.email for a in objects if isinstance(a, Attendee)]
    objects += list(OutsidePerson.objects.filter(tenant=tenant, email__in=emails))
    return _sync_state(tenant=tenant, objects=objects)


def highlight_sync_state(*, tenant: Tenant, highlight: Highlight) -> SyncState:
    return _sync_state(tenant=tenant, objects=[highlight])


def activity_sync_state(*, tenant: Tenant, activity: Activity) -> SyncState:
    """The activity's Tasks and Leads are on its participants."""
    objects: list[models.Model] = [activity]
    objects += list(ActivityParticipant.objects.filter(activity=activity, activity__tenant=tenant))
    return _sync_state(tenant=tenant, objects=objects)


def booking_sync_state(*, tenant: Tenant, booking: Booking) -> SyncState:
    return _sync_state(tenant=tenant, objects=[booking])


def sync_object_ref(local_object: models.Model | None) -> str:
    """How a partner names a job's or record's local object: external ids, and an
    email for an attendee or participant ("m-1", "m-1/h2", "call-7/bob@x.example")."""
    if isinstance(local_object, Highlight):
        return f"{local_object.meeting.external_id}/{local_object.external_id}"
    if isinstance(local_object, Attendee):
        return f"{local_object.meeting.external_id}/{local_object.email}"
    if isinstance(local_object, ActivityParticipant):
        person = local_object.email or local_object.phone
        return f"{local_object.activity.external_id}/{person}"
    if isinstance(local_object, Meeting | Activity | Booking):
        return local_object.external_id
    if isinstance(local_object, OutsidePerson):
        return local_object.email
    return ""


def _clip(text: str, length: int = 60) -> str:
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"


def _people_named(emails: Sequence[str]) -> str:
    if not emails:
        return "nobody outside"
    more = len(emails) - 1
    return emails[0] + (f" and {more} more" if more else "")


def sync_object_label(local_object: models.Model | None, *, internal_domains: Sequence[str]) -> str:
    """A job's or record's local object in words ops recognise: its kind, its title or
    the outside people in it, and the external id partners name it by. Reads only what
    `sync_jobs_with_objects` loads."""
    if isinstance(local_object, Meeting):
        return f"Meeting “{_clip(local_object.title)}” ({local_object.external_id})"
    if isinstance(local_object, Highlight):
        meeting = local_object.meeting
        deleted = " (deleted)" if local_object.is_deleted else ""
        return (
            f"Highlight {local_object.external_id}{deleted} of “{_clip(meeting.title, 40)}” "
            f"({meeting.external_id})"
        )
    if isinstance(local_object, Attendee):
        return f"{local_object.email} at “{_clip(local_object.meeting.title, 40)}”"
    if isinstance(local_object, Activity):
        outside = [
            p.email or p.phone
            for p in local_object.participants.all()
            if not (p.email and email_is_internal(p.email, internal_domains))
        ]
        kind = local_object.get_kind_display()
        return f"{kind} with {_people_named(outside)} ({local_object.external_id})"
    if isinstance(local_object, ActivityParticipant):
        activity = local_object.activity
        kind = activity.get_kind_display().lower()
        return f"{local_object.email or local_object.phone} on {kind} {activity.external_id}"
    if isinstance(local_object, Booking):
        return f"Booking “{_clip(local_object.title)}” with {local_object.guest_email}"
    if isinstance(local_object, OutsidePerson):
        return local_object.email
    return ""


def sync_job_records(*, job: SyncJob) -> list[SyncMapping]:
    """The Salesforce records of what a job is about: a meeting's with its attendees' and
    highlights', an activity's Tasks (on its participants), a booking's, a highlight's."""
    obj = job.local_object
    if isinstance(obj, Meeting):
        return meeting_sync_state(tenant=job.tenant, meeting=obj).records
    if isinstance(obj, Activity):
        return activity_sync_state(tenant=job.tenant, activity=obj).records
    if obj is None:
        return []
    return _sync_state(tenant=job.tenant, objects=[obj]).records


def salesforce_connection_for_tenant(*, tenant: Tenant) -> SalesforceConnection | None:
    return SalesforceConnection.objects.filter(tenant=tenant).first()


def integration_settings_for_tenant(*, tenant: Tenant) -> IntegrationSettings | None:
    return IntegrationSettings.objects.filter(tenant=tenant).first()


def sync_job_log(*, tenant: Tenant, state: str | None = None) -> QuerySet[SyncJob]:
    """The tenant's sync log, newest first: each job with the attempts it made and the
    API calls they spent, computed in the one query."""
    return sync_job_list(tenant=tenant, state=state).annotate(
        attempts_made=models.Count("attempts"),
        api_calls_spent=models.Sum("attempts__api_calls", default=0),
    )
