"""Sync jobs: hand them to the workers, run them, and the answers people give them
(resolve a review, retry a failure, point a job at another record, dismiss it, lift a
pause, skip a backoff).

What a person may do to a job in its state is decided here once (`sync_job_actions`):
the admin offers what it lists and each service refuses what it does not."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from functools import partial
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from core.errors import Conflict, InvalidInput
from integrations.enums import Operation
from integrations.models import SyncJob
from integrations.outbox.dispatch import job_dispatch
from integrations.outbox.enqueue import meeting_changes_lock
from integrations.outbox.sweeper import tenant_pause_lift
from integrations.services.choices import (
    ANY_RECORD,
    CREATE_LEAD,
    PEOPLE,
    PersonChoice,
    RecordChoice,
    RecordObject,
    call_answers_check,
    match_choice_remember,
    record_choice,
)
from integrations.sync.runner import sync_jobs_run
from tenants.models import Tenant

logger = logging.getLogger(__name__)

State = SyncJob.State

# Jobs that link what they write to one Salesforce record a person can choose (`target`
# in their params). An activity answers per address instead; the other operations
# follow records already made.
LINKS_TO_ONE_RECORD = frozenset(
    {Operation.MEETING_PROCESSED, Operation.HIGHLIGHTS_SEND, Operation.BOOKING_SYNC}
)
# Pending and running jobs are still being worked on; ended ones have nothing to stop.
DISMISSABLE = (State.FAILED, State.NEEDS_REVIEW)
DISMISS_REASON_MAX = 500


class JobAction(StrEnum):
    """What a person may do to one job."""

    RESOLVE = "resolve"
    RETARGET = "retarget"
    RETRY = "retry"
    DISMISS = "dismiss"


@dataclass(frozen=True)
class Refusal:
    """Why a job is not open to an action: `short` for a count in a bulk summary
    ("skipped: not failed"), `message` for one job."""

    short: str
    message: str


@dataclass
class BulkResult:
    """What a bulk action did: the jobs done, and the ones skipped by reason."""

    done: list[int] = field(default_factory=list)
    skipped: dict[str, list[int]] = field(default_factory=dict)

    def skip(self, job_id: int, why: str) -> None:
        self.skipped.setdefault(why, []).append(job_id)


def _state_of(job: SyncJob) -> str:
    return str(job.get_state_display()).lower()


def _resolve_refusal(job: SyncJob) -> Refusal | None:
    if job.state == State.NEEDS_REVIEW:
        return None
    return Refusal(
        "not waiting for a review", f"This job is {_state_of(job)}, not waiting for a review."
    )


def _retry_refusal(job: SyncJob) -> Refusal | None:
    if job.state == State.FAILED:
        return None
    return Refusal(
        "not failed", f"Only failed jobs are retried by hand; this one is {_state_of(job)}."
    )


def _retarget_refusal(job: SyncJob) -> Refusal | None:
    if job.operation not in LINKS_TO_ONE_RECORD:
        return Refusal(
            "does not link to one record",
            f"A “{job.get_operation_display()}” job does not link to one record, so it "
            "cannot be pointed at another. Only meeting auto-syncs, highlights sent by hand "
            "and scheduler bookings can.",
        )
    if job.state not in DISMISSABLE:
        return Refusal(
            "not failed",
            f"Only a failed job or one waiting for a review can be pointed at another "
            f"record; this one is {_state_of(job)}.",
        )
    return None


def _dismiss_refusal(job: SyncJob) -> Refusal | None:
    if job.state in DISMISSABLE:
        return None
    if job.state in SyncJob.OPEN_STATES:
        return Refusal(
            "still being worked on",
            f"This job is {_state_of(job)}: it is still being worked on, so it cannot be "
            "dismissed. Only failed jobs and jobs waiting for a review are dismissed.",
        )
    return Refusal(
        "already ended",
        f"This job has already ended ({_state_of(job)}); only failed jobs and jobs "
        "waiting for a review are dismissed.",
    )


_REFUSALS: dict[JobAction, Callable[[SyncJob], Refusal | None]] = {
    JobAction.RESOLVE: _resolve_refusal,
    JobAction.RETARGET: _retarget_refusal,
    JobAction.RETRY: _retry_refusal,
    JobAction.DISMISS: _dismiss_refusal,
}


def sync_job_refusal(job: SyncJob, action: JobAction) -> str | None:
    """Why the job is not open to `action` now, in words; None when it is."""
    refusal = _REFUSALS[action](job)
    return refusal.message if refusal else None


def sync_job_actions(job: SyncJob) -> list[JobAction]:
    """What a person may do to the job now. For a job waiting for a review, choosing the
    record is "resolve" (the same page as "point at another record" for a failed one)."""
    actions = [action for action, refusal in _REFUSALS.items() if refusal(job) is None]
    if JobAction.RESOLVE in actions and JobAction.RETARGET in actions:
        actions.remove(JobAction.RETARGET)
    return actions


def record_objects_for(job: SyncJob) -> tuple[RecordObject, ...]:
    """The Salesforce objects the job's record may be: a booking's Task goes to a
    Contact or Lead; a meeting's Note to any of the four."""
    return PEOPLE if job.operation == Operation.BOOKING_SYNC else ANY_RECORD


# --- running jobs ---------------------------------------------------------------------


def sync_job_dispatch(*, job_id: int) -> None:
    """Hand a job id to the task queue (called after commit, never inside a transaction)."""
    job_dispatch(job_id)


def sync_job_run(*, job_id: int) -> None:
    """Run one job (and due companions of its tenant, see `integrations.sync`)."""
    sync_jobs_run(job_id=job_id)


def sync_tenant_resume(*, tenant: Tenant) -> int:
    """Lift an API-limit pause: the jobs that waited for it run now; jobs backing off
    after errors keep their backoff."""
    with transaction.atomic():
        return tenant_pause_lift(tenant=tenant)


# --- one job: lock it, check the rule, move it with a conditional update ---------------


def _locked(job: SyncJob) -> SyncJob:
    """The job, locked for this transaction, as it is now. Its meeting is locked first:
    a job run again must not start unseen by a change of the meeting being made."""
    meeting_changes_lock(job.lock_key)
    found = SyncJob.objects.select_for_update().filter(pk=job.pk).first()
    if found is None:
        raise Conflict("This job no longer exists.")
    return found


def _refuse(refusal: Refusal | None) -> None:
    if refusal is not None:
        raise Conflict(refusal.message)


def _job_move(job: SyncJob, **changes: Any) -> SyncJob:
    """Write `changes` if the job is still in the state it was read in. The row lock
    makes this certain where the database has row locks; the condition keeps it so
    where it has not (SQLite), so two people never both move one job."""
    now = timezone.now()
    moved = SyncJob.objects.filter(pk=job.pk, state=job.state).update(**changes, updated_at=now)
    if not moved:
        raise Conflict("This job changed meanwhile; reload the page and try again.")
    for name, value in {**changes, "updated_at": now}.items():
        setattr(job, name, value)
    return job


def _rerun(job: SyncJob, *, params: dict[str, Any], reason: str) -> SyncJob:
    """The job runs again from attempt zero (with `params`), once the transaction
    commits."""
    job = _job_move(
        job,
        params=params,
        state=State.PENDING,
        reason=reason,
        waiting_for=SyncJob.Wait.NOTHING,
        # Due now, and counted as due from now: how long it waited before says nothing
        # about how long it waits from here (the ops dashboard's "oldest due job").
        next_attempt_at=timezone.now(),
        last_error_code="",
        attempt_count=0,
        finished_at=None,
        dispatched_at=None,
    )
    transaction.on_commit(partial(sync_job_dispatch, job_id=job.pk))
    return job


def sync_job_resolve(
    *,
    job: SyncJob,
    choice: dict[str, Any] | None = None,
    choices: dict[str, Any] | None = None,
    resolved_by: User | None = None,
) -> SyncJob:
    """A person answers a job waiting for review: the record auto-sync or a booking links
    to (`choice`), or for an activity which record each address is (`choices`). The job
    then runs again with the answer.

    1. Lock the job and check it still waits for a review (two people may answer).
    2. Check the answer against what the job's operation asks for.
    3. Put the answer in the job's params and make it pending again, from attempt zero.
    4. Hand it to the workers once the transaction commits.
    """
    with transaction.atomic():
        job = _locked(job)
        _refuse(_resolve_refusal(job))
        params = dict(job.params)
        if job.operation == Operation.ACTIVITY_SYNC:
            params["choices"] = {
                **params.get("choices", {}),
                **_people_answer(job, choices, resolved_by),
            }
            params["requested"] = True
        else:
            params = _params_with_target(job, choice)
        job = _rerun(job, params=params, reason="Resolved by a person; syncing with their choice.")
        logger.info("sync job %s resolved with %s", job.pk, params.get("target") or choices)
    return job


def sync_job_retarget(*, job: SyncJob, choice: dict[str, Any] | None, by: User) -> SyncJob:
    """Point a failed job (or one waiting for a review) of an operation that links to
    one record at another record, e.g. when Salesforce refused the record it matched.
    For a job waiting for a review this is `sync_job_resolve`."""
    with transaction.atomic():
        job = _locked(job)
        _refuse(_retarget_refusal(job))
        if job.state == State.NEEDS_REVIEW:
            return sync_job_resolve(job=job, choice=choice, resolved_by=by)
        params = _params_with_target(job, choice)
        target = params["target"]
        job = _rerun(
            job,
            params=params,
            reason=f"Pointed at {target['object']} {target['name']} by {_who(by)}; syncing there.",
        )
        logger.info("sync job %s pointed at %s by %s", job.pk, target, by.get_username())
    return job


def _people_answer(
    job: SyncJob, choices: dict[str, Any] | None, resolved_by: User | None
) -> dict[str, PersonChoice]:
    """An activity's answer: which of the records offered each address or number is
    (remembered for it), or that a Lead is to be made; only for those the job asks
    about (see `call_answers_check`)."""
    if not choices:
        raise InvalidInput("Say which record each address is.", field="choices")
    offered: dict[str, list[dict[str, Any]]] = {}
    for candidate in job.candidates:
        offered.setdefault(str(candidate.get("email", "")).lower(), []).append(candidate)
    picked = call_answers_check(
        offered=offered,
        answers={str(key).strip().lower(): value for key, value in choices.items()},
        choosing=False,
    )
    for key, answer in picked.items():
        if answer["object"] != CREATE_LEAD:
            match_choice_remember(tenant=job.tenant, email=key, choice=answer, user=resolved_by)
    return picked


def _params_with_target(job: SyncJob, choice: dict[str, Any] | None) -> dict[str, Any]:
    """The job's params with the chosen record as its target. A create request of
    highlights sent by hand gives way: the person named the record to use instead."""
    params = {k: v for k, v in job.params.items() if k != "create"}
    params["target"] = _record_answer(job, choice)
    return params


def _record_answer(job: SyncJob, choice: dict[str, Any] | None) -> RecordChoice:
    """The one record a meeting (any object) or a booking (a Contact or Lead) links to,
    named as the candidate offered was."""
    if not choice:
        raise InvalidInput("Choose the record to link to.", field="choice")
    target = record_choice(choice, allowed=record_objects_for(job), field="choice")
    known = {c.get("id") for c in job.candidates}
    if target["id"] not in known and not target["name"]:
        # A record found by search rather than offered: keep what the person said so
        # the log shows it.
        target["name"] = target["id"]
    for candidate in job.candidates:
        if candidate.get("id") == target["id"]:
            target["name"] = candidate.get("name", "")
    return target


def sync_job_retry(*, job: SyncJob) -> SyncJob:
    """Run a failed job again (after the cause was fixed in Salesforce)."""
    with transaction.atomic():
        job = _locked(job)
        _refuse(_retry_refusal(job))
        return _retried(job)


def _retried(job: SyncJob) -> SyncJob:
    return _rerun(job, params=dict(job.params), reason="Retried by hand.")


def sync_job_dismiss(*, job: SyncJob, reason: str, dismissed_by: User) -> SyncJob:
    """Stop a failed job, or one waiting for a review, for good: a person decided it is
    not to be synced. Nothing already written to Salesforce or recorded here is undone;
    the job only stops, and is counted apart from failures."""
    text = _dismiss_reason(reason, dismissed_by)
    with transaction.atomic():
        job = _locked(job)
        _refuse(_dismiss_refusal(job))
        return _dismissed(job, text, dismissed_by)


def _dismiss_reason(reason: str, by: User) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("Say why the job is dismissed.", field="reason")
    if len(reason) > DISMISS_REASON_MAX:
        raise InvalidInput(
            f"Keep the reason under {DISMISS_REASON_MAX} characters (it has {len(reason)}).",
            field="reason",
        )
    return f"Dismissed by {_who(by)}: {reason}"


def _dismissed(job: SyncJob, text: str, by: User) -> SyncJob:
    job = _job_move(
        job,
        state=State.DISMISSED,
        reason=text,
        dismissed_by=by,
        finished_at=timezone.now(),
        waiting_for=SyncJob.Wait.NOTHING,
        next_attempt_at=None,
    )
    logger.info("sync job %s dismissed by %s: %s", job.pk, by.get_username(), text)
    return job


def _who(user: User) -> str:
    return user.get_full_name() or user.get_username()


# --- many jobs: each its own transaction, so a race skips one job, never half of it ----


def _jobs_each(
    jobs: Iterable[SyncJob],
    refusal_of: Callable[[SyncJob], Refusal | None],
    act: Callable[[SyncJob], object],
) -> BulkResult:
    result = BulkResult()
    for job in jobs:
        try:
            with transaction.atomic():
                locked = _locked(job)
                refusal = refusal_of(locked)
                if refusal is not None:
                    result.skip(job.pk, refusal.short)
                    continue
                act(locked)
        except Conflict:
            result.skip(job.pk, "changed meanwhile")
            continue
        result.done.append(job.pk)
    return result


def sync_jobs_retry(*, jobs: Iterable[SyncJob]) -> BulkResult:
    """Run the failed ones of `jobs` again; the others are skipped, with why."""
    return _jobs_each(jobs, _retry_refusal, _retried)


def sync_jobs_dismiss(*, jobs: Iterable[SyncJob], reason: str, dismissed_by: User) -> BulkResult:
    """Dismiss the failed and waiting-for-review ones of `jobs` with one reason."""
    text = _dismiss_reason(reason, dismissed_by)
    return _jobs_each(jobs, _dismiss_refusal, lambda job: _dismissed(job, text, dismissed_by))


def _run_now_refusal(job: SyncJob) -> Refusal | None:
    if job.state == State.PENDING:
        return None
    return Refusal("not pending", f"Only pending jobs run now; this one is {_state_of(job)}.")


def _run_now(job: SyncJob) -> SyncJob:
    # The state stays pending: `_job_move` still checks that nobody claimed it meanwhile.
    job = _job_move(
        job, next_attempt_at=timezone.now(), waiting_for=SyncJob.Wait.NOTHING, dispatched_at=None
    )
    transaction.on_commit(partial(sync_job_dispatch, job_id=job.pk))
    return job


def sync_jobs_run_now(*, jobs: Iterable[SyncJob]) -> BulkResult:
    """Pending jobs skip the rest of their backoff and go to the workers."""
    return _jobs_each(jobs, _run_now_refusal, _run_now)
