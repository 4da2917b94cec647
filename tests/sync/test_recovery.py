"""Crash and partial-failure recovery (SPEC 4): what an interrupted or half-failed sync
leaves behind is found and finished, never made twice."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from integrations.models import SyncJob
from integrations.outbox.sweeper import sync_jobs_sweep
from integrations.services.actions import highlights_send
from integrations.services.connection import salesforce_connection_connect, salesforce_disconnect
from integrations.services.jobs import sync_job_retry
from salesforce_emulator.testing import OrgHandle
from tests.conftest import Partner
from tests.sync.conftest import last_job, meeting_push, records_in_doubt
from tests.sync.test_faults import ATTENDEES, exactly_one_sync_in, time_passes

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def initech(sf: OrgHandle) -> str:
    account = sf.insert("Account", Name="Initech")
    sf.insert("Contact", LastName="Bob", Email="bob@initech.example", AccountId=account)
    sf.insert("Contact", LastName="Peter", Email="peter@initech.example", AccountId=account)
    return account


def dropped_auto_sync(partner: Partner, sf: OrgHandle) -> SyncJob:
    """The auto-sync's write reaches Salesforce; its answer never comes back."""
    sf.faults.drop_after_commit(1, method="POST", path=r"/composite$", after=1)
    meeting_push(partner, attendees=ATTENDEES)
    job = last_job("meeting.processed")
    assert job.state == "pending" and records_in_doubt() > 0
    return job


def test_a_rename_between_the_lost_answer_and_the_retry_makes_no_second_record(
    partner: Partner, sf: OrgHandle, initech: str
) -> None:
    job = dropped_auto_sync(partner, sf)

    partner.client.patch("/api/v1/meetings/m-1/", {"title": "Renamed"}, format="json")
    time_passes()

    job.refresh_from_db()
    assert job.state == "succeeded", job.reason
    exactly_one_sync_in(sf, initech)
    assert sf.records("Event")[0]["Subject"] == "Renamed"
    assert "Renamed" in sf.note_content(sf.records("ContentNote")[0]["Id"]).decode()


def test_another_sync_of_the_meeting_waits_for_the_interrupted_records_then_settles_them(
    partner: Partner, sf: OrgHandle, initech: str
) -> None:
    job = dropped_auto_sync(partner, sf)

    # A member sends a highlight by hand meanwhile: it first adopts the Note and Event
    # the interrupted run made, so it writes no Event of its own.
    sent = highlights_send(
        meeting=job.local_object,
        highlight_ids=["h1"],
        target={"object": "Account", "id": initech, "name": "Initech"},
    )
    sent.refresh_from_db()
    # Within the grace period the interrupted write may still land: it waits for that.
    assert sent.state == "pending" and sent.waiting_for == "doubt", sent.reason
    assert sent.attempt_count == 0
    time_passes()

    assert set(
        SyncJob.objects.filter(pk__in=[job.pk, sent.pk]).values_list("state", flat=True)
    ) == {"succeeded"}
    assert len(sf.records("Event")) == 1
    assert len(sf.records("ContentNote")) == 2  # the meeting's Note and the sent highlight's


def test_a_note_whose_link_failed_in_a_batch_is_linked_on_retry(
    partner: Partner, sf: OrgHandle, initech: str
) -> None:
    """Two meetings synced in one batch (collections, one bad record fails only its
    job): the second's Event is refused after its Note was made; its retry links the
    Note and makes the Event, and nothing is doubled."""
    salesforce_disconnect(tenant=partner.tenant)
    meeting_push(partner, "m-1", attendees=ATTENDEES)
    meeting_push(partner, "m-2", attendees=ATTENDEES, title="Second meeting")
    sf.validation_rule("Event", "Events need a location", when={"Subject": "Second meeting"})

    salesforce_connection_connect(
        tenant=partner.tenant, instance_url=sf.instance_url, access_token=sf.new_access_token()
    )
    second = SyncJob.objects.get(
        operation="meeting.processed", object_id=last_job("meeting.processed").object_id
    )
    assert second.state == "failed" and "Events need a location" in second.reason
    assert "batch of 2" in second.attempts.get().message

    sf.org.validation_rules.clear()
    sync_job_retry(job=second)

    second.refresh_from_db()
    assert second.state == "succeeded", second.reason
    notes = sf.records("ContentNote")
    assert len(notes) == 2 and len(sf.records("Event")) == 2
    linked = {r["ContentDocumentId"] for r in sf.records("ContentDocumentLink")}
    assert linked == {n["Id"] for n in notes}


def test_an_unexpected_error_fails_its_job_with_the_cause_and_a_retry_finishes_it(
    partner: Partner, sf: OrgHandle, initech: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from integrations.salesforce import payloads

    real = payloads.note_html

    def broken(**kwargs: Any) -> str:
        raise RuntimeError("rendering broke")

    monkeypatch.setattr(payloads, "note_html", broken)
    meeting_push(partner, attendees=ATTENDEES)

    job = last_job("meeting.processed")
    assert job.state == "failed" and "internal error (RuntimeError)" in job.reason
    assert job.attempts.get().salesforce_error_code == "INTERNAL_ERROR"

    monkeypatch.setattr(payloads, "note_html", real)
    sync_job_retry(job=job)
    job.refresh_from_db()
    assert job.state == "succeeded"
    exactly_one_sync_in(sf, initech)


def test_a_job_whose_worker_keeps_dying_ends_failed(
    partner: Partner, sf: OrgHandle, settings: Any
) -> None:
    settings.SYNC_MAX_ATTEMPTS = 3
    meeting_push(partner, attendees=ATTENDEES)  # nobody matches: skipped, final
    job = last_job("meeting.processed")
    SyncJob.objects.filter(pk=job.pk).update(
        state="running", attempt_count=3, lease_expires_at=timezone.now() - timedelta(seconds=1)
    )

    sync_jobs_sweep()

    job.refresh_from_db()
    assert job.state == "failed" and "Gave up after 3 attempts" in job.reason
    assert job.attempts.order_by("-id").first().outcome == "failed"
