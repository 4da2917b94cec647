"""A call from someone known only by phone, in a real browser, as a member: their number
matches two Contacts; the page shows the number as a person reads it and the two records
told apart by their Accounts; the member picks one and the call is logged to it. The
page is photographed at desktop and phone widths."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from integrations.models import MatchChoice
from salesforce_emulator.testing import OrgHandle
from tenants.models import Membership
from tests.browser.conftest import page_check, sign_in
from tests.conftest import Partner
from tests.factories import MembershipFactory, UserFactory
from tests.sync.conftest import sf as sf  # the emulator-connected tenant fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_member_chooses_the_contact_of_a_caller_known_only_by_phone(
    page: Page, live_server: Any, partner: Partner, sf: OrgHandle
) -> None:
    sf.insert("User", Username="agent.sf", Email="agent@acme.test", LastName="Smith", Alias="ag")
    initech = sf.insert("Account", Name="Initech")
    globex = sf.insert("Account", Name="Globex")
    sf.insert(
        "Contact", FirstName="Pat", LastName="Quinn", Phone="(415) 555-0100", AccountId=initech
    )
    chosen = sf.insert(
        "Contact", FirstName="Sam", LastName="Quinn", Phone="(415) 555-0100", AccountId=globex
    )
    answer = partner.client.post(
        "/api/v1/activities/",
        {
            "external_id": "call-9",
            "kind": "call",
            "direction": "inbound",
            "started_at": "2026-11-20T09:00:00Z",
            "duration_seconds": 300,
            "subject": "Pricing questions",
            "logged_by_email": "agent@acme.test",
            "logged_by_name": "Agent Smith",
            "participants": [
                {"email": "agent@acme.test", "name": "Agent Smith"},
                {"phone": "+1 415-555-0100"},
            ],
        },
        format="json",
    )
    assert answer.status_code == 201, answer.json()
    user = UserFactory(username="member@acme.test", first_name="Mia", last_name="Member")
    MembershipFactory(tenant=partner.tenant, user=user, role=Membership.Role.MEMBER)
    sign_in(page, live_server.url, user)

    page.goto(f"{live_server.url}/calls/call-9/")
    page.get_by_role("button", name="Log to Salesforce").click()
    expect(page.get_by_test_id("call-state")).to_contain_text("Needs your choice")

    # The number as a person reads it, and the two Contacts told apart by their Accounts.
    form = page.locator("#call-sync form")
    expect(form.locator("legend")).to_have_text("+1 415-555-0100")
    rows = form.locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text="Initech")).to_contain_text("Pat Quinn")
    expect(rows.filter(has_text="Globex")).to_contain_text("Sam Quinn")
    page_check(page, "tenant-call-phone-choose")

    rows.filter(has_text="Globex").get_by_role("radio").check()
    page.get_by_role("button", name="Log with these choices").click()

    expect(page.get_by_test_id("call-state")).to_contain_text("1 Task in Salesforce.")
    [task] = sf.records("Task")
    assert task["WhoId"] == chosen
    assert MatchChoice.objects.get(phone="+14155550100").salesforce_id == chosen
    page_check(page, "tenant-call-phone-logged")
