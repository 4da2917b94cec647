"""Tenants as ops manage them in the admin: a new tenant's webhook secret and new API
keys are shown once, on a page of their own, never in a cookie or a message; internal
domains are a list of checked domains; there is one API key admin."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission, User
from django.contrib.messages import get_messages
from django.http import HttpResponse
from django.test import Client
from django.urls import NoReverseMatch, reverse
from rest_framework_api_key.models import APIKey

from tenants.models import Tenant, TenantAPIKey
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NO_MEMBERS = {
    "memberships-TOTAL_FORMS": "0",
    "memberships-INITIAL_FORMS": "0",
    "memberships-MIN_NUM_FORMS": "0",
    "memberships-MAX_NUM_FORMS": "1000",
}


@pytest.fixture
def ops() -> Client:
    client = Client()
    client.force_login(UserFactory(username="ops", is_staff=True, is_superuser=True))
    return client


def staff_client(*codenames: str) -> Client:
    user = UserFactory(username="staff", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    client = Client()
    client.force_login(User.objects.get(pk=user.pk))
    return client


def assert_shown_only_on_the_page(client: Client, page: HttpResponse, secret: str) -> None:
    """The secret is on the page, which nothing caches, and in no cookie, no message and
    no session."""
    assert secret in page.content.decode()
    assert "no-store" in page["Cache-Control"]
    assert "not shown again" in page.content.decode()
    for cookie in [*page.cookies.values(), *client.cookies.values()]:
        assert secret not in cookie.value
    assert all(secret not in str(message) for message in get_messages(page.wsgi_request))
    assert all(secret not in str(value) for value in client.session.values())


def add_tenant(ops: Client, **fields: str) -> HttpResponse:
    data = {"name": "Initech", "slug": "initech", "internal_domains": "initech.com", **NO_MEMBERS}
    return ops.post(reverse("admin:tenants_tenant_add"), {**data, **fields})


def test_a_tenant_added_in_the_admin_gets_a_webhook_secret_shown_once(ops: Client) -> None:
    page = add_tenant(ops)

    assert page.status_code == 200
    tenant = Tenant.objects.get(slug="initech")
    secret = tenant.scheduler_webhook_secret
    assert len(secret) >= 32
    assert_shown_only_on_the_page(ops, page, secret)
    later = ops.get(reverse("admin:tenants_tenant_change", args=[tenant.pk]))
    assert secret not in later.content.decode()


def test_the_internal_domains_editor_checks_each_domain(ops: Client) -> None:
    page = add_tenant(ops, internal_domains="acme\nhttp://x\ninitech.com")

    text = page.content.decode()
    assert "“acme” is not a domain, e.g. acme.com" in text
    assert "“http://x” is not a domain, e.g. acme.com" in text
    assert not Tenant.objects.filter(slug="initech").exists()


def test_the_internal_domains_editor_lower_cases_and_drops_repeats(
    ops: Client, tenant: Tenant
) -> None:
    answer = ops.post(
        reverse("admin:tenants_tenant_change", args=[tenant.pk]),
        {
            "name": "Acme",
            "slug": "acme",
            "internal_domains": "Acme.com\nacme.com\n\n@EU.acme.com",
            **NO_MEMBERS,
        },
    )

    assert answer.status_code == 302
    tenant.refresh_from_db()
    assert tenant.internal_domains == ["acme.com", "eu.acme.com"]


def test_the_tenant_page_lists_its_domains_one_per_line(ops: Client, tenant: Tenant) -> None:
    tenant.internal_domains = ["acme.test", "acme.example"]
    tenant.save()

    page = ops.get(reverse("admin:tenants_tenant_change", args=[tenant.pk]))

    assert "acme.test\nacme.example</textarea>" in page.content.decode()


def test_a_new_api_key_is_shown_once_and_works(ops: Client, tenant: Tenant) -> None:
    page = ops.post(
        reverse("admin:tenants_tenant_changelist"),
        {"action": "create_api_key", "_selected_action": [tenant.pk], "index": 0},
    )

    api_key = TenantAPIKey.objects.get(tenant=tenant)
    plain = page.context["secrets"][0].value
    assert TenantAPIKey.objects.get_from_key(plain) == api_key
    assert_shown_only_on_the_page(ops, page, plain)
    assert plain not in ops.get(reverse("admin:tenants_tenantapikey_changelist")).content.decode()


def test_a_rotated_webhook_secret_is_shown_once(ops: Client, tenant: Tenant) -> None:
    old = tenant.scheduler_webhook_secret

    page = ops.post(
        reverse("admin:tenants_tenant_changelist"),
        {"action": "rotate_webhook_secret", "_selected_action": [tenant.pk], "index": 0},
    )

    tenant.refresh_from_db()
    assert tenant.scheduler_webhook_secret != old
    assert_shown_only_on_the_page(ops, page, tenant.scheduler_webhook_secret)


def test_credentials_need_the_credentials_permission(tenant: Tenant) -> None:
    # Change permission on tenants and keys is not enough to make or revoke a key.
    client = staff_client("view_tenant", "change_tenant", "view_tenantapikey", "add_tenant")
    old = tenant.scheduler_webhook_secret

    for action in ("create_api_key", "rotate_webhook_secret"):
        client.post(
            reverse("admin:tenants_tenant_changelist"),
            {"action": action, "_selected_action": [tenant.pk], "index": 0},
        )
    adding = client.get(reverse("admin:tenants_tenant_add"))

    tenant.refresh_from_db()
    assert tenant.scheduler_webhook_secret == old
    assert not TenantAPIKey.objects.exists()
    # A new tenant's secret is a credential too.
    assert adding.status_code == 403


def test_a_key_is_revoked_by_its_action_not_edited_or_deleted(ops: Client, tenant: Tenant) -> None:
    key = TenantAPIKey.objects.create_key(tenant=tenant, name="partner")[0]
    change = reverse("admin:tenants_tenantapikey_change", args=[key.pk])

    ops.post(change, {"name": "renamed", "revoked": "on"})
    page = ops.get(change).content.decode()

    key.refresh_from_db()
    assert key.name == "renamed" and not key.revoked
    assert "Hashed key" not in page and key.hashed_key not in page.replace(key.pk, "")
    assert ops.get(reverse("admin:tenants_tenantapikey_add")).status_code == 403
    assert ops.post(reverse("admin:tenants_tenantapikey_delete", args=[key.pk])).status_code == 403


def test_there_is_one_api_key_admin() -> None:
    registered = [model for model in admin.site._registry if issubclass(model, APIKey.__base__)]

    assert registered == [TenantAPIKey]


def test_a_tenant_page_links_to_viewing_the_portal_as_the_tenant(
    ops: Client, tenant: Tenant
) -> None:
    try:
        url = reverse("portal:view-as", args=[tenant.pk])
    except NoReverseMatch:
        pytest.skip("the portal has no 'view as tenant' page")

    listing = ops.get(reverse("admin:tenants_tenant_changelist")).content.decode()
    page = ops.get(reverse("admin:tenants_tenant_change", args=[tenant.pk])).content.decode()

    assert url in listing and url in page


def test_members_are_still_added_on_the_tenant_page(ops: Client, tenant: Tenant) -> None:
    user = UserFactory(username="ana")

    ops.post(
        reverse("admin:tenants_tenant_change", args=[tenant.pk]),
        {
            "name": "Acme",
            "slug": "acme",
            "internal_domains": "acme.test",
            **NO_MEMBERS,
            "memberships-TOTAL_FORMS": "1",
            "memberships-0-user": str(user.pk),
            "memberships-0-role": "admin",
        },
    )

    assert tenant.memberships.get().user == user
