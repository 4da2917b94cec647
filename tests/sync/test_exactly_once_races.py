"""Races between batches: a settle decided on an old reading, a record another
meeting is making, a delete in flight, a session refused after a disconnect."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from integrations.models import SalesforceConnection, SyncJob, SyncMapping
from integrations.outbox.sweeper import sync_jobs_sweep
from integrations.services.jobs import sync_job_retry
from integrations.services.settings import integration_settings_update
from integrations.sync.connection import connection_client
from integrations.sync.doubt import rows_in_doubt
from integrations.sync.recovery import rows_settle
from salesforce_emulator.testing import OrgHandle
from tests.conftest import Partner
from tests.sync.conftest import grace_passes, last_job, meeting_push, records_in_doubt

pytestmark = pytest.mark.django_db(transaction=True)


def send(partner: Partner, meeting: str, body: dict[str, Any]) -> None:
    answer = partner.client.post(
        f"/api/v1/meetings/{meeting}/send-highlights/",
        {"highlights": ["h1"], **body},
        format="json",
    )
    assert answer.status_code == 202, answer.json()


def retry_time_comes() -> None:
    """Only the retry times come (NOT the grace), and the sweeper runs: what a few
    seconds of wall clock do."""
    SyncJob.objects.filter(state="pending").update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )
    sync_jobs_sweep()


def test_another_meeting_needing_a_contact_being_made_waits_without_failing(
    partner: Partner, sf: OrgHandle
) -> None:
    integration_settings_update(tenant=partner.tenant, auto_sync=False)
    for m in ("m-1", "m-2"):
        meeting_push(partner, m, attendees=["ana@acme.test", "new@newco.example"], processed=False)
    # m-1's writes: a gateway 502 (nothing applied, but in doubt)
    sf.faults.fail_next(1, method="POST", path=r"/composite$", error_code="", status=502, after=1)
    send(partner, "m-1", {"create": {"account_name": "NewCo"}})
    first = last_job("highlights.send")
    assert records_in_doubt() > 0
    send(partner, "m-2", {"create": {"account_name": "OtherCo"}})
    second = last_job("highlights.send")
    for _ in range(10):  # ~20-40 s of wall clock: still well inside the 60 s grace
        retry_time_comes()
    second.refresh_from_db()
    first.refresh_from_db()
    assert second.state != "failed", second.reason


def test_a_stale_settle_never_undoes_a_newer_result(
    partner: Partner, sf: OrgHandle, settings: Any
) -> None:
    account = sf.insert("Account", Name="Initech")
    sf.insert("Contact", LastName="Bob", Email="bob@initech.example", AccountId=account)
    settings.SYNC_MAX_ATTEMPTS = 1
    # m-1's writes: a gateway 502 (nothing applied, but in doubt); m-1 gives up.
    sf.faults.fail_next(1, method="POST", path=r"/composite$", error_code="", status=502, after=1)
    meeting_push(partner, "m-1", attendees=["ana@acme.test", "bob@initech.example"])
    job = last_job("meeting.processed")
    assert job.state == "failed", job.reason
    grace_passes()
    # Batch 2 (another meeting of the tenant, another worker) reads the rows it settles:
    # m-1's are abandoned (its job is failed).
    other = SyncJob(tenant=partner.tenant, lock_key="meeting:999999", pk=999999)
    stale = rows_in_doubt([other])
    assert stale, "abandoned rows are settled by any batch"
    # Meanwhile m-1 is retried by hand and runs (settles, makes its records, confirmed).
    settings.SYNC_MAX_ATTEMPTS = 8
    sync_job_retry(job=job)
    job.refresh_from_db()
    assert job.state == "succeeded", job.reason
    assert len(sf.records("ContentNote")) == 1
    note = SyncMapping.objects.get(purpose="meeting_note")
    assert note.state == "confirmed"
    # Batch 2, slower, now applies what it found for its (stale) rows.
    connection = SalesforceConnection.objects.get(tenant=partner.tenant)
    rows_settle(connection_client(connection), stale)
    note.refresh_from_db()
    assert note.state == "confirmed"
    # An edit of a highlight re-renders the one Note.
    answer = partner.client.patch(
        "/api/v1/meetings/m-1/highlights/h1/", {"text": "Budget approved (edited)"}, format="json"
    )
    assert answer.status_code == 200
    assert len(sf.records("ContentNote")) == 1


def test_a_delete_in_flight_belongs_to_its_job_not_to_other_batches(
    partner: Partner, sf: OrgHandle
) -> None:
    from integrations.sync.mappings import mapping_delete_start

    account = sf.insert("Account", Name="Initech")
    sf.insert("Contact", LastName="Bob", Email="bob@initech.example", AccountId=account)
    meeting_push(partner, "m-1", attendees=["ana@acme.test", "bob@initech.example"])
    assert last_job("meeting.processed").state == "succeeded"
    note = SyncMapping.objects.get(purpose="meeting_note")
    # The job deleting the Note (last highlight deleted) is running: the row is deleting.
    deleter = SyncJob.objects.create(
        tenant=partner.tenant,
        operation="highlight.sync",
        content_type=note.content_type,
        object_id=note.object_id,
        lock_key=f"meeting:{note.object_id}",
        state="running",
    )
    assert mapping_delete_start(note, job=deleter, user_id="")
    other = SyncJob(tenant=partner.tenant, lock_key="meeting:999999", pk=999999)
    found = rows_in_doubt([other])
    assert note.pk not in [r.pk for r in found], "another batch settles a delete in flight"


def test_a_refused_session_never_turns_a_disconnect_into_reconnect(
    partner: Partner, sf: OrgHandle
) -> None:
    from integrations.services.connection import salesforce_disconnect
    from integrations.sync.connection import connection_needs_reauth

    stale = SalesforceConnection.objects.get(tenant=partner.tenant)  # a batch's copy
    salesforce_disconnect(tenant=partner.tenant)
    connection_needs_reauth(stale, "refused")  # the batch's refresh is refused
    now = SalesforceConnection.objects.get(tenant=partner.tenant)
    assert now.status == "disconnected"
