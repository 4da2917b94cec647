"""Tenant admins' own pages: the partner API's keys and the meeting scheduler's webhook
(its address, its signing secret, how a delivery is signed).

A new key or secret is shown once, in the answer to the POST that made it, on a page
nothing may cache. It never goes through the session, Django's messages (a signed, not
encrypted, cookie) or any other cookie: after that page, only its hash (a key) or its
encrypted form (the secret) exists."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from core.errors import NotFound
from tenants import selectors, services
from tenants.access import TenantRequest, tenant_page
from tenants.forms import APIKeyCreateForm
from tenants.models import Tenant, TenantAPIKey


@dataclass(frozen=True)
class SchedulerWebhook:
    """What a tenant admin gives the meeting scheduler: where to deliver, and the values
    the signing examples on the page are written with."""

    url: str
    tolerance_minutes: int
    # Without a secret the portal refuses every delivery; the page offers to make one.
    has_secret: bool
    # The example booking's host: someone of the tenant's own, as a real booking has.
    host_email: str


def _scheduler_webhook(request: TenantRequest, tenant: Tenant) -> SchedulerWebhook:
    # Reversed by name: the webhook is the scheduler's API, which this app must not import.
    url = reverse("api:scheduler-webhook", kwargs={"tenant_slug": tenant.slug})
    domain = next(iter(tenant.internal_domains), "example.com")
    return SchedulerWebhook(
        url=request.build_absolute_uri(url),
        tolerance_minutes=settings.SCHEDULER_WEBHOOK_TOLERANCE_SECONDS // 60,
        has_secret=bool(tenant.scheduler_webhook_secret),
        host_email=f"host@{domain}",
    )


def _api_access_page(request: TenantRequest, form: APIKeyCreateForm) -> HttpResponse:
    tenant = request.membership.tenant
    context = {
        "tenant": tenant,
        "membership": request.membership,
        "form": form,
        "api_keys": selectors.api_key_list(tenant=tenant),
        "webhook": _scheduler_webhook(request, tenant),
    }
    return render(request, "tenants/api_access.html", context)


def _shown_once(request: TenantRequest, context: dict[str, object]) -> HttpResponse:
    """The page that shows a new key or secret, once. Neither the browser nor a proxy
    may keep it: going back shows nothing of it."""
    context = {"tenant": request.membership.tenant, **context}
    response = render(request, "tenants/shown_once.html", context)
    add_never_cache_headers(response)
    return response


def _api_key_or_404(tenant: Tenant, prefix: str) -> TenantAPIKey:
    try:
        return selectors.api_key_get(tenant=tenant, prefix=prefix)
    except NotFound as exc:
        raise Http404(exc.message) from exc


@require_safe
@tenant_page(admin_only=True)
def api_access(request: TenantRequest) -> HttpResponse:
    return _api_access_page(request, APIKeyCreateForm())


@require_POST
@tenant_page(admin_only=True)
def api_key_create(request: TenantRequest) -> HttpResponse:
    form = APIKeyCreateForm(request.POST)
    if not form.is_valid():
        # The page again, with what was typed and what is wrong with it.
        return _api_access_page(request, form)
    api_key, plain_key = services.api_key_create(
        tenant=request.membership.tenant, name=form.cleaned_data["name"], by=request.user
    )
    context = {
        "title": f"API key “{api_key.name}”",
        "label": "The new API key",
        "value": plain_key,
        "kind": "key",
        "api_key": api_key,
    }
    return _shown_once(request, context)


@require_http_methods(["GET", "HEAD", "POST"])
@tenant_page(admin_only=True, acts=True)
def api_key_revoke(request: TenantRequest, prefix: str) -> HttpResponse:
    """Asks first (GET), revokes on the answer (POST)."""
    api_key = _api_key_or_404(request.membership.tenant, prefix)
    if request.method == "POST":
        services.api_key_revoke(api_key=api_key, by=request.user)
        messages.success(
            request, f"Key “{api_key.name}” is revoked: calls made with it are refused."
        )
        return redirect("tenants:api")
    return render(
        request,
        "tenants/api_key_revoke.html",
        {"tenant": request.membership.tenant, "api_key": api_key},
    )


@require_http_methods(["GET", "HEAD", "POST"])
@tenant_page(admin_only=True, acts=True)
def scheduler_secret_rotate(request: TenantRequest) -> HttpResponse:
    """Asks first (GET), rotates on the answer (POST) and shows the new secret once."""
    tenant = request.membership.tenant
    if request.method == "POST":
        secret = services.scheduler_webhook_secret_rotate(tenant=tenant, by=request.user)
        context = {
            "title": "New scheduler signing secret",
            "label": "The new signing secret",
            "value": secret,
            "kind": "secret",
            "webhook": _scheduler_webhook(request, tenant),
        }
        return _shown_once(request, context)
    return render(request, "tenants/scheduler_secret_rotate.html", {"tenant": tenant})


urlpatterns = [
    path("api-access/", api_access, name="api"),
    path("api-access/keys/new/", api_key_create, name="api-key-create"),
    path("api-access/keys/<str:prefix>/revoke/", api_key_revoke, name="api-key-revoke"),
    path(
        "api-access/scheduler-secret/rotate/",
        scheduler_secret_rotate,
        name="scheduler-secret-rotate",
    ),
]
