"""Tenant pages: the meetings list, a meeting, and sending its highlights by hand
(SPEC 3.1).

A page load reads the portal's own data only. Salesforce is asked, at one API call of
the tenant's daily allowance each time, when the member asks: "Find the matching
records" (the match preview) or typing a record's name. A link from anywhere else never
spends the tenant's quota.

With htmx, those answers come back as fragments shown in place, and the highlights'
states are looked at again every two seconds while one is being sent; without it, the
same buttons load the whole page with the answer in it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_POST

from core.errors import DomainError, NotFound
from integrations import meeting_state, selectors
from integrations.enums import LINK_PURPOSES, Purpose
from integrations.filters_meetings import MeetingFilter
from integrations.forms import CREATE, OTHER, HighlightsSendForm, record_value
from integrations.meeting_state import SendState
from integrations.models import OutsidePerson, SyncMapping
from integrations.salesforce.matching import Situation
from integrations.services import actions
from integrations.services.actions import MatchPreview
from integrations.services.choices import ORGANISATIONS
from integrations.services.record_search import FoundRecord, salesforce_records_search
from integrations.views.lookups import lookup_refusal
from meetings import selectors as meeting_selectors
from meetings.models import Meeting
from tenants.access import TenantRequest, tenant_page
from tenants.models import Tenant

MEETINGS_PAGE_SIZE = 25
LATEST_SYNCS = 10


# --- the list ------------------------------------------------------------------------------


@tenant_page()
def meetings_list(request: TenantRequest) -> HttpResponse:
    tenant = request.membership.tenant
    meetings = meeting_state.meetings_with_send_state(meeting_selectors.meeting_list(tenant=tenant))
    found = MeetingFilter(request.GET, queryset=meetings)
    page = Paginator(found.qs, MEETINGS_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        {
            "meeting": meeting,
            "state": SendState(meeting.send_state),
            "outside": meeting_selectors.attendees_external(meeting=meeting),
        }
        for meeting in page.object_list
    ]
    filtered = any(request.GET.get(name) for name in found.filters)
    context = {"tenant": tenant, "filter": found, "page": page, "rows": rows, "filtered": filtered}
    return render(request, "integrations/meetings.html", context)


# --- a meeting -----------------------------------------------------------------------------


def _meeting_or_404(tenant: Tenant, external_id: str) -> Meeting:
    try:
        return meeting_selectors.meeting_get(tenant=tenant, external_id=external_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc


def _instance_url(tenant: Tenant) -> str:
    found = selectors.salesforce_connection_for_tenant(tenant=tenant)
    return found.instance_url.rstrip("/") if found else ""


@dataclass
class Destinations:
    """The records the send form offers, from a match preview or, when a form was
    refused, from what that form carried back."""

    situation: Situation | None = None
    options: list[dict[str, Any]] = field(default_factory=list)
    offers_creation: bool = False
    chosen: str = ""


def _from_preview(preview: MatchPreview) -> Destinations:
    """The one on offer first (chosen), then the other candidates."""
    offer = preview["offer"]
    records = [offer] if offer else []
    records += [c for c in preview["candidates"] if not offer or c["id"] != offer["id"]]
    situation = Situation(preview["situation"])
    return Destinations(
        situation=situation,
        options=[{"value": record_value(r, with_name=True), "record": r} for r in records],
        offers_creation=situation.offers_creation,
        chosen=record_value(offer, with_name=True) if offer else CREATE if not records else "",
    )


def _from_form(form: HighlightsSendForm) -> Destinations:
    situation = form.previewed_situation()
    chosen = form.chosen()
    return Destinations(
        situation=situation,
        options=[
            {"value": record_value(r, with_name=True), "record": r} for r in form.offered_records()
        ],
        offers_creation=chosen == CREATE or bool(situation and situation.offers_creation),
        chosen=chosen,
    )


def _attendee_rows(
    meeting: Meeting, records: list[SyncMapping], preview: MatchPreview | None
) -> list[dict[str, Any]]:
    """Each attendee with the Salesforce records their address is: as the preview found
    them when it ran, else the Contact the portal made for them, if any (None: not
    looked up)."""
    found = {a["email"]: a["records"] for a in preview["attendees"]} if preview else {}
    made = {
        r.local_object.email: r
        for r in records
        if isinstance(r.local_object, OutsidePerson) and r.purpose == Purpose.CONTACT and r.live
    }
    outside = {a.pk for a in meeting_selectors.attendees_external(meeting=meeting)}
    rows = []
    for attendee in meeting.attendees.all():
        matched: list[dict[str, str]] | None = found.get(attendee.email)
        if matched is None and attendee.email in made:
            contact = made[attendee.email]
            matched = [{"object": "Contact", "id": contact.salesforce_id, "name": attendee.name}]
        rows.append({"attendee": attendee, "outside": attendee.pk in outside, "records": matched})
    return rows


def _records_context(sync: selectors.SyncState) -> dict[str, Any]:
    """The meeting's own records (its Note, Event, created Account...; not the links
    between them, which are plumbing) and its latest syncs."""
    return {
        "meeting_records": [
            r
            for r in sync.records
            if isinstance(r.local_object, Meeting) and Purpose(r.purpose) not in LINK_PURPOSES
        ],
        "jobs": sync.jobs[:LATEST_SYNCS],
    }


def _highlight_rows(
    tenant: Tenant, meeting: Meeting, checked: list[str]
) -> tuple[list[dict[str, Any]], bool]:
    """The highlights with their states, and whether one is being sent."""
    highlights = list(meeting_selectors.highlight_list(meeting=meeting))
    states = meeting_state.highlight_send_states(
        tenant=tenant, meeting=meeting, highlights=highlights
    )
    rows = [
        {"highlight": h, "state": states[h.pk], "checked": h.external_id in checked}
        for h in highlights
    ]
    return rows, meeting_state.highlights_sending(states)


def _preview(request: TenantRequest, meeting: Meeting) -> tuple[MatchPreview | None, str]:
    """The match preview the member asked for, or why there is none. It looks at the
    chosen highlights, or at all of them when none are chosen yet (the match depends on
    the attendees; the highlights are chosen again when sending)."""
    refusal = lookup_refusal(request)
    if refusal:
        return None, refusal
    chosen = request.GET.getlist("highlights") or [
        h.external_id for h in meeting_selectors.highlight_list(meeting=meeting)
    ]
    try:
        return actions.match_preview(meeting=meeting, highlight_ids=chosen), ""
    except DomainError as exc:
        return None, exc.message


def _search(request: TenantRequest, text: str) -> tuple[list[FoundRecord], str]:
    """Accounts and Opportunities whose name holds `text`, or why there are none."""
    tenant = request.membership.tenant
    if not text.strip():
        return [], ""
    refusal = lookup_refusal(request)
    if refusal:
        return [], refusal
    try:
        found = salesforce_records_search(tenant=tenant, name=text, objects=ORGANISATIONS)
    except DomainError as exc:
        return [], exc.message
    return found, "" if found else f"No Account or Opportunity named like “{text.strip()}”."


def _meeting_page(
    request: TenantRequest,
    meeting: Meeting,
    *,
    form: HighlightsSendForm | None = None,
    preview: MatchPreview | None = None,
    asked: dict[str, Any] | None = None,
) -> HttpResponse:
    tenant = meeting.tenant
    sync = selectors.meeting_sync_state(tenant=tenant, meeting=meeting)
    posted = form.data.getlist("highlights") if form is not None else []  # type: ignore[attr-defined]
    highlights, sending = _highlight_rows(tenant, meeting, posted)
    destinations = (
        _from_form(form) if form is not None else _from_preview(preview) if preview else None
    )
    context = {
        "tenant": tenant,
        "meeting": meeting,
        "instance_url": _instance_url(tenant),
        "attendees": _attendee_rows(meeting, sync.records, preview),
        "looked_up": preview is not None,
        "highlights": highlights,
        "sending": sending,
        "form": form or HighlightsSendForm(highlight_ids=[]),
        "destinations": destinations or Destinations(),
        **_records_context(sync),
        "CREATE": CREATE,
        "OTHER": OTHER,
        **(asked or {}),
    }
    return render(request, "integrations/meeting.html", context)


@require_GET
@tenant_page()
def meeting_detail(request: TenantRequest, external_id: str) -> HttpResponse:
    """The meeting from the portal's data. Only the page's own buttons, used without
    htmx, ask Salesforce from here (`preview`, `q`)."""
    meeting = _meeting_or_404(request.membership.tenant, external_id)
    asked: dict[str, Any] = {}
    preview = None
    if "preview" in request.GET:
        preview, asked["match_error"] = _preview(request, meeting)
    if "q" in request.GET:
        asked["q"] = request.GET["q"]
        asked["found"], asked["search_error"] = _search(request, asked["q"])
    return _meeting_page(request, meeting, preview=preview, asked=asked)


@require_GET
@tenant_page()
def meeting_matches(request: TenantRequest, external_id: str) -> HttpResponse:
    """The match preview as fragments: the send form's choices, and the attendees with
    what each matched (swapped out of band)."""
    tenant = request.membership.tenant
    meeting = _meeting_or_404(tenant, external_id)
    preview, error = _preview(request, meeting)
    sync = selectors.meeting_sync_state(tenant=tenant, meeting=meeting)
    context = {
        "meeting": meeting,
        "instance_url": _instance_url(tenant),
        "destinations": _from_preview(preview) if preview else Destinations(),
        "match_error": error,
        "attendees": _attendee_rows(meeting, sync.records, preview),
        "looked_up": preview is not None,
        "oob": True,
        "CREATE": CREATE,
        "form": HighlightsSendForm(highlight_ids=[]),
    }
    return render(request, "integrations/_meeting_matches.html", context)


@require_GET
@tenant_page()
def meeting_records_search(request: TenantRequest, external_id: str) -> HttpResponse:
    """Accounts and Opportunities found by name, as choices of the send form."""
    tenant = request.membership.tenant
    meeting = _meeting_or_404(tenant, external_id)
    text = request.GET.get("q", "")
    found, error = _search(request, text)
    context = {
        "meeting": meeting,
        "instance_url": _instance_url(tenant),
        "q": text,
        "found": found,
        "search_error": error,
    }
    return render(request, "integrations/_meeting_record_results.html", context)


@require_GET
@tenant_page()
def meeting_highlight_states(request: TenantRequest, external_id: str) -> HttpResponse:
    """The highlights' states and the meeting's records and syncs, each swapped into its
    place, and the poller that asks again in two seconds while a highlight is still
    being sent (and stops once none is)."""
    tenant = request.membership.tenant
    meeting = _meeting_or_404(tenant, external_id)
    highlights, sending = _highlight_rows(tenant, meeting, [])
    sync = selectors.meeting_sync_state(tenant=tenant, meeting=meeting)
    context = {
        "meeting": meeting,
        "instance_url": _instance_url(tenant),
        "highlights": highlights,
        "sending": sending,
        "oob": True,
        **_records_context(sync),
    }
    return render(request, "integrations/_meeting_highlight_states.html", context)


@require_POST
@tenant_page()
def meeting_highlights_send(request: TenantRequest, external_id: str) -> HttpResponse:
    """Queue the send and come back to the meeting, whose highlights then show their
    states as they change. A refused form is shown again as it was sent, each refusal
    next to its field: never another record in place of the one typed."""
    tenant = request.membership.tenant
    meeting = _meeting_or_404(tenant, external_id)
    highlight_ids = [h.external_id for h in meeting_selectors.highlight_list(meeting=meeting)]
    form = HighlightsSendForm(request.POST, highlight_ids=highlight_ids)
    if form.is_valid():
        try:
            actions.highlights_send(
                meeting=meeting, requested_by=request.user, **form.send_kwargs()
            )
        except DomainError as exc:
            form.refuse(exc)
        else:
            count = len(form.cleaned_data["highlights"])
            messages.success(
                request,
                f"Sending {count} highlight{'s' if count != 1 else ''} to Salesforce. Their "
                "state below changes by itself when Salesforce has answered.",
            )
            url = reverse("integrations:meeting", args=[meeting.external_id])
            return redirect(f"{url}#highlights")
    return _meeting_page(request, meeting, form=form)


urlpatterns = [
    path("meetings/", meetings_list, name="meetings"),
    path("meetings/<extid:external_id>/", meeting_detail, name="meeting"),
    path("meetings/<extid:external_id>/send/", meeting_highlights_send, name="meeting-send"),
    path("meetings/<extid:external_id>/matches/", meeting_matches, name="meeting-matches"),
    path("meetings/<extid:external_id>/records/", meeting_records_search, name="meeting-records"),
    path(
        "meetings/<extid:external_id>/highlights/",
        meeting_highlight_states,
        name="meeting-highlight-states",
    ),
]
