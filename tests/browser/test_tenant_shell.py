"""The tenant pages' shell in a real browser: connecting Salesforce through its consent
page, the navigation by keyboard, the overview and settings at desktop and phone
widths, and a backlog's progress that moves without a reload."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from integrations.models import SalesforceConnection, SyncJob
from salesforce_emulator.testing import EmulatorServer, OrgHandle
from tenants.models import Membership, Tenant
from tests.browser.conftest import page_check, sign_in
from tests.factories import (
    MeetingFactory,
    MembershipFactory,
    SalesforceConnectionFactory,
    SyncJobFactory,
    TenantFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

State = SyncJob.State


def member_of(tenant: Tenant, role: str = Membership.Role.ADMIN) -> Any:
    user = UserFactory(username=f"{role}@acme.test")
    MembershipFactory(tenant=tenant, user=user, role=role)
    return user


def test_an_admin_connects_salesforce_through_its_consent_page(
    page: Page,
    live_server: Any,
    settings: Any,
    salesforce_server: EmulatorServer,
    salesforce: OrgHandle,
) -> None:
    settings.SALESFORCE_LOGIN_URL = salesforce_server.base_url
    settings.SALESFORCE_CA_FILE = salesforce_server.ca_file
    settings.SALESFORCE_CLIENT_ID = f"portal-{salesforce.id}"
    settings.SALESFORCE_CLIENT_SECRET = "connected-app-secret"
    salesforce.add_connected_app(
        settings.SALESFORCE_CLIENT_ID,
        "connected-app-secret",
        f"{live_server.url}/salesforce/callback/",
    )
    tenant = TenantFactory(name="Acme", slug="acme")
    sign_in(page, live_server.url, member_of(tenant))

    page.goto(f"{live_server.url}/settings/")
    page.get_by_role("link", name="Connect Salesforce").click()
    page.get_by_role("button", name="Continue to Salesforce").click()
    expect(page.get_by_role("heading", name="Allow Access?")).to_be_visible()
    page.get_by_role("button", name="Allow").click()

    expect(page.get_by_text(f"Connected to Salesforce org {salesforce.id}.")).to_be_visible()
    assert page.url == f"{live_server.url}/settings/"
    expect(page.get_by_text("Connected to org")).to_be_visible()
    connection = SalesforceConnection.objects.get(tenant=tenant)
    assert connection.status == "connected" and connection.org_id == salesforce.id
    # The emulator's consent page is not ours: only the portal's pages are checked.
    page.console_errors.clear()  # type: ignore[attr-defined]
    page_check(page, "tenant-settings-connected")

    page.get_by_role("link", name="Disconnect…").click()
    expect(page.get_by_role("heading", name="Disconnect Salesforce?")).to_be_visible()
    page_check(page, "tenant-disconnect-confirm")
    page.get_by_role("button", name="Disconnect Salesforce").click()
    expect(page.get_by_text("Salesforce is disconnected")).to_be_visible()
    assert SalesforceConnection.objects.get(tenant=tenant).status == "disconnected"


def test_the_navigation_marks_the_current_page_and_works_by_keyboard(
    page: Page, live_server: Any
) -> None:
    tenant = TenantFactory(name="Acme", slug="acme")
    sign_in(page, live_server.url, member_of(tenant, Membership.Role.MEMBER))
    page.goto(f"{live_server.url}/")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Overview")).to_have_attribute("aria-current", "page")
    expect(nav.get_by_role("link", name="API & webhooks")).to_have_count(0)

    # The first Tab reaches "Skip to content", which takes the keyboard past the header.
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    page.keyboard.press("Enter")
    expect(page.locator("main#content")).to_be_focused()

    # From the top, Tab through the header to "Settings", then Enter follows it.
    page.goto(f"{live_server.url}/")
    for _ in range(15):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == "Settings":
            break
    settings_link = nav.get_by_role("link", name="Settings")
    expect(settings_link).to_be_focused()
    outline = settings_link.evaluate("e => getComputedStyle(e).outlineStyle")
    assert outline != "none", "the focused link shows no focus ring"
    page.keyboard.press("Enter")

    page.wait_for_url(f"{live_server.url}/settings/")
    expect(nav.get_by_role("link", name="Settings")).to_have_attribute("aria-current", "page")
    expect(nav.get_by_role("link", name="Overview")).not_to_have_attribute("aria-current", "page")
    page_check(page, "tenant-settings-member")


def test_the_overview_leads_with_what_needs_the_member_at_both_widths(
    page: Page, live_server: Any
) -> None:
    tenant = TenantFactory(name="Acme Industries", slug="acme", timezone="Europe/Berlin")
    SalesforceConnectionFactory(
        tenant=tenant,
        paused_until=timezone.now() + timedelta(hours=3),
        api_usage_used=14_990,
        api_usage_limit=15_000,
        api_usage_at=timezone.now(),
    )
    for state in (State.NEEDS_REVIEW, State.FAILED, State.FAILED, State.SUCCEEDED):
        SyncJobFactory(local_object__meeting__tenant=tenant, state=state)
    SyncJob.objects.filter(state=State.SUCCEEDED).update(finished_at=timezone.now())
    MeetingFactory(tenant=tenant, title="Quarterly business review with Initech Corporation")
    sign_in(page, live_server.url, member_of(tenant))

    page.goto(f"{live_server.url}/")

    expect(page.get_by_text("Syncing is paused until")).to_be_visible()
    expect(page.get_by_role("button", name="Resume now")).to_be_visible()
    expect(page.get_by_text("Connected — syncing paused until")).to_be_visible()
    page_check(page, "tenant-overview")

    page.get_by_role("link", name="failed jobs").click()
    page.wait_for_url(f"{live_server.url}/sync/?state=failed")


def test_the_backlog_bar_moves_without_a_reload(page: Page, live_server: Any) -> None:
    tenant = TenantFactory(name="Acme", slug="acme")
    SalesforceConnectionFactory(tenant=tenant)
    backlog = [SyncJobFactory(local_object__meeting__tenant=tenant) for _ in range(4)]
    sign_in(page, live_server.url, member_of(tenant, Membership.Role.MEMBER))
    page.goto(f"{live_server.url}/")
    done = page.get_by_test_id("backlog-done")
    expect(done).to_have_text("0 of 4")
    # A marker on the page: a reload would lose it.
    page.evaluate("window.notReloaded = true")

    # The worker finishes half of the jobs, then the rest.
    SyncJob.objects.filter(pk__in=[j.pk for j in backlog[:2]]).update(
        state=State.SUCCEEDED, finished_at=timezone.now()
    )
    expect(done).to_have_text("2 of 4")
    expect(page.locator("#backlog-bar")).to_have_attribute("value", "2")
    expect(page.get_by_text("a minute over the last few minutes")).to_be_visible()
    SyncJob.objects.filter(pk__in=[j.pk for j in backlog[2:]]).update(
        state=State.SUCCEEDED, finished_at=timezone.now()
    )
    expect(done).to_have_text("4 of 4")
    expect(page.get_by_role("heading", name="Backlog synced")).to_be_visible()

    assert page.evaluate("window.notReloaded") is True
    # Done, the fragment no longer asks for itself.
    assert page.locator("#backlog[hx-trigger]").count() == 0
    page_check(page, "tenant-overview-backlog-done")
