"""The engine's own guarantees, each asserted as a user of the portal would notice it:
a stale worker changes nothing, one bad job fails alone, a backlog costs one message per
tenant, a resume lifts only the pause, a slow batch hands work on, an edited call keeps
its Tasks."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from integrations.models import SalesforceConnection, SyncJob, SyncMapping
from integrations.outbox import dispatch
from integrations.outbox.claim import jobs_claim_batch
from integrations.outbox.outcomes import AttemptFacts, job_finish
from integrations.outbox.sweeper import sync_jobs_sweep
from integrations.services.connection import salesforce_connection_connect, salesforce_disconnect
from integrations.services.jobs import sync_tenant_resume
from integrations.services.settings import integration_settings_update
from integrations.sync.plan import Finish
from integrations.sync.recovery import RecoveryInTransaction, rows_settle
from salesforce_emulator.testing import OrgHandle
from tests.conftest import Partner, partner_for
from tests.factories import TenantFactory
from tests.sync.conftest import last_job, logged_call, meeting_push
from tests.sync.test_faults import ATTENDEES

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def initech(sf: OrgHandle) -> str:
    account = sf.insert("Account", Name="Initech")
    sf.insert("Contact", LastName="Bob", Email="bob@initech.example", AccountId=account)
    return account


def reconnect(partner: Partner, sf: OrgHandle) -> None:
    salesforce_connection_connect(
        tenant=partner.tenant, instance_url=sf.instance_url, access_token=sf.new_access_token()
    )


def test_a_worker_that_outlived_its_lease_cannot_overwrite_the_next_runs_result(
    partner: Partner, sf: OrgHandle, initech: str
) -> None:
    salesforce_disconnect(tenant=partner.tenant)
    meeting_push(partner, attendees=ATTENDEES)
    job = last_job("meeting.processed")
    SalesforceConnection.objects.filter(tenant=partner.tenant).update(status="connected")
    stale = jobs_claim_batch(job.pk, now=timezone.now())
    assert stale is not None
    # Its worker hangs; the lease passes, the sweeper takes the job up again, and a
    # second run syncs it.
    SyncJob.objects.filter(pk=job.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    reconnect(partner, sf)
    sync_jobs_sweep()
    job.refresh_from_db()
    assert job.state == "succeeded", job.reason
    attempts = job.attempts.count()

    late = job_finish(
        stale.jobs[0],
        stale.token,
        Finish(SyncJob.State.FAILED, "the stale worker's outcome"),
        AttemptFacts(stale.started, 0, 0, 1),
    )

    assert late is False
    job.refresh_from_db()
    assert job.state == "succeeded" and job.attempts.count() == attempts


def test_one_malformed_job_fails_alone_and_its_batch_succeeds(
    partner: Partner, sf: OrgHandle, initech: str
) -> None:
    salesforce_disconnect(tenant=partner.tenant)
    for n in range(5):
        meeting_push(partner, f"m-{n}", attendees=ATTENDEES, highlights=[f"Point {n}"])
    poisoned = SyncJob.objects.filter(operation="meeting.processed").order_by("id")[2]
    SyncJob.objects.filter(pk=poisoned.pk).update(params={"target": {"object": "Account"}})

    reconnect(partner, sf)

    states = dict(SyncJob.objects.values_list("pk", "state"))
    assert states.pop(poisoned.pk) == "failed"
    assert set(states.values()) == {"succeeded"}
    poisoned.refresh_from_db()
    assert "internal error (KeyError)" in poisoned.reason
    assert poisoned.attempts.get().salesforce_error_code == "INTERNAL_ERROR"
    assert len(sf.records("ContentNote")) == 4
    assert any("batch of 5" in a.message for a in last_job("meeting.processed").attempts.all())


def test_the_sweeper_sends_one_dispatch_per_tenant_and_not_again_until_needed(
    partner: Partner, sf: OrgHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = partner_for(
        TenantFactory(name="Globex", slug="globex", internal_domains=["globex.test"])
    )
    salesforce_connection_connect(
        tenant=other.tenant, instance_url=sf.instance_url, access_token=sf.new_access_token()
    )
    integration_settings_update(tenant=other.tenant, auto_sync=True)
    sent: list[int] = []
    monkeypatch.setattr(dispatch, "async_task", lambda task, job_id, **_: sent.append(job_id))
    for n in range(4):
        meeting_push(partner, f"m-{n}", attendees=ATTENDEES)
    for n in range(3):
        meeting_push(other, f"g-{n}", attendees=["hank@hooli.example"])
    assert len(sent) == 7  # each new job once, on commit
    # The broker lost them all.
    SyncJob.objects.update(dispatched_at=timezone.now() - timedelta(hours=1))
    sent.clear()

    assert sync_jobs_sweep()["dispatched"] == 2
    lowest = {
        t: SyncJob.objects.filter(tenant=t).order_by("id").first().pk
        for t in (partner.tenant, other.tenant)
    }
    assert sorted(sent) == sorted(lowest.values())
    sent.clear()
    assert sync_jobs_sweep()["dispatched"] == 0 and sent == []


def test_resuming_a_paused_tenant_leaves_other_jobs_backoff_alone(
    partner: Partner, sf: OrgHandle, initech: str
) -> None:
    sf.faults.fail_next(1, method="POST", path=r"/composite$", error_code="SERVER_UNAVAILABLE")
    meeting_push(partner, "m-1", attendees=ATTENDEES)
    backing_off = last_job("meeting.processed")
    retry_at = backing_off.next_attempt_at
    assert backing_off.state == "pending" and backing_off.waiting_for == "backoff"

    sf.exhaust_api_limit()
    meeting_push(partner, "m-2", attendees=ATTENDEES)
    limited = last_job("meeting.processed")
    assert limited.waiting_for == "api_limit"
    sf.set_api_limit(1_000_000)

    sync_tenant_resume(tenant=partner.tenant)

    limited.refresh_from_db()
    backing_off.refresh_from_db()
    assert limited.state == "succeeded", limited.reason
    assert backing_off.state == "pending" and backing_off.next_attempt_at == retry_at


def test_records_in_doubt_are_never_settled_inside_a_transaction(
    partner: Partner, sf: OrgHandle, initech: str
) -> None:
    sf.faults.drop_after_commit(1, method="POST", path=r"/composite$", after=1)
    meeting_push(partner, attendees=ATTENDEES)
    rows = list(SyncMapping.objects.filter(state="sent"))
    assert rows

    with pytest.raises(RecoveryInTransaction), transaction.atomic():
        rows_settle(None, rows)  # type: ignore[arg-type]  # refused before any call


def test_a_batch_out_of_time_hands_its_companions_on_without_spending_attempts(
    partner: Partner, sf: OrgHandle, initech: str, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    salesforce_disconnect(tenant=partner.tenant)
    for n in range(3):
        meeting_push(partner, f"m-{n}", attendees=ATTENDEES)
    # A lease of one second: the budget (half of it) is gone after the first answer.
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "timeout": -29}
    sf.faults.latency(600)
    caplog.set_level(logging.INFO, logger="integrations")

    reconnect(partner, sf)

    sf.faults.latency(0)
    jobs = SyncJob.objects.filter(operation="meeting.processed")
    assert set(jobs.values_list("state", flat=True)) == {"succeeded"}
    assert "ran out of time" in caplog.text
    assert {j.attempt_count for j in jobs} == {1}
    assert len(sf.records("ContentNote")) == 3 and len(sf.records("Event")) == 3


def test_editing_a_logged_call_updates_its_tasks_and_makes_no_new_ones(
    partner: Partner, sf: OrgHandle
) -> None:
    body = logged_call(sf)
    assert partner.client.post("/api/v1/activities/", body, format="json").status_code == 201
    assert len(sf.records("Task")) == 1

    body["participants"][1]["name"] = "Pat Prospect"
    body["notes"] = "Discount agreed."
    assert partner.client.post("/api/v1/activities/", body, format="json").status_code == 200

    [task] = sf.records("Task")
    assert "Discount agreed." in task["Description"]
    assert last_job("activity.sync").state == "succeeded"


def test_a_note_create_that_never_landed_keeps_its_place_for_highlights_added_later(
    partner: Partner, sf: OrgHandle, initech: str
) -> None:
    """Found by the fault campaign: an auto-sync sent the meeting's Note, the answer was
    lost and the Note was not found (so its row went back to planned, with no place
    yet); the highlights were then all deleted and the sync ran again with none. The
    highlights added afterwards must still make the Note, on the meeting's record."""
    from django.contrib.contenttypes.models import ContentType

    from integrations.enums import Purpose
    from meetings.models import Meeting

    meeting_push(partner, "m-1", highlights=[], processed=False)
    meeting = Meeting.objects.get(external_id="m-1")
    SyncMapping.objects.create(
        tenant=partner.tenant,
        content_type=ContentType.objects.get_for_model(Meeting),
        object_id=meeting.pk,
        purpose=Purpose.MEETING_NOTE,
        salesforce_object="ContentNote",
        state=SyncMapping.State.PLANNED,
    )
    answer = partner.client.post("/api/v1/meetings/m-1/processed/")
    assert answer.status_code in (200, 202)
    assert "no highlights" in last_job("meeting.processed").reason

    added = partner.client.post(
        "/api/v1/meetings/m-1/highlights/",
        {"external_id": "h1", "text": "Budget is approved", "offset_seconds": 60},
        format="json",
    )

    assert added.status_code in (200, 201)
    notes = sf.records("ContentNote")
    assert len(notes) == 1
    assert [r["LinkedEntityId"] for r in sf.records("ContentDocumentLink")] == [initech]
