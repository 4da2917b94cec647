"""Exactly once under faults: each defect the fault campaign found (A to E) replayed as
the short sequence that reproduced it, asserted on the records in Salesforce."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.db import connection

from integrations.models import SyncJob, SyncMapping
from integrations.outbox import dispatch
from integrations.services.connection import (
    salesforce_connection_connect,
    salesforce_disconnect,
)
from integrations.services.jobs import sync_job_run
from salesforce_emulator.testing import OrgHandle
from tests.conftest import Partner
from tests.sync.conftest import last_job, meeting_push, records_in_doubt
from tests.sync.test_faults import ATTENDEES, time_passes

pytestmark = pytest.mark.django_db(transaction=True)

# The first POST /composite of a sync is its lookup round; the second carries its writes.
WRITES = {"method": "POST", "path": r"/composite$", "after": 1}


@pytest.fixture
def initech(sf: OrgHandle) -> str:
    account = sf.insert("Account", Name="Initech")
    sf.insert("Contact", LastName="Bob", Email="bob@initech.example", AccountId=account)
    return account


def note_texts(sf: OrgHandle) -> list[str]:
    return [sf.note_content(n["Id"]).decode() for n in sf.records("ContentNote")]


def highlight_post(partner: Partner, external_id: str, text: str, offset: int = 30) -> None:
    answer = partner.client.post(
        "/api/v1/meetings/m-1/highlights/",
        {"external_id": external_id, "text": text, "offset_seconds": offset},
        format="json",
    )
    assert answer.status_code in (200, 201), answer.json()


def highlight_delete(partner: Partner, external_id: str) -> None:
    answer = partner.client.delete(f"/api/v1/meetings/m-1/highlights/{external_id}/")
    assert answer.status_code in (200, 204)


def all_settled() -> None:
    assert records_in_doubt() == 0
    assert not SyncJob.objects.filter(state__in=["pending", "running"]).exists()


# --- A: a Note deleted with its last highlight is made again for a new one ----------------


def test_a_highlight_added_after_the_last_one_was_deleted_gets_a_note(
    partner: Partner, sf: OrgHandle, initech: str
) -> None:
    meeting_push(partner, attendees=ATTENDEES, highlights=["Budget is approved"])
    assert len(sf.records("ContentNote")) == 1

    highlight_delete(partner, "h1")
    assert sf.records("ContentNote") == []

    highlight_post(partner, "h2", "They want SSO by March")

    [text] = note_texts(sf)
    assert "They want SSO by March" in text and "Budget is approved" not in text
    [link] = sf.records("ContentDocumentLink")
    assert link["LinkedEntityId"] == initech
    assert last_job("highlight.sync").state == "succeeded"


def test_a_meeting_synced_before_it_had_highlights_gets_its_note_with_the_first(
    partner: Partner, sf: OrgHandle, initech: str
) -> None:
    salesforce_disconnect(tenant=partner.tenant)
    meeting_push(partner, attendees=ATTENDEES, highlights=["Budget is approved"])
    highlight_delete(partner, "h1")  # while the auto-sync waits
    salesforce_connection_connect(
        tenant=partner.tenant, instance_url=sf.instance_url, access_token=sf.new_access_token()
    )
    assert last_job("meeting.processed").state == "succeeded"
    assert sf.records("ContentNote") == [] and len(sf.records("Event")) == 1

    highlight_post(partner, "h2", "They want SSO by March")

    [text] = note_texts(sf)
    assert "They want SSO by March" in text
    [link] = sf.records("ContentDocumentLink")
    assert link["LinkedEntityId"] == initech


# --- B: a Note made by an interrupted run, then not wanted any more --------------------------


def test_a_note_made_by_an_interrupted_run_is_deleted_when_its_highlights_are(
    partner: Partner, sf: OrgHandle, initech: str
) -> None:
    sf.faults.drop_after_commit(1, **WRITES)
    meeting_push(partner, attendees=ATTENDEES, highlights=["Budget is approved"])
    assert len(sf.records("ContentNote")) == 1  # made, but the portal never heard back

    highlight_delete(partner, "h1")
    time_passes()

    assert sf.records("ContentNote") == []  # adopted, then deleted: not orphaned
    assert len(sf.records("Event")) == 1
    all_settled()


# --- C: an adoption is stored at once, whatever the next write meets ---------------------------


def test_records_found_after_a_lost_answer_are_kept_although_the_next_write_is_refused(
    partner: Partner, sf: OrgHandle, initech: str
) -> None:
    sf.faults.drop_after_commit(1, **WRITES)
    meeting_push(partner, attendees=ATTENDEES)
    [event] = sf.records("Event")
    sf.lock_record(event["Id"])  # the retry's update of the Event meets a locked row

    partner.client.patch("/api/v1/meetings/m-1/", {"title": "Renamed"}, format="json")
    time_passes()
    sf.unlock_record(event["Id"])
    time_passes()
    time_passes()

    assert len(sf.records("ContentNote")) == 1
    [event] = sf.records("Event")
    assert event["Subject"] == "Renamed"
    all_settled()


# --- D: "already linked" is success when the link is ours ------------------------------------


def test_a_link_salesforce_already_has_is_taken_as_made_not_failed(
    partner: Partner, sf: OrgHandle, initech: str
) -> None:
    meeting_push(partner, attendees=ATTENDEES)
    # The portal lost track of the note's link (as after a reply lost on its create):
    # it makes it again and Salesforce answers DUPLICATE_VALUE.
    SyncMapping.objects.filter(purpose="meeting_note_link").delete()

    answer = partner.client.patch(
        "/api/v1/meetings/m-1/highlights/h1/",
        {"text": "Budget is approved for 2027"},
        format="json",
    )
    assert answer.status_code == 200

    job = last_job("highlight.sync")
    assert job.state == "succeeded", job.reason
    assert len(sf.records("ContentDocumentLink")) == 1
    link = SyncMapping.objects.get(purpose="meeting_note_link")
    assert (
        link.state == "confirmed"
        and link.salesforce_id == sf.records("ContentDocumentLink")[0]["Id"]
    )
    assert "Budget is approved for 2027" in note_texts(sf)[0]

    partner.client.patch("/api/v1/meetings/m-1/", {"title": "Later edits work too"}, format="json")
    assert last_job("meeting.sync").state == "succeeded"


# --- E: a cancellation settles the Task an interrupted run made ---------------------------


def test_a_booking_cancelled_after_its_task_answer_was_lost_closes_that_task(
    partner: Partner, sf: OrgHandle
) -> None:
    sf.insert(
        "User", Email="host@acme.test", LastName="Host", Username="host@acme.test", Alias="host"
    )
    sf.insert("Contact", LastName="Gus", Email="gus@initech.example")
    sf.faults.drop_after_commit(1, **WRITES)
    booking = {
        "external_id": "b-1",
        "version": 1,
        "host_email": "host@acme.test",
        "guest_email": "gus@initech.example",
        "guest_name": "Gus",
        "title": "Intro",
        "start": "2026-12-03T10:00:00Z",
        "end": "2026-12-03T10:30:00Z",
    }
    assert partner.client.post("/api/v1/bookings/", booking, format="json").status_code in (
        200,
        201,
    )
    assert len(sf.records("Task")) == 1  # made; its answer lost

    answer = partner.client.post("/api/v1/bookings/b-1/cancel/", {"version": 2}, format="json")
    assert answer.status_code in (200, 202), answer.json()
    time_passes()

    [task] = sf.records("Task")
    assert task["Status"] == "Completed" and task["Subject"].startswith("Cancelled")
    assert last_job("booking.sync").state == "succeeded"
    all_settled()


# --- strong identity -------------------------------------------------------------------------


def test_two_interrupted_meetings_with_one_title_each_adopt_their_own_note(
    partner: Partner, sf: OrgHandle
) -> None:
    globex = sf.insert("Account", Name="Globex")
    sf.insert("Contact", LastName="Hank", Email="hank@globex.example", AccountId=globex)
    initech = sf.insert("Account", Name="Initech")
    sf.insert("Contact", LastName="Bob", Email="bob@initech.example", AccountId=initech)
    # Globex's meeting is interrupted first, so its note is the older "Weekly sync".
    sf.faults.drop_after_commit(1, **WRITES)
    meeting_push(
        partner,
        "m-g",
        attendees=["hank@globex.example"],
        title="Weekly sync",
        highlights=["Globex renews"],
    )
    sf.faults.drop_after_commit(1, **WRITES)
    meeting_push(
        partner,
        "m-i",
        attendees=["bob@initech.example"],
        title="Weekly sync",
        highlights=["Initech churns"],
    )
    assert records_in_doubt() > 0

    time_passes()

    links = {
        link["LinkedEntityId"]: link["ContentDocumentId"]
        for link in sf.records("ContentDocumentLink")
    }
    assert set(links) == {globex, initech}
    assert "Globex renews" in sf.note_content(links[globex]).decode()
    assert "Initech churns" in sf.note_content(links[initech]).decode()
    assert len(sf.records("ContentNote")) == 2 and len(sf.records("Event")) == 2
    all_settled()


def test_records_sent_before_a_reconnect_by_another_user_are_found_again(
    partner: Partner, sf: OrgHandle, initech: str
) -> None:
    sf.faults.drop_after_commit(1, **WRITES)
    meeting_push(partner, attendees=ATTENDEES)
    other = sf.insert(
        "User", Email="ops@acme.test", LastName="Ops", Username="ops@acme.test", Alias="ops"
    )
    token = sf._registry.issue(sf.org, other, None).token
    salesforce_connection_connect(
        tenant=partner.tenant, instance_url=sf.instance_url, access_token=token
    )

    time_passes()

    assert len(sf.records("ContentNote")) == 1 and len(sf.records("Event")) == 1
    all_settled()


# --- one Contact per address ---------------------------------------------------------------


def test_two_meetings_sent_at_once_with_create_make_one_contact_for_the_same_person(
    partner: Partner, sf: OrgHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    for external_id in ("m-1", "m-2"):
        meeting_push(partner, external_id, attendees=["new@newco.example"], processed=False)
    # Both sends are queued first, then two workers take them at the same moment: both
    # look up (nobody matches yet), both plan a Contact for the address.
    monkeypatch.setattr(dispatch, "async_task", lambda *args, **kwargs: None)
    jobs = [
        partner.client.post(
            f"/api/v1/meetings/{m}/send-highlights/",
            {"highlights": ["h1"], "create": {"account_name": f"NewCo {m}"}},
            format="json",
        ).json()["id"]
        for m in ("m-1", "m-2")
    ]
    monkeypatch.undo()
    sf.faults.latency(200)
    errors: list[BaseException] = []

    def work(job_id: int) -> None:
        try:
            sync_job_run(job_id=job_id)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(job_id,)) for job_id in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sf.faults.latency(0)
    assert not errors
    for _ in range(3):
        time_passes()
        for job_id in jobs:
            sync_job_run(job_id=job_id)

    contacts = [c for c in sf.records("Contact") if c["Email"] == "new@newco.example"]
    assert len(contacts) == 1
    states = set(SyncJob.objects.filter(pk__in=jobs).values_list("state", flat=True))
    # The second finds the person's Contact now belongs to the first's Account, and asks.
    assert "succeeded" in states and states <= {"succeeded", "needs_review"}
    all_settled()


# --- late answers: a write Salesforce applies after the client gave up ----------------------


def test_a_change_that_lands_after_its_timeout_never_overwrites_a_newer_one(
    partner: Partner, sf: OrgHandle, settings: Any
) -> None:
    settings.SALESFORCE_HTTP_TIMEOUT = 1
    settings.SYNC_IN_DOUBT_GRACE_SECONDS = 3
    sf.insert("User", Email="host@acme.test", LastName="Host", Username="h@acme.test", Alias="h")
    sf.insert("Contact", LastName="Gus", Email="gus@initech.example")
    booking = {
        "external_id": "b-1",
        "version": 1,
        "host_email": "host@acme.test",
        "guest_email": "gus@initech.example",
        "title": "Intro",
        "start": "2026-12-03T10:00:00Z",
        "end": "2026-12-03T10:30:00Z",
    }
    assert partner.client.post("/api/v1/bookings/", booking, format="json").status_code == 201
    # The reschedule reaches Salesforce only after the portal stopped waiting for it.
    sf.faults.chaos(rate=1.0, seed=1, kinds=["slow"], slow_ms=1800)
    moved = {"version": 2, "start": "2026-12-04T10:00:00Z", "end": "2026-12-04T10:30:00Z"}
    partner.client.post("/api/v1/bookings/b-1/reschedule/", moved, format="json")
    sf.faults.chaos_off()
    assert last_job("booking.sync").state == "pending"

    partner.client.post("/api/v1/bookings/b-1/cancel/", {"version": 3}, format="json")
    cancel = last_job("booking.sync")
    assert cancel.state == "pending" and cancel.waiting_for == "doubt", cancel.reason
    time.sleep(1.5)  # the late reschedule lands meanwhile
    time_passes()

    [task] = sf.records("Task")
    assert task["Status"] == "Completed" and task["Subject"].startswith("Cancelled")
    assert task["ActivityDate"] == "2026-12-04"
    all_settled()
