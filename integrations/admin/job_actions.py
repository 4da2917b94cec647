"""What ops do to sync jobs from the admin: resolve a review, retry, run now. Each
action and view declares the permission it needs (see `permissions`) and calls a
service; no rule lives here."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html

from core.errors import DomainError
from integrations.admin.permissions import OperateSyncsMixin, operate_required
from integrations.forms import SyncJobResolveForm
from integrations.models import SyncJob
from integrations.services import jobs


class SyncJobActionsMixin(OperateSyncsMixin, admin.ModelAdmin[SyncJob]):
    """The actions and action pages of SyncJobAdmin (which is registered in `jobs`)."""

    @admin.display(description="Resolve")
    def resolve(self, job: SyncJob) -> str:
        if job.state != SyncJob.State.NEEDS_REVIEW:
            return "-"
        url = reverse("admin:integrations_syncjob_resolve", args=[job.pk])
        return format_html('<a class="button" href="{}">Choose the record</a>', url)

    @admin.action(description="Retry the selected failed jobs", permissions=["operate"])
    def retry_failed(self, request: HttpRequest, queryset: QuerySet[SyncJob]) -> None:
        retried = 0
        for job in queryset.filter(state=SyncJob.State.FAILED):
            jobs.sync_job_retry(job=job)
            retried += 1
        skipped = queryset.count() - retried
        self.message_user(
            request,
            f"{retried} job(s) queued again."
            + (f" {skipped} not failed, left as they are." if skipped else ""),
        )

    @admin.action(description="Run the selected pending jobs now", permissions=["operate"])
    def run_now(self, request: HttpRequest, queryset: QuerySet[SyncJob]) -> None:
        count = jobs.sync_jobs_run_now(jobs=list(queryset))
        self.message_user(request, f"{count} pending job(s) handed to the workers.")

    def get_urls(self) -> list[URLPattern]:
        resolve = path(
            "<int:job_id>/resolve/",
            self.admin_site.admin_view(self.resolve_view),
            name="integrations_syncjob_resolve",
        )
        return [resolve, *super().get_urls()]

    def resolve_view(self, request: HttpRequest, job_id: int) -> HttpResponse:
        job = get_object_or_404(SyncJob, pk=job_id)
        operate_required(request)
        assert request.user.is_authenticated  # admin_view lets only signed-in staff in
        form = SyncJobResolveForm(request.POST or None, job=job)
        if request.method == "POST" and form.is_valid():
            try:
                jobs.sync_job_resolve(job=job, resolved_by=request.user, **form.resolve_kwargs())
            except DomainError as error:
                self.message_user(request, error.message, messages.ERROR)
            else:
                self.message_user(request, f"Job {job.pk} resolved; it runs again now.")
                return HttpResponseRedirect(
                    reverse("admin:integrations_syncjob_change", args=[job.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "title": f"Resolve sync job {job.pk}",
            "job": job,
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/integrations/syncjob_resolve.html", context)
