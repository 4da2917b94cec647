"""Connecting a sandbox in a real browser: the choice of org (with the My Domain address
field that shows for it, without any script), a refused address, the consent page,
and the connection check's checklist on the settings page, at desktop and phone
widths."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from integrations.models import SalesforceConnection
from integrations.salesforce.capabilities import ConnectionCheck, ObjectAccess
from salesforce_emulator.testing import EmulatorServer, OrgHandle
from tenants.models import Membership
from tests.browser.conftest import page_check, sign_in
from tests.factories import MembershipFactory, TenantFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_admin_connects_a_sandbox_and_reads_the_connection_check(
    page: Page,
    live_server: Any,
    settings: Any,
    salesforce_server: EmulatorServer,
    salesforce: OrgHandle,
) -> None:
    # The emulator plays the sandbox on https://localhost:<port>.
    sandbox = f"https://localhost:{urlsplit(salesforce_server.base_url).port}"
    settings.SALESFORCE_LOGIN_URL = salesforce_server.base_url
    settings.SALESFORCE_SANDBOX_LOGIN_URL = sandbox
    settings.SALESFORCE_CA_FILE = salesforce_server.ca_file
    settings.SALESFORCE_CLIENT_ID = f"portal-{salesforce.id}"
    settings.SALESFORCE_CLIENT_SECRET = "connected-app-secret"
    salesforce.add_connected_app(
        settings.SALESFORCE_CLIENT_ID,
        "connected-app-secret",
        f"{live_server.url}/salesforce/callback/",
    )
    tenant = TenantFactory(name="Acme", slug="acme")
    user = UserFactory(username="admin@acme.test")
    MembershipFactory(tenant=tenant, user=user, role=Membership.Role.ADMIN)
    sign_in(page, live_server.url, user)

    page.goto(f"{live_server.url}/settings/")
    page.get_by_role("link", name="Connect Salesforce").click()
    expect(page.get_by_role("heading", name="Connect Salesforce")).to_be_visible()
    expect(page.get_by_role("radio", name="Production")).to_be_checked()
    # The address field belongs to "My Domain" and shows only when it is chosen.
    address = page.get_by_role("textbox", name="My Domain login address")
    expect(address).to_be_hidden()
    page_check(page, "tenant-connect-choice")

    page.get_by_role("radio", name="My Domain").check()
    expect(address).to_be_visible()
    address.fill("https://evil.example@login.salesforce.com")
    page.get_by_role("button", name="Continue to Salesforce").click()
    expect(page.get_by_role("alert")).to_contain_text("must not hold a user name or password")
    expect(page.get_by_role("radio", name="My Domain")).to_be_checked()
    expect(address).to_have_value("https://evil.example@login.salesforce.com")
    page_check(page, "tenant-connect-refused")

    page.get_by_role("radio", name="Sandbox").check()
    expect(address).to_be_hidden()
    page.get_by_role("button", name="Continue to Salesforce").click()
    expect(page.get_by_role("heading", name="Allow Access?")).to_be_visible()
    assert page.url.startswith(f"{sandbox}/services/oauth2/authorize")
    page.get_by_role("button", name="Allow").click()

    expect(page.get_by_text(f"Connected to Salesforce org {salesforce.id}.")).to_be_visible()
    check = page.get_by_role("region", name="Connection check")
    expect(check).to_contain_text("Shared Activities: OK.")
    expect(check).to_contain_text("Daily API requests: OK.")
    expect(page.get_by_text(f"Sandbox (localhost:{urlsplit(sandbox).port})")).to_be_visible()
    page.console_errors.clear()  # type: ignore[attr-defined]
    page_check(page, "tenant-settings-check")

    page.get_by_role("button", name="Check connection").click()
    expect(
        page.get_by_text("Connection checked: everything the sync needs is there.")
    ).to_be_visible()

    # An org that lacks things: how the checklist tells a person what to ask for.
    connection = SalesforceConnection.objects.get(tenant=tenant)
    lacking = ConnectionCheck.from_json(connection.capabilities)
    assert lacking is not None
    objects = dict(lacking.objects)
    objects["Task"] = ObjectAccess(
        name="Task",
        available=True,
        createable=True,
        updateable=True,
        fields_not_createable=("WhoId", "ActivityDate"),
    )
    objects["ContentNote"] = ObjectAccess(name="ContentNote")
    SalesforceConnection.objects.filter(pk=connection.pk).update(
        capabilities=ConnectionCheck(
            shared_activities=False,
            objects=objects,
            api_daily_max=15000,
            api_daily_remaining=120,
            api_calls=2,
        ).to_json()
    )
    page.reload()
    expect(check).to_contain_text("Shared Activities: Missing.")
    expect(check).to_contain_text("Ask your Salesforce admin to turn on Shared Activities")
    expect(check).to_contain_text("cannot set these Task fields: ActivityDate, WhoId.")
    page_check(page, "tenant-settings-check-missing")
