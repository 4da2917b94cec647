"""Tenant pages: connecting Salesforce and the integration settings."""

from __future__ import annotations

import hmac

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from core.errors import DomainError
from integrations.forms import (
    IntegrationSettingsForm,
)
from integrations.salesforce.oauth import OAuthError, oauth_authorization_start
from integrations.selectors import salesforce_connection_for_tenant
from integrations.services import connection
from integrations.services.settings import (
    integration_settings_get_or_create,
    integration_settings_update,
)
from tenants.access import TenantRequest, tenant_page

SESSION_KEY = "salesforce_oauth"


def _callback_url(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("integrations:salesforce-callback"))


@tenant_page(admin_only=True, acts=True)
def salesforce_connect(request: TenantRequest) -> HttpResponse:
    try:
        pending = oauth_authorization_start(redirect_uri=_callback_url(request))
    except OAuthError as exc:
        messages.error(request, str(exc))
        return redirect("integrations:settings")
    # The state and PKCE verifier stay on our side, in the signed-in user's session.
    request.session[SESSION_KEY] = {
        "state": pending.state,
        "verifier": pending.code_verifier,
        "tenant": request.membership.tenant_id,
    }
    return redirect(pending.url)


@tenant_page(admin_only=True, acts=True)
def salesforce_callback(request: TenantRequest) -> HttpResponse:
    pending = request.session.pop(SESSION_KEY, None)
    tenant = request.membership.tenant
    state = request.GET.get("state", "")
    if (
        not pending
        or pending.get("tenant") != tenant.pk
        or not hmac.compare_digest(pending.get("state", ""), state)
    ):
        messages.error(
            request, "That Salesforce answer does not belong to this sign-in. Try again."
        )
        return redirect("integrations:settings")
    if "error" in request.GET:
        why = request.GET.get("error_description") or request.GET["error"]
        messages.error(request, f"Salesforce did not connect: {why}.")
        return redirect("integrations:settings")
    try:
        connected = connection.salesforce_oauth_complete(
            tenant=tenant,
            code=request.GET.get("code", ""),
            code_verifier=pending["verifier"],
            redirect_uri=_callback_url(request),
            installed_by=request.user,
        )
    except OAuthError as exc:
        messages.error(request, str(exc))
        return redirect("integrations:settings")
    messages.success(request, f"Connected to Salesforce org {connected.org_id}.")
    return redirect("integrations:settings")


@require_POST
@tenant_page(admin_only=True)
def salesforce_disconnect(request: TenantRequest) -> HttpResponse:
    connection.salesforce_disconnect(tenant=request.membership.tenant)
    messages.success(request, "Salesforce is disconnected; nothing more will be sent.")
    return redirect("integrations:settings")


@tenant_page()
def integration_settings(request: TenantRequest) -> HttpResponse:
    membership = request.membership
    tenant = membership.tenant
    row = integration_settings_get_or_create(tenant=tenant)
    form = IntegrationSettingsForm(request.POST or None, instance=row)
    if request.method == "POST":
        if membership.role != membership.Role.ADMIN:
            return render(request, "portal/admin_only.html", {"membership": membership}, status=403)
        if form.is_valid():
            try:
                integration_settings_update(tenant=tenant, **form.cleaned_data)
            except DomainError as exc:
                form.add_error(exc.field, exc.message)
            else:
                messages.success(request, "Settings saved.")
                return redirect("integrations:settings")
    context = {
        "tenant": tenant,
        "membership": membership,
        "form": form,
        "connection": salesforce_connection_for_tenant(tenant=tenant),
    }
    return render(request, "integrations/settings.html", context)


urlpatterns = [
    path("settings/", integration_settings, name="settings"),
    path("salesforce/connect/", salesforce_connect, name="salesforce-connect"),
    path("salesforce/callback/", salesforce_callback, name="salesforce-callback"),
    path("salesforce/disconnect/", salesforce_disconnect, name="salesforce-disconnect"),
]
