"""Auto-sync gathers: meetings processed within one window are synced together when it
ends, so meetings that trickle in share their lookups and writes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from integrations.models import SyncJob
from integrations.outbox.sweeper import sync_jobs_sweep
from salesforce_emulator.testing import OrgHandle
from tests.conftest import Partner
from tests.sync.conftest import meeting_push

pytestmark = pytest.mark.django_db(transaction=True)


def test_meetings_processed_in_one_window_are_synced_together_when_it_ends(
    partner: Partner, sf: OrgHandle, settings: Any
) -> None:
    # A long window, so that the test never straddles two (production's is 5 s).
    settings.SYNC_GATHER_SECONDS = 86400
    account = sf.insert("Account", Name="Initech")
    sf.insert("Contact", LastName="Bob", Email="bob@initech.example", AccountId=account)
    before = sf.api_calls
    started = timezone.now()

    for index in range(10):
        meeting_push(partner, f"m-{index}")

    jobs = SyncJob.objects.filter(operation="meeting.processed")
    # Nothing went out yet: each job waits for the end of its window, shown on the job.
    assert sf.api_calls == before and not sf.records("ContentNote")
    assert {j.state for j in jobs} == {"pending"} and {j.attempt_count for j in jobs} == {0}
    [ends] = {j.next_attempt_at for j in jobs}  # one moment for the whole window
    assert ends is not None and started < ends <= started + timedelta(days=1)
    assert ends.timestamp() % 86400 == 0
    assert all("sent together with the other meetings" in j.reason for j in jobs)
    # A sweep before the window ends hands nothing over.
    sync_jobs_sweep()
    assert sf.api_calls == before

    # The window ends (its jobs are due; here the clock is moved rather than waited for).
    jobs.update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    sync_jobs_sweep()

    assert {j.state for j in jobs.all()} == {"succeeded"}
    assert len(sf.records("ContentNote")) == 10 and len(sf.records("Event")) == 10
    # One batch: one lookup round and one request per level of records, for all ten.
    assert sf.api_calls - before <= 4


def test_edits_of_a_synced_meeting_never_wait_for_a_window(
    partner: Partner, sf: OrgHandle, settings: Any
) -> None:
    account = sf.insert("Account", Name="Initech")
    sf.insert("Contact", LastName="Bob", Email="bob@initech.example", AccountId=account)
    meeting_push(partner)
    settings.SYNC_GATHER_SECONDS = 5

    partner.client.patch(
        "/api/v1/meetings/m-1/highlights/h1/", {"text": "Budget doubled"}, format="json"
    )

    job = SyncJob.objects.filter(operation="highlight.sync").get()
    assert job.state == "succeeded", job.reason


def test_a_meeting_gathered_while_salesforce_is_disconnected_says_so_once_its_window_ends(
    partner: Partner, settings: Any
) -> None:
    settings.SYNC_GATHER_SECONDS = 86400
    meeting_push(partner)  # the tenant has never connected Salesforce
    job = SyncJob.objects.get(operation="meeting.processed")
    assert job.waiting_for == "" and "sent together" in job.reason

    SyncJob.objects.filter(pk=job.pk).update(next_attempt_at=timezone.now())
    first = sync_jobs_sweep()

    job.refresh_from_db()
    assert (job.state, job.waiting_for) == ("pending", "connection")
    assert job.reason == "Waiting: Salesforce is not connected for this tenant."
    assert first["dispatched"] == 1
    # Told once: later sweeps leave it to wait for the connection.
    assert sync_jobs_sweep()["dispatched"] == 0
