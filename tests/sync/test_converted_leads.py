"""Converted Leads are followed: once a Lead the portal wrote to, or a person chose, is
converted in Salesforce, the next change goes to the Contact and Account it became, and
what the portal remembers of the Lead moves with it."""

from __future__ import annotations

from typing import Any

import pytest

from integrations.enums import Purpose
from integrations.models import MatchChoice, SyncMapping
from integrations.services.jobs import sync_job_resolve
from integrations.services.settings import integration_settings_update
from salesforce_emulator.testing import OrgHandle
from tests.conftest import Partner
from tests.sync.conftest import last_job, meeting_push

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def lead(sf: OrgHandle) -> str:
    """Bob of Initech, a Lead and nothing else in the org."""
    return sf.insert(
        "Lead", FirstName="Bob", LastName="Stone", Company="Initech", Email="bob@initech.example"
    )


def links_of(sf: OrgHandle, note_id: str) -> set[str]:
    return {
        link["LinkedEntityId"]
        for link in sf.records("ContentDocumentLink")
        if link["ContentDocumentId"] == note_id
    }


def row(purpose: Purpose) -> SyncMapping:
    return SyncMapping.objects.get(purpose=purpose)


def test_editing_a_meeting_after_its_lead_is_converted_moves_the_event_and_note(
    partner: Partner, sf: OrgHandle, lead: str
) -> None:
    meeting_push(partner)
    assert last_job("meeting.processed").state == "succeeded"
    event, note = sf.records("Event")[0], sf.records("ContentNote")[0]
    assert event["WhoId"] == lead and links_of(sf, note["Id"]) == {lead}

    converted = sf.convert_lead(lead)
    answer = partner.client.patch(
        "/api/v1/meetings/m-1/", {"title": "Initech, again"}, format="json"
    )
    assert answer.status_code == 200, answer.json()

    job = last_job("meeting.sync")
    assert job.state == "succeeded", job.reason
    assert "Lead Bob Stone" in job.reason and "was converted" in job.reason
    event = sf.get(event["Id"])
    assert event is not None and event["Subject"].startswith("Initech, again")
    # Salesforce related the Event to the Opportunity it made when it converted the
    # Lead; the portal names the Contact and leaves that be.
    assert (event["WhoId"], event["WhatId"]) == (converted["contactId"], converted["opportunityId"])
    assert event["AccountId"] == converted["accountId"]
    # The Note is linked to the Contact and the Account now (its link to the converted
    # Lead stays, as Salesforce keeps it); nothing was made twice.
    assert links_of(sf, note["Id"]) == {lead, converted["contactId"], converted["accountId"]}
    assert len(sf.records("ContentNote")) == 1 and len(sf.records("Event")) == 1
    for purpose in (Purpose.MEETING_EVENT, Purpose.MEETING_NOTE, Purpose.MEETING_NOTE_LINK):
        moved = row(purpose)
        assert (moved.parent_object, moved.parent_id) == ("Contact", converted["contactId"])
        assert moved.live
    account_link = row(Purpose.MEETING_NOTE_ACCOUNT_LINK)
    assert account_link.live and account_link.parent_id == converted["accountId"]


def test_a_highlight_edit_after_the_conversion_reaches_the_note_on_the_contact(
    partner: Partner, sf: OrgHandle, lead: str
) -> None:
    meeting_push(partner)
    converted = sf.convert_lead(lead)

    answer = partner.client.patch(
        "/api/v1/meetings/m-1/highlights/h1/", {"text": "Budget doubled"}, format="json"
    )
    assert answer.status_code == 200, answer.json()

    job = last_job("highlight.sync")
    assert job.state == "succeeded", job.reason
    note = sf.records("ContentNote")[0]
    assert b"Budget doubled" in (sf.note_content(note["Id"]) or b"")
    assert links_of(sf, note["Id"]) == {lead, converted["contactId"], converted["accountId"]}


def test_a_later_edit_of_a_followed_meeting_costs_no_conversion_check(
    partner: Partner, sf: OrgHandle, lead: str
) -> None:
    meeting_push(partner)
    sf.convert_lead(lead)
    partner.client.patch("/api/v1/meetings/m-1/", {"title": "Once"}, format="json")
    before = sf.api_calls

    partner.client.patch("/api/v1/meetings/m-1/", {"title": "Twice"}, format="json")

    job = last_job("meeting.sync")
    assert job.state == "succeeded" and "converted" not in job.reason
    # The Event and the Note are written; no Lead is read any more.
    assert sf.api_calls - before == 1


def call(partner: Partner, external_id: str, email: str = "bob@initech.example") -> None:
    body: dict[str, Any] = {
        "external_id": external_id,
        "kind": "call",
        "direction": "outbound",
        "started_at": "2026-11-20T09:00:00Z",
        "duration_seconds": 120,
        "subject": "Follow-up",
        "notes": "",
        "logged_by_email": "agent@acme.test",
        "participants": [{"email": "agent@acme.test"}, {"email": email}],
    }
    answer = partner.client.post("/api/v1/activities/", body, format="json")
    assert answer.status_code in (200, 201), answer.json()


def test_a_new_call_goes_to_the_contact_of_the_lead_chosen_before_it_was_converted(
    partner: Partner, sf: OrgHandle, lead: str
) -> None:
    integration_settings_update(tenant=partner.tenant, log_calls_automatically=True)
    sf.insert("Lead", LastName="Stone", Company="Initech Labs", Email="bob@initech.example")
    call(partner, "call-1")
    first = last_job("activity.sync")
    assert first.state == "needs_review"
    sync_job_resolve(job=first, choices={"bob@initech.example": {"object": "Lead", "id": lead}})
    assert [t["WhoId"] for t in sf.records("Task")] == [lead]

    converted = sf.convert_lead(lead)
    call(partner, "call-2")

    job = last_job("activity.sync")
    assert job.state == "succeeded", job.reason
    assert "was converted" in job.reason
    assert [t["WhoId"] for t in sf.records("Task")] == [converted["contactId"]] * 2
    choice = MatchChoice.objects.get(email="bob@initech.example")
    assert (choice.salesforce_object, choice.salesforce_id) == ("Contact", converted["contactId"])
    tasks = SyncMapping.objects.filter(purpose=Purpose.ACTIVITY_TASK)
    assert {t.parent_id for t in tasks} == {converted["contactId"]}


def test_editing_a_call_logged_to_a_lead_converted_since_updates_its_task(
    partner: Partner, sf: OrgHandle, lead: str
) -> None:
    integration_settings_update(tenant=partner.tenant, log_calls_automatically=True)
    call(partner, "call-1")
    converted = sf.convert_lead(lead)

    partner.client.patch("/api/v1/activities/call-1/", {"notes": "Signed."}, format="json")

    job = last_job("activity.sync")
    assert job.state == "succeeded", job.reason
    tasks = sf.records("Task")
    assert len(tasks) == 1 and "Signed." in tasks[0]["Description"]
    assert tasks[0]["WhoId"] == converted["contactId"]
    assert row(Purpose.ACTIVITY_TASK).parent_id == converted["contactId"]


def test_a_lead_chosen_for_a_meeting_and_converted_before_the_sync_ran_is_followed(
    partner: Partner, sf: OrgHandle, lead: str
) -> None:
    sf.insert("Lead", LastName="Stone", Company="Initech Labs", Email="bob@initech.example")
    meeting_push(partner)
    job = last_job("meeting.processed")
    assert job.state == "needs_review", job.reason
    converted = sf.convert_lead(lead)

    sync_job_resolve(job=job, choice={"object": "Lead", "id": lead, "name": "Bob Stone"})

    job.refresh_from_db()
    assert job.state == "succeeded", job.reason
    assert "was converted" in job.reason
    event, note = sf.records("Event")[0], sf.records("ContentNote")[0]
    # As Salesforce relates a converted Lead's Events: the Contact, and the Opportunity
    # the conversion made.
    assert (event["WhoId"], event["WhatId"]) == (converted["contactId"], converted["opportunityId"])
    assert links_of(sf, note["Id"]) == {converted["contactId"]}


def test_when_the_write_after_following_a_conversion_fails_the_retry_still_links_the_note(
    partner: Partner, sf: OrgHandle, lead: str
) -> None:
    from integrations.models import SyncJob
    from integrations.sync.runner import sync_jobs_run

    meeting_push(partner)
    converted = sf.convert_lead(lead)
    sf.faults.fail_next(1, method="POST", path=r"/composite$", error_code="SERVER_UNAVAILABLE")

    partner.client.patch("/api/v1/meetings/m-1/", {"title": "Initech, again"}, format="json")
    job = last_job("meeting.sync")
    assert job.state == "pending", job.reason
    SyncJob.objects.filter(pk=job.pk).update(next_attempt_at=None, dispatched_at=None)
    sync_jobs_run(job_id=job.pk)

    job.refresh_from_db()
    assert job.state == "succeeded", job.reason
    note = sf.records("ContentNote")[0]
    assert links_of(sf, note["Id"]) == {lead, converted["contactId"], converted["accountId"]}
    assert len(sf.records("ContentDocumentLink")) == 3
    event = sf.records("Event")[0]
    assert (event["WhoId"], event["Subject"]) == (converted["contactId"], "Initech, again")


def test_a_lead_merged_into_an_existing_contact_leaves_that_contacts_other_events_alone(
    partner: Partner, sf: OrgHandle, lead: str, settings: Any
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from integrations.models import SalesforceConnection, SyncJob
    from integrations.sync.runner import sync_jobs_run
    from tests.sync.conftest import as_salesforce_user

    carol = sf.insert("Contact", LastName="Carol", Email="carol@initech.example")
    meeting_push(partner, "m-1", attendees=["ana@acme.test", "bob@initech.example"])
    meeting_push(
        partner, "m-2", attendees=["ana@acme.test", "carol@initech.example"], title="Renewal"
    )
    carols = next(e for e in sf.records("Event") if e["WhoId"] == carol)
    # In Salesforce: Carol's meeting is related to a renewal by a rep, and Bob's Lead is
    # converted into Carol's records (one person entered twice, merged by conversion).
    account = sf.insert("Account", Name="Initech")
    renewal = sf.insert(
        "Opportunity",
        Name="Renewal",
        StageName="Prospecting",
        CloseDate="2026-12-31",
        AccountId=account,
    )
    user = as_salesforce_user(sf)
    user.update("Contact", carol, {"AccountId": account})
    user.update("Event", carols["Id"], {"WhatId": renewal})
    sf.convert_lead(lead, account_id=account, contact_id=carol, create_opportunity=False)
    # Both meetings are edited while the jobs wait, so they run in one batch.
    SalesforceConnection.objects.update(paused_until=timezone.now() + timedelta(hours=1))
    for external_id in ("m-1", "m-2"):
        partner.client.patch(
            f"/api/v1/meetings/{external_id}/", {"title": f"{external_id} edited"}, format="json"
        )
    SalesforceConnection.objects.update(paused_until=None)
    waiting = SyncJob.objects.filter(state="pending").order_by("pk")
    assert waiting.count() == 2
    waiting.update(next_attempt_at=None, dispatched_at=None)

    sync_jobs_run(job_id=waiting[0].pk)

    bobs_job, carols_job = SyncJob.objects.filter(operation="meeting.sync").order_by("pk")
    assert bobs_job.state == carols_job.state == "succeeded"
    assert "was converted" in bobs_job.reason and "converted" not in carols_job.reason
    assert sf.get(carols["Id"])["WhatId"] == renewal
