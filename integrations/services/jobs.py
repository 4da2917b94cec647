"""Sync jobs: hand them to the workers, run them, and the answers people give them
(resolve a review, retry a failure, lift a pause, skip a backoff)."""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction

from core.errors import Conflict, InvalidInput
from integrations.enums import Operation
from integrations.models import SyncJob
from integrations.outbox.dispatch import job_dispatch
from integrations.outbox.sweeper import tenant_pause_lift
from integrations.services.choices import (
    ANY_RECORD,
    CREATE_LEAD,
    PEOPLE,
    PersonChoice,
    RecordChoice,
    match_choice_remember,
    person_choice,
    record_choice,
)
from integrations.sync.runner import sync_jobs_run
from tenants.models import Tenant

logger = logging.getLogger(__name__)


def sync_job_dispatch(*, job_id: int) -> None:
    """Hand a job id to the task queue (called after commit, never inside a transaction)."""
    job_dispatch(job_id)


def sync_job_run(*, job_id: int) -> None:
    """Run one job (and due companions of its tenant, see `integrations.sync`)."""
    sync_jobs_run(job_id=job_id)


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
        job = _job_under_review(job)
        params = dict(job.params)
        if job.operation == Operation.ACTIVITY_SYNC:
            params["choices"] = {
                **params.get("choices", {}),
                **_people_answer(job, choices, resolved_by),
            }
            params["requested"] = True
        else:
            params["target"] = _record_answer(job, choice)
        _job_answered(job, params)
        logger.info("sync job %s resolved with %s", job.pk, params.get("target") or choices)
        transaction.on_commit(partial(sync_job_dispatch, job_id=job.pk))
    return job


def _job_under_review(job: SyncJob) -> SyncJob:
    """The job, locked for this transaction, if it still waits for a person."""
    job = SyncJob.objects.select_for_update().get(pk=job.pk)
    if job.state != SyncJob.State.NEEDS_REVIEW:
        raise Conflict(f"This job is {job.get_state_display().lower()}, not waiting for a review.")
    return job


def _people_answer(
    job: SyncJob, choices: dict[str, Any] | None, resolved_by: User | None
) -> dict[str, PersonChoice]:
    """An activity's answer: which record each address is (remembered for the address)
    or that a Lead is to be made."""
    if not choices:
        raise InvalidInput("Say which record each address is.", field="choices")
    picked: dict[str, PersonChoice] = {}
    for raw_email, value in choices.items():
        email = raw_email.strip().lower()
        answer = picked[email] = person_choice(value)
        if answer["object"] != CREATE_LEAD:
            match_choice_remember(tenant=job.tenant, email=email, choice=answer, user=resolved_by)
    return picked


def _record_answer(job: SyncJob, choice: dict[str, Any] | None) -> RecordChoice:
    """The one record a meeting (any object) or a booking (a Contact or Lead) links to,
    named as the candidate offered was."""
    if not choice:
        raise InvalidInput("Choose the record to link to.", field="choice")
    allowed = PEOPLE if job.operation == Operation.BOOKING_SYNC else ANY_RECORD
    target = record_choice(choice, allowed=allowed, field="choice")
    known = {c.get("id") for c in job.candidates}
    if target["id"] not in known and not target["name"]:
        # A record found by search rather than offered: keep what the person said so
        # the log shows it.
        target["name"] = target["id"]
    for candidate in job.candidates:
        if candidate.get("id") == target["id"]:
            target["name"] = candidate.get("name", "")
    return target


def _job_answered(job: SyncJob, params: dict[str, Any]) -> None:
    job.params = params
    job.state = SyncJob.State.PENDING
    job.reason = "Resolved by a person; syncing with their choice."
    job.waiting_for = SyncJob.Wait.NOTHING
    job.next_attempt_at = None
    job.attempt_count = 0
    job.save(
        update_fields=[
            "params",
            "state",
            "reason",
            "next_attempt_at",
            "attempt_count",
            "waiting_for",
            "updated_at",
        ]
    )


def sync_job_retry(*, job: SyncJob) -> SyncJob:
    """Run a failed job again (after the cause was fixed in Salesforce)."""
    with transaction.atomic():
        job = SyncJob.objects.select_for_update().get(pk=job.pk)
        if job.state != SyncJob.State.FAILED:
            raise Conflict(
                f"Only failed jobs are retried by hand; this one is "
                f"{job.get_state_display().lower()}."
            )
        job.state = SyncJob.State.PENDING
        job.reason = "Retried by hand."
        job.waiting_for = SyncJob.Wait.NOTHING
        job.attempt_count = 0
        job.next_attempt_at = None
        job.finished_at = None
        job.save(
            update_fields=[
                "state",
                "reason",
                "attempt_count",
                "next_attempt_at",
                "finished_at",
                "waiting_for",
                "updated_at",
            ]
        )
        transaction.on_commit(partial(sync_job_dispatch, job_id=job.pk))
    return job


def sync_tenant_resume(*, tenant: Tenant) -> int:
    """Lift an API-limit pause: the jobs that waited for it run now; jobs backing off
    after errors keep their backoff."""
    with transaction.atomic():
        return tenant_pause_lift(tenant=tenant)


def sync_jobs_run_now(*, jobs: list[SyncJob]) -> int:
    """Pending jobs skip the rest of their backoff and go to the workers."""
    ids = [j.pk for j in jobs if j.state == SyncJob.State.PENDING]
    with transaction.atomic():
        SyncJob.objects.filter(pk__in=ids, state=SyncJob.State.PENDING).update(
            next_attempt_at=None, waiting_for=SyncJob.Wait.NOTHING, dispatched_at=None
        )
        for job_id in ids:
            transaction.on_commit(partial(sync_job_dispatch, job_id=job_id))
    return len(ids)
