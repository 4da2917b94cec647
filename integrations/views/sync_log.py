"""Tenant pages: the sync log, a job's page, and the answers a member gives a job: the
record it links to (offered by the sync, or found by name in Salesforce), a retry, and,
for a tenant admin, a dismissal with the reason.

Which answers a job is open to is the services' (`sync_job_actions`); each service
refuses what it does not allow, and the page then shows the refusal with what was typed."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from core.errors import DomainError, NotFound
from integrations import selectors
from integrations.filters_jobs import SyncJobFilter, filters_narrow
from integrations.forms import (
    CREATE_LEAD,
    OTHER,
    SyncJobDismissForm,
    SyncJobResolveForm,
    SyncJobTargetForm,
)
from integrations.models import SyncJob
from integrations.services import jobs
from integrations.services.jobs import JobAction
from integrations.services.record_search import salesforce_records_search
from integrations.sync_log_rows import (
    RecordChoice,
    job_view,
    log_rows,
    person_name,
    record_choices,
    record_words,
)
from integrations.views.lookups import lookup_refusal
from tenants.access import TenantRequest, tenant_page
from tenants.models import Membership, Tenant

SYNC_LOG_PAGE_SIZE = 25


def _errors(form: forms.Form) -> str:
    return " ".join(str(error) for errors in form.errors.values() for error in errors)


@tenant_page()
def sync_log(request: TenantRequest) -> HttpResponse:
    tenant = request.membership.tenant
    found = SyncJobFilter(request.GET or None, queryset=selectors.sync_job_log(tenant=tenant))
    page = Paginator(found.qs, SYNC_LOG_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "tenant": tenant,
        "membership": request.membership,
        "filter": found,
        "narrowed": filters_narrow(found),
        "page": page,
        "rows": log_rows(page.object_list, tenant=tenant),
        "here": request.get_full_path(),
    }
    return render(request, "integrations/sync_log.html", context)


def _job_or_404(tenant: Tenant, job_id: int) -> SyncJob:
    try:
        return selectors.sync_job_get(tenant=tenant, job_id=job_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc


# --- a job's page --------------------------------------------------------------------------


def _kept_choice(value: str, shown: list[RecordChoice]) -> list[RecordChoice]:
    """A record found by name and chosen, when the answer was refused: shown again as
    chosen (from its radio value, `Object:Id:Name`) without searching Salesforce again."""
    if not value or value == OTHER or any(row.value == value for row in shown):
        return []
    sobject, _, rest = value.partition(":")
    record_id, _, name = rest.partition(":")
    return record_choices([{"object": sobject, "id": record_id, "name": name}], "", value)


def _found_by_name(
    request: TenantRequest, job: SyncJob, query: str
) -> tuple[list[dict[str, str]], str]:
    """Records of the objects the job may link to whose name holds `query` (one API
    call), or why Salesforce could not be searched."""
    if not query:
        return [], ""
    refusal = lookup_refusal(request)
    if refusal:
        return [], refusal
    try:
        records = salesforce_records_search(
            tenant=job.tenant, name=query, objects=jobs.record_objects_for(job)
        )
    except DomainError as exc:
        return [], exc.message
    return [r.as_dict() for r in records], ""


def _chooser(
    request: TenantRequest, job: SyncJob, base: str, form: SyncJobTargetForm | None
) -> dict[str, Any]:
    """The "choose the record" part: the sync's candidates, records found by name, or
    another by its Id; a refused answer comes back as it was given."""
    form = form or SyncJobTargetForm(objects=jobs.record_objects_for(job))
    chosen = str(form["record"].value() or "")
    query = request.GET.get("q", "").strip()
    found, search_error = _found_by_name(request, job, query)
    candidates = record_choices(job.candidates or [], base, chosen)
    found_rows = record_choices(found, base, chosen)
    return {
        "form": form,
        "candidates": candidates,
        "found": found_rows + _kept_choice(chosen, candidates + found_rows),
        "query": query,
        "searched": bool(query) and not search_error,
        "search_error": search_error,
        "objects": ", ".join(jobs.record_objects_for(job)),
        "other": OTHER,
        "other_checked": chosen == OTHER,
    }


def _per_address(form: SyncJobResolveForm, base: str) -> list[dict[str, Any]]:
    """A call's answer per outside address: its candidates, or a Lead to create."""
    return [
        {
            **address,
            "rows": record_choices(
                address["candidates"], base, address["choice"].value(), with_name=False
            ),
            "create_checked": address["choice"].value() == CREATE_LEAD,
        }
        for address in form.addresses()
    ]


def _job_page(
    request: TenantRequest,
    job: SyncJob,
    *,
    choose: SyncJobTargetForm | None = None,
    choose_error: str = "",
    dismiss: SyncJobDismissForm | None = None,
    dismiss_error: str = "",
) -> HttpResponse:
    actions = jobs.sync_job_actions(job)
    view = job_view(job)
    resolve = SyncJobResolveForm(job=job) if JobAction.RESOLVE in actions else None
    # A call's review is answered per address; every other job links to one record.
    per_address = (
        _per_address(resolve, view.instance_url) if resolve and resolve.per_email else None
    )
    choosing = JobAction.RETARGET in actions or (resolve is not None and not resolve.per_email)
    can_dismiss = JobAction.DISMISS in actions
    # An answer refused because the job moved on meanwhile: its part is gone from the
    # page, so the refusal is said at the top.
    for error, shown in ((choose_error, choosing), (dismiss_error, can_dismiss)):
        if error and not shown:
            messages.error(request, error)
    is_admin = request.membership.role == Membership.Role.ADMIN
    context = {
        "tenant": job.tenant,
        "membership": request.membership,
        "job": job,
        "view": view,
        "requested_by": person_name(job.requested_by),
        "dismissed_by": person_name(job.dismissed_by),
        "resolving": JobAction.RESOLVE in actions,
        "chooser": _chooser(request, job, view.instance_url, choose) if choosing else None,
        "choose_error": choose_error,
        "per_address": per_address,
        "resolve_form": resolve,
        "create_lead": CREATE_LEAD,
        "can_retry": JobAction.RETRY in actions,
        "can_dismiss": can_dismiss,
        "may_dismiss": is_admin,
        "dismiss_form": dismiss or SyncJobDismissForm(),
        "dismiss_error": dismiss_error,
        "here": reverse("integrations:sync-job", args=[job.pk]),
    }
    return render(request, "integrations/sync_job.html", context)


@tenant_page()
def sync_job_page(request: TenantRequest, job_id: int) -> HttpResponse:
    return _job_page(request, _job_or_404(request.membership.tenant, job_id))


def _to_job(job: SyncJob) -> HttpResponse:
    return redirect("integrations:sync-job", job.pk)


@require_POST
@tenant_page()
def sync_job_choose(request: TenantRequest, job_id: int) -> HttpResponse:
    """Link a job waiting for review, or a failed one, to the record chosen."""
    job = _job_or_404(request.membership.tenant, job_id)
    form = SyncJobTargetForm(request.POST, objects=jobs.record_objects_for(job))
    if not form.is_valid():
        return _job_page(request, job, choose=form, choose_error=_errors(form))
    try:
        moved = jobs.sync_job_retarget(job=job, choice=form.choice(), by=request.user)
    except DomainError as exc:
        return _job_page(request, job, choose=form, choose_error=exc.message)
    target = moved.params.get("target") or {}
    messages.success(
        request, f"Job #{job.pk} runs again, linked to {record_words(target)} in Salesforce."
    )
    return _to_job(job)


@require_POST
@tenant_page(admin_only=True)
def sync_job_dismiss(request: TenantRequest, job_id: int) -> HttpResponse:
    """Stop a job for good, with the reason (tenant admins: it takes a failure out of
    what needs a person, so it is the admin's call; members retry or choose a record)."""
    job = _job_or_404(request.membership.tenant, job_id)
    form = SyncJobDismissForm(request.POST)
    if not form.is_valid():
        return _job_page(request, job, dismiss=form, dismiss_error="The job was not dismissed.")
    try:
        jobs.sync_job_dismiss(
            job=job, reason=form.cleaned_data["reason"], dismissed_by=request.user
        )
    except DomainError as exc:
        return _job_page(request, job, dismiss=form, dismiss_error=exc.message)
    messages.success(request, f"Job #{job.pk} is dismissed; it will not be synced.")
    return _to_job(job)


# --- answers posted from the log or the job page, back where they came from -------------------


def _back(request: HttpRequest) -> HttpResponse:
    """To the page the form was on (the log with its filters, or the job's page)."""
    back = request.POST.get("next", "")
    if back and url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(back)
    return redirect("integrations:sync-log")


@require_POST
@tenant_page()
def sync_job_resolve(request: TenantRequest, job_id: int) -> HttpResponse:
    """The answer to a job waiting for review as the resolve form gives it: a call's
    answer per address, or one offered record."""
    job = _job_or_404(request.membership.tenant, job_id)
    form = SyncJobResolveForm(request.POST, job=job)
    if not form.is_valid():
        messages.error(request, f"Job #{job.pk}: {_errors(form)}")
        return _back(request)
    try:
        jobs.sync_job_resolve(job=job, resolved_by=request.user, **form.resolve_kwargs())
    except DomainError as exc:
        messages.error(request, f"Job #{job.pk}: {exc.message}")
    else:
        messages.success(request, f"Job #{job.pk} runs again with your choice.")
    return _back(request)


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
    return _back(request)


urlpatterns = [
    path("sync/", sync_log, name="sync-log"),
    path("sync/<int:job_id>/", sync_job_page, name="sync-job"),
    path("sync/<int:job_id>/choose/", sync_job_choose, name="sync-job-choose"),
    path("sync/<int:job_id>/resolve/", sync_job_resolve, name="sync-job-resolve"),
    path("sync/<int:job_id>/retry/", sync_job_retry, name="sync-job-retry"),
    path("sync/<int:job_id>/dismiss/", sync_job_dismiss, name="sync-job-dismiss"),
]
