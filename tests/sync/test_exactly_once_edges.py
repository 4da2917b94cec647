"""Exactly once at the edges a review found: rolled-back deletes, records that name
each other, fractions of a second, rows left in doubt by a job that gave up, a reconnect
in the middle of a batch, a reconnect by another Salesforce user, one address with two
Contacts, and deleting what is gone already."""

from __future__ import annotations

from typing import Any

import pytest

from integrations.models import SalesforceConnection, SyncMapping
from integrations.services.connection import salesforce_connection_connect
from integrations.services.settings import integration_settings_update
from salesforce_emulator.testing import OrgHandle
from tests.conftest import Partner
from tests.sync.conftest import as_salesforce_user, last_job, meeting_push
from tests.sync.test_faults import ATTENDEES, time_passes

pytestmark = pytest.mark.django_db(transaction=True)


def send(partner: Partner, meeting: str, body: dict[str, Any]) -> None:
    answer = partner.client.post(
        f"/api/v1/meetings/{meeting}/send-highlights/",
        {"highlights": ["h1"], **body},
        format="json",
    )
    assert answer.status_code == 202, answer.json()


@pytest.fixture
def initech(sf: OrgHandle) -> str:
    account = sf.insert("Account", Name="Initech")
    sf.insert("Contact", LastName="Bob", Email="bob@initech.example", AccountId=account)
    return account


def test_a_delete_rolled_back_with_its_request_is_not_taken_as_done(
    partner: Partner, sf: OrgHandle, initech: str
) -> None:
    # auto-sync makes the meeting Note; h1 is also sent by hand as its own Note
    meeting_push(partner, attendees=ATTENDEES, highlights=["Budget is approved", "Needs SSO"])
    answer = partner.client.post(
        "/api/v1/meetings/m-1/send-highlights/",
        {"highlights": ["h1"], "target": {"object": "Account", "id": initech}},
        format="json",
    )
    assert answer.status_code == 202, answer.json()
    notes = sf.records("ContentNote")
    assert len(notes) == 2
    meeting_note = SyncMapping.objects.get(purpose="meeting_note")
    h_note = SyncMapping.objects.get(purpose="highlight_note")
    # Somebody deletes the auto-sync Note in Salesforce.
    as_salesforce_user(sf).delete("ContentNote", meeting_note.salesforce_id)
    # The partner deletes h1: its own Note must go.
    answer = partner.client.delete("/api/v1/meetings/m-1/highlights/h1/")
    assert answer.status_code in (200, 204)
    assert last_job("highlight.sync").state == "succeeded"
    h_note.refresh_from_db()
    remaining = [n["Id"] for n in sf.records("ContentNote")]
    # The highlight's Note must be gone from Salesforce
    assert not any("Budget is approved" in sf.note_content(i).decode() for i in remaining), (
        "deleted highlight's Note is still in Salesforce (orphaned, row says deleted)"
    )


def test_recovery_settles_a_record_after_the_one_it_names_whatever_their_order(
    partner: Partner, sf: OrgHandle
) -> None:

    integration_settings_update(tenant=partner.tenant, auto_sync=False)
    other = sf.insert("Account", Name="Somewhere")
    meeting_push(partner, attendees=["ana@acme.test", "new@newco.example"], highlights=["Point"])
    # 1st send to an existing Account: the Note is refused, nothing is made; rows planned.
    sf.faults.fail_next(
        1,
        method="POST",
        path=r"/sobjects/ContentNote$",
        error_code="FIELD_CUSTOM_VALIDATION_EXCEPTION",
    )
    answer = partner.client.post(
        "/api/v1/meetings/m-1/send-highlights/",
        {"highlights": ["h1"], "target": {"object": "Account", "id": other}},
        format="json",
    )
    assert answer.status_code == 202, answer.json()
    assert sf.records("Event") == []
    # 2nd send creates an Account; its answer is lost after commit.
    sf.faults.drop_after_commit(1, method="POST", path=r"/composite$", after=1)
    answer = partner.client.post(
        "/api/v1/meetings/m-1/send-highlights/",
        {"highlights": ["h1"], "create": {"account_name": "NewCo"}},
        format="json",
    )
    assert answer.status_code == 202, answer.json()
    assert len(sf.records("Event")) == 1
    for _ in range(3):
        time_passes()
    assert len(sf.records("Event")) == 1, "duplicate Event"
    assert len(sf.records("ContentNote")) == 1, "duplicate Note"


def test_an_event_starting_at_a_fraction_of_a_second_is_found_again(
    partner: Partner, sf: OrgHandle, initech: str
) -> None:

    sf.faults.drop_after_commit(1, method="POST", path=r"/composite$", after=1)
    client = partner.client
    answer = client.post(
        "/api/v1/meetings/",
        {
            "external_id": "m-1",
            "title": "Discovery",
            "start": "2026-11-20T15:00:00.250Z",
            "end": "2026-11-20T15:45:00Z",
            "attendees": [{"email": e} for e in ATTENDEES],
        },
        format="json",
    )
    assert answer.status_code in (200, 201), answer.json()
    client.post(
        "/api/v1/meetings/m-1/highlights/",
        {"external_id": "h1", "text": "x", "offset_seconds": 1},
        format="json",
    )
    client.post("/api/v1/meetings/m-1/processed/")
    time_passes()
    assert len(sf.records("Event")) == 1


def test_a_contact_left_in_doubt_by_a_job_that_gave_up_blocks_no_other_meeting(
    partner: Partner, sf: OrgHandle, settings: Any
) -> None:
    settings.SYNC_MAX_ATTEMPTS = 1
    integration_settings_update(tenant=partner.tenant, auto_sync=False)
    for m in ("m-1", "m-2"):
        meeting_push(partner, m, attendees=["ana@acme.test", "new@newco.example"], processed=False)
    # m-1's writes land but their answer is lost, and m-1 may not try again: it gives up
    # with its records (the new person's Contact among them) in doubt.
    sf.faults.drop_after_commit(1, method="POST", path=r"/composite$", after=1)
    send(partner, "m-1", {"create": {"account_name": "NewCo"}})
    assert last_job("highlights.send").state == "failed"
    time_passes()

    send(partner, "m-2", {"create": {"account_name": "OtherCo"}})

    second = last_job("highlights.send")
    # m-2's batch settles what m-1 left in doubt; the address now belongs to NewCo,
    # so m-2 asks which record to use instead of making anything.
    assert second.state == "needs_review", second.reason
    assert "NewCo" in second.reason
    contacts = [c for c in sf.records("Contact") if c["Email"] == "new@newco.example"]
    assert len(contacts) == 1
    assert SyncMapping.objects.get(purpose="contact").state == "confirmed"


def test_a_reconnect_during_a_batch_leaves_no_job_waiting_for_it(
    partner: Partner, sf: OrgHandle, initech: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from integrations.sync import runner

    # The stored session has expired and cannot be refreshed.
    SalesforceConnection.objects.filter(tenant=partner.tenant).update(refresh_token="")
    sf.faults.fail_next(
        1, method="POST", path=r"/composite$", error_code="INVALID_SESSION_ID", status=401
    )
    real_finish = runner.jobs_finish
    done = []

    def finish(*args, **kwargs):
        if not done:
            done.append(1)
            # The admin, seeing "needs re-authorisation", reconnects right away.
            salesforce_connection_connect(
                tenant=partner.tenant,
                instance_url=sf.instance_url,
                access_token=sf.new_access_token(),
            )
        return real_finish(*args, **kwargs)

    monkeypatch.setattr(runner, "jobs_finish", finish)
    meeting_push(partner, attendees=ATTENDEES)
    monkeypatch.setattr(runner, "jobs_finish", real_finish)
    for _ in range(3):
        time_passes()
    assert last_job("meeting.processed").state == "succeeded"


def test_a_reconnect_by_another_user_never_syncs_with_the_previous_users_session(
    partner: Partner, sf: OrgHandle, initech: str
) -> None:
    other = sf.insert(
        "User", Email="ops@acme.test", LastName="Ops", Username="ops@acme.test", Alias="ops"
    )
    token = sf._registry.issue(sf.org, other, None).token
    # Ops reconnects with an access token only; the admin's refresh token must not stay.
    salesforce_connection_connect(
        tenant=partner.tenant, instance_url=sf.instance_url, access_token=token
    )
    sf.expire_sessions()

    meeting_push(partner, attendees=ATTENDEES)

    connection = SalesforceConnection.objects.get(tenant=partner.tenant)
    assert connection.status == "needs_reauth"
    assert sf.records("ContentNote") == []
    salesforce_connection_connect(
        tenant=partner.tenant, instance_url=sf.instance_url, access_token=sf.new_access_token()
    )
    assert len(sf.records("ContentNote")) == 1 and len(sf.records("Event")) == 1
    [note] = sf.records("ContentNote")
    assert note["CreatedById"] == sf.admin_user_id


def test_an_address_matching_two_contacts_still_syncs_the_meeting(
    partner: Partner, sf: OrgHandle, initech: str
) -> None:

    # A common real-org situation: the same person twice as a Contact of one Account.
    sf.insert("Contact", LastName="Peter", Email="peter@initech.example", AccountId=initech)
    sf.insert("Contact", LastName="Peter (dup)", Email="peter@initech.example", AccountId=initech)
    meeting_push(partner, attendees=ATTENDEES)
    for _ in range(10):
        time_passes()
    job = last_job("meeting.processed")
    assert job.state == "succeeded"


def test_deleting_a_note_already_gone_in_salesforce_is_no_failure(
    partner: Partner, sf: OrgHandle, initech: str
) -> None:
    meeting_push(partner, attendees=ATTENDEES, highlights=["Budget is approved", "Needs SSO"])
    answer = partner.client.post(
        "/api/v1/meetings/m-1/send-highlights/",
        {"highlights": ["h1"], "target": {"object": "Account", "id": initech}},
        format="json",
    )
    assert answer.status_code == 202, answer.json()
    h_note = SyncMapping.objects.get(purpose="highlight_note")
    meeting_note = SyncMapping.objects.get(purpose="meeting_note")
    # Somebody deletes the highlight's own Note in Salesforce.
    as_salesforce_user(sf).delete("ContentNote", h_note.salesforce_id)
    partner.client.delete("/api/v1/meetings/m-1/highlights/h1/")
    job = last_job("highlight.sync")
    text = sf.note_content(meeting_note.salesforce_id).decode()
    assert job.state == "succeeded"
    assert "Budget is approved" not in text
