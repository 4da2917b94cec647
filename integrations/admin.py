from __future__ import annotations

from django.contrib import admin
from django.contrib.contenttypes.admin import GenericTabularInline
from django.db import models

from integrations.models import (
    IntegrationSettings,
    SalesforceConnection,
    SyncAttempt,
    SyncJob,
    SyncMapping,
)

# URLs typed without a scheme are https (the default Django 6 adopts).
HTTPS_URLS = {models.URLField: {"assume_scheme": "https"}}


class ReadOnlyInlineMixin:
    """Sync history is a record of what happened: ops read it, never edit it."""

    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False


class SyncMappingInline(ReadOnlyInlineMixin, GenericTabularInline):
    model = SyncMapping
    fields = [
        "purpose",
        "salesforce_object",
        "salesforce_id",
        "pushed_version",
        "state",
        "updated_at",
    ]
    readonly_fields = fields


class SyncJobInline(ReadOnlyInlineMixin, GenericTabularInline):
    model = SyncJob
    fields = ["operation", "state", "reason", "attempt_count", "next_attempt_at", "updated_at"]
    readonly_fields = fields
    ordering = ["-created_at"]


class SyncAttemptInline(ReadOnlyInlineMixin, admin.TabularInline):
    model = SyncAttempt
    fields = [
        "started_at",
        "finished_at",
        "outcome",
        "salesforce_error_code",
        "message",
        "api_calls",
        "duration_ms",
    ]
    readonly_fields = fields


@admin.register(SalesforceConnection)
class SalesforceConnectionAdmin(admin.ModelAdmin):
    formfield_overrides = HTTPS_URLS
    list_display = ["tenant", "status", "instance_url", "org_id", "installed_by", "connected_at"]
    list_filter = ["status"]
    list_select_related = ["tenant", "installed_by"]
    search_fields = ["tenant__name", "org_id", "instance_url", "installer_salesforce_user_id"]
    # Tokens are never shown, not even encrypted.
    exclude = ["access_token", "refresh_token"]
    readonly_fields = ["connected_at", "updated_at"]


@admin.register(IntegrationSettings)
class IntegrationSettingsAdmin(admin.ModelAdmin):
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
class SyncMappingAdmin(admin.ModelAdmin):
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
class SyncJobAdmin(admin.ModelAdmin):
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
    readonly_fields = [f.name for f in SyncJob._meta.fields]
    inlines = [SyncAttemptInline]
    date_hierarchy = "created_at"
