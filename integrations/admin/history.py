"""Sync history on the synced objects' own pages, and the read-only inlines it uses.

meetings and scheduler know nothing about syncing, so their admins carry no sync
inlines; integrations re-registers each synced model with a subclass of its admin that
adds what was written to Salesforce (mappings) and the jobs that wrote it.

The workers' own task history (django-q2's successful and failed tasks) is re-registered
too: running a task again is acting on syncs, so it asks for the permission to operate
them like every other action."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.contenttypes.admin import GenericTabularInline
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest
from django_q.admin import FailAdmin, TaskAdmin, resubmit_task
from django_q.models import Failure, Success

from core.admin import ReadOnlyAdminMixin
from integrations.admin.permissions import OperateSyncsMixin
from integrations.models import SyncAttempt, SyncJob, SyncMapping

# Importing these modules registers their ModelAdmins, so they are in place to be
# replaced below whatever order the admin discovers the apps in.
from meetings.admin import ActivityAdmin, HighlightAdmin, MeetingAdmin
from meetings.models import Activity, Highlight, Meeting
from scheduler.admin import BookingAdmin
from scheduler.models import Booking


class ReadOnlyInlineMixin(ReadOnlyAdminMixin):
    """Sync history is a record of what happened: ops read it, never edit or delete it
    (an attempt is only ever seen through these inlines)."""

    extra = 0
    can_delete = False
    show_change_link = True


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


class TaskResubmitMixin(OperateSyncsMixin):
    """django-q2 offers "resubmit" to anyone who can see its task lists."""

    actions = ["resubmit"]

    @admin.action(description="Run the selected tasks again", permissions=["operate"])
    def resubmit(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        count = queryset.count()
        # django-q2's own action: it queues each task again (and drops a failed one's
        # row, since its new run records its own result).
        resubmit_task(self, request, queryset)
        self.message_user(request, f"{count} task(s) queued again.")  # type: ignore[attr-defined]


# django-q2 ships untyped, so its admins are `Any` to mypy.
class SuccessfulTaskAdmin(TaskResubmitMixin, TaskAdmin):  # type: ignore[misc]
    pass


class FailedTaskAdmin(TaskResubmitMixin, FailAdmin):  # type: ignore[misc]
    pass


TASK_ADMINS: dict[type[models.Model], type[admin.ModelAdmin[Any]]] = {
    Success: SuccessfulTaskAdmin,
    Failure: FailedTaskAdmin,
}


def synced_admins_register() -> None:
    """Put the synced models' admins with their sync history, and the workers' task
    admins whose "run again" asks for the permission to operate syncs, in place of the
    ones their apps registered."""
    for model, model_admin in {**SYNCED_MODEL_ADMINS, **TASK_ADMINS}.items():
        if admin.site.is_registered(model):
            admin.site.unregister(model)
        admin.site.register(model, model_admin)
