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

from core.admin import ReadOnlyAdminMixin
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


def synced_admins_register() -> None:
    """Put the synced models' admins with their sync history in place of the ones their
    apps registered."""
    for model, model_admin in SYNCED_MODEL_ADMINS.items():
        if admin.site.is_registered(model):
            admin.site.unregister(model)
        admin.site.register(model, model_admin)
