"""Ops pages for tenants, their members and their API keys.

A tenant's credentials (API keys, the scheduler's webhook secret) are made by actions
that need the "manage tenant credentials" permission, and each new one is shown once,
on a page of its own sent as the answer to the request that made it: never through
Django's messages (their cookie is signed, not encrypted), never stored but hashed or
encrypted."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Imported first so that its stock APIKey admin is registered before it is removed below.
import rest_framework_api_key.admin  # noqa: F401
from django.contrib import admin, messages
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils.cache import add_never_cache_headers
from django.utils.html import format_html
from rest_framework_api_key.models import APIKey

from tenants import services
from tenants.forms import TenantForm
from tenants.models import Membership, Tenant, TenantAPIKey

MANAGE_CREDENTIALS = "tenants.manage_tenant_credentials"

# Partners' keys are TenantAPIKeys; the library's own key model is not used, and one
# "API keys" page is enough.
if admin.site.is_registered(APIKey):
    admin.site.unregister(APIKey)


def can_manage_credentials(request: HttpRequest) -> bool:
    return request.user.is_active and request.user.has_perm(MANAGE_CREDENTIALS)


class CredentialsMixin:
    """For an admin whose actions make or revoke credentials:
    `permissions=["credentials"]` on the action."""

    def has_credentials_permission(self, request: HttpRequest) -> bool:
        return can_manage_credentials(request)


@dataclass(frozen=True)
class ShownSecret:
    tenant: Tenant
    what: str
    value: str
    where: str


API_KEY_HELP = 'The partner sends it with each request, as the header "Authorization: Api-Key …".'
WEBHOOK_SIGNING_HELP = "Give it to the meeting scheduler, which signs each webhook with it."
WEBHOOK_ROTATED_HELP = f"{WEBHOOK_SIGNING_HELP} The previous secret no longer works."


def secrets_page(
    model_admin: admin.ModelAdmin[Any],
    request: HttpRequest,
    *,
    title: str,
    secrets: list[ShownSecret],
    back_url: str,
    back_label: str = "the list of tenants",
) -> TemplateResponse:
    """The page that shows new secrets once. Nothing caches it: not the browser, not a
    proxy."""
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "secrets": secrets,
        "opts": Tenant._meta,
        "back_url": back_url,
        "back_label": back_label,
    }
    response = TemplateResponse(request, "admin/tenants/secret_shown_once.html", context)
    add_never_cache_headers(response)
    return response


def view_as_link(tenant: Tenant) -> str:
    try:
        url = reverse("portal:view-as", args=[tenant.pk])
    except NoReverseMatch:
        return "-"
    return format_html('<a href="{}">View as tenant</a>', url)


NEW_TENANT_FIELDS = ("name", "slug", "internal_domains")
TENANT_PAGE_FIELDS = (*NEW_TENANT_FIELDS, "created_at", "view_as")


def _signed_in(request: HttpRequest) -> User:
    """The staff user acting (the admin lets no one else in)."""
    assert request.user.is_authenticated
    return request.user


class MembershipChangesMixin:
    """Who belongs to a tenant, and as what, is a credential: a tenant admin connects
    its Salesforce and holds its API keys and webhook secret. Adding, changing or
    removing a membership needs the permission to manage tenant credentials, on top of
    the model's own."""

    # A ModelAdmin's add check takes the request alone, an inline's also the parent.
    def has_add_permission(self, request: HttpRequest, *parent: Any) -> bool:
        allowed: bool = super().has_add_permission(request, *parent)  # type: ignore[misc]
        return allowed and can_manage_credentials(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        allowed: bool = super().has_change_permission(request, obj)  # type: ignore[misc]
        return allowed and can_manage_credentials(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        allowed: bool = super().has_delete_permission(request, obj)  # type: ignore[misc]
        return allowed and can_manage_credentials(request)


class MembershipInline(MembershipChangesMixin, admin.TabularInline[Membership, Tenant]):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Tenant)
class TenantAdmin(CredentialsMixin, admin.ModelAdmin[Tenant]):
    form = TenantForm
    list_display = ["name", "slug", "domains", "created_at", "view_as"]
    search_fields = ["name", "slug", "memberships__user__email"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]
    readonly_fields = ["created_at", "view_as"]
    actions = ["create_api_key", "rotate_webhook_secret"]

    @admin.display(description="Internal domains")
    def domains(self, tenant: Tenant) -> str:
        return ", ".join(tenant.internal_domains)

    @admin.display(description="Portal")
    def view_as(self, tenant: Tenant) -> str:
        return view_as_link(tenant) if tenant.pk else "-"

    def get_fields(self, request: HttpRequest, obj: Tenant | None = None) -> tuple[str, ...]:
        # A tenant not made yet has no creation date, and no portal to view.
        return TENANT_PAGE_FIELDS if obj is not None else NEW_TENANT_FIELDS

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        # A tenant takes all its data with it: it is deleted from its own page, after
        # reading what goes with it, never in bulk.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def has_add_permission(self, request: HttpRequest) -> bool:
        # A new tenant's webhook secret is shown on the page that follows: a credential.
        return super().has_add_permission(request) and can_manage_credentials(request)

    def save_model(
        self, request: HttpRequest, obj: Tenant, form: ModelForm[Tenant], change: bool
    ) -> None:
        data = form.cleaned_data
        if change:
            # The form has put its answer on `obj` already; the service compares with
            # the tenant as it is stored.
            services.tenant_update(
                tenant=Tenant.objects.get(pk=obj.pk),
                name=data["name"],
                slug=data["slug"],
                internal_domains=data["internal_domains"],
            )
            obj.refresh_from_db()
            return
        created = services.tenant_create(
            name=data["name"], slug=data["slug"], internal_domains=data["internal_domains"]
        )
        # The admin goes on with the form's instance (its members are saved on it): it
        # becomes the tenant just made, secret included, for the page after.
        obj.pk = created.pk
        obj.refresh_from_db()

    def response_add(
        self, request: HttpRequest, obj: Tenant, post_url_continue: str | None = None
    ) -> HttpResponse:
        self.message_user(request, f"The tenant “{obj}” was added.", messages.SUCCESS)
        secret = ShownSecret(
            tenant=obj,
            what="Scheduler webhook secret",
            value=obj.scheduler_webhook_secret,
            where=WEBHOOK_SIGNING_HELP,
        )
        return secrets_page(
            self,
            request,
            title=f"New tenant {obj}: its scheduler webhook secret",
            secrets=[secret],
            back_url=reverse("admin:tenants_tenant_change", args=[obj.pk]),
            back_label=str(obj),
        )

    @admin.action(description="Create an API key (shown once)", permissions=["credentials"])
    def create_api_key(self, request: HttpRequest, queryset: QuerySet[Tenant]) -> TemplateResponse:
        shown = []
        for tenant in queryset:
            name = f"Created by {request.user.get_username()}"[:50]
            _, plain_key = services.api_key_create(tenant=tenant, name=name, by=_signed_in(request))
            shown.append(ShownSecret(tenant, "New API key", plain_key, API_KEY_HELP))
        return secrets_page(
            self,
            request,
            title="New API keys" if len(shown) > 1 else "New API key",
            secrets=shown,
            back_url=reverse("admin:tenants_tenant_changelist"),
        )

    @admin.action(
        description="Rotate the scheduler webhook secret (shown once)",
        permissions=["credentials"],
    )
    def rotate_webhook_secret(
        self, request: HttpRequest, queryset: QuerySet[Tenant]
    ) -> TemplateResponse:
        shown = []
        for tenant in queryset:
            secret = services.scheduler_webhook_secret_rotate(tenant=tenant, by=_signed_in(request))
            shown.append(
                ShownSecret(tenant, "New scheduler webhook secret", secret, WEBHOOK_ROTATED_HELP)
            )
        return secrets_page(
            self,
            request,
            title="New scheduler webhook secrets" if len(shown) > 1 else "New webhook secret",
            secrets=shown,
            back_url=reverse("admin:tenants_tenant_changelist"),
        )


@admin.register(Membership)
class MembershipAdmin(MembershipChangesMixin, admin.ModelAdmin[Membership]):
    list_display = ["user", "tenant", "role", "created_at"]
    list_filter = ["role", "tenant"]
    list_select_related = ["user", "tenant"]
    search_fields = ["user__email", "user__username", "tenant__name"]
    autocomplete_fields = ["user", "tenant"]


@admin.register(TenantAPIKey)
class TenantAPIKeyAdmin(CredentialsMixin, admin.ModelAdmin[TenantAPIKey]):
    """Keys are made by the tenants' "Create an API key" action, which shows the key
    once; here they are found and revoked (which cannot be undone). The hashed key is
    never shown. A key is revoked rather than deleted, so its row says what it was."""

    list_display = ["name", "prefix", "tenant", "created", "expiry_date", "expired", "revoked"]
    list_filter = ["revoked", "created", "tenant"]
    list_select_related = ["tenant"]
    search_fields = ["name", "prefix", "tenant__name"]
    fields = ["name", "prefix", "tenant", "created", "expiry_date", "revoked"]
    # Only its name is a label anyone with change permission may edit; when it expires
    # and whether it is revoked are credentials decisions.
    readonly_fields = ["prefix", "tenant", "created", "expiry_date", "revoked"]
    actions = ["revoke"]

    @admin.display(description="Has expired", boolean=True)
    def expired(self, api_key: TenantAPIKey) -> bool:
        return bool(api_key.has_expired)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: TenantAPIKey | None = None) -> bool:
        return False

    @admin.action(description="Revoke the selected keys", permissions=["credentials"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[TenantAPIKey]) -> None:
        count = 0
        for api_key in queryset:
            services.api_key_revoke(api_key=api_key, by=_signed_in(request))
            count += 1
        self.message_user(request, f"Revoked {count} key(s).", messages.SUCCESS)
