"""Tenant pages: the sync log, and the answers members give its jobs."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from core.errors import DomainError, NotFound
from integrations import selectors
from integrations.forms import (
    SyncJobResolveForm,
)
from integrations.models import SyncJob
from integrations.services import jobs
from integrations.views.meetings import form_errors
from meetings.models import Attendee, Highlight, Meeting
from tenants.access import TenantRequest, tenant_page
from tenants.models import Tenant

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
        messages.error(request, f"Job #{job.pk}: {form_errors(form)}")
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


urlpatterns = [
    path("sync/", sync_log, name="sync-log"),
    path("sync/<int:job_id>/resolve/", sync_job_resolve, name="sync-job-resolve"),
    path("sync/<int:job_id>/retry/", sync_job_retry, name="sync-job-retry"),
]
