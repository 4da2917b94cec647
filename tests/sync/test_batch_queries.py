"""The database work of taking a batch of jobs and of recording their outcomes does
not grow with the batch: 200 jobs cost the same statements as 10."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from integrations.models import SyncAttempt, SyncJob
from integrations.outbox.claim import Claim, jobs_claim_batch
from integrations.outbox.outcomes import AttemptFacts, jobs_finish
from integrations.salesforce.errors import SalesforceError
from integrations.sync.plan import Finish
from tenants.models import Tenant
from tests.factories import HighlightFactory, MeetingFactory, SyncJobFactory, TenantFactory

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
