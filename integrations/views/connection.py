"""Tenant pages: connecting Salesforce (production, sandbox or My Domain), checking
the connection, the integration settings and the tenant's timezone."""

from __future__ import annotations

import hmac
from typing import Any
from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from core.errors import DomainError
from integrations.forms import (
    IntegrationSettingsForm,
    SalesforceLoginForm,
)
from integrations.models import SalesforceConnection
from integrations.overview import connection_health
from integrations.salesforce.capabilities import ConnectionCheck, checklist
from integrations.salesforce.login import (
    LoginChoice,
    login_choice_of,
    login_host_label,
    login_url_for,
)
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
    """Asks where the org signs in (GET), then sends the admin there (POST)."""
    tenant = request.membership.tenant
    current = salesforce_connection_for_tenant(tenant=tenant)
    if request.method != "POST":
        choice, custom_url = login_choice_of(current.login_url if current else "")
        form = SalesforceLoginForm(
            initial={"login": choice.value, "custom_url": custom_url}, label_suffix=""
        )
        return _connect_page(request, form, current)
    form = SalesforceLoginForm(request.POST, label_suffix="")
    if not form.is_valid():
        return _connect_page(request, form, current)
    try:
        login_url = login_url_for(
            choice=LoginChoice(form.cleaned_data["login"]),
            custom_url=form.cleaned_data["custom_url"],
        )
        pending = oauth_authorization_start(
            redirect_uri=_callback_url(request), login_url=login_url
        )
    except DomainError as exc:
        form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        return _connect_page(request, form, current)
    except OAuthError as exc:
        messages.error(request, str(exc))
        return redirect("integrations:settings")
    # The state, PKCE verifier and login address stay on our side, in the signed-in
    # user's session: the callback trades the code where the admin signed in.
    request.session[SESSION_KEY] = {
        "state": pending.state,
        "verifier": pending.code_verifier,
        "tenant": request.membership.tenant_id,
        "login_url": login_url,
    }
    return redirect(pending.url)


def _connect_page(
    request: TenantRequest,
    form: SalesforceLoginForm,
    current: SalesforceConnection | None,
) -> HttpResponse:
    context = {
        "tenant": request.membership.tenant,
        "form": form,
        "connection": current,
        "sandbox_host": urlsplit(settings.SALESFORCE_SANDBOX_LOGIN_URL).netloc,
        "production_host": urlsplit(settings.SALESFORCE_LOGIN_URL).netloc,
    }
    # A refused choice is shown again as a page (200), as the settings form is.
    return render(request, "integrations/salesforce_connect.html", context)


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
            login_url=str(pending.get("login_url", "")),
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
def salesforce_check(request: TenantRequest) -> HttpResponse:
    """Read again what the org allows (describe and limits) and show it on the page."""
    try:
        check = connection.salesforce_connection_check(tenant=request.membership.tenant)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        if check.error:
            messages.error(request, f"The connection check did not finish. {check.error}")
        else:
            missing = sum(1 for line in checklist(check) if not line.ok)
            messages.success(
                request,
                "Connection checked: everything the sync needs is there."
                if not missing
                else f"Connection checked: {missing} thing{'s' if missing > 1 else ''} "
                "to fix in Salesforce, listed below.",
            )
    return redirect(f"{reverse('integrations:settings')}#check-title")


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
    check = ConnectionCheck.from_json(salesforce.capabilities) if salesforce else None
    context = {
        "tenant": tenant,
        "membership": membership,
        "form": form,
        "timezone_form": timezone_form
        or TenantTimezoneForm(initial={"timezone": tenant.timezone}, label_suffix=""),
        "connection": salesforce,
        "health": connection_health(salesforce),
        "check": check,
        "checklist": checklist(check) if check and not check.error else [],
        "login_host": login_host_label(salesforce.login_url if salesforce else ""),
    }
    status = 400 if timezone_form is not None else 200
    return render(request, "integrations/settings.html", context, status=status)


urlpatterns = [
    path("settings/", integration_settings, name="settings"),
    path("salesforce/connect/", salesforce_connect, name="salesforce-connect"),
    path("salesforce/callback/", salesforce_callback, name="salesforce-callback"),
    path("salesforce/disconnect/", salesforce_disconnect, name="salesforce-disconnect"),
    path("salesforce/check/", salesforce_check, name="salesforce-check"),
    path("salesforce/resume/", salesforce_resume, name="salesforce-resume"),
    path("settings/timezone/", tenant_timezone, name="tenant-timezone"),
]
