"""Sync jobs as ops work them: find, read, resolve, retry."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html

from core.errors import DomainError
from integrations.admin.history import SyncAttemptInline
from integrations.forms import SyncJobResolveForm
from integrations.models import SyncJob
from integrations.services import jobs


@admin.register(SyncJob)
class SyncJobAdmin(admin.ModelAdmin[SyncJob]):
    list_display = [
        "id",
        "tenant",
        "operation",
        "content_type",
        "object_id",
        "state",
        "attempt_count",
        "next_attempt_at",
        "created_at",
    ]
    list_filter = ["state", "operation", "tenant"]
    list_select_related = ["tenant", "content_type"]
    search_fields = ["=id", "reason", "tenant__name"]
    readonly_fields = [f.name for f in SyncJob._meta.fields] + ["resolve"]
    inlines = [SyncAttemptInline]
    date_hierarchy = "created_at"
    actions = ["retry_failed", "run_now"]

    @admin.display(description="Resolve")
    def resolve(self, job: SyncJob) -> str:
        if job.state != SyncJob.State.NEEDS_REVIEW:
            return "-"
        url = reverse("admin:integrations_syncjob_resolve", args=[job.pk])
        return format_html('<a class="button" href="{}">Choose the record</a>', url)

    @admin.action(description="Retry the selected failed jobs")
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

    @admin.action(description="Run the selected pending jobs now")
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
        # admin_view lets only signed-in staff through; this also tells mypy it is a User.
        if not request.user.is_authenticated or not request.user.has_perm(
            "integrations.change_syncjob"
        ):
            raise PermissionDenied
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
