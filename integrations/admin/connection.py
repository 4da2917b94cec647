"""The tenant's Salesforce connection and integration settings, as ops see them."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from core.admin import HTTPS_URLS
from integrations.models import IntegrationSettings, SalesforceConnection
from integrations.services import jobs


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
