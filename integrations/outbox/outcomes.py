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


def job_finish(job: SyncJob, token: uuid.UUID, finish: Finish, facts: AttemptFacts) -> bool:
    """Record the attempt and move the job on. Steps:
    1. a wait (no fault of the job's) goes back to pending without spending an attempt;
    2. a retryable error backs off, or fails the job once SYNC_MAX_ATTEMPTS are spent;
    3. anything else is final (succeeded, skipped, needs review, failed).
    False when the claim was lost: nothing is recorded then."""
    error = finish.error
    state, reason, attempts = finish.state, finish.reason, job.attempt_count
    outcome = _OUTCOME_OF_STATE.get(state, Outcome.RETRY)
    next_attempt: datetime | None = None
    waiting = finish.waiting_for
    if waiting == SyncJob.Wait.RECORD and attempts >= settings.SYNC_MAX_ATTEMPTS:
        # Waiting on another sync's record is bounded too: it cannot hold this one forever.
        state, waiting, outcome = State.FAILED, SyncJob.Wait.NOTHING, Outcome.FAILED
        reason = f"Gave up after {attempts} attempts: {reason}"
    elif waiting:
        if waiting != SyncJob.Wait.RECORD:
            attempts -= 1
        if waiting == SyncJob.Wait.CONNECTION:
            outcome = Outcome.REAUTH
        if finish.retry_in is not None:
            next_attempt = timezone.now() + timedelta(seconds=finish.retry_in)
            reason = f"{reason} Next attempt at {next_attempt:%H:%M:%S} UTC."
    elif state == State.PENDING:
        waiting = SyncJob.Wait.BACKOFF
        if attempts >= settings.SYNC_MAX_ATTEMPTS:
            state, waiting = State.FAILED, SyncJob.Wait.NOTHING
            reason = f"Gave up after {attempts} attempts. Last error: {error}"
            outcome = Outcome.FAILED
        else:
            next_attempt = timezone.now() + timedelta(seconds=backoff_seconds(attempts))
            reason = f"{reason} Next attempt at {next_attempt:%H:%M:%S} UTC."
    note = f" (in a batch of {facts.batch} jobs)" if facts.batch > 1 else ""
    now = timezone.now()
    with transaction.atomic():
        moved = SyncJob.objects.filter(pk=job.pk, state=State.RUNNING, claim_token=token).update(
            state=state,
            reason=reason,
            candidates=finish.candidates,
            attempt_count=max(attempts, 0),
            next_attempt_at=next_attempt,
            waiting_for=waiting,
            lease_expires_at=None,
            claim_token=None,
            dispatched_at=None,
            finished_at=now if state not in SyncJob.OPEN_STATES else None,
            updated_at=now,
        )
        if not moved:
            logger.warning("sync job %s: its claim was lost; this run's outcome is dropped", job.pk)
            return False
        SyncAttempt.objects.create(
            job=job,
            started_at=facts.started_at,
            finished_at=now,
            outcome=outcome,
            salesforce_error_code=error.code if error else "",
            message=(str(error) if error else reason) + note,
            api_calls=facts.api_calls,
            duration_ms=facts.duration_ms,
            salesforce_user_id=facts.salesforce_user_id,
        )
    log = logger.warning if state == State.FAILED else logger.info
    log("sync job %s (%s) -> %s: %s", job.pk, job.operation, state, reason)
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
