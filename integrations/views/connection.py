"""Tenant pages: connecting Salesforce, the integration settings and the tenant's
timezone."""

from __future__ import annotations

import hmac
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from core.errors import DomainError
from integrations.forms import (
    IntegrationSettingsForm,
)
from integrations.overview import connection_health
from integrations.salesforce.oauth import OAuthError, oauth_authorization_start
from integrations.selectors import salesforce_connection_for_tenant
from integrations.services import connection
from integrations.services.jobs import sync_tenant_resume
from integrations.services.settings import (
    integration_settings_get_or_create,
    integration_settings_update,
)
from tenants.access import TenantRequest, tenant_page
from tenants.models import Tenant, timezone_names
from tenants.services import tenant_timezone_set

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


@tenant_page(admin_only=True)
def salesforce_disconnect(request: TenantRequest) -> HttpResponse:
    """Asks first (GET), then disconnects (POST)."""
    tenant = request.membership.tenant
    if request.method != "POST":
        context = {
            "tenant": tenant,
            "connection": salesforce_connection_for_tenant(tenant=tenant),
        }
        return render(request, "integrations/salesforce_disconnect.html", context)
    connection.salesforce_disconnect(tenant=tenant)
    messages.success(request, "Salesforce is disconnected; nothing more will be sent.")
    return redirect("integrations:settings")


@require_POST
@tenant_page(admin_only=True)
def salesforce_resume(request: TenantRequest) -> HttpResponse:
    """Lift the API-limit pause before its time (the org's limit was raised, say): the
    jobs that waited run now, and pause again if Salesforce still refuses them."""
    resumed = sync_tenant_resume(tenant=request.membership.tenant)
    jobs = "job runs" if resumed == 1 else "jobs run"
    messages.success(request, f"Syncing resumed: {resumed} waiting {jobs} now.")
    return redirect("portal:home")


def _timezone_choices() -> list[tuple[str, Any]]:
    """The zones grouped by region ("Europe": Berlin, Paris, ...), UTC first."""
    regions: dict[str, list[tuple[str, str]]] = {}
    for name in sorted(timezone_names()):
        region, _, place = name.partition("/")
        if name != "UTC":
            regions.setdefault(region if place else "Other", []).append(
                (name, place.replace("_", " ") or name)
            )
    return [("UTC", "UTC"), *regions.items()]


class TenantTimezoneForm(forms.Form):
    timezone = forms.ChoiceField(
        label="Show times in",
        choices=_timezone_choices,
        help_text="Every time on these pages is shown in it.",
    )


@tenant_page()
def integration_settings(request: TenantRequest) -> HttpResponse:
    membership = request.membership
    tenant = membership.tenant
    row = integration_settings_get_or_create(tenant=tenant)
    form = IntegrationSettingsForm(request.POST or None, instance=row, label_suffix="")
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
    return _settings_page(request, form=form)


@require_POST
@tenant_page(admin_only=True)
def tenant_timezone(request: TenantRequest) -> HttpResponse:
    tenant = request.membership.tenant
    form = TenantTimezoneForm(request.POST, label_suffix="")
    if form.is_valid():
        try:
            tenant_timezone_set(tenant=tenant, timezone=form.cleaned_data["timezone"])
        except DomainError as exc:
            form.add_error("timezone", exc.message)
        else:
            messages.success(request, f"Times are now shown in {tenant.timezone}.")
            return redirect("integrations:settings")
    return _settings_page(request, timezone_form=form)


def _settings_page(
    request: TenantRequest,
    *,
    form: IntegrationSettingsForm | None = None,
    timezone_form: TenantTimezoneForm | None = None,
) -> HttpResponse:
    membership = request.membership
    tenant: Tenant = membership.tenant
    if form is None:
        row = integration_settings_get_or_create(tenant=tenant)
        form = IntegrationSettingsForm(instance=row, label_suffix="")
    salesforce = salesforce_connection_for_tenant(tenant=tenant)
    context = {
        "tenant": tenant,
        "membership": membership,
        "form": form,
        "timezone_form": timezone_form
        or TenantTimezoneForm(initial={"timezone": tenant.timezone}, label_suffix=""),
        "connection": salesforce,
        "health": connection_health(salesforce),
    }
    status = 400 if timezone_form is not None else 200
    return render(request, "integrations/settings.html", context, status=status)


urlpatterns = [
    path("settings/", integration_settings, name="settings"),
    path("salesforce/connect/", salesforce_connect, name="salesforce-connect"),
    path("salesforce/callback/", salesforce_callback, name="salesforce-callback"),
    path("salesforce/disconnect/", salesforce_disconnect, name="salesforce-disconnect"),
    path("salesforce/resume/", salesforce_resume, name="salesforce-resume"),
    path("settings/timezone/", tenant_timezone, name="tenant-timezone"),
]
