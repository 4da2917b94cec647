"""The tenant's Salesforce connection and integration settings, as ops see them."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import transaction
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest

from core.admin import HTTPS_URLS, ReadOnlyAdminMixin
from core.errors import DomainError
from integrations.admin.permissions import OperateSyncsMixin
from integrations.forms import IntegrationSettingsForm
from integrations.models import IntegrationSettings, SalesforceConnection
from integrations.services import jobs
from integrations.services.settings import integration_settings_update

# What ops see of a connection: everything but its tokens.
CONNECTION_FIELDS = (
    "tenant",
    "status",
    "status_reason",
    "instance_url",
    "login_url",
    "org_id",
    "api_version",
    "installed_by",
    "installer_salesforce_user_id",
    "connected_at",
    "paused_until",
    "shared_activities",
    "api_usage_used",
    "api_usage_limit",
    "api_usage_at",
    "capabilities",
    "checked_at",
    "updated_at",
)


@admin.register(SalesforceConnection)
class SalesforceConnectionAdmin(
    ReadOnlyAdminMixin, OperateSyncsMixin, admin.ModelAdmin[SalesforceConnection]
):
    """Read only: everything on a connection comes from the OAuth flow a tenant admin
    goes through on the tenant's settings page. An instance URL typed here would send
    the tenant's bearer token to whatever host it names."""

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
    fields = CONNECTION_FIELDS
    readonly_fields = CONNECTION_FIELDS
    actions = ["resume_syncing"]

    @admin.action(
        description="Resume syncing now (lift an API-limit pause, run waiting jobs)",
        permissions=["operate"],
    )
    def resume_syncing(
        self, request: HttpRequest, queryset: QuerySet[SalesforceConnection]
    ) -> None:
        total = sum(jobs.sync_tenant_resume(tenant=c.tenant) for c in queryset)
        self.message_user(request, f"{total} waiting job(s) handed to the workers.")


class _Rehearsal(Exception):
    """Ends a trial run of the settings service, so its transaction rolls back."""


class IntegrationSettingsAdminForm(IntegrationSettingsForm):
    """The tenant settings page's form. Its answer is checked by the settings service
    itself: the service runs once in a transaction that is rolled back, and what it
    refuses shows on the form. The admin then saves through the service for real."""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        try:
            with transaction.atomic():
                integration_settings_update(tenant=self.instance.tenant, **cleaned)
                raise _Rehearsal
        except _Rehearsal:
            pass
        except DomainError as error:
            self.add_error(error.field if error.field in self.fields else None, error.message)
        return cleaned


@admin.register(IntegrationSettings)
class IntegrationSettingsAdmin(admin.ModelAdmin[IntegrationSettings]):
    """Editable with change permission, saved through the settings service (the same
    rules as the tenant's settings page). Settings come with the tenant, and go with
    it: no add, no delete."""

    form = IntegrationSettingsAdminForm
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
    readonly_fields = ["tenant", "updated_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(
        self, request: HttpRequest, obj: IntegrationSettings | None = None
    ) -> bool:
        return False

    def save_model(
        self,
        request: HttpRequest,
        obj: IntegrationSettings,
        form: ModelForm[IntegrationSettings],
        change: bool,
    ) -> None:
        integration_settings_update(tenant=obj.tenant, **form.cleaned_data)
        obj.refresh_from_db()
