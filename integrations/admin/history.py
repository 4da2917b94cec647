"""Sync history on the synced objects' own pages, and the read-only inlines it uses.

meetings and scheduler know nothing about syncing, so their admins carry no sync
inlines; integrations re-registers each synced model with a subclass of its admin that
adds what was written to Salesforce (mappings) and the jobs that wrote it."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.contenttypes.admin import GenericTabularInline
from django.db import models
from django.http import HttpRequest

from integrations.models import SyncAttempt, SyncJob, SyncMapping

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

    def has_delete_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
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
    for synced_model, model_admin in SYNCED_MODEL_ADMINS.items():
        admin.site.unregister(synced_model)
        admin.site.register(synced_model, model_admin)
