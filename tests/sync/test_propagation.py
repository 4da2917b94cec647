"""SPEC 3.4: once in Salesforce, edits flow into the same records; deletions remove;
Salesforce's own changes never flow back; the last edit wins."""

from __future__ import annotations

import pytest

from integrations.models import SyncJob
from salesforce_emulator.testing import OrgHandle
from tests.conftest import Partner
from tests.sync.conftest import as_salesforce_user, last_job, meeting_push

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def synced(partner: Partner, sf: OrgHandle) -> OrgHandle:
    account = sf.insert("Account", Name="Initech")
    sf.insert("Contact", LastName="Bob", Email="bob@initech.example", AccountId=account)
    meeting_push(partner)
    assert last_job("meeting.processed").state == "succeeded"
    return sf


def note_text(sf: OrgHandle) -> str:
    notes = sf.records("ContentNote")
    assert len(notes) == 1
    return sf.note_content(notes[0]["Id"]).decode()


def test_editing_a_highlight_updates_the_same_note(partner: Partner, synced: OrgHandle) -> None:
    answer = partner.client.patch(
        "/api/v1/meetings/m-1/highlights/h1/", {"text": "Budget doubled"}, format="json"
    )

    assert answer.status_code == 200
    assert last_job("highlight.sync").state == "succeeded"
    text = note_text(synced)
    assert "Budget doubled" in text and "Budget is approved" not in text
    assert "Needs SSO" in text


def test_deleting_a_highlight_removes_it_from_the_note(partner: Partner, synced: OrgHandle) -> None:
    partner.client.delete("/api/v1/meetings/m-1/highlights/h2/")

    text = note_text(synced)
    assert "Needs SSO" not in text and "Budget is approved" in text


def test_deleting_every_highlight_deletes_the_note(partner: Partner, synced: OrgHandle) -> None:
    partner.client.delete("/api/v1/meetings/m-1/highlights/h1/")
    partner.client.delete("/api/v1/meetings/m-1/highlights/h2/")

    assert synced.records("ContentNote") == []
    assert len(synced.records("Event")) == 1


def test_retitling_and_moving_the_meeting_updates_its_event(
    partner: Partner, synced: OrgHandle
) -> None:
    partner.client.patch(
        "/api/v1/meetings/m-1/",
        {
            "title": "Initech pricing",
            "start": "2026-11-21T09:00:00Z",
            "end": "2026-11-21T10:00:00Z",
        },
        format="json",
    )

    events = synced.records("Event")
    assert len(events) == 1
    assert events[0]["Subject"] == "Initech pricing"
    assert events[0]["StartDateTime"].startswith("2026-11-21T09:00")
    assert "Initech pricing" in note_text(synced)


def test_a_late_retry_of_an_old_version_does_not_overwrite_a_newer_one(
    partner: Partner, synced: OrgHandle
) -> None:
    partner.client.patch("/api/v1/meetings/m-1/highlights/h1/", {"text": "v2"}, format="json")
    partner.client.patch("/api/v1/meetings/m-1/highlights/h1/", {"text": "v3"}, format="json")
    calls = synced.api_calls
    old = (
        SyncJob.objects.filter(operation="highlight.sync", state="succeeded").order_by("id").first()
    )

    # The first edit's job is delivered again (a broker redelivery): it reads today's
    # state, finds Salesforce already holds it, and writes nothing.
    SyncJob.objects.filter(pk=old.pk).update(state="pending")
    from integrations.services.jobs import sync_job_run

    sync_job_run(job_id=old.pk)

    assert "v3" in note_text(synced)
    assert synced.api_calls == calls


def test_a_note_deleted_in_salesforce_is_recreated_on_the_next_edit(
    partner: Partner, synced: OrgHandle
) -> None:
    note = synced.records("ContentNote")[0]
    as_salesforce_user(synced).delete("ContentNote", note["Id"])

    partner.client.patch("/api/v1/meetings/m-1/highlights/h1/", {"text": "After"}, format="json")

    job = last_job("highlight.sync")
    assert job.state == "succeeded", job.reason
    assert "re-created" in job.reason
    assert "After" in note_text(synced)
    account = synced.records("Account")[0]["Id"]
    assert [
        r["LinkedEntityId"]
        for r in synced.records("ContentDocumentLink")
        if r["ContentDocumentId"] == synced.records("ContentNote")[0]["Id"]
    ] == [account]


def test_a_retitle_after_the_note_was_deleted_recreates_only_the_note(
    partner: Partner, synced: OrgHandle
) -> None:
    as_salesforce_user(synced).delete("ContentNote", synced.records("ContentNote")[0]["Id"])

    partner.client.patch("/api/v1/meetings/m-1/", {"title": "Renamed"}, format="json")

    assert last_job("meeting.sync").state == "succeeded"
    events = synced.records("Event")
    assert len(events) == 1 and events[0]["Subject"] == "Renamed"
    assert "Renamed" in note_text(synced)
