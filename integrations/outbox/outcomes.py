"""How a run ends for each job: an attempt row, and the job's next state. Every write
is conditional on the claim token, so a worker whose lease ran out (and whose job was
taken up again) records nothing over the newer run's result."""

from __future__ import annotations

import logging
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Field
from django.utils import timezone

from integrations.models import SyncAttempt, SyncJob
from integrations.outbox.dispatch import job_column
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
    return job.pk in jobs_finish(token, [(job, finish, facts)])


def jobs_finish(token: uuid.UUID, outcomes: list[tuple[SyncJob, Finish, AttemptFacts]]) -> set[int]:
    """Record a batch's outcomes: each job moves on (see `next_step`) and gets its
    attempt row, in the same few statements whatever the batch's size. Only jobs still
    held by the claim are recorded; the ids of those are returned.

    Steps, in one transaction:
    1. mark the rows still held (running, with the claim's token) with a fresh token:
       one conditional update that also locks them (PostgreSQL: the rows; SQLite: the
       database), so no other run can take them in between;
    2. read which rows carry the mark;
    3. write each held job's next state (one UPDATE, see `_held_update`);
    4. insert the attempts."""
    if not outcomes:
        return set()
    now = timezone.now()
    mark = uuid.uuid4()
    steps = {
        job.pk: (job, finish, facts, next_step(job, finish)) for job, finish, facts in outcomes
    }
    with transaction.atomic():
        SyncJob.objects.filter(pk__in=steps, state=State.RUNNING, claim_token=token).update(
            claim_token=mark
        )
        held = set(SyncJob.objects.filter(claim_token=mark).values_list("pk", flat=True))
        rows: dict[int, dict[str, Any]] = {}
        attempts: list[SyncAttempt] = []
        for pk in sorted(held):
            job, finish, facts, step = steps[pk]
            error = finish.error
            note = f" (in a batch of {facts.batch} jobs)" if facts.batch > 1 else ""
            rows[pk] = {
                "state": step.state,
                "reason": step.reason,
                "candidates": finish.candidates,
                "last_error_code": error.code if error else "",
                "attempt_count": step.attempts,
                "next_attempt_at": step.next_attempt,
                "waiting_for": step.waiting,
                "finished_at": now if step.state not in SyncJob.OPEN_STATES else None,
            }
            attempts.append(
                SyncAttempt(
                    job_id=pk,
                    started_at=facts.started_at,
                    finished_at=now,
                    outcome=step.outcome,
                    salesforce_error_code=error.code if error else "",
                    message=(str(error) if error else step.reason) + note,
                    api_calls=facts.api_calls,
                    duration_ms=facts.duration_ms,
                    salesforce_user_id=facts.salesforce_user_id,
                )
            )
        if held:
            _held_update(mark, rows, now=now)
        SyncAttempt.objects.bulk_create(attempts)
    for pk, (job, _finish, _facts, step) in steps.items():
        if pk not in held:
            logger.warning("sync job %s: its claim was lost; this run's outcome is dropped", pk)
            continue
        # A job that keeps waiting for the same thing is logged when it starts waiting.
        if step.waiting == job.waiting_for and step.waiting not in (Wait.NOTHING, Wait.BACKOFF):
            continue
        log = logger.warning if step.state == State.FAILED else logger.info
        log("sync job %s (%s) -> %s: %s", pk, job.operation, step.state, step.reason)
    return held


def _field(name: str) -> Field[Any, Any]:
    field = SyncJob._meta.get_field(name)
    assert isinstance(field, Field)
    return field


def _held_update(mark: uuid.UUID, rows: dict[int, dict[str, Any]], *, now: datetime) -> None:
    """Each held job's next state (`rows`: its _VARYING columns by job id), and the
    claim let go, in one UPDATE ... FROM (VALUES ...): each row meets its own values by
    id, so the work grows with the batch, not with its square (as a CASE per column
    and job would, whose expressions cost more to build than the statement to run).
    PostgreSQL and SQLite (3.33 on) both take this form (see `mappings_confirm`).

    Only the table's and columns' names and casts are written into the text; every
    value is a parameter, prepared by its field as the ORM prepares it."""
    table = connection.ops.quote_name(SyncJob._meta.db_table)
    fields = [_field(name) for name in _VARYING]
    postgres = connection.vendor == "postgresql"

    def typed(sql_type: str) -> str:
        # PostgreSQL types a VALUES list by its rows: each value is cast to its column's
        # type (without a length: a value too long is refused by the column, as before).
        return f"CAST(%s AS {sql_type})" if postgres else "%s"

    row_sql = f"({typed('bigint')}, {', '.join(typed(t) for t in _VARYING.values())})"
    assignments = ", ".join(
        f"{job_column(f.name)} = v.column{index}" for index, f in enumerate(fields, start=2)
    )
    fixed = [
        None,  # lease_expires_at
        None,  # claim_token
        None,  # dispatched_at
        _field("updated_at").get_db_prep_save(now, connection),
    ]
    token = _field("claim_token").get_db_prep_save(mark, connection)
    items = list(rows.items())
    for start in range(0, len(items), HELD_CHUNK):
        chunk = items[start : start + HELD_CHUNK]
        params: list[Any] = list(fixed)
        for pk, values in chunk:
            params.append(pk)
            params += [f.get_db_prep_save(values[f.name], connection) for f in fields]
        params.append(token)
        sql = f"""
            UPDATE {table} SET
                {assignments},
                lease_expires_at = %s,
                claim_token = %s,
                dispatched_at = %s,
                updated_at = %s
            FROM (VALUES {", ".join([row_sql] * len(chunk))}) AS v
            WHERE {table}.id = v.column1 AND {table}.claim_token = %s
        """  # noqa: S608
        with connection.cursor() as cursor:
            cursor.execute(sql, params)


# Jobs updated by one statement at most: about ten parameters each, far below the
# limits of SQLite (32,766) and PostgreSQL (65,535); a batch is smaller.
HELD_CHUNK = 1000


# The columns a finish writes that differ from one job to the next, with their types
# in PostgreSQL.
_VARYING = {
    "state": "varchar",
    "reason": "text",
    "candidates": "jsonb",
    "last_error_code": "varchar",
    "attempt_count": "integer",
    "next_attempt_at": "timestamptz",
    "waiting_for": "varchar",
    "finished_at": "timestamptz",
}


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
