"""Jobs that need something the org does not allow (as the connection check recorded
it) wait with the reason and what to do, spending no attempt and no API call, instead
of failing one by one; a new check or another choice in the settings lets them run."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings

from integrations.models import SalesforceConnection, SyncJob
from integrations.salesforce.capabilities import PORTAL_WRITES, connection_check_from
from integrations.services.connection import salesforce_connection_check
from integrations.services.settings import integration_settings_update
from salesforce_emulator.testing import EmulatorServer, OrgHandle, trusted_session
from tests.conftest import Partner
from tests.sync.conftest import last_job, logged_call, meeting_push

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def initech(sf: OrgHandle) -> str:
    account = sf.insert("Account", Name="Initech")
    sf.insert("Contact", LastName="Bob", Email="bob@initech.example", AccountId=account)
    return account


def org_checked_without(
    partner: Partner, org: OrgHandle, server: EmulatorServer, *missing: str
) -> None:
    """Record on the tenant's connection what a check of an org where the installing
    user cannot write `missing` finds (Salesforce leaves such objects out of describe)."""
    http = trusted_session(server.ca_file)
    http.headers["Authorization"] = f"Bearer {org.access_token}"
    base = f"{org.instance_url}/services/data/v{settings.SALESFORCE_API_VERSION}/sobjects"
    listed: Any = http.get(base).json()
    describes: dict[str, Any] = {
        name: http.get(f"{base}/{name}/describe").json() for name in PORTAL_WRITES
    }
    listed["sobjects"] = [s for s in listed["sobjects"] if s["name"] not in missing]
    for name in missing:
        describes[name] = None
    check = connection_check_from(
        global_describe=listed,
        describes=describes,
        limits={"DailyApiRequests": {"Max": 15000, "Remaining": 14000}},
    )
    SalesforceConnection.objects.filter(tenant=partner.tenant).update(capabilities=check.to_json())


def test_an_org_without_lightning_notes_holds_the_meetings_sync_with_what_to_do(
    partner: Partner, sf: OrgHandle, salesforce_server: EmulatorServer, initech: str
) -> None:
    org_checked_without(partner, sf, salesforce_server, "ContentNote")
    calls = sf.api_calls

    meeting_push(partner)

    job = last_job("meeting.processed")
    assert job.state == "pending" and job.waiting_for == "capability"
    assert "Lightning notes (ContentNote) cannot be written" in job.reason
    assert "choose Classic Note" in job.reason
    assert job.attempt_count == 0 and not job.attempts.exists()
    assert sf.api_calls == calls
    assert sf.records("ContentNote") == [] and sf.records("Event") == []

    # The admin chooses Classic Notes: the held job runs at once.
    integration_settings_update(tenant=partner.tenant, note_flavour="classic_note")

    job.refresh_from_db()
    assert job.state == "succeeded", job.reason
    assert len(sf.records("Note")) == 1 and len(sf.records("Event")) == 1


def test_a_new_check_of_an_org_that_now_allows_it_lets_the_held_jobs_run(
    partner: Partner, sf: OrgHandle, salesforce_server: EmulatorServer, initech: str
) -> None:
    org_checked_without(partner, sf, salesforce_server, "ContentNote")
    meeting_push(partner)
    assert last_job("meeting.processed").waiting_for == "capability"

    # The Salesforce admin turned Notes on; the tenant admin checks the connection.
    salesforce_connection_check(tenant=partner.tenant)

    job = last_job("meeting.processed")
    assert job.state == "succeeded", job.reason
    assert len(sf.records("ContentNote")) == 1


def test_calls_wait_when_tasks_cannot_be_written_and_meetings_still_sync(
    partner: Partner, sf: OrgHandle, salesforce_server: EmulatorServer, initech: str
) -> None:
    call = logged_call(sf)
    org_checked_without(partner, sf, salesforce_server, "Task")

    partner.client.post("/api/v1/activities/", call, format="json")
    meeting_push(partner)

    held = last_job("activity.sync")
    assert held.state == "pending" and held.waiting_for == "capability"
    assert "Tasks cannot be written" in held.reason
    assert sf.records("Task") == []
    assert last_job("meeting.processed").state == "succeeded"
    assert SyncJob.objects.filter(state="failed").count() == 0


def test_without_a_recorded_check_nothing_is_held(
    partner: Partner, sf: OrgHandle, initech: str
) -> None:
    SalesforceConnection.objects.filter(tenant=partner.tenant).update(capabilities=None)

    meeting_push(partner)

    assert last_job("meeting.processed").state == "succeeded"


def test_a_check_saved_while_a_batch_ran_does_not_leave_its_jobs_held_for_an_hour(
    partner: Partner, sf: OrgHandle, salesforce_server: EmulatorServer, initech: str
) -> None:
    from django.db import connection as database
    from django.utils import timezone

    from integrations.outbox.claim import jobs_claim_batch
    from integrations.sync import runner

    org_checked_without(partner, sf, salesforce_server, "ContentNote")
    SalesforceConnection.objects.update(paused_until=timezone.now() + timedelta(hours=1))
    meeting_push(partner)
    job = last_job("meeting.processed")
    SalesforceConnection.objects.update(paused_until=None)
    SyncJob.objects.filter(pk=job.pk).update(next_attempt_at=None, waiting_for="")
    claim = jobs_claim_batch(job.pk, now=timezone.now())
    assert claim is not None
    # The batch read the connection before the admin's new check was saved ...
    read_before = SalesforceConnection.objects.get(tenant=partner.tenant)
    settings_row = partner.tenant.integration_settings
    # ... which finds ContentNote writable now (and lets go the jobs waiting then).
    salesforce_connection_check(tenant=partner.tenant)
    assert database.in_atomic_block is False

    runner._capable(claim, read_before, settings_row)

    # Held for a moment, then let go at once: it ran (the worker takes it next).
    job.refresh_from_db()
    assert job.state == "succeeded", job.reason
    assert len(sf.records("ContentNote")) == 1
