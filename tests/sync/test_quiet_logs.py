"""A job that waits logs when it starts waiting and when it stops, not at every
delivery of its task or every sweep."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.models import SalesforceConnection, SyncJob
from integrations.outbox.dispatch import job_dispatch
from integrations.outbox.sweeper import sync_jobs_sweep
from integrations.services.jobs import sync_tenant_resume
from salesforce_emulator.testing import OrgHandle
from tests.conftest import Partner
from tests.sync.conftest import connection_of, meeting_push

pytestmark = pytest.mark.django_db(transaction=True)

MEETINGS = 12


def lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [f"{r.name}: {r.getMessage()}" for r in caplog.records]


def test_jobs_waiting_for_the_api_limit_log_when_they_start_and_stop_waiting(
    partner: Partner, sf: OrgHandle, caplog: pytest.LogCaptureFixture
) -> None:
    account = sf.insert("Account", Name="Initech")
    sf.insert("Contact", LastName="Bob", Email="bob@initech.example", AccountId=account)
    connection = connection_of(partner)
    SalesforceConnection.objects.filter(pk=connection.pk).update(
        paused_until=timezone.now() + timedelta(hours=1)
    )
    caplog.set_level(logging.INFO)
    for n in range(MEETINGS):
        meeting_push(partner, f"m-{n}")
    waiting = SyncJob.objects.filter(waiting_for=SyncJob.Wait.API_LIMIT)
    assert waiting.count() == MEETINGS
    started = lines(caplog)
    assert sum("waits:" in line for line in started) == MEETINGS

    # The broker hands every waiting job over again, and the sweeper runs, many times.
    caplog.clear()
    for _ in range(5):
        for job_id in waiting.values_list("pk", flat=True):
            job_dispatch(job_id)
        sync_jobs_sweep()
    assert lines(caplog) == []

    caplog.clear()
    sync_tenant_resume(tenant=partner.tenant)

    assert SyncJob.objects.filter(state=SyncJob.State.SUCCEEDED).count() == MEETINGS
    stopped = [line for line in lines(caplog) if "stop waiting" in line]
    assert stopped == [
        f"integrations.outbox.sweeper: tenant acme: API-limit pause lifted; "
        f"{MEETINGS} jobs stop waiting and run"
    ]


def test_jobs_whose_pause_ran_out_log_that_they_stop_waiting(
    partner: Partner, sf: OrgHandle, caplog: pytest.LogCaptureFixture
) -> None:
    account = sf.insert("Account", Name="Initech")
    sf.insert("Contact", LastName="Bob", Email="bob@initech.example", AccountId=account)
    connection = connection_of(partner)
    SalesforceConnection.objects.filter(pk=connection.pk).update(
        paused_until=timezone.now() + timedelta(hours=1)
    )
    meeting_push(partner, "m-1")
    job = SyncJob.objects.get()
    assert job.waiting_for == SyncJob.Wait.API_LIMIT
    caplog.set_level(logging.INFO)

    # The pause passes: the job's next attempt is due and the sweeper hands it over.
    SalesforceConnection.objects.filter(pk=connection.pk).update(paused_until=None)
    SyncJob.objects.filter(pk=job.pk).update(next_attempt_at=timezone.now())
    sync_jobs_sweep()

    job.refresh_from_db()
    assert job.state == SyncJob.State.SUCCEEDED
    assert any(
        f"sync jobs [{job.pk}] stop waiting for the org's daily api limit" in line
        for line in lines(caplog)
    )


def test_the_task_queue_does_not_log_every_task(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)

    logging.getLogger("django-q").info("Processed 'integrations.tasks.sync_job_run'")

    assert lines(caplog) == []
