from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.contenttypes.admin import GenericTabularInline
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html

from core.admin import HTTPS_URLS
from core.errors import DomainError
from integrations.forms import SyncJobResolveForm
from integrations.models import (
    IntegrationSettings,
    MatchChoice,
    SalesforceConnection,
    SyncAttempt,
    SyncJob,
    SyncMapping,
)
from integrations.services import jobs

# Importing these modules registers their ModelAdmins, so they are in place to be
# replaced below whatever order the admin discovers the apps in.
from meetings.admin import ActivityAdmin, HighlightAdmin, MeetingAdmin
from meetings.models import Activity, Highlight, Meeting
from scheduler.admin import BookingAdmin
from scheduler.models import Booking


class ReadOnlyInlineMixin:
    """Sync history is a record of what happened: ops read it, never edit it."""

    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False


MAPPING_COLUMNS = (
    "purpose",
    "salesforce_object",
    "salesforce_id",
    "pushed_version",
    "state",
    "updated_at",
)
JOB_COLUMNS = ("operation", "state", "reason", "attempt_count", "next_attempt_at", "updated_at")
ATTEMPT_COLUMNS = (
    "started_at",
    "finished_at",
    "outcome",
    "salesforce_error_code",
    "message",
    "api_calls",
    "duration_ms",
)


class SyncMappingInline(ReadOnlyInlineMixin, GenericTabularInline):
    model = SyncMapping
    fields = MAPPING_COLUMNS
    readonly_fields = MAPPING_COLUMNS


class SyncJobInline(ReadOnlyInlineMixin, GenericTabularInline):
    model = SyncJob
    fields = JOB_COLUMNS
    readonly_fields = JOB_COLUMNS
    ordering = ["-created_at"]


class SyncAttemptInline(ReadOnlyInlineMixin, admin.TabularInline[SyncAttempt, SyncJob]):
    model = SyncAttempt
    fields = ATTEMPT_COLUMNS
    readonly_fields = ATTEMPT_COLUMNS


@admin.register(SalesforceConnection)
class SalesforceConnectionAdmin(admin.ModelAdmin[SalesforceConnection]):
    formfield_overrides = HTTPS_URLS
    list_display = [
        "tenant",
        "status",
        "instance_url",
        "org_id",
        "installed_by",
        "connected_at",
        "paused_until",
    ]
    list_filter = ["status"]
    list_select_related = ["tenant", "installed_by"]
    search_fields = ["tenant__name", "org_id", "instance_url", "installer_salesforce_user_id"]
    # Tokens are never shown, not even encrypted.
    exclude = ["access_token", "refresh_token"]
    readonly_fields = ["connected_at", "updated_at"]
    actions = ["resume_syncing"]

    @admin.action(description="Resume syncing now (lift an API-limit pause, run waiting jobs)")
    def resume_syncing(
        self, request: HttpRequest, queryset: QuerySet[SalesforceConnection]
    ) -> None:
        total = sum(jobs.sync_tenant_resume(tenant=c.tenant) for c in queryset)
        self.message_user(request, f"{total} waiting job(s) handed to the workers.")


@admin.register(IntegrationSettings)
class IntegrationSettingsAdmin(admin.ModelAdmin[IntegrationSettings]):
    formfield_overrides = HTTPS_URLS
    list_display = [
        "tenant",
        "highlights_destination",
        "note_flavour",
        "auto_sync",
        "log_scheduled_meetings",
        "log_calls_automatically",
    ]
    list_filter = ["highlights_destination", "note_flavour", "auto_sync"]
    list_select_related = ["tenant"]
    search_fields = ["tenant__name"]


@admin.register(SyncMapping)
class SyncMappingAdmin(admin.ModelAdmin[SyncMapping]):
    list_display = [
        "tenant",
        "purpose",
        "content_type",
        "object_id",
        "salesforce_object",
        "salesforce_id",
        "pushed_version",
        "state",
        "updated_at",
    ]
    list_filter = ["purpose", "salesforce_object", "state", "tenant"]
    list_select_related = ["tenant", "content_type"]
    search_fields = ["salesforce_id", "tenant__name"]
    readonly_fields = [f.name for f in SyncMapping._meta.fields]


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


@admin.register(MatchChoice)
class MatchChoiceAdmin(admin.ModelAdmin[MatchChoice]):
    """What people answered to "which record is this address?": ops may reassign it."""

    list_display = [
        "tenant",
        "email",
        "salesforce_object",
        "salesforce_id",
        "chosen_by",
        "updated_at",
    ]
    list_filter = ["salesforce_object", "tenant"]
    list_select_related = ["tenant", "chosen_by"]
    search_fields = ["email", "salesforce_id"]
    readonly_fields = ["updated_at"]


# --- Sync history on the synced objects' own pages -------------------------------------
# meetings and scheduler know nothing about syncing, so their admins carry no sync
# inlines; integrations re-registers each synced model with a subclass of its admin
# that adds what was written to Salesforce (mappings) and the jobs that wrote it.


class MeetingSyncAdmin(MeetingAdmin):
    inlines = [*MeetingAdmin.inlines, SyncMappingInline, SyncJobInline]


class HighlightSyncAdmin(HighlightAdmin):
    inlines = [*HighlightAdmin.inlines, SyncMappingInline, SyncJobInline]


class ActivitySyncAdmin(ActivityAdmin):
    inlines = [*ActivityAdmin.inlines, SyncMappingInline, SyncJobInline]


class BookingSyncAdmin(BookingAdmin):
    inlines = [*BookingAdmin.inlines, SyncMappingInline, SyncJobInline]


SYNCED_MODEL_ADMINS: dict[type[models.Model], type[admin.ModelAdmin[Any]]] = {
    Meeting: MeetingSyncAdmin,
    Highlight: HighlightSyncAdmin,
    Activity: ActivitySyncAdmin,
    Booking: BookingSyncAdmin,
}

for synced_model, model_admin in SYNCED_MODEL_ADMINS.items():
    admin.site.unregister(synced_model)
    admin.site.register(synced_model, model_admin)
