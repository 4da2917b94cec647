"""Calls and bookings in a real browser, as a member: log a call whose participant's
address matches two Contacts by choosing one by its readable row, watch a call's state
change without reloading, open a booking's Task in the org. Every page is checked at
desktop and phone widths."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from integrations.enums import Operation
from integrations.models import SyncJob
from salesforce_emulator.testing import OrgHandle
from tenants.models import Membership, Tenant
from tests.browser.conftest import page_check, sign_in
from tests.conftest import Partner
from tests.factories import (
    ActivityFactory,
    ActivityParticipantFactory,
    MembershipFactory,
    SyncJobFactory,
    SyncMappingFactory,
    UserFactory,
)
from tests.sync.conftest import sf as sf  # the emulator-connected tenant fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PROSPECT = "pat@prospect.example"


def member_of(tenant: Tenant) -> Any:
    user = UserFactory(username="member@acme.test", first_name="Mia", last_name="Member")
    MembershipFactory(tenant=tenant, user=user, role=Membership.Role.MEMBER)
    return user


def test_a_member_logs_a_call_with_two_matches_by_choosing_a_readable_row(
    page: Page, live_server: Any, partner: Partner, sf: OrgHandle
) -> None:
    agent = sf.insert(
        "User", Username="agent.sf", Email="agent@acme.test", LastName="Smith", Alias="agent"
    )
    initech = sf.insert("Account", Name="Initech")
    globex = sf.insert("Account", Name="Globex")
    sf.insert("Contact", FirstName="Pat", LastName="Quinn", Email=PROSPECT, AccountId=initech)
    chosen = sf.insert(
        "Contact", FirstName="Pat", LastName="Quinn", Email=PROSPECT, AccountId=globex
    )
    answer = partner.client.post(
        "/api/v1/activities/",
        {
            "external_id": "call-7",
            "kind": "call",
            "direction": "outbound",
            "started_at": "2026-11-20T09:00:00Z",
            "duration_seconds": 420,
            "subject": "Pricing questions",
            "logged_by_email": "agent@acme.test",
            "logged_by_name": "Agent Smith",
            "participants": [
                {"email": "agent@acme.test", "name": "Agent Smith"},
                {"email": PROSPECT, "name": "Pat Quinn"},
            ],
        },
        format="json",
    )
    assert answer.status_code == 201, answer.json()
    sign_in(page, live_server.url, member_of(partner.tenant))

    page.goto(f"{live_server.url}/calls/")
    expect(page.get_by_text("ask to log this one")).to_be_visible()
    page_check(page, "tenant-calls")
    page.get_by_role("button", name="Log to Salesforce").first.click()
    expect(page.locator("tbody").get_by_text("Needs your choice")).to_be_visible()
    page.get_by_role("link", name="Choose the record").click()

    # Two Contacts of the same name: their Accounts tell them apart.
    rows = page.locator("#call-sync form tbody tr")
    expect(rows).to_have_count(2)
    expect(page.get_by_role("cell", name="Globex")).to_be_visible()
    page_check(page, "tenant-call-choose")
    rows.filter(has_text="Globex").get_by_role("radio").check()
    page.get_by_role("button", name="Log with these choices").click()

    expect(page.get_by_test_id("call-state")).to_contain_text("1 Task in Salesforce.")
    [task] = sf.records("Task")
    # SPEC 3.5: on the chosen Contact, owned by the logging user's Salesforce User.
    assert (task["WhoId"], task["OwnerId"]) == (chosen, agent)
    assert (task["Subject"], task["CallType"]) == ("Outbound call: Pricing questions", "Outbound")
    expect(page.locator(f'a[href="{sf.instance_url}/{task["Id"]}"]')).to_be_visible()
    page_check(page, "tenant-call-logged")


def test_a_calls_state_changes_on_its_page_without_a_reload(
    page: Page, live_server: Any, partner: Partner, sf: OrgHandle
) -> None:
    tenant = partner.tenant
    call = ActivityFactory(tenant=tenant, external_id="call-8", subject="Renewal")
    ActivityParticipantFactory(activity=call, email="agent@acme.test")
    prospect = ActivityParticipantFactory(activity=call, email=PROSPECT, name="Pat Quinn")
    job = SyncJobFactory(local_object=call, operation=Operation.ACTIVITY_SYNC)
    sign_in(page, live_server.url, member_of(tenant))
    page.goto(f"{live_server.url}/calls/call-8/")
    expect(page.get_by_test_id("call-state")).to_contain_text("Being logged")
    page.evaluate("window.__same_page = true")

    # A worker logs it meanwhile.
    SyncMappingFactory(
        tenant=tenant,
        local_object=prospect,
        purpose="activity_task",
        salesforce_object="Task",
        state="confirmed",
    )
    SyncJob.objects.filter(pk=job.pk).update(state=SyncJob.State.SUCCEEDED)

    expect(page.get_by_test_id("call-state")).to_contain_text("1 Task in Salesforce.")
    assert page.evaluate("window.__same_page") is True
    page_check(page, "tenant-call")


def test_a_member_opens_a_bookings_task_in_the_org(
    page: Page, live_server: Any, partner: Partner, sf: OrgHandle
) -> None:
    sf.insert("User", Username="host.sf", Email="host@acme.test", LastName="Host", Alias="host")
    sf.insert("Contact", FirstName="Gina", LastName="Guest", Email="gina@customer.example")
    for n, (title, status) in enumerate(
        [("Intro call", "scheduled"), ("Pricing follow-up", "scheduled")]
    ):
        answer = partner.client.post(
            "/api/v1/bookings/",
            {
                "external_id": f"b-{n}",
                "version": 1,
                "host_email": "host@acme.test",
                "guest_email": "gina@customer.example",
                "guest_name": "Gina Guest",
                "title": title,
                "status": status,
                "start": f"2026-12-0{n + 1}T10:00:00Z",
                "end": f"2026-12-0{n + 1}T10:30:00Z",
            },
            format="json",
        )
        assert answer.status_code in (200, 201), answer.json()
    sign_in(page, live_server.url, member_of(partner.tenant))

    page.goto(f"{live_server.url}/bookings/")
    page.get_by_role("searchbox", name="Search").fill("intro")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("tbody tr")).to_have_count(1)
    page.goto(f"{live_server.url}/bookings/")
    page_check(page, "tenant-bookings")
    row = page.locator("tbody tr").filter(has_text="Intro call")
    with page.expect_popup() as opened:
        row.get_by_role("link", name="Open the Task in Salesforce").click()
    task_page = opened.value
    expect(task_page.get_by_text("Intro call").first).to_be_visible()
    assert task_page.url.startswith(sf.instance_url)
