"""Tenant pages: calls, conferences and tasks, and logging them to Salesforce (SPEC 3.5).

A call is logged by a job: the page asks for it and shows the job's answer. When the
address of someone in the call (or the number of someone known only by phone) matches
several records, the job stops and waits; the page then offers those records to choose
from (or a Lead to create), and the answer goes back to that same job."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from core.errors import DomainError
from integrations import activity_state
from integrations.activity_state import CallState
from integrations.call_forms import CallLogForm
from integrations.filters_activities import CallFilter, filters_active
from integrations.models import SyncJob
from integrations.participants import phone_book
from integrations.selectors import sync_object_label
from integrations.services import actions, jobs
from integrations.services.choices import call_answers_check
from meetings.models import Activity
from tenants.access import TenantRequest, tenant_page
from tenants.models import Tenant

CALLS_PAGE_SIZE = 25


@tenant_page()
def call_list(request: TenantRequest) -> HttpResponse:
    tenant = request.membership.tenant
    rows = activity_state.calls_with_state(Activity.objects.filter(tenant=tenant))
    found = CallFilter(request.GET or None, queryset=rows)
    calls = found.qs.order_by("-started_at", "-id")
    page = Paginator(calls, CALLS_PAGE_SIZE).get_page(request.GET.get("page"))
    book = phone_book(tenant)
    context = {
        "tenant": tenant,
        "membership": request.membership,
        "filter": found,
        "narrowed": filters_active(found),
        "page": page,
        "rows": [
            {
                "call": call,
                "state": activity_state.call_row_state(call, tenant, book),
                "outside": activity_state.call_outside(call, tenant, book),
            }
            for call in page.object_list
        ],
        "here": request.get_full_path(),
    }
    return render(request, "integrations/calls.html", context)


def _call_or_404(tenant: Tenant, external_id: str) -> Activity:
    call = activity_state.call_get(tenant=tenant, external_id=external_id)
    if call is None:
        raise Http404("No such call.")
    return call


def _log_form(state: CallState, data: Any = None) -> CallLogForm | None:
    """The form that asks for logging, unless logging is under way or nobody is left to
    ask about."""
    if state.pending or not state.askable:
        return None
    return CallLogForm(data, people=state.askable, choosing=state.review_job is not None)


def _call_context(
    request: TenantRequest, state: CallState, form: CallLogForm | None
) -> dict[str, Any]:
    return {
        "tenant": request.membership.tenant,
        "membership": request.membership,
        "call": state.activity,
        "state": state,
        "form": form,
    }


@tenant_page()
def call_detail(request: TenantRequest, external_id: str) -> HttpResponse:
    tenant = request.membership.tenant
    state = activity_state.call_state(tenant=tenant, activity=_call_or_404(tenant, external_id))
    context = _call_context(request, state, _log_form(state))
    return render(request, "integrations/call.html", context)


@require_GET
@tenant_page()
def call_sync_state(request: TenantRequest, external_id: str) -> HttpResponse:
    """The call's Salesforce part alone: the page polls it while a job is at work, and
    it stops asking once the job has an answer."""
    tenant = request.membership.tenant
    state = activity_state.call_state(tenant=tenant, activity=_call_or_404(tenant, external_id))
    context = _call_context(request, state, _log_form(state))
    return render(request, "integrations/call_state.html", context)


def _log(request: TenantRequest, state: CallState, choices: dict[str, Any]) -> SyncJob:
    """Hand the answer to the service for the call's state: to the job waiting for it,
    to the failed job (tried again as it was asked), or as a new request to log."""
    if state.review_job is not None:
        return jobs.sync_job_resolve(
            job=state.review_job, choices=choices, resolved_by=request.user
        )
    if state.failed_job is not None and not choices:
        return jobs.sync_job_retry(job=state.failed_job)
    return actions.activity_log(
        activity=state.activity, choices=choices or None, requested_by=request.user
    )


def _back(request: HttpRequest, default: str) -> HttpResponse:
    back = request.POST.get("next", "")
    if back and url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(back)
    return redirect(default)


@require_POST
@tenant_page()
def call_log(request: TenantRequest, external_id: str) -> HttpResponse:
    """Log the call, with the choices made on its page (the list's button sends none).
    A refused answer shows the page again with what was chosen and typed."""
    tenant = request.membership.tenant
    state = activity_state.call_state(tenant=tenant, activity=_call_or_404(tenant, external_id))
    here = reverse("integrations:call", args=[external_id])
    if state.pending:
        messages.info(request, "This call is being logged already.")
        return _back(request, here)
    form = _log_form(state, request.POST if "from_page" in request.POST else None)
    if form is not None and form.is_bound and not form.is_valid():
        return render(request, "integrations/call.html", _call_context(request, state, form))
    try:
        choices: dict[str, Any] = {}
        if form is not None and form.is_bound:
            choices = dict(
                call_answers_check(
                    offered={p.key: p.candidates for p in form.people},
                    answers=form.choices(),
                    choosing=form.choosing,
                )
            )
        _log(request, state, choices)
    except DomainError as exc:
        if form is not None and form.is_bound:
            form.add_error(None, exc.message)
            return render(request, "integrations/call.html", _call_context(request, state, form))
        messages.error(request, f"{_name(state.activity, tenant)}: {exc.message}")
        return _back(request, here)
    messages.success(request, f"Logging asked for: {_name(state.activity, tenant)}.")
    return _back(request, here)


def _name(call: Activity, tenant: Tenant) -> str:
    return sync_object_label(call, internal_domains=tenant.internal_domains)


urlpatterns = [
    path("calls/", call_list, name="calls"),
    path("calls/<extid:external_id>/", call_detail, name="call"),
    path("calls/<extid:external_id>/state/", call_sync_state, name="call-state"),
    path("calls/<extid:external_id>/log/", call_log, name="call-log"),
]
