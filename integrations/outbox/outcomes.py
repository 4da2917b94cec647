"""How a run ends for each job: an attempt row, and the job's next state. Every write
is conditional on the claim token, so a worker whose lease ran out (and whose job was
taken up again) records nothing over the newer run's result."""

from __future__ import annotations

import logging
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from integrations.models import SyncAttempt, SyncJob
from integrations.sync.plan import Finish

logger = logging.getLogger(__name__)

State = SyncJob.State
Outcome = SyncAttempt.Outcome
Wait = SyncJob.Wait


def backoff_seconds(attempt: int) -> float:
    """Exponential backoff with jitter around the doubling delay."""
    base = settings.SYNC_RETRY_BASE_SECONDS * (2 ** max(attempt - 1, 0))
    return float(min(settings.SYNC_RETRY_MAX_SECONDS, base)) * random.uniform(0.5, 1.5)


@dataclass(frozen=True)
class AttemptFacts:
    started_at: datetime
    api_calls: int
    duration_ms: int
    batch: int
    salesforce_user_id: str = ""


_OUTCOME_OF_STATE = {
    State.SUCCEEDED: Outcome.SUCCEEDED,
    State.SKIPPED: Outcome.SKIPPED,
    State.NEEDS_REVIEW: Outcome.NEEDS_REVIEW,
    State.FAILED: Outcome.FAILED,
}


@dataclass(frozen=True)
class NextStep:
    """Where a finish leaves the job."""

    state: SyncJob.State
    outcome: SyncAttempt.Outcome
    reason: str
    attempts: int
    waiting: SyncJob.Wait
    next_attempt: datetime | None


def next_step(job: SyncJob, finish: Finish) -> NextStep:
    """Steps:
    1. a wait that is no fault of the job's (the API limit, a connection, its turn) goes
       back to pending without spending an attempt; waiting on another sync's record
       spends one, so it cannot hold the job forever;
    2. a retryable error backs off, or fails the job once SYNC_MAX_ATTEMPTS are spent;
    3. anything else is final (succeeded, skipped, needs review, failed)."""
    state, reason, attempts = finish.state, finish.reason, job.attempt_count
    outcome = _OUTCOME_OF_STATE.get(state, Outcome.RETRY)
    waiting = finish.waiting_for
    retry_in = finish.retry_in
    if waiting and not (waiting == Wait.RECORD and attempts >= settings.SYNC_MAX_ATTEMPTS):
        if waiting != Wait.RECORD:
            attempts -= 1
        if waiting == Wait.CONNECTION:
            outcome = Outcome.REAUTH
    elif state == State.PENDING:
        if attempts >= settings.SYNC_MAX_ATTEMPTS:
            last = f"Last error: {finish.error}" if finish.error else reason
            return NextStep(
                State.FAILED,
                Outcome.FAILED,
                f"Gave up after {attempts} attempts. {last}",
                attempts,
                Wait.NOTHING,
                None,
            )
        waiting, retry_in = Wait.BACKOFF, backoff_seconds(attempts)
    next_attempt = None
    if state == State.PENDING and retry_in is not None:
        next_attempt = timezone.now() + timedelta(seconds=retry_in)
        # The pages show the next attempt in the tenant's timezone, from the job's row.
        reason = f"{reason} It is tried again automatically."
    return NextStep(state, outcome, reason, max(attempts, 0), waiting, next_attempt)


def job_finish(job: SyncJob, token: uuid.UUID, finish: Finish, facts: AttemptFacts) -> bool:
    """Record the attempt and move the job on (see `next_step`). False when the claim
    was lost: nothing is recorded then."""
    step = next_step(job, finish)
    error = finish.error
    note = f" (in a batch of {facts.batch} jobs)" if facts.batch > 1 else ""
    now = timezone.now()
    with transaction.atomic():
        moved = SyncJob.objects.filter(pk=job.pk, state=State.RUNNING, claim_token=token).update(
            state=step.state,
            reason=step.reason,
            candidates=finish.candidates,
            last_error_code=error.code if error else "",
            attempt_count=step.attempts,
            next_attempt_at=step.next_attempt,
            waiting_for=step.waiting,
            lease_expires_at=None,
            claim_token=None,
            dispatched_at=None,
            finished_at=now if step.state not in SyncJob.OPEN_STATES else None,
            updated_at=now,
        )
        if not moved:
            logger.warning("sync job %s: its claim was lost; this run's outcome is dropped", job.pk)
            return False
        SyncAttempt.objects.create(
            job=job,
            started_at=facts.started_at,
            finished_at=now,
            outcome=step.outcome,
            salesforce_error_code=error.code if error else "",
            message=(str(error) if error else step.reason) + note,
            api_calls=facts.api_calls,
            duration_ms=facts.duration_ms,
            salesforce_user_id=facts.salesforce_user_id,
        )
    # A job that keeps waiting for the same thing is logged when it starts waiting.
    if step.waiting == job.waiting_for and step.waiting not in (Wait.NOTHING, Wait.BACKOFF):
        return True
    log = logger.warning if step.state == State.FAILED else logger.info
    log("sync job %s (%s) -> %s: %s", job.pk, job.operation, step.state, step.reason)
    return True


def job_release(
    job: SyncJob,
    token: uuid.UUID,
    reason: str,
    *,
    waiting_for: SyncJob.Wait,
    until: datetime | None,
) -> None:
    """Back to pending without counting an attempt or recording one: the job waits for
    a person, the API limit or its turn, not for a fix."""
    moved = SyncJob.objects.filter(pk=job.pk, state=State.RUNNING, claim_token=token).update(
        state=State.PENDING,
        reason=reason,
        lease_expires_at=None,
        claim_token=None,
        attempt_count=max(job.attempt_count - 1, 0),
        next_attempt_at=until,
        waiting_for=waiting_for,
        dispatched_at=None,
        updated_at=timezone.now(),
    )
    if moved and job.waiting_for != waiting_for:
        logger.info("sync job %s waits: %s", job.pk, reason)
