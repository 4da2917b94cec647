"""Tenant pages: a meeting, and sending its highlights by hand (SPEC 3.1)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from core.errors import DomainError, NotFound
from integrations import selectors
from integrations.enums import Purpose
from integrations.forms import (
    CREATE,
    HighlightsSendForm,
    record_value,
)
from integrations.models import SyncMapping
from integrations.selectors import salesforce_connection_for_tenant
from integrations.services import actions
from integrations.services.actions import MatchPreview
from meetings import selectors as meeting_selectors
from meetings.models import Attendee, Highlight, Meeting
from tenants.access import TenantRequest, tenant_page
from tenants.models import Tenant


def _meeting_or_404(tenant: Tenant, external_id: str) -> Meeting:
    try:
        return meeting_selectors.meeting_get(tenant=tenant, external_id=external_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc


def _instance_url(tenant: Tenant) -> str:
    found = salesforce_connection_for_tenant(tenant=tenant)
    return found.instance_url.rstrip("/") if found else ""


def _send_options(preview: MatchPreview) -> list[dict[str, Any]]:
    """The records the send form offers: the one on offer first (chosen), then the
    other candidates."""
    offer = preview["offer"]
    records = [offer] if offer else []
    seen = {r["id"] for r in records}
    records += [c for c in preview["candidates"] if c["id"] not in seen]
    return [
        {
            "value": record_value(r, with_name=True),
            "record": r,
            "checked": offer is not None and r["id"] == offer["id"],
        }
        for r in records
    ]


@tenant_page()
def meeting_detail(request: TenantRequest, external_id: str) -> HttpResponse:
    membership = request.membership
    tenant = membership.tenant
    meeting = _meeting_or_404(tenant, external_id)
    highlights = list(meeting_selectors.highlight_list(meeting=meeting))
    selected = request.GET.getlist("highlights")
    preview = None
    if "preview" in request.GET:
        try:
            preview = actions.match_preview(meeting=meeting, highlight_ids=selected)
        except DomainError as exc:
            messages.error(request, exc.message)
    # Group the meeting's Salesforce records by what they belong to, for the table.
    state = selectors.meeting_sync_state(tenant=tenant, meeting=meeting)
    notes_by_highlight: dict[int, list[SyncMapping]] = {}
    meeting_records: list[SyncMapping] = []
    for record in state.records:
        if isinstance(record.local_object, Highlight):
            notes_by_highlight.setdefault(record.object_id, []).append(record)
        elif isinstance(record.local_object, Meeting):
            meeting_records.append(record)
    external = {a.pk for a in meeting_selectors.attendees_external(meeting=meeting)}
    attendees: list[Attendee] = list(meeting.attendees.all())
    context = {
        "tenant": tenant,
        "membership": membership,
        "meeting": meeting,
        "internal_attendees": [a for a in attendees if a.pk not in external],
        "external_attendees": [a for a in attendees if a.pk in external],
        "highlights": [
            {
                "highlight": h,
                "checked": h.external_id in selected,
                "records": [
                    r
                    for r in notes_by_highlight.get(h.pk, [])
                    if r.purpose == Purpose.HIGHLIGHT_NOTE
                ],
            }
            for h in highlights
        ],
        "meeting_note": next(
            (r for r in meeting_records if r.purpose == Purpose.MEETING_NOTE), None
        ),
        "meeting_records": meeting_records,
        "jobs": state.jobs,
        "instance_url": _instance_url(tenant),
        "preview": preview,
        "situation": preview["situation_label"] if preview else "",
        "send_options": _send_options(preview) if preview else [],
        "create_checked": preview is not None and not preview["offer"],
        "selected": selected,
        "CREATE": CREATE,
    }
    return render(request, "integrations/meeting.html", context)


def form_errors(form: forms.Form) -> str:
    return " ".join(
        f"{form.fields[name].label or name.replace('_', ' ').capitalize()}: {error}"
        if name in form.fields
        else str(error)
        for name, errors in form.errors.items()
        for error in errors
    )


@require_POST
@tenant_page()
def meeting_highlights_send(request: TenantRequest, external_id: str) -> HttpResponse:
    tenant = request.membership.tenant
    meeting = _meeting_or_404(tenant, external_id)
    highlight_ids = [h.external_id for h in meeting_selectors.highlight_list(meeting=meeting)]
    form = HighlightsSendForm(request.POST, highlight_ids=highlight_ids)
    if form.is_valid():
        try:
            job = actions.highlights_send(
                meeting=meeting, requested_by=request.user, **form.send_kwargs()
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            count = len(form.cleaned_data["highlights"])
            messages.success(
                request,
                f"Sending {count} highlight{'s' if count != 1 else ''} of "
                f"“{meeting.title}” to Salesforce: sync job #{job.pk}.",
            )
            return redirect("integrations:sync-log")
    else:
        messages.error(request, form_errors(form))
    # Back to the preview, with the same highlights chosen, to correct the answer.
    query = urlencode({"highlights": request.POST.getlist("highlights"), "preview": 1}, doseq=True)
    return redirect(f"{reverse('integrations:meeting', args=[meeting.external_id])}?{query}")


# --- the sync log, with answers to jobs waiting for a person --------------------------------


urlpatterns = [
    path("meetings/<str:external_id>/", meeting_detail, name="meeting"),
    path("meetings/<str:external_id>/send/", meeting_highlights_send, name="meeting-send"),
]
