"""The partner API's sync actions end to end against the emulator: preview a match and
send highlights by hand in each situation of SPEC 3.1, log activities and create Leads
(SPEC 3.5), answer and retry sync jobs, and read an object's sync state."""

from __future__ import annotations

from typing import Any

import pytest

from integrations.models import SyncJob
from integrations.services.jobs import sync_job_run
from integrations.services.settings import integration_settings_update
from salesforce_emulator.testing import OrgHandle
from tests.conftest import Partner
from tests.sync.conftest import meeting_push

pytestmark = pytest.mark.django_db(transaction=True)

EXTERNAL = ["ana@acme.test", "bob@initech.example", "carol@initech.example"]


@pytest.fixture
def manual(partner: Partner, sf: OrgHandle) -> OrgHandle:
    """The connected org, with auto-sync off: only what the partner asks for is sent."""
    integration_settings_update(tenant=partner.tenant, auto_sync=False)
    return sf


def preview(partner: Partner, highlights: str = "h1,h2", meeting: str = "m-1") -> dict[str, Any]:
    answer = partner.client.get(
        f"/api/v1/meetings/{meeting}/match-preview/", {"highlights": highlights}
    )
    assert answer.status_code == 200, answer.json()
    return answer.json()


def send(partner: Partner, body: dict[str, Any], meeting: str = "m-1") -> dict[str, Any]:
    answer = partner.client.post(
        f"/api/v1/meetings/{meeting}/send-highlights/", body, format="json"
    )
    assert answer.status_code == 202, answer.json()
    return answer.json()


def links_to(sf: OrgHandle, record_id: str) -> list[dict[str, Any]]:
    return [r for r in sf.records("ContentDocumentLink") if r["LinkedEntityId"] == record_id]


def assert_one_note_per_highlight(sf: OrgHandle, parent_id: str, texts: list[str]) -> None:
    notes = sf.records("ContentNote")
    assert len(notes) == len(texts)
    bodies = sorted(sf.note_content(n["Id"]).decode() for n in notes)
    for text in texts:
        assert sum(text in body for body in bodies) == 1, text
    links = links_to(sf, parent_id)
    assert sorted(link["ContentDocumentId"] for link in links) == sorted(n["Id"] for n in notes)


def activity_push(partner: Partner, external_id: str, participants: list[dict[str, str]]) -> None:
    answer = partner.client.post(
        "/api/v1/activities/",
        {
            "external_id": external_id,
            "kind": "call",
            "direction": "outbound",
            "started_at": "2026-11-20T15:00:00Z",
            "duration_seconds": 600,
            "subject": "Pricing",
            "logged_by_email": "ana@acme.test",
            "logged_by_name": "Ana",
            "participants": [{"email": "ana@acme.test"}, *participants],
        },
        format="json",
    )
    assert answer.status_code in (200, 201), answer.json()


# --- SPEC 3.1: the four situations -------------------------------------------------------------


def test_contacts_of_one_account_are_offered_it_and_each_highlight_becomes_a_note(
    partner: Partner, manual: OrgHandle
) -> None:
    account = manual.insert("Account", Name="Initech")
    manual.insert("Contact", LastName="Bob", Email="bob@initech.example", AccountId=account)
    meeting_push(partner)

    found = preview(partner)
    job = send(partner, {"highlights": ["h1", "h2"], "target": found["offer"]})

    assert found["situation"] == "match"
    assert found["offer"] == {"object": "Account", "id": account, "name": "Initech"}
    assert job["state"] == "succeeded", job["reason"]
    assert job["operation"] == "highlights.send" and job["object_ref"] == "m-1"
    assert_one_note_per_highlight(manual, account, ["Budget is approved", "Needs SSO"])
    state = partner.client.get("/api/v1/meetings/m-1/sync/").json()
    notes = [r for r in state["records"] if r["purpose"] == "highlight_note"]
    assert sorted(r["object_ref"] for r in notes) == ["m-1/h1", "m-1/h2"]
    assert {(r["parent_object"], r["parent_id"]) for r in notes} == {("Account", account)}
    assert job["id"] in [j["id"] for j in state["jobs"]]
    one = partner.client.get("/api/v1/meetings/m-1/highlights/h2/sync/").json()
    assert [r["purpose"] for r in one["records"]] == ["highlight_note", "highlight_note_link"]


def test_contacts_without_account_get_a_new_account_and_no_duplicate_contact(
    partner: Partner, manual: OrgHandle
) -> None:
    bob = manual.insert("Contact", LastName="Bob", Email="bob@initech.example")
    meeting_push(partner, attendees=EXTERNAL)

    found = preview(partner, "h1")
    job = send(partner, {"highlights": ["h1"], "create": {"account_name": "Initech"}})

    assert found["situation"] == "no_organisation"
    assert [c["id"] for c in found["matched_contacts"]] == [bob]
    assert found["unmatched_emails"] == ["carol@initech.example"]
    assert job["state"] == "succeeded", job["reason"]
    accounts = manual.records("Account")
    assert [a["Name"] for a in accounts] == ["Initech"]
    account = accounts[0]["Id"]
    contacts = {c["Email"]: c for c in manual.records("Contact")}
    assert set(contacts) == {"bob@initech.example", "carol@initech.example"}
    assert contacts["bob@initech.example"]["Id"] == bob
    assert {c["AccountId"] for c in contacts.values()} == {account}
    assert manual.records("Opportunity") == []
    assert_one_note_per_highlight(manual, account, ["Budget is approved"])
    state = partner.client.get("/api/v1/meetings/m-1/sync/").json()
    purposes = {(r["object_ref"], r["purpose"]) for r in state["records"]}
    assert ("m-1", "created_account") in purposes
    # The Contact belongs to the tenant's outside person: one per address, whatever meeting.
    assert ("carol@initech.example", "contact") in purposes


def test_with_an_opportunity_name_the_contacts_get_opportunity_contact_roles(
    partner: Partner, manual: OrgHandle
) -> None:
    bob = manual.insert("Contact", LastName="Bob", Email="bob@initech.example")
    meeting_push(partner, attendees=EXTERNAL)

    assert preview(partner)["situation"] == "no_organisation"
    job = send(
        partner,
        {
            "highlights": ["h1", "h2"],
            "create": {"account_name": "Initech", "opportunity_name": "Initech SSO"},
        },
    )

    assert job["state"] == "succeeded", job["reason"]
    (account,) = manual.records("Account")
    (opportunity,) = manual.records("Opportunity")
    assert opportunity["Name"] == "Initech SSO" and opportunity["AccountId"] == account["Id"]
    contacts = {c["Email"]: c["Id"] for c in manual.records("Contact")}
    assert len(contacts) == 2 and contacts["bob@initech.example"] == bob
    roles = manual.records("OpportunityContactRole")
    assert {r["OpportunityId"] for r in roles} == {opportunity["Id"]}
    assert sorted(r["ContactId"] for r in roles) == sorted(contacts.values())
    assert_one_note_per_highlight(manual, opportunity["Id"], ["Budget is approved", "Needs SSO"])


def test_contacts_of_two_accounts_offer_both_and_the_chosen_one_gets_the_notes(
    partner: Partner, manual: OrgHandle
) -> None:
    initech = manual.insert("Account", Name="Initech")
    initrode = manual.insert("Account", Name="Initrode")
    manual.insert("Contact", LastName="Bob", Email="bob@initech.example", AccountId=initech)
    manual.insert("Contact", LastName="Carol", Email="carol@initech.example", AccountId=initrode)
    meeting_push(partner, attendees=EXTERNAL)

    found = preview(partner)
    picked = next(c for c in found["candidates"] if c["id"] == initrode)
    job = send(partner, {"highlights": ["h2"], "target": picked})

    assert found["situation"] == "several"
    assert found["offer"] is None
    assert {(c["object"], c["id"]) for c in found["candidates"]} == {
        ("Account", initech),
        ("Account", initrode),
    }
    assert job["state"] == "succeeded", job["reason"]
    assert_one_note_per_highlight(manual, initrode, ["Needs SSO"])
    assert links_to(manual, initech) == []


def test_nobody_matching_creates_an_account_with_contacts_for_every_external_attendee(
    partner: Partner, manual: OrgHandle
) -> None:
    meeting_push(partner, attendees=EXTERNAL)

    found = preview(partner)
    job = send(partner, {"highlights": ["h1", "h2"], "create": {"account_name": "Initech"}})

    assert found["situation"] == "no_match"
    assert found["unmatched_emails"] == ["bob@initech.example", "carol@initech.example"]
    assert job["state"] == "succeeded", job["reason"]
    (account,) = manual.records("Account")
    contacts = manual.records("Contact")
    assert sorted(c["Email"] for c in contacts) == [
        "bob@initech.example",
        "carol@initech.example",
    ]
    assert {c["AccountId"] for c in contacts} == {account["Id"]}
    assert_one_note_per_highlight(manual, account["Id"], ["Budget is approved", "Needs SSO"])


def test_an_address_with_an_apostrophe_matches_through_the_preview(
    partner: Partner, manual: OrgHandle
) -> None:
    account = manual.insert("Account", Name="Initech")
    contact = manual.insert(
        "Contact", LastName="O'Brien", Email="o'brien@initech.example", AccountId=account
    )
    meeting_push(partner, attendees=["ana@acme.test", "o'brien@initech.example"])

    found = preview(partner)

    assert found["situation"] == "match"
    assert found["offer"]["id"] == account
    assert [c["id"] for c in found["matched_contacts"]] == [contact]


# --- SPEC 3.5: activities ----------------------------------------------------------------------


def test_a_participant_matching_two_contacts_waits_for_a_choice_that_is_remembered(
    partner: Partner, manual: OrgHandle
) -> None:
    first = manual.insert("Contact", LastName="Smith", Email="dan@initech.example")
    second = manual.insert("Contact", LastName="Smith", Email="Dan@Initech.example")
    activity_push(partner, "call-1", [{"email": "dan@initech.example", "name": "Dan Smith"}])

    waiting = partner.client.post("/api/v1/activities/call-1/log/", {}, format="json").json()
    assert waiting["state"] == "needs_review", waiting["reason"]
    assert {c["id"] for c in waiting["candidates"]} == {first, second}
    assert manual.records("Task") == []

    answer = partner.client.post(
        f"/api/v1/sync-jobs/{waiting['id']}/resolve/",
        {"choices": {"dan@initech.example": {"object": "Contact", "id": second}}},
        format="json",
    )

    assert answer.status_code == 202, answer.json()
    assert answer.json()["state"] == "succeeded", answer.json()["reason"]
    (task,) = manual.records("Task")
    assert task["WhoId"] == second and task["CallType"] == "Outbound"

    activity_push(partner, "call-2", [{"email": "dan@initech.example", "name": "Dan Smith"}])
    again = partner.client.post("/api/v1/activities/call-2/log/", {}, format="json").json()

    assert again["state"] == "succeeded", again["reason"]
    assert [t["WhoId"] for t in manual.records("Task")] == [second, second]
    state = partner.client.get("/api/v1/activities/call-2/sync/").json()
    (record,) = state["records"]
    assert record["purpose"] == "activity_task"
    assert record["object_ref"] == "call-2/dan@initech.example"
    assert (record["parent_object"], record["parent_id"]) == ("Contact", second)


def test_log_with_a_choice_up_front_logs_without_asking(
    partner: Partner, manual: OrgHandle
) -> None:
    manual.insert("Contact", LastName="Smith", Email="dan@initech.example")
    second = manual.insert("Contact", LastName="Smith", Email="dan@initech.example")
    activity_push(partner, "call-1", [{"email": "dan@initech.example"}])

    job = partner.client.post(
        "/api/v1/activities/call-1/log/",
        {"choices": {"dan@initech.example": {"object": "Contact", "id": second}}},
        format="json",
    ).json()

    assert job["state"] == "succeeded", job["reason"]
    assert [t["WhoId"] for t in manual.records("Task")] == [second]


def test_a_lead_is_created_from_a_participant_with_the_company_from_the_domain(
    partner: Partner, manual: OrgHandle
) -> None:
    activity_push(partner, "call-1", [{"email": "erin@umbrella.example", "name": "Erin Stone"}])

    answer = partner.client.post(
        "/api/v1/activities/call-1/leads/", {"email": "Erin@Umbrella.example"}, format="json"
    )

    assert answer.status_code == 202, answer.json()
    assert answer.json()["state"] == "succeeded", answer.json()["reason"]
    (lead,) = manual.records("Lead")
    assert (lead["FirstName"], lead["LastName"]) == ("Erin", "Stone")
    assert lead["Email"] == "erin@umbrella.example" and lead["Company"] == "Umbrella"
    state = partner.client.get("/api/v1/activities/call-1/sync/").json()
    assert [(r["purpose"], r["salesforce_id"]) for r in state["records"]] == [("lead", lead["Id"])]


def test_log_with_create_lead_makes_the_lead_and_its_task(
    partner: Partner, manual: OrgHandle
) -> None:
    activity_push(partner, "call-1", [{"email": "erin@umbrella.example", "name": "Erin Stone"}])

    job = partner.client.post(
        "/api/v1/activities/call-1/log/",
        {"choices": {"erin@umbrella.example": {"object": "create_lead", "company": "Umbrella"}}},
        format="json",
    ).json()

    assert job["state"] == "succeeded", job["reason"]
    (lead,) = manual.records("Lead")
    assert lead["Company"] == "Umbrella"
    assert [t["WhoId"] for t in manual.records("Task")] == [lead["Id"]]


def test_a_lead_gets_the_company_given(partner: Partner, manual: OrgHandle) -> None:
    activity_push(partner, "call-1", [{"email": "erin@umbrella.example", "name": "Erin Stone"}])

    partner.client.post(
        "/api/v1/activities/call-1/leads/",
        {"email": "erin@umbrella.example", "company": "Umbrella Corporation"},
        format="json",
    )

    assert [lead["Company"] for lead in manual.records("Lead")] == ["Umbrella Corporation"]


# --- sync jobs ---------------------------------------------------------------------------------


def test_a_failed_job_retried_after_the_fix_succeeds_with_one_record(
    partner: Partner, manual: OrgHandle
) -> None:
    contact = manual.insert("Contact", LastName="Smith", Email="dan@initech.example")
    manual.validation_rule("Task", "Subject is required", when=lambda row: True)
    activity_push(partner, "call-1", [{"email": "dan@initech.example"}])

    failed = partner.client.post("/api/v1/activities/call-1/log/", {}, format="json").json()
    assert failed["state"] == "failed", failed["reason"]
    assert "Subject is required" in failed["reason"]
    assert manual.records("Task") == []
    listed = partner.client.get("/api/v1/sync-jobs/", {"state": "failed"}).json()
    assert [j["id"] for j in listed["results"]] == [failed["id"]]

    manual.org.validation_rules.clear()
    answer = partner.client.post(f"/api/v1/sync-jobs/{failed['id']}/retry/")

    assert answer.status_code == 202, answer.json()
    assert answer.json()["state"] == "succeeded", answer.json()["reason"]
    assert [t["WhoId"] for t in manual.records("Task")] == [contact]
    detail = partner.client.get(f"/api/v1/sync-jobs/{failed['id']}/").json()
    assert [a["outcome"] for a in detail["attempts"]] == ["failed", "succeeded"]
    assert detail["attempts"][0]["salesforce_error_code"] == "FIELD_CUSTOM_VALIDATION_EXCEPTION"
    assert all(a["api_calls"] >= 1 and a["finished_at"] for a in detail["attempts"])


def test_sync_jobs_are_listed_newest_first_and_filtered(
    partner: Partner, manual: OrgHandle
) -> None:
    meeting_push(partner)  # auto-sync is off: its job is skipped
    send(partner, {"highlights": ["h1"], "create": {"account_name": "Initech"}})

    jobs = partner.client.get("/api/v1/sync-jobs/").json()["results"]
    sends = partner.client.get("/api/v1/sync-jobs/", {"operation": "highlights.send"}).json()

    # Newest first: the Notes' relink to the Account just created follows the send.
    assert [j["operation"] for j in jobs[:2]] == ["meeting.sync", "highlights.send"]
    assert [j["id"] for j in jobs] == sorted((j["id"] for j in jobs), reverse=True)
    assert [j["operation"] for j in sends["results"]] == ["highlights.send"]
    bad = partner.client.get("/api/v1/sync-jobs/", {"state": "lost"})
    assert bad.status_code == 400 and "state" in bad.json()


def test_an_ambiguous_auto_sync_is_resolved_with_a_choice_through_the_api(
    partner: Partner, sf: OrgHandle
) -> None:
    initech = sf.insert("Account", Name="Initech")
    initrode = sf.insert("Account", Name="Initrode")
    sf.insert("Contact", LastName="Bob", Email="bob@initech.example", AccountId=initech)
    sf.insert("Contact", LastName="Carol", Email="carol@initech.example", AccountId=initrode)
    meeting_push(partner, attendees=EXTERNAL)  # auto-sync is on in `sf`

    waiting = partner.client.get("/api/v1/sync-jobs/", {"state": "needs_review"}).json()
    (job,) = waiting["results"]
    assert job["operation"] == "meeting.processed" and job["object_ref"] == "m-1"
    assert {c["id"] for c in job["candidates"]} == {initech, initrode}

    answer = partner.client.post(
        f"/api/v1/sync-jobs/{job['id']}/resolve/",
        {"choice": {"object": "Account", "id": initrode}},
        format="json",
    )

    assert answer.status_code == 202, answer.json()
    assert answer.json()["state"] == "succeeded", answer.json()["reason"]
    (note,) = sf.records("ContentNote")
    assert [link["ContentDocumentId"] for link in links_to(sf, initrode)] == [note["Id"]]
    state = partner.client.get("/api/v1/meetings/m-1/sync/").json()
    assert {r["purpose"] for r in state["records"]} >= {"meeting_note", "meeting_event"}
    assert state["jobs"][0]["state"] == "succeeded"


def test_a_booking_guest_matching_two_contacts_is_resolved_and_its_state_shown(
    partner: Partner, sf: OrgHandle
) -> None:
    sf.insert(
        "User", Username="host@acme.test.sf", Email="host@acme.test", LastName="Host", Alias="host"
    )
    sf.insert("Contact", LastName="Guest", Email="guest@customer.example")
    chosen = sf.insert("Contact", LastName="Guest", Email="guest@customer.example")
    answer = partner.client.post(
        "/api/v1/bookings/",
        {
            "external_id": "b-1",
            "version": 1,
            "host_email": "host@acme.test",
            "guest_email": "guest@customer.example",
            "title": "Intro call",
            "start": "2026-12-01T10:00:00Z",
            "end": "2026-12-01T10:30:00Z",
        },
        format="json",
    )
    assert answer.status_code == 201, answer.json()
    (job,) = partner.client.get("/api/v1/bookings/b-1/sync/").json()["jobs"]
    assert job["state"] == "needs_review", job["reason"]

    partner.client.post(
        f"/api/v1/sync-jobs/{job['id']}/resolve/",
        {"choice": {"object": "Contact", "id": chosen}},
        format="json",
    )

    (task,) = sf.records("Task")
    assert task["WhoId"] == chosen
    state = partner.client.get("/api/v1/bookings/b-1/sync/").json()
    (record,) = state["records"]
    assert (record["purpose"], record["salesforce_id"]) == ("booking_task", task["Id"])
    assert (record["parent_object"], record["parent_id"]) == ("Contact", chosen)
    assert record["pushed_version"] == 1 and record["state"] == "confirmed"


# --- refusals ------------------------------------------------------------------------------------


def test_an_unknown_highlight_is_refused_by_name(partner: Partner, manual: OrgHandle) -> None:
    meeting_push(partner)

    previewed = partner.client.get("/api/v1/meetings/m-1/match-preview/", {"highlights": "h1,h9"})
    sent = partner.client.post(
        "/api/v1/meetings/m-1/send-highlights/",
        {"highlights": ["h9"], "create": {"account_name": "Initech"}},
        format="json",
    )

    for answer in (previewed, sent):
        assert answer.status_code == 400
        assert "h9" in answer.json()["highlights"][0]
    assert not SyncJob.objects.filter(operation="highlights.send").exists()


def test_no_highlight_chosen_is_refused(partner: Partner, manual: OrgHandle) -> None:
    meeting_push(partner)

    answer = partner.client.get("/api/v1/meetings/m-1/match-preview/")

    assert answer.status_code == 400 and "highlights" in answer.json()


def test_target_and_create_together_are_refused(partner: Partner, manual: OrgHandle) -> None:
    account = manual.insert("Account", Name="Initech")
    meeting_push(partner)

    answer = partner.client.post(
        "/api/v1/meetings/m-1/send-highlights/",
        {
            "highlights": ["h1"],
            "target": {"object": "Account", "id": account},
            "create": {"account_name": "Initech"},
        },
        format="json",
    )

    assert answer.status_code == 400, answer.json()
    assert "not both" in answer.json()["detail"]
    assert manual.records("ContentNote") == [] and len(manual.records("Account")) == 1


def test_a_target_that_is_not_a_salesforce_id_is_refused(
    partner: Partner, manual: OrgHandle
) -> None:
    meeting_push(partner)

    answer = partner.client.post(
        "/api/v1/meetings/m-1/send-highlights/",
        {"highlights": ["h1"], "target": {"object": "Account", "id": "x' OR Id != '"}},
        format="json",
    )

    assert answer.status_code == 400 and "target" in answer.json()


def test_resolving_a_job_that_waits_for_nobody_is_a_conflict(
    partner: Partner, manual: OrgHandle
) -> None:
    account = manual.insert("Account", Name="Initech")
    meeting_push(partner)
    job = send(partner, {"highlights": ["h1"], "target": {"object": "Account", "id": account}})

    resolved = partner.client.post(
        f"/api/v1/sync-jobs/{job['id']}/resolve/",
        {"choice": {"object": "Account", "id": account}},
        format="json",
    )
    retried = partner.client.post(f"/api/v1/sync-jobs/{job['id']}/retry/")

    assert resolved.status_code == 409 and "not waiting for a review" in resolved.json()["detail"]
    assert retried.status_code == 409
    assert len(manual.records("ContentNote")) == 1


def test_a_choice_for_someone_not_in_the_activity_is_refused(
    partner: Partner, manual: OrgHandle
) -> None:
    activity_push(partner, "call-1", [{"email": "dan@initech.example"}])

    answer = partner.client.post(
        "/api/v1/activities/call-1/log/",
        {"choices": {"eve@initech.example": {"object": "create_lead"}}},
        format="json",
    )
    no_id = partner.client.post(
        "/api/v1/activities/call-1/log/",
        {"choices": {"dan@initech.example": {"object": "Contact"}}},
        format="json",
    )

    assert answer.status_code == 400 and "eve@initech.example" in answer.json()["choices"][0]
    assert no_id.status_code == 400
    assert manual.records("Task") == [] and manual.records("Lead") == []


def test_a_tenant_without_salesforce_gets_a_conflict_on_preview(partner: Partner) -> None:
    meeting_push(partner, processed=False)

    answer = partner.client.get("/api/v1/meetings/m-1/match-preview/", {"highlights": "h1"})

    assert answer.status_code == 409, answer.json()
    assert "not connected" in answer.json()["detail"]


def test_creating_an_account_is_refused_when_the_contacts_already_belong_to_one(
    partner: Partner, manual: OrgHandle
) -> None:
    initech = manual.insert("Account", Name="Initech")
    bob = manual.insert("Contact", LastName="Bob", Email="bob@initech.example", AccountId=initech)
    meeting_push(partner, attendees=EXTERNAL)

    job = send(partner, {"highlights": ["h1"], "create": {"account_name": "New Co"}})

    assert job["state"] == "needs_review" and "already belong to Initech" in job["reason"]
    assert manual.get(bob)["AccountId"] == initech  # not moved away
    assert [a["Name"] for a in manual.records("Account")] == ["Initech"]
    assert manual.records("ContentNote") == []


def test_notes_sent_to_a_new_account_link_to_it(partner: Partner, manual: OrgHandle) -> None:
    meeting_push(partner, attendees=EXTERNAL)

    send(partner, {"highlights": ["h1"], "create": {"account_name": "Initech"}})

    (account,) = manual.records("Account")
    (note,) = manual.records("ContentNote")
    body = manual.note_content(note["Id"]).decode()
    assert f"{manual.instance_url}/{account['Id']}" in body and "Initech" in body


def test_a_lead_made_for_a_participant_is_not_made_again_when_logging(
    partner: Partner, manual: OrgHandle
) -> None:
    activity_push(partner, "call-1", [{"email": "erin@umbrella.example", "name": "Erin Stone"}])
    partner.client.post("/api/v1/activities/call-1/leads/", {"email": "erin@umbrella.example"})

    job = partner.client.post(
        "/api/v1/activities/call-1/log/",
        {"choices": {"erin@umbrella.example": {"object": "create_lead"}}},
        format="json",
    ).json()

    assert job["state"] == "succeeded", job["reason"]
    (lead,) = manual.records("Lead")
    assert [t["WhoId"] for t in manual.records("Task")] == [lead["Id"]]


def test_a_locked_record_in_a_large_send_is_retried_not_failed(
    partner: Partner, manual: OrgHandle
) -> None:
    """More than 25 records go out as collections (all or none per request): the
    records undone because another was refused are not mistaken for the cause."""
    initech = manual.insert("Account", Name="Initech")
    manual.insert("Contact", LastName="Bob", Email="bob@initech.example", AccountId=initech)
    texts = [f"Point {n}" for n in range(13)]
    meeting_push(partner, attendees=EXTERNAL, highlights=texts)
    manual.lock_record(initech)

    job = send(
        partner,
        {
            "highlights": [f"h{n + 1}" for n in range(13)],
            "target": {"object": "Account", "id": initech},
        },
    )

    assert job["state"] == "pending", job["reason"]
    assert "UNABLE_TO_LOCK_ROW" in job["reason"]
    manual.unlock_record(initech)
    SyncJob.objects.filter(pk=job["id"]).update(next_attempt_at=None)
    sync_job_run(job_id=job["id"])
    assert SyncJob.objects.get(pk=job["id"]).state == "succeeded"
    assert len(manual.records("ContentNote")) == 13
    assert (
        len([r for r in manual.records("ContentDocumentLink") if r["LinkedEntityId"] == initech])
        == 13
    )
