"""SPEC 3.2 and 3.3: a processed meeting, with auto-sync on, lands in Salesforce as one
Note holding every highlight and (in Notes-and-Events mode) one Event, linked to the
first record of the match order; it never guesses and never creates."""

from __future__ import annotations

import pytest

from integrations.models import SyncJob
from integrations.services.jobs import sync_job_resolve
from integrations.services.settings import integration_settings_update
from salesforce_emulator.testing import OrgHandle
from tests.conftest import Partner
from tests.sync.conftest import last_job, meeting_push

pytestmark = pytest.mark.django_db(transaction=True)


def links_to(sf: OrgHandle, record_id: str) -> list[dict]:
    return [r for r in sf.records("ContentDocumentLink") if r["LinkedEntityId"] == record_id]


def test_processed_meeting_becomes_one_note_and_one_event_on_the_account(
    partner: Partner, sf: OrgHandle
) -> None:
    account = sf.insert("Account", Name="Initech")
    contact = sf.insert("Contact", LastName="Bob", Email="Bob@Initech.example", AccountId=account)

    meeting_push(partner)

    job = last_job("meeting.processed")
    assert job.state == "succeeded", job.reason
    notes = sf.records("ContentNote")
    assert len(notes) == 1
    body = sf.note_content(notes[0]["Id"]).decode()
    assert body.index("Budget is approved") < body.index("Needs SSO")  # recording order
    assert "Discovery with Initech" in body and "2026-11-20" in body
    assert "https://portal.acme.test/listen/m-1/?t=60" in body
    assert f"{sf.instance_url}/{account}" in body
    assert len(links_to(sf, account)) == 1
    events = sf.records("Event")
    assert len(events) == 1
    assert events[0]["Subject"] == "Discovery with Initech"
    assert events[0]["WhatId"] == account and events[0]["WhoId"] == contact
    assert events[0]["StartDateTime"].startswith("2026-11-20T15:00")


def test_one_auto_synced_meeting_costs_two_api_calls(partner: Partner, sf: OrgHandle) -> None:
    account = sf.insert("Account", Name="Initech")
    sf.insert("Contact", LastName="Bob", Email="bob@initech.example", AccountId=account)
    meeting_push(partner, processed=False)
    before = sf.api_calls

    partner.client.post("/api/v1/meetings/m-1/processed/")

    assert last_job("meeting.processed").state == "succeeded"
    assert sf.api_calls - before == 2  # one lookup round, one composite write


def test_notes_only_mode_writes_no_event(partner: Partner, sf: OrgHandle) -> None:
    integration_settings_update(tenant=partner.tenant, highlights_destination="notes_only")
    account = sf.insert("Account", Name="Initech")
    sf.insert("Contact", LastName="Bob", Email="bob@initech.example", AccountId=account)

    meeting_push(partner)

    assert len(sf.records("ContentNote")) == 1
    assert sf.records("Event") == []


def test_classic_note_flavour_writes_a_note_with_parent(partner: Partner, sf: OrgHandle) -> None:
    integration_settings_update(tenant=partner.tenant, note_flavour="classic_note")
    account = sf.insert("Account", Name="Initech")
    sf.insert("Contact", LastName="Bob", Email="bob@initech.example", AccountId=account)

    meeting_push(partner, highlights=["Price <b>matters</b> & terms"])

    notes = sf.records("Note")
    assert len(notes) == 1 and sf.records("ContentNote") == []
    assert notes[0]["ParentId"] == account
    assert "Price <b>matters</b> & terms" in notes[0]["Body"]  # plain text, as written


def test_highlight_html_is_escaped_in_a_content_note(partner: Partner, sf: OrgHandle) -> None:
    account = sf.insert("Account", Name="Initech")
    sf.insert("Contact", LastName="Bob", Email="bob@initech.example", AccountId=account)

    meeting_push(partner, highlights=["<script>alert(1)</script> & co"])

    body = sf.note_content(sf.records("ContentNote")[0]["Id"]).decode()
    assert "<script>" not in body and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in body


def test_match_order_prefers_opportunity_when_set_first(partner: Partner, sf: OrgHandle) -> None:
    integration_settings_update(
        tenant=partner.tenant, auto_sync_match_order=["Opportunity", "Account", "Lead", "Contact"]
    )
    account = sf.insert("Account", Name="Initech")
    contact = sf.insert("Contact", LastName="Bob", Email="bob@initech.example", AccountId=account)
    opp = sf.insert(
        "Opportunity",
        Name="Initech renewal",
        StageName="Prospecting",
        CloseDate="2026-12-31",
        AccountId=account,
    )
    sf.insert("OpportunityContactRole", OpportunityId=opp, ContactId=contact)

    meeting_push(partner)

    assert len(links_to(sf, opp)) == 1 and links_to(sf, account) == []
    assert sf.records("Event")[0]["WhatId"] == opp


def test_an_unconverted_lead_is_used_when_no_contact_matches(
    partner: Partner, sf: OrgHandle
) -> None:
    lead = sf.insert("Lead", LastName="Bob", Company="Initech", Email="bob@initech.example")
    # A converted Lead with the same address is history, not a candidate.
    sf.insert(
        "Lead", LastName="Old", Company="Initech", Email="BOB@initech.example", IsConverted=True
    )

    meeting_push(partner)

    assert len(links_to(sf, lead)) == 1
    event = sf.records("Event")[0]
    assert event["WhoId"] == lead and not event.get("WhatId")


def test_a_lead_event_relates_no_contacts(partner: Partner, sf: OrgHandle) -> None:
    """Salesforce cannot relate a Lead and Contacts to one activity."""
    lead = sf.insert("Lead", LastName="Bob", Company="Initech", Email="bob@initech.example")
    peter = sf.insert("Contact", LastName="Peter", Email="peter@initech.example")  # no Account
    integration_settings_update(
        tenant=partner.tenant, auto_sync_match_order=["Lead", "Account", "Opportunity", "Contact"]
    )

    meeting_push(partner, attendees=["bob@initech.example", "peter@initech.example"])

    event = sf.records("Event")[0]
    assert event["WhoId"] == lead
    related = {r["RelationId"] for r in sf.records("EventRelation") if r["EventId"] == event["Id"]}
    assert peter not in related


def test_several_accounts_at_the_first_level_wait_for_a_person(
    partner: Partner, sf: OrgHandle
) -> None:
    initech = sf.insert("Account", Name="Initech")
    globex = sf.insert("Account", Name="Globex")
    sf.insert("Contact", LastName="Bob", Email="bob@initech.example", AccountId=initech)
    sf.insert("Contact", LastName="Hank", Email="hank@globex.example", AccountId=globex)

    meeting_push(partner, attendees=["ana@acme.test", "bob@initech.example", "hank@globex.example"])

    job = last_job("meeting.processed")
    assert job.state == "needs_review"
    assert {c["id"] for c in job.candidates} == {initech, globex}
    assert sf.records("ContentNote") == [] and sf.records("Event") == []

    sync_job_resolve(job=job, choice={"object": "Account", "id": globex})

    job.refresh_from_db()
    assert job.state == "succeeded", job.reason
    assert len(links_to(sf, globex)) == 1 and links_to(sf, initech) == []
    assert len(sf.records("Event")) == 1


def test_nothing_matching_is_skipped_and_nothing_is_created(
    partner: Partner, sf: OrgHandle
) -> None:
    meeting_push(partner)

    job = last_job("meeting.processed")
    assert job.state == "skipped"
    assert "bob@initech.example" in job.reason and "never creates" in job.reason
    assert sf.records("Account") == [] and sf.records("ContentNote") == []


def test_internal_attendees_are_never_looked_up(partner: Partner, sf: OrgHandle) -> None:
    account = sf.insert("Account", Name="Acme itself")
    sf.insert("Contact", LastName="Ana", Email="ana@acme.test", AccountId=account)

    meeting_push(partner, attendees=["ana@acme.test", "zed@eu.acme.test"])

    job = last_job("meeting.processed")
    assert job.state == "skipped" and "outside the tenant" in job.reason
    assert sf.records("ContentNote") == []


def test_auto_sync_off_leaves_salesforce_alone(partner: Partner, sf: OrgHandle) -> None:
    integration_settings_update(tenant=partner.tenant, auto_sync=False)
    account = sf.insert("Account", Name="Initech")
    sf.insert("Contact", LastName="Bob", Email="bob@initech.example", AccountId=account)
    before = sf.api_calls

    meeting_push(partner)

    assert last_job("meeting.processed").state == "skipped"
    assert sf.api_calls == before
    assert not SyncJob.objects.filter(state__in=["pending", "running"]).exists()


def test_further_contacts_become_event_relations(partner: Partner, sf: OrgHandle) -> None:
    account = sf.insert("Account", Name="Initech")
    bob = sf.insert("Contact", LastName="Bob", Email="bob@initech.example", AccountId=account)
    peter = sf.insert("Contact", LastName="Peter", Email="peter@initech.example", AccountId=account)

    meeting_push(
        partner, attendees=["ana@acme.test", "bob@initech.example", "peter@initech.example"]
    )

    event = sf.records("Event")[0]
    related = {r["RelationId"] for r in sf.records("EventRelation") if r["EventId"] == event["Id"]}
    assert event["WhoId"] == bob and {bob, peter} <= related


def test_without_shared_activities_the_event_names_one_person(
    partner: Partner, sf: OrgHandle
) -> None:
    sf.set_shared_activities(False)
    account = sf.insert("Account", Name="Initech")
    bob = sf.insert("Contact", LastName="Bob", Email="bob@initech.example", AccountId=account)
    sf.insert("Contact", LastName="Peter", Email="peter@initech.example", AccountId=account)
    attendees = ["ana@acme.test", "bob@initech.example", "peter@initech.example"]

    meeting_push(partner, attendees=attendees)

    job = last_job("meeting.processed")
    assert job.state == "succeeded" and "Shared Activities is off" in job.reason
    assert [e["WhoId"] for e in sf.records("Event")] == [bob]
    assert len(sf.records("ContentNote")) == 1
    # Remembered: the next meeting does not try again.
    before = sf.api_calls
    meeting_push(partner, "m-2", attendees=attendees)
    assert last_job("meeting.processed").state == "succeeded"
    assert sf.api_calls - before == 2


def test_a_meeting_with_hundreds_of_attendees_is_looked_up_in_a_few_calls(
    partner: Partner, sf: OrgHandle
) -> None:
    """The IN lists are split so that no request URL passes Salesforce's 16 KB (the
    emulator refuses longer ones with 414), and the queries still travel together."""
    account = sf.insert("Account", Name="Initech")
    sf.insert("Contact", LastName="Bob", Email="bob@initech.example", AccountId=account)
    crowd = [f"attendee.number.{n:04d}@a-rather-long-company-name.example" for n in range(700)]
    meeting_push(partner, attendees=["bob@initech.example", *crowd], processed=False)
    before = sf.api_calls

    partner.client.post("/api/v1/meetings/m-1/processed/")

    assert last_job("meeting.processed").state == "succeeded"
    assert len(links_to(sf, account)) == 1
    lookups = [r for r in sf.request_log if r.method == "GET" or r.path.endswith("/composite")]
    assert all(len(r.path) + len(r.query) < 16_384 for r in lookups)
    assert sf.api_calls - before <= 4  # several queries, sent as Composite subrequests
