"""Tenant pages for the Salesforce connection, the integration settings, sending a
meeting's highlights and the sync log."""

from __future__ import annotations

import hmac
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from core.errors import DomainError, NotFound
from integrations import selectors
from integrations.enums import Purpose
from integrations.forms import (
    CREATE,
    HighlightsSendForm,
    IntegrationSettingsForm,
    SyncJobResolveForm,
    record_value,
)
from integrations.models import SyncJob, SyncMapping
from integrations.salesforce.oauth import OAuthError, oauth_authorization_start
from integrations.selectors import salesforce_connection_for_tenant
from integrations.services import actions, connection, jobs
from integrations.services.actions import MatchPreview
from integrations.services.settings import (
    integration_settings_get_or_create,
    integration_settings_update,
)
from meetings import selectors as meeting_selectors
from meetings.models import Attendee, Highlight, Meeting
from tenants.access import TenantRequest, tenant_page
from tenants.models import Tenant

SESSION_KEY = "salesforce_oauth"


def _callback_url(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("integrations:salesforce-callback"))


@tenant_page(admin_only=True, acts=True)
def salesforce_connect(request: TenantRequest) -> HttpResponse:
    try:
        pending = oauth_authorization_start(redirect_uri=_callback_url(request))
    except OAuthError as exc:
        messages.error(request, str(exc))
        return redirect("integrations:settings")
    # The state and PKCE verifier stay on our side, in the signed-in user's session.
    request.session[SESSION_KEY] = {
        "state": pending.state,
        "verifier": pending.code_verifier,
        "tenant": request.membership.tenant_id,
    }
    return redirect(pending.url)


@tenant_page(admin_only=True, acts=True)
def salesforce_callback(request: TenantRequest) -> HttpResponse:
    pending = request.session.pop(SESSION_KEY, None)
    tenant = request.membership.tenant
    state = request.GET.get("state", "")
    if (
        not pending
        or pending.get("tenant") != tenant.pk
        or not hmac.compare_digest(pending.get("state", ""), state)
    ):
        messages.error(
            request, "That Salesforce answer does not belong to this sign-in. Try again."
        )
        return redirect("integrations:settings")
    if "error" in request.GET:
        why = request.GET.get("error_description") or request.GET["error"]
        messages.error(request, f"Salesforce did not connect: {why}.")
        return redirect("integrations:settings")
    try:
        connected = connection.salesforce_oauth_complete(
            tenant=tenant,
            code=request.GET.get("code", ""),
            code_verifier=pending["verifier"],
            redirect_uri=_callback_url(request),
            installed_by=request.user,
        )
    except OAuthError as exc:
        messages.error(request, str(exc))
        return redirect("integrations:settings")
    messages.success(request, f"Connected to Salesforce org {connected.org_id}.")
    return redirect("integrations:settings")


@require_POST
@tenant_page(admin_only=True)
def salesforce_disconnect(request: TenantRequest) -> HttpResponse:
    connection.salesforce_disconnect(tenant=request.membership.tenant)
    messages.success(request, "Salesforce is disconnected; nothing more will be sent.")
    return redirect("integrations:settings")


@tenant_page()
def integration_settings(request: TenantRequest) -> HttpResponse:
    membership = request.membership
    tenant = membership.tenant
    row = integration_settings_get_or_create(tenant=tenant)
    form = IntegrationSettingsForm(request.POST or None, instance=row)
    if request.method == "POST":
        if membership.role != membership.Role.ADMIN:
            return render(request, "portal/admin_only.html", {"membership": membership}, status=403)
        if form.is_valid():
            try:
                integration_settings_update(tenant=tenant, **form.cleaned_data)
            except DomainError as exc:
                form.add_error(exc.field, exc.message)
            else:
                messages.success(request, "Settings saved.")
                return redirect("integrations:settings")
    context = {
        "tenant": tenant,
        "membership": membership,
        "form": form,
        "connection": salesforce_connection_for_tenant(tenant=tenant),
    }
    return render(request, "integrations/settings.html", context)


# --- a meeting's highlights, sent by hand (SPEC 3.1) ------------------------------------------


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


def _form_errors(form: forms.Form) -> str:
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
        messages.error(request, _form_errors(form))
    # Back to the preview, with the same highlights chosen, to correct the answer.
    query = urlencode({"highlights": request.POST.getlist("highlights"), "preview": 1}, doseq=True)
    return redirect(f"{reverse('integrations:meeting', args=[meeting.external_id])}?{query}")


# --- the sync log, with answers to jobs waiting for a person --------------------------------

SYNC_LOG_PAGE_SIZE = 25


def _resolve_form(job: SyncJob, data: Any = None) -> SyncJobResolveForm:
    return SyncJobResolveForm(data, job=job)


def _job_meeting(local_object: object) -> str:
    """The external id of the meeting a job is about, to link to its page."""
    if isinstance(local_object, Meeting):
        return local_object.external_id
    if isinstance(local_object, Highlight | Attendee):
        return local_object.meeting.external_id
    return ""


@tenant_page()
def sync_log(request: TenantRequest) -> HttpResponse:
    membership = request.membership
    tenant = membership.tenant
    state = request.GET.get("state", "")
    if state not in SyncJob.State.values:
        state = ""
    jobs = selectors.sync_job_log(tenant=tenant, state=state or None)
    page = Paginator(jobs, SYNC_LOG_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        {
            "job": job,
            "ref": selectors.sync_object_ref(job.local_object),
            "meeting": _job_meeting(job.local_object),
            "form": _resolve_form(job) if job.state == SyncJob.State.NEEDS_REVIEW else None,
        }
        for job in page.object_list
    ]
    context = {
        "tenant": tenant,
        "membership": membership,
        "page": page,
        "rows": rows,
        "state": state,
        "states": SyncJob.State.choices,
        "here": request.get_full_path(),
    }
    return render(request, "integrations/sync_log.html", context)


def _job_or_404(tenant: Tenant, job_id: int) -> SyncJob:
    try:
        return selectors.sync_job_get(tenant=tenant, job_id=job_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc


def _back_to_log(request: HttpRequest) -> HttpResponse:
    """To the page of the log the form was on (same filter and page)."""
    back = request.POST.get("next", "")
    if back and url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(back)
    return redirect("integrations:sync-log")


@require_POST
@tenant_page()
def sync_job_resolve(request: TenantRequest, job_id: int) -> HttpResponse:
    job = _job_or_404(request.membership.tenant, job_id)
    form = _resolve_form(job, request.POST)
    if not form.is_valid():
        messages.error(request, f"Job #{job.pk}: {_form_errors(form)}")
        return _back_to_log(request)
    try:
        jobs.sync_job_resolve(job=job, resolved_by=request.user, **form.resolve_kwargs())
    except DomainError as exc:
        messages.error(request, f"Job #{job.pk}: {exc.message}")
    else:
        messages.success(request, f"Job #{job.pk} runs again with your choice.")
    return _back_to_log(request)


@require_POST
@tenant_page()
def sync_job_retry(request: TenantRequest, job_id: int) -> HttpResponse:
    job = _job_or_404(request.membership.tenant, job_id)
    try:
        jobs.sync_job_retry(job=job)
    except DomainError as exc:
        messages.error(request, f"Job #{job.pk}: {exc.message}")
    else:
        messages.success(request, f"Job #{job.pk} is being tried again.")
    return _back_to_log(request)
