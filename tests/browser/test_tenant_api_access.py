"""A tenant admin manages the partner API's keys and the scheduler's signing secret in a
real browser: each new one shown once with a working Copy button, each destructive step
asked first; every page checked at desktop and phone width."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect
from rest_framework.test import APIClient

from tenants.models import Membership, Tenant
from tests.browser.conftest import page_check, sign_in
from tests.factories import MembershipFactory, TenantAPIKeyFactory, TenantFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def acme() -> Tenant:
    return TenantFactory(name="Acme", slug="acme", internal_domains=["acme.test"])


@pytest.fixture
def tenant_admin(acme: Tenant) -> User:
    user = UserFactory(username="ada")
    MembershipFactory(tenant=acme, user=user, role=Membership.Role.ADMIN)
    return user


def api_answers(plain_key: str) -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {plain_key}")
    return int(client.get("/api/v1/meetings/").status_code)


def open_api_page(page: Page, live_url: str) -> None:
    page.goto(f"{live_url}/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="API & webhooks").click()
    expect(page.get_by_role("heading", name="API & webhooks", level=1)).to_be_visible()


def test_a_tenant_admin_creates_copies_and_revokes_an_api_key(
    page: Page, live_server: object, acme: Tenant, tenant_admin: User
) -> None:
    live_url = str(live_server.url)  # type: ignore[attr-defined]
    TenantAPIKeyFactory(tenant=acme, name="Data warehouse export")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_url)
    sign_in(page, live_url, tenant_admin)
    open_api_page(page, live_url)
    page_check(page, "tenant-api-access")

    page.get_by_role("button", name="Create key").click()
    expect(page.get_by_text("Give the key a name")).to_be_visible()
    page_check(page, "tenant-api-key-name-refused")
    page.get_by_label("Name").fill("CRM sync")
    page.get_by_role("button", name="Create key").click()

    expect(page.get_by_role("heading", name="API key “CRM sync”")).to_be_visible()
    expect(page.get_by_text("Copy it now; it is not shown again.")).to_be_visible()
    plain_key = page.locator("#shown-value").inner_text()
    page.get_by_role("button", name="Copy The new API key").click()
    expect(page.get_by_text("Copied.")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == plain_key
    assert api_answers(plain_key) == 200
    page_check(page, "tenant-api-key-shown-once")

    page.get_by_role("link", name="Done: back to API & webhooks").click()
    row = page.get_by_role("row").filter(has_text="CRM sync")
    expect(row).to_contain_text("In use")
    assert plain_key not in page.content()
    row.get_by_role("link", name=re.compile("^Revoke")).click()
    expect(page.get_by_role("heading", name="Revoke key “CRM sync”?")).to_be_visible()
    expect(page.get_by_text("Partners using it are refused within a few seconds")).to_be_visible()
    page_check(page, "tenant-api-key-revoke")
    page.get_by_role("button", name="Revoke key").click()

    expect(page.get_by_text("Key “CRM sync” is revoked")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="CRM sync")).to_contain_text("Revoked")
    expect(page.get_by_role("row").filter(has_text="Data warehouse export")).to_contain_text(
        "In use"
    )
    assert api_answers(plain_key) == 401


def test_a_tenant_admin_rotates_the_scheduler_secret_after_confirming(
    page: Page, live_server: object, acme: Tenant, tenant_admin: User
) -> None:
    live_url = str(live_server.url)  # type: ignore[attr-defined]
    old_secret = acme.scheduler_webhook_secret
    sign_in(page, live_url, tenant_admin)
    open_api_page(page, live_url)
    expect(page.get_by_text(f"{live_url}/api/v1/scheduler/webhooks/acme/").first).to_be_visible()
    assert old_secret not in page.content()

    page.get_by_role("link", name="Rotate the signing secret").click()
    confirm = page.get_by_role("heading", name="Rotate the scheduler's signing secret?")
    expect(confirm).to_be_visible()
    page_check(page, "tenant-secret-rotate")
    page.get_by_role("link", name="Cancel").click()
    acme.refresh_from_db()
    assert acme.scheduler_webhook_secret == old_secret

    page.get_by_role("link", name="Rotate the signing secret").click()
    page.get_by_role("button", name="Rotate the secret").click()

    expect(page.get_by_role("heading", name="New scheduler signing secret")).to_be_visible()
    expect(page.get_by_text("the previous secret stopped working at once")).to_be_visible()
    new_secret = page.locator("#shown-value").inner_text()
    acme.refresh_from_db()
    assert new_secret == acme.scheduler_webhook_secret != old_secret
    page_check(page, "tenant-secret-shown-once")
