"""SPEC 4 under Salesforce's failures, injected in the emulator: every test ends with
exactly the expected records in Salesforce, nothing lost and nothing doubled."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.models import SalesforceConnection, SyncJob
from integrations.outbox.sweeper import sync_jobs_sweep
from integrations.services.connection import salesforce_connection_connect
from integrations.services.jobs import sync_job_retry
from salesforce_emulator.testing import OrgHandle
from tests.conftest import Partner
from tests.sync.conftest import (
    connection_of,
    grace_passes,
    last_job,
    meeting_push,
    records_in_doubt,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def initech(sf: OrgHandle) -> str:
    account = sf.insert("Account", Name="Initech")
    sf.insert("Contact", LastName="Bob", Email="bob@initech.example", AccountId=account)
    sf.insert("Contact", LastName="Peter", Email="peter@initech.example", AccountId=account)
    return account


ATTENDEES = ["ana@acme.test", "bob@initech.example", "peter@initech.example"]


def time_passes() -> None:
    """The retry time of every waiting job comes, the grace period of every write sent
    without an answer passes, and the sweeper runs."""
    grace_passes()
    SyncJob.objects.filter(state="pending").update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )
    sync_jobs_sweep()


def exactly_one_sync_in(sf: OrgHandle, account: str) -> None:
    notes = sf.records("ContentNote")
    assert len(notes) == 1
    assert [l["LinkedEntityId"] for l in sf.records("ContentDocumentLink")] == [account]  # noqa: E741
    events = sf.records("Event")
    assert len(events) == 1 and events[0]["WhatId"] == account
    relations = [r for r in sf.records("EventRelation") if r["EventId"] == events[0]["Id"]]
    assert len({r["RelationId"] for r in relations}) == len(relations)  # none doubled


def test_a_write_committed_then_the_connection_dropped_is_not_made_twice(
    partner: Partner, sf: OrgHandle, initech: str
) -> None:
    # The lookup round goes through; the write commits and the answer is lost.
    sf.faults.drop_after_commit(1, method="POST", path=r"/composite$", after=1)

    meeting_push(partner, attendees=ATTENDEES)

    job = last_job("meeting.processed")
    assert job.state == "pending" and records_in_doubt() > 0
    assert len(sf.records("ContentNote")) == 1  # Salesforce has it; we could not know

    time_passes()

    job.refresh_from_db()
    assert job.state == "succeeded", job.reason
    assert records_in_doubt() == 0
    exactly_one_sync_in(sf, initech)
    outcomes = [a.outcome for a in job.attempts.all()]
    assert outcomes == ["retry", "succeeded"]
    assert job.attempts.first().salesforce_error_code == "CONNECTION_ERROR"


@pytest.mark.parametrize("code", ["SERVER_UNAVAILABLE", "UNABLE_TO_LOCK_ROW"])
def test_a_transient_error_is_retried_with_backoff_then_succeeds(
    partner: Partner, sf: OrgHandle, initech: str, code: str
) -> None:
    sf.faults.fail_next(2, method="POST", path=r"/composite$", error_code=code)

    meeting_push(partner, attendees=ATTENDEES)
    job = last_job("meeting.processed")
    assert job.state == "pending" and job.next_attempt_at > timezone.now()
    assert code in job.reason

    time_passes()
    time_passes()

    job.refresh_from_db()
    assert job.state == "succeeded", job.reason
    assert [a.salesforce_error_code for a in job.attempts.all()] == [code, code, ""]
    exactly_one_sync_in(sf, initech)


def test_retries_are_bounded_and_end_failed_with_the_last_error(
    partner: Partner, sf: OrgHandle, initech: str, settings: pytest.FixtureRequest
) -> None:
    settings.SYNC_MAX_ATTEMPTS = 3
    sf.faults.fail_next(10, method="POST", path=r"/composite$", error_code="SERVER_UNAVAILABLE")

    meeting_push(partner, attendees=ATTENDEES)
    time_passes()
    time_passes()

    job = last_job("meeting.processed")
    assert job.state == "failed"
    assert "Gave up after 3 attempts" in job.reason and "SERVER_UNAVAILABLE" in job.reason
    assert sf.records("ContentNote") == []


def test_the_api_limit_pauses_the_tenant_and_nothing_is_lost(
    partner: Partner, sf: OrgHandle, initech: str
) -> None:
    sf.exhaust_api_limit()

    meeting_push(partner, attendees=ATTENDEES)
    job = last_job("meeting.processed")
    assert job.state == "pending" and "REQUEST_LIMIT_EXCEEDED" in job.reason
    assert job.attempt_count == 0  # waiting for the budget is not a failed try
    paused_until = connection_of(partner).paused_until
    assert paused_until > timezone.now() + timedelta(minutes=10)

    # While paused, another meeting waits without spending a call.
    sf.set_api_limit(1_000_000)
    calls = sf.api_calls
    meeting_push(partner, "m-2", attendees=ATTENDEES)
    assert last_job("meeting.processed").state == "pending"
    assert "daily API limit" in last_job("meeting.processed").reason
    assert sf.api_calls == calls

    SalesforceConnection.objects.filter(tenant=partner.tenant).update(
        paused_until=timezone.now() - timedelta(seconds=1)
    )
    time_passes()

    assert set(
        SyncJob.objects.filter(operation="meeting.processed").values_list("state", flat=True)
    ) == {"succeeded"}
    assert len(sf.records("ContentNote")) == 2 and len(sf.records("Event")) == 2


def test_an_expired_session_is_refreshed_once_and_stored(
    partner: Partner, sf: OrgHandle, initech: str
) -> None:
    old_token = connection_of(partner).access_token
    sf.expire_sessions()

    meeting_push(partner, attendees=ATTENDEES)

    job = last_job("meeting.processed")
    assert job.state == "succeeded", job.reason
    connection = connection_of(partner)
    assert connection.access_token != old_token and connection.status == "connected"
    exactly_one_sync_in(sf, initech)


def test_a_refused_refresh_needs_reauth_jobs_wait_and_reconnecting_drains_them(
    partner: Partner, sf: OrgHandle, initech: str
) -> None:
    sf.expire_sessions()
    sf.revoke_refresh_tokens()

    meeting_push(partner, attendees=ATTENDEES)
    connection = connection_of(partner)
    assert connection.status == "needs_reauth"
    assert "Reconnect Salesforce" in connection.status_reason
    first = last_job("meeting.processed")
    assert first.state == "pending" and "reconnected" in first.reason
    assert first.attempts.get().outcome == "reauth"

    calls = sf.api_calls
    meeting_push(partner, "m-2", attendees=ATTENDEES)
    assert last_job("meeting.processed").state == "pending"
    assert sf.api_calls == calls  # nothing is tried while the connection is broken
    time_passes()
    assert sf.records("ContentNote") == []

    salesforce_connection_connect(
        tenant=partner.tenant, instance_url=sf.instance_url, access_token=sf.new_access_token()
    )

    states = SyncJob.objects.filter(operation="meeting.processed").values_list("state", flat=True)
    assert set(states) == {"succeeded"}
    assert len(sf.records("ContentNote")) == 2


def test_a_validation_rule_fails_the_job_with_salesforces_message(
    partner: Partner, sf: OrgHandle, initech: str
) -> None:
    sf.validation_rule("Event", "Events need a location for compliance", field="Location")

    meeting_push(partner, attendees=ATTENDEES)

    job = last_job("meeting.processed")
    assert job.state == "failed"
    assert "Events need a location for compliance" in job.reason
    attempt = job.attempts.get()
    assert attempt.salesforce_error_code == "FIELD_CUSTOM_VALIDATION_EXCEPTION"
    # allOrNone: the Note did not land without its Event.
    assert sf.records("ContentNote") == [] and sf.records("Event") == []

    sf.org.validation_rules.clear()
    sync_job_retry(job=job)

    job.refresh_from_db()
    assert job.state == "succeeded"
    exactly_one_sync_in(sf, initech)
