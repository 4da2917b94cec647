from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from rest_framework_api_key.admin import APIKeyModelAdmin

from tenants import services
from tenants.models import Membership, Tenant, TenantAPIKey


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "domains", "created_at"]
    search_fields = ["name", "slug", "memberships__user__email"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]
    exclude = ["scheduler_webhook_secret"]
    actions = ["create_api_key", "rotate_webhook_secret"]

    @admin.display(description="Internal domains")
    def domains(self, tenant: Tenant) -> str:
        return ", ".join(tenant.internal_domains)

    @admin.action(description="Create an API key (shown once)")
    def create_api_key(self, request: HttpRequest, queryset: QuerySet[Tenant]) -> None:
        for tenant in queryset:
            _, plain_key = services.api_key_create(tenant=tenant, name=f"Created by {request.user}")
            self.message_user(
                request,
                f"New API key for {tenant}: {plain_key} (copy it now: it is not shown again).",
                messages.WARNING,
            )

    @admin.action(description="Rotate the scheduler webhook secret (shown once)")
    def rotate_webhook_secret(self, request: HttpRequest, queryset: QuerySet[Tenant]) -> None:
        for tenant in queryset:
            secret = services.scheduler_webhook_secret_rotate(tenant=tenant)
            self.message_user(
                request,
                f"New scheduler signing secret for {tenant}: {secret} (shown once).",
                messages.WARNING,
            )


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "tenant", "role", "created_at"]
    list_filter = ["role", "tenant"]
    list_select_related = ["user", "tenant"]
    search_fields = ["user__email", "user__username", "tenant__name"]
    autocomplete_fields = ["user", "tenant"]


@admin.register(TenantAPIKey)
class TenantAPIKeyAdmin(APIKeyModelAdmin):
    """Keys are created here with the key shown once; revoking is a checkbox that
    cannot be undone."""

    list_select_related = ["tenant"]
    actions = ["revoke"]

    # APIKeyModelAdmin leaves its columns unannotated, so mypy takes them for tuples of
    # exactly that length; the tenant is added where Django asks for them instead.
    def get_list_display(self, request: HttpRequest) -> list[Any]:
        return [*super().get_list_display(request), "tenant"]

    def get_list_filter(self, request: HttpRequest) -> list[Any]:
        return [*super().get_list_filter(request), "tenant"]

    def get_search_fields(self, request: HttpRequest) -> list[str]:
        return [*super().get_search_fields(request), "tenant__name"]

    @admin.action(description="Revoke the selected keys")
    def revoke(self, request: HttpRequest, queryset: QuerySet[TenantAPIKey]) -> None:
        for api_key in queryset:
            services.api_key_revoke(api_key=api_key)
        self.message_user(request, f"Revoked {queryset.count()} key(s).", messages.SUCCESS)
