"""The database work of a batch does not grow with it: taking the jobs, reading their
meetings, marking and recording their records and their outcomes cost the same
statements for 200 jobs as for 10."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from integrations.models import SalesforceConnection, SyncAttempt, SyncJob, SyncMapping
from integrations.outbox.claim import Claim, jobs_claim_batch
from integrations.outbox.outcomes import AttemptFacts, jobs_finish
from integrations.salesforce.errors import SalesforceError
from integrations.sync import mappings
from integrations.sync.plan import Finish
from integrations.sync.runner import sync_jobs_run
from salesforce_emulator.testing import OrgHandle
from tenants.models import Tenant
from tests.conftest import Partner
from tests.factories import (
    AttendeeFactory,
    HighlightFactory,
    MeetingFactory,
    SyncJobFactory,
    TenantFactory,
)
from tests.sync.conftest import sf as sf  # the emulator-connected tenant fixture

pytestmark = pytest.mark.django_db

State = SyncJob.State


def backlog(tenant: Tenant, size: int) -> list[SyncJob]:
    """`size` due jobs of one tenant, each of another meeting (so all can run together)."""
    return [
        SyncJobFactory(local_object=HighlightFactory(meeting=MeetingFactory(tenant=tenant)))
        for _ in range(size)
    ]


def statements(action: Callable[[], object]) -> int:
    with CaptureQueriesContext(connection) as captured:
        action()
    return len(captured.captured_queries)


def claimed(size: int) -> tuple[Claim, int]:
    jobs = backlog(TenantFactory(), size)
    result: list[Claim | None] = []
    count = statements(lambda: result.append(jobs_claim_batch(jobs[0].pk, now=timezone.now())))
    claim = result[0]
    assert claim is not None and len(claim.jobs) == size
    return claim, count


def test_taking_a_batch_of_200_jobs_costs_what_a_batch_of_10_does(settings) -> None:  # type: ignore[no-untyped-def]
    settings.SYNC_BATCH_SIZE = 200
    _, small = claimed(10)
    claim, large = claimed(200)

    assert large == small
    assert SyncJob.objects.filter(claim_token=claim.token, state=State.RUNNING).count() == 200


def outcomes_of(claim: Claim) -> list[tuple[SyncJob, Finish, AttemptFacts]]:
    """Every other job succeeds; the rest meet a retryable error."""
    facts = AttemptFacts(claim.started, 1, 20, len(claim.jobs))
    error = SalesforceError("retry", "UNABLE_TO_LOCK_ROW", "Row locked")
    return [
        (
            job,
            Finish(State.SUCCEEDED, f"Done {job.pk}.")
            if index % 2 == 0
            else Finish(State.PENDING, "Will retry.", error=error),
            facts,
        )
        for index, job in enumerate(claim.jobs)
    ]


def test_recording_the_outcomes_of_200_jobs_costs_what_10_do(settings) -> None:  # type: ignore[no-untyped-def]
    settings.SYNC_BATCH_SIZE = 200
    small_claim, _ = claimed(10)
    small = statements(lambda: jobs_finish(small_claim.token, outcomes_of(small_claim)))
    claim, _ = claimed(200)
    large = statements(lambda: jobs_finish(claim.token, outcomes_of(claim)))

    if connection.vendor == "sqlite":
        # Django splits a bulk insert to stay under SQLite's 999 variables per
        # statement: the attempts of 200 jobs take two inserts there.
        assert large <= small + 1
    else:
        assert large == small
    jobs = SyncJob.objects.filter(pk__in=[j.pk for j in claim.jobs])
    assert jobs.filter(state=State.SUCCEEDED, reason__startswith="Done").count() == 100
    retrying = jobs.filter(state=State.PENDING, last_error_code="UNABLE_TO_LOCK_ROW")
    assert retrying.count() == 100
    assert all(j.next_attempt_at and j.next_attempt_at > timezone.now() for j in retrying)
    assert SyncAttempt.objects.filter(job__in=jobs).count() == 200
    assert not jobs.filter(claim_token__isnull=False).exists()


def test_outcomes_of_jobs_another_run_took_over_are_dropped_and_the_rest_recorded(
    settings,  # type: ignore[no-untyped-def]
) -> None:
    claim, _ = claimed(10)
    taken = claim.jobs[3]
    # Its lease ran out and another run claimed it.
    SyncJob.objects.filter(pk=taken.pk).update(claim_token=None, state=State.RUNNING)

    recorded = jobs_finish(claim.token, outcomes_of(claim))

    assert taken.pk not in recorded and len(recorded) == 9
    taken.refresh_from_db()
    assert taken.state == State.RUNNING and not taken.attempts.exists()


def backlog_of_meetings(partner: Partner, size: int) -> int:
    """`size` processed meetings of one tenant, each with an attendee who is a Contact of
    Initech and two highlights, their auto-sync jobs due; the first job's id."""
    from integrations.enums import Operation
    from integrations.outbox.enqueue import sync_job_enqueue

    first = None
    for _ in range(size):
        meeting = MeetingFactory(tenant=partner.tenant)
        AttendeeFactory(meeting=meeting, email="bob@initech.example")
        HighlightFactory.create_batch(2, meeting=meeting)
        with transaction.atomic():
            job = sync_job_enqueue(
                tenant=partner.tenant, operation=Operation.MEETING_PROCESSED, local_object=meeting
            )
        first = first or job.pk
    assert first is not None
    return first


def batch_statements(captured: list[dict[str, str]]) -> int:
    """Statements of a batch, an insert that Django split to stay under SQLite's 999
    variables per statement counted once (PostgreSQL never splits them)."""
    count, previous = 0, ""
    for query in captured:
        sql = query["sql"]
        table = sql.split('"')[1] if sql.startswith("INSERT") else ""
        if not (table and table == previous):
            count += 1
        previous = table
    return count


@pytest.mark.django_db(transaction=True)
def test_a_batch_of_200_meetings_costs_the_statements_of_a_batch_of_10(
    sf: OrgHandle,
    partner: Partner,
    settings,  # type: ignore[no-untyped-def]
) -> None:
    settings.SYNC_BATCH_SIZE = 200
    account = sf.insert("Account", Name="Initech")
    sf.insert("Contact", LastName="Bob", Email="bob@initech.example", AccountId=account)
    # The jobs wait (no attempt spent) while the tenant's daily API limit is reached.
    SalesforceConnection.objects.update(paused_until=timezone.now() + timedelta(hours=1))
    counts = []
    for size in (10, 200):
        first = backlog_of_meetings(partner, size)
        SalesforceConnection.objects.update(paused_until=None)
        SyncJob.objects.filter(pk__gte=first).update(next_attempt_at=None, dispatched_at=None)
        calls_before = sf.api_calls

        with CaptureQueriesContext(connection) as captured:
            sync_jobs_run(job_id=first)

        batch = SyncJob.objects.filter(pk__gte=first)
        assert batch.filter(state=State.SUCCEEDED).count() == size
        # One lookup round and one request per kind of record, whatever the size.
        assert sf.api_calls - calls_before <= 6
        counts.append((batch_statements(captured.captured_queries), len(captured)))
        SalesforceConnection.objects.update(paused_until=timezone.now() + timedelta(hours=1))

    (small, small_raw), (large, large_raw) = counts
    assert large == small
    if connection.vendor == "postgresql":
        assert large_raw == small_raw
    assert len(sf.records("ContentNote")) == len(sf.records("Event")) == 210


@pytest.mark.django_db(transaction=True)
def test_one_jobs_odd_plan_fails_that_job_alone_and_the_batch_is_recorded(
    sf: OrgHandle,
    partner: Partner,
    settings,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings.SYNC_BATCH_SIZE = 200
    account = sf.insert("Account", Name="Initech")
    sf.insert("Contact", LastName="Bob", Email="bob@initech.example", AccountId=account)
    SalesforceConnection.objects.update(paused_until=timezone.now() + timedelta(hours=1))
    first = backlog_of_meetings(partner, 12)
    odd = SyncJob.objects.get(pk=first + 5)
    real_identity = mappings.identity_of

    def identity_of(sobject: str, fields: dict[str, object], *args: object, **kw: object) -> object:
        # A bug met by one job's plan only (its meeting's Event).
        if sobject == "Event" and fields.get("Subject") == "The odd one":
            raise TypeError("an input nobody expected")
        return real_identity(sobject, fields, *args, **kw)  # type: ignore[arg-type]

    Meeting = odd.content_type.model_class()
    assert Meeting is not None
    Meeting.objects.filter(pk=odd.object_id).update(title="The odd one")
    monkeypatch.setattr(mappings, "identity_of", identity_of)
    SalesforceConnection.objects.update(paused_until=None)
    SyncJob.objects.filter(pk__gte=first).update(next_attempt_at=None, dispatched_at=None)

    sync_jobs_run(job_id=first)

    batch = SyncJob.objects.filter(pk__gte=first)
    odd.refresh_from_db()
    assert odd.state == State.FAILED and "internal error" in odd.reason
    assert batch.filter(state=State.SUCCEEDED).count() == 11
    assert len(sf.records("ContentNote")) == len(sf.records("Event")) == 11
    assert not SyncMapping.objects.filter(state__in=SyncMapping.IN_DOUBT).exists()
