"""Meetings in a real browser, as a member: find a meeting by search, open it, find an
Account by typing part of its name, send two highlights to it, and watch their state
turn to sent without reloading the page. Both pages are checked at desktop and phone
widths."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from integrations.enums import Operation
from integrations.models import SyncJob
from integrations.outbox.dispatch import job_dispatch
from integrations.services.settings import integration_settings_update
from salesforce_emulator.testing import OrgHandle
from tenants.models import Membership, Tenant
from tests.browser.conftest import page_check, sign_in
from tests.conftest import Partner
from tests.factories import MembershipFactory, UserFactory
from tests.sync.conftest import meeting_push

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def member_of(tenant: Tenant) -> Any:
    user = UserFactory(username="member@acme.test", first_name="Mia", last_name="Member")
    MembershipFactory(tenant=tenant, user=user, role=Membership.Role.MEMBER)
    return user


def test_a_member_sends_two_highlights_to_an_account_found_by_name_and_sees_them_sent(
    page: Page,
    live_server: Any,
    partner: Partner,
    sf: OrgHandle,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    integration_settings_update(tenant=partner.tenant, auto_sync=False)
    account = sf.insert("Account", Name="Initech Corporation")
    sf.insert("Account", Name="Initrode")
    meeting_push(
        partner,
        "m-initech",
        title="Discovery with Initech",
        attendees=["ana@acme.test", "bob@initech.example"],
        highlights=["Budget is approved", "Needs SSO", "Call back in May"],
        processed=False,
    )
    meeting_push(
        partner,
        "m-globex",
        title="Pricing with Globex",
        attendees=["ana@acme.test", "hank@globex.example"],
        processed=False,
    )
    # The job waits for a worker, as it does for a moment in production: the page shows
    # it being sent, then the worker below takes it.
    held: list[int] = []
    monkeypatch.setattr("integrations.outbox.enqueue.job_dispatch", held.append)
    sign_in(page, live_server.url, member_of(partner.tenant))

    page.goto(f"{live_server.url}/meetings/")
    page.get_by_label("Search").fill("bob@initech")
    page.get_by_role("button", name="Find").click()
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Not sent")
    page_check(page, "tenant-meetings")
    page.get_by_role("link", name="Send highlights of Discovery with Initech").click()

    expect(page.get_by_role("heading", name="Discovery with Initech")).to_be_visible()
    page.get_by_role("checkbox", name="Send this highlight").nth(0).check()
    page.get_by_role("checkbox", name="Send this highlight").nth(1).check()
    page.get_by_label("Or find an Account or Opportunity by name").press_sequentially("nitech c")
    found = page.get_by_role("radio", name="Account Initech Corporation")
    expect(found).to_be_visible()
    expect(page.get_by_role("radio", name="Account Initrode")).to_have_count(0)
    found.check()
    page.get_by_role("button", name="Send to Salesforce").click()

    expect(page.get_by_text("Sending 2 highlights to Salesforce.")).to_be_visible()
    states = page.locator("[id^=highlight-state-]")
    expect(states.nth(0)).to_contain_text("Sending")
    expect(states.nth(1)).to_contain_text("Sending")
    expect(states.nth(2)).to_contain_text("Not sent")
    # From here on the page is not reloaded: a reload would forget this mark.
    page.evaluate("window.stillTheSamePage = true")
    job = SyncJob.objects.get(operation=Operation.HIGHLIGHTS_SEND)
    assert held == [job.pk]
    job_dispatch(job.pk)  # a worker takes it (tasks run inline in the tests)

    expect(states.nth(0)).to_contain_text("Sent", timeout=8_000)
    expect(states.nth(1)).to_contain_text("Sent", timeout=8_000)
    expect(states.nth(0)).to_contain_text("Account Initech Corporation")
    expect(states.nth(2)).to_contain_text("Not sent")
    assert page.evaluate("window.stillTheSamePage") is True
    job.refresh_from_db()
    assert job.state == SyncJob.State.SUCCEEDED, job.reason
    notes = sf.records("ContentNote")
    links = [r for r in sf.records("ContentDocumentLink") if r["LinkedEntityId"] == account]
    assert len(notes) == 2
    assert sorted(link["ContentDocumentId"] for link in links) == sorted(n["Id"] for n in notes)
    page_check(page, "tenant-meeting")


def test_a_member_finds_the_matching_records_in_place_and_a_refused_id_is_kept(
    page: Page, live_server: Any, partner: Partner, sf: OrgHandle
) -> None:
    integration_settings_update(tenant=partner.tenant, auto_sync=False)
    account = sf.insert("Account", Name="Initech")
    sf.insert(
        "Contact", FirstName="Bob", LastName="Smith", Email="bob@initech.example", AccountId=account
    )
    meeting_push(partner, "m-initech", title="Discovery with Initech", processed=False)
    sign_in(page, live_server.url, member_of(partner.tenant))
    page.goto(f"{live_server.url}/meetings/m-initech/")
    page.evaluate("window.stillTheSamePage = true")

    page.get_by_role("button", name="Find the matching records").click()

    suggested = page.get_by_role("radio", name="Account Initech")
    expect(suggested).to_be_checked()
    attendees = page.locator("#attendees")
    expect(attendees).to_contain_text("Contact Bob Smith")
    assert page.evaluate("window.stillTheSamePage") is True
    page_check(page, "tenant-meeting-matches")

    page.get_by_role("checkbox", name="Send this highlight").first.check()
    page.get_by_role("radio", name="Another record, by its Salesforce Id").check()
    page.get_by_role("textbox", name="Salesforce Id").fill("001NOTANID")
    page.get_by_role("button", name="Send to Salesforce").click()

    expect(page.get_by_role("textbox", name="Salesforce Id")).to_have_value("001NOTANID")
    expect(page.get_by_text("15 or 18 character Salesforce Id")).to_be_visible()
    expect(page.get_by_role("radio", name="Another record, by its Salesforce Id")).to_be_checked()
    expect(page.get_by_role("radio", name="Account Initech")).not_to_be_checked()
    assert not SyncJob.objects.filter(operation=Operation.HIGHLIGHTS_SEND).exists()
    page_check(page, "tenant-meeting-refused")
