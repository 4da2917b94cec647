"""Running a batch of one tenant's jobs, with one round of lookups and as few writes as
Salesforce allows.

Steps (`batch_run`):
1. Settle: records of these jobs' objects left in doubt by an interrupted run are
   found (or not) and stored, before any job decides anything (`recovery`).
2. Read: each job reads fresh state; it may finish here (skipped, ...).
3. Look up: every address of the batch in one round.
4. Plan: each job turns its reading and the lookups into a Plan, or finishes.
5. Mark: each plan's creates become `sent` and its deletes `deleting`, committed.
6. Send: one job's writes as one Composite request (all or none); a batch's as
   sObject Collections, parents first, so one bad record fails only its own job.
7. Record: each answer moves its record's row; records Salesforce says exist already
   are settled at once; a record deleted in Salesforce, or an org without Shared
   Activities, makes the job plan again, once.
Each job's steps run in their own error boundary: an unexpected exception fails that
job alone. Past half the lease, jobs that have not sent anything go back to wait.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils import timezone

from integrations.enums import Operation, SObject
from integrations.executors import EXECUTORS
from integrations.executors.base import JobContext, Reading
from integrations.models import MatchChoice, SalesforceConnection, SyncJob, SyncMapping
from integrations.outbox.claim import Claim
from integrations.outbox.enqueue import sync_job_enqueue
from integrations.salesforce.client import SalesforceClient
from integrations.salesforce.errors import SalesforceError
from integrations.salesforce.lookups import directory_fetch
from integrations.salesforce.matching import Conversion, Directory
from integrations.salesforce.payloads import cut_sentences
from integrations.salesforce.phones import key_shown
from integrations.salesforce.writer import Result, writes_execute
from integrations.sync.connection import connection_needs_reauth
from integrations.sync.conversions import conversions_follow
from integrations.sync.doubt import grace_start, landing_wait, rows_in_doubt
from integrations.sync.mappings import (
    ClaimLost,
    Recorded,
    SlotBusy,
    gone_already,
    mapping_reserve,
    plan_mark_sent,
    plan_record,
    plans_mark_sent,
    plans_record,
)
from integrations.sync.plan import Finish, Plan
from integrations.sync.recovery import rows_settle

logger = logging.getLogger(__name__)

State = SyncJob.State
Wait = SyncJob.Wait


@dataclass
class Run:
    """One job of the batch as it goes through the steps."""

    ctx: JobContext
    reading: Reading | None = None
    plan: Plan | None = None
    finish: Finish | None = None
    replanned: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def open(self) -> bool:
        return self.finish is None


def batch_run(client: SalesforceClient, claim: Claim, runs: list[Run]) -> None:
    landing_wait(runs)
    runs = [r for r in runs if r.open]
    try:
        rows_settle(client, rows_in_doubt([r.ctx.job for r in runs]))
    except SalesforceError as error:
        _all_fail(runs, error)
        return
    _preload(runs)
    for run in runs:
        _guarded(run, _read)
    _steps(client, claim, [r for r in runs if r.open])


def _preload(runs: list[Run]) -> None:
    """Each kind of job reads what its jobs of the batch need in one go (see
    `Executor.preload`). A failure here costs only the shortcut: each job then reads
    for itself."""
    by_operation: dict[str, list[Run]] = {}
    for run in runs:
        by_operation.setdefault(run.ctx.job.operation, []).append(run)
    for operation, group in by_operation.items():
        executor = EXECUTORS.get(operation)
        if executor is None:
            continue
        try:
            executor.preload([r.ctx for r in group])
        except Exception:
            # Any error (the database's, or one job's odd data): each job reads alone,
            # and an error of its own stays with it.
            logger.exception("preloading %s jobs failed; each reads on its own", operation)
            for run in group:
                run.ctx.preloaded.clear()


def _steps(client: SalesforceClient, claim: Claim, runs: list[Run]) -> None:
    """Look up, plan, mark, send and record for the runs still open."""
    if not runs:
        return
    if _out_of_time(claim, runs):
        return
    runs = [r for r in runs if r.open]
    try:
        directory = _lookups(client, runs)
    except SalesforceError as error:
        _all_fail(runs, error)
        return
    _conversions(runs, directory)
    for run in runs:
        _guarded(run, lambda r: _plan(r, directory))
    _one_lead_each(runs)
    planned = [r for r in runs if r.open and r.plan is not None]
    if _out_of_time(claim, planned):
        return
    again: list[Run] = []
    _marks(client, planned, again)
    sending = [r for r in planned if r.open and r not in again]
    writes = [w.write for r in sending if r.plan is not None for w in r.plan.writes]
    try:
        results = writes_execute(client, writes, together=len(sending) == 1)
    except SalesforceError as error:
        results = {w.key: error for w in writes}
    stored = _answers_store(sending, results)
    for run in sending:
        _guarded(run, lambda r: _record(client, r, results, again, stored.get(id(r))))
    for run in again:
        run.plan, run.replanned = None, True
        run.ctx.preloaded.clear()
        _guarded(run, _read)
    _steps(client, claim, [r for r in again if r.open])


def _guarded(run: Run, step: Callable[[Run], None]) -> None:
    """One job's step in its own error boundary."""
    if not run.open:
        return
    try:
        step(run)
    except SalesforceError as error:
        run.finish = error_finish(run.ctx, error)
    except DatabaseError as exc:
        logger.exception("sync job %s: database error", run.ctx.job.pk)
        run.finish = error_finish(
            run.ctx, SalesforceError("retry", "DATABASE_ERROR", f"{type(exc).__name__}: {exc}")
        )
    except Exception as exc:
        # A bug or an input nobody expected: this job fails alone, retried by hand.
        logger.exception("sync job %s: unexpected error", run.ctx.job.pk)
        run.finish = Finish(
            State.FAILED,
            f"The sync stopped on an internal error ({type(exc).__name__}); ops have the "
            "details. Retry it once the cause is fixed.",
            error=SalesforceError("permanent", "INTERNAL_ERROR", f"{type(exc).__name__}: {exc}"),
        )


def _read(run: Run) -> None:
    executor = EXECUTORS.get(run.ctx.job.operation)
    if executor is None:
        run.finish = Finish(State.FAILED, f"No sync is defined for '{run.ctx.job.operation}'.")
        return
    reading = executor.read(run.ctx)
    if isinstance(reading, Finish):
        run.finish = reading
    else:
        run.reading = reading


def _lookups(client: SalesforceClient, runs: list[Run]) -> Directory:
    readings = [r.reading for r in runs if r.reading is not None]
    people = set().union(*(r.people for r in readings)) if readings else set()
    users = set().union(*(r.users for r in readings)) if readings else set()
    phones = set().union(*(r.phones for r in readings)) if readings else set()
    domains = set().union(*(r.domains for r in readings)) if readings else set()
    leads = set().union(*(r.leads for r in readings)) if readings else set()
    if not people and not users and not phones and not domains and not leads:
        return Directory()
    return directory_fetch(
        client,
        people_emails=people,
        user_emails=users,
        phones=phones,
        domains=domains,
        leads=leads,
    )


def _conversions(runs: list[Run], directory: Directory) -> None:
    """Leads the jobs know that are converted: their rows and choices move to the
    converted records (see `conversions`), and each job concerned reads again, so it
    plans with them; its log says why. Rare, so each job moves its own, in its own
    error boundary."""
    for run in runs:
        if run.reading is None:
            continue
        found = [c for lead in sorted(run.reading.leads) if (c := directory.conversion_of(lead))]
        if found:
            _guarded(run, lambda r, f=found: _follow(r, f))  # type: ignore[misc]


def _follow(run: Run, found: list[Conversion]) -> None:
    conversions_follow(run.ctx.tenant, {c.lead_id[:15]: c for c in found})
    run.ctx.followed.extend(found)
    run.notes.extend(dict.fromkeys(c.describe() for c in found))
    run.ctx.preloaded.clear()
    _read(run)


def _one_lead_each(runs: list[Run]) -> None:
    """Two jobs of a batch that would each create a Lead for the same person (asked for
    twice, on two calls): the first creates it; the others wait a moment and then find
    that Lead (run one after the other, a job finds the Lead the one before made)."""
    making: dict[str, int] = {}
    for run in runs:
        if not run.open or run.plan is None or not run.plan.remember_leads:
            continue
        twice = [key for key in run.plan.remember_leads if key in making]
        if twice:
            run.plan = None
            run.finish = Finish(
                State.PENDING,
                f"Waiting: sync job {making[twice[0]]} is creating the Lead for "
                f"{key_shown(twice[0])}; "
                "this one uses that Lead once it exists.",
                waiting_for=Wait.RECORD,
                retry_in=1,
            )
            continue
        making.update(dict.fromkeys(run.plan.remember_leads, run.ctx.job.pk))


def _plan(run: Run, directory: Directory) -> None:
    assert run.reading is not None
    plan = EXECUTORS[run.ctx.job.operation].plan(run.ctx, run.reading, directory)
    if isinstance(plan, Finish):
        run.finish = plan
    else:
        run.plan = plan


def _marks(client: SalesforceClient, runs: list[Run], again: list[Run]) -> None:
    """Mark every plan's records at once (see `plans_mark_sent`); each refused plan is
    handled in its job's own error boundary (see `_refused`). Should the batch's marking
    itself fail, each plan is marked on its own, so an error stays with its job."""
    runs = [r for r in runs if r.open and r.plan is not None]
    if not runs:
        return
    user_id = runs[0].ctx.connection.installer_salesforce_user_id
    try:
        refused = plans_mark_sent(
            [(r.plan, r.ctx.job) for r in runs if r.plan is not None],
            tenant=runs[0].ctx.tenant,
            user_id=user_id,
        )
    except Exception:
        # Nothing was marked (one transaction). Each plan alone, in its job's boundary,
        # so one job's error (the database's, or its own odd plan) fails only that job.
        logger.exception("marking %s plans together failed; each is marked alone", len(runs))
        for run in runs:
            _guarded(run, lambda r: _mark(client, r, again))
        return
    for run in runs:
        error = refused.get(run.ctx.job.pk)
        if error is not None:
            _guarded(run, lambda r, e=error: _refused(client, r, e, again))  # type: ignore[misc]


def _mark(client: SalesforceClient, run: Run, again: list[Run]) -> None:
    """Mark one plan's records (see `plan_mark_sent`)."""
    assert run.plan is not None
    try:
        plan_mark_sent(
            run.plan,
            tenant=run.ctx.tenant,
            job=run.ctx.job,
            user_id=run.ctx.connection.installer_salesforce_user_id,
        )
    except (ClaimLost, SlotBusy) as error:
        _refused(client, run, error, again)


def _refused(client: SalesforceClient, run: Run, error: Exception, again: list[Run]) -> None:
    """A plan whose records could not be marked. A record another sync holds:
    1. left in doubt by a job that is no longer open (it gave up): settle it now and
       plan again, once, instead of waiting for a job that will never come back;
    2. made meanwhile (the plan was read before it existed): plan again, once;
    3. being sent by a running job: wait a moment for it.
    Anything else (a plan naming one record twice) is the job's own error."""
    job = run.ctx.job
    if isinstance(error, ClaimLost):
        run.finish = Finish(State.PENDING, "Its claim passed to another run.")
        return
    if not isinstance(error, SlotBusy):
        raise error
    busy = error
    abandoned = [
        r
        for r in busy.rows
        if r.state in SyncMapping.IN_DOUBT
        and not _sender_open(r, job)
        and not (r.sent_at and r.sent_at > grace_start())
    ]
    made = [r for r in busy.rows if r.state == SyncMapping.State.CONFIRMED]
    if (abandoned or made) and not run.replanned:
        rows_settle(client, abandoned)
        again.append(run)
        return
    held = [r for r in busy.rows if r.state in SyncMapping.IN_DOUBT]
    if held:
        # Another sync's write of this record is under way or may still land: wait
        # for it (no attempt spent) until its grace period is over at the latest.
        grace = timedelta(seconds=settings.SYNC_IN_DOUBT_GRACE_SECONDS)
        ends = [r.sent_at + grace for r in held if r.sent_at]
        wait = max(2.0, max(((e - timezone.now()).total_seconds() for e in ends), default=0))
        run.finish = Finish(
            State.PENDING,
            f"Waiting: another sync is making the same record ({busy}).",
            waiting_for=Wait.DOUBT,
            retry_in=min(wait, settings.SYNC_IN_DOUBT_GRACE_SECONDS),
        )
        return
    # Made meanwhile once more after planning again: bounded by SYNC_MAX_ATTEMPTS.
    run.finish = Finish(
        State.PENDING,
        f"Waiting: another sync is making the same record ({busy}).",
        waiting_for=Wait.RECORD,
        retry_in=2,
    )


def _sender_open(row: SyncMapping, job: SyncJob) -> bool:
    """Whether the job that sent this row may still settle it itself."""
    sender = row.sent_by_job_id
    if sender is None or sender == job.pk:
        return False
    return SyncJob.objects.filter(pk=sender, state__in=SyncJob.OPEN_STATES).exists()


def _answers_store(runs: list[Run], results: dict[str, Result]) -> dict[int, Recorded]:
    """Every plan's answers stored on its rows at once (see `plans_record`), by run.
    Should that fail, nothing is stored and each run stores its own in `_record`, so
    an error stays with its job."""
    plans = [(r, r.plan) for r in runs if r.open and r.plan is not None]
    if not plans:
        return {}
    try:
        recorded = plans_record([(plan, results) for _, plan in plans])
    except Exception:
        # Nothing was stored (one transaction): each run stores its own answers in its
        # job's boundary, so one job's error never costs the batch its records.
        logger.exception("storing %s plans' answers together failed; each alone", len(plans))
        return {}
    return {id(run): answer for (run, _), answer in zip(plans, recorded, strict=True)}


def _record(
    client: SalesforceClient,
    run: Run,
    results: dict[str, Result],
    again: list[Run],
    recorded: Recorded | None = None,
) -> None:
    """Steps: 1. store every answer (unless the batch stored them); 2. settle "already
    exists" answers; 3. decide the job: success; plan again once (a record deleted in
    Salesforce, an org without Shared Activities, writes rolled back beside an answer
    that was no failure); or the error's outcome. No failure: a record that existed
    already and is ours, a delete of a record that was gone already."""
    assert run.plan is not None
    if recorded is None:
        recorded = plan_record(run.plan, results)
    settled = _already_exists_settle(client, recorded)
    causes = [
        (w, e)
        for w, e in recorded.errors
        if not e.halted and w.mapping not in settled and not gone_already(w, e)
    ]
    rolled_back = [(w, e) for w, e in recorded.errors if e.halted]
    if not causes and not rolled_back:
        _success(run, recorded)
        return
    unknown = any(e.outcome_unknown for _, e in causes)
    # A Lead converted after the lookups: planning again finds where it went.
    converted = any(e.code == "CANNOT_UPDATE_CONVERTED_LEAD" for _, e in causes)
    if not run.replanned and not unknown and (recorded.gone or converted or not causes):
        if recorded.gone:
            run.notes.append("A record deleted in Salesforce was re-created.")
        again.append(run)
        return
    relation_refused = any(
        w.write.sobject == SObject.EVENT_RELATION and e.code == "FIELD_INTEGRITY_EXCEPTION"
        for w, e in causes
    )
    if relation_refused and not run.replanned:
        _shared_activities_off(run)
        again.append(run)
        return
    pool = causes or rolled_back
    error = next((e for _, e in pool if e.kind != "deleted"), pool[0][1])
    if not causes:  # still rolled back after planning again: try later
        error = SalesforceError("retry", error.code, error.message, error.status)
    run.finish = error_finish(run.ctx, error)


def _already_exists_settle(client: SalesforceClient, recorded: Recorded) -> set[Any]:
    """Salesforce says a link (or a Contact, by a duplicate rule) exists already: it is
    ours once recovery finds it with this job's identity; then it counts as made."""
    if not recorded.to_settle:
        return set()
    rows_settle(client, recorded.to_settle)
    settled = set()
    for row in recorded.to_settle:
        row.refresh_from_db()
        if row.live:
            settled.add(row)
    return settled


def _success(run: Run, recorded: Recorded) -> None:
    assert run.plan is not None
    plan = run.plan
    for slot, sobject, parent in plan.reserved:
        mapping_reserve(tenant=run.ctx.tenant, slot=slot, sobject=sobject, parent=parent)
    for email, lead in plan.remember_leads.items():
        if lead.key in recorded.ids:
            MatchChoice.objects.update_or_create(
                tenant=run.ctx.tenant,
                **MatchChoice.key_of(email),
                defaults={
                    "salesforce_object": SObject.LEAD,
                    "salesforce_id": recorded.ids[lead.key],
                },
            )
    # None only if the object is gone since the run read it: nothing is left to link.
    local = run.ctx.job.local_object if plan.follow_ups else None
    if local is not None:
        for operation in plan.follow_ups:
            with transaction.atomic():
                sync_job_enqueue(
                    tenant=run.ctx.tenant,
                    operation=Operation(operation),
                    local_object=local,
                    params={"reason": "link the Notes to the record just created"},
                )
    reason = " ".join([plan.reason, *cut_sentences(plan.cuts), *run.notes])
    run.finish = Finish(State.SUCCEEDED, reason)


def _shared_activities_off(run: Run) -> None:
    """The org refused an Event's further people: it does not have Shared Activities.
    Remember it and write the Event with its one person."""
    connection = run.ctx.connection
    SalesforceConnection.objects.filter(pk=connection.pk).update(shared_activities=False)
    connection.shared_activities = False
    logger.info("tenant %s: Shared Activities is off in the org", run.ctx.tenant.slug)
    run.notes.append(
        "The org does not relate several people to one Event (Shared Activities is off), "
        "so the Event names one of them."
    )


def _out_of_time(claim: Claim, runs: list[Run]) -> bool:
    """Past the batch's budget, companions that have sent nothing go back to wait (they
    run next, spending no attempt); the job the worker was handed always goes on, so
    every batch makes progress however slow Salesforce is."""
    if timezone.now() < claim.budget_ends:
        return False
    first = claim.jobs[0].pk
    for run in runs:
        if run.open and run.ctx.job.pk != first:
            run.finish = Finish(
                State.PENDING,
                "Waiting: the batch it was in ran out of time; it runs next.",
                waiting_for=Wait.TIME,
                retry_in=0,
            )
    return not any(r.open for r in runs)


def _all_fail(runs: list[Run], error: SalesforceError) -> None:
    """A read every job needed (settling, lookups) failed: a record gone meanwhile
    says nothing about the jobs, so they try again later."""
    if error.kind == "deleted":
        error = SalesforceError("retry", error.code, error.message, error.status)
    for run in runs:
        if run.open:
            run.finish = error_finish(run.ctx, error)


def error_finish(ctx: JobContext, error: SalesforceError) -> Finish:
    """One reading of a Salesforce error for a job: wait for a person, wait for the
    org's limit, back off and retry, or fail with Salesforce's message."""
    if error.kind == "reauth":
        connection_needs_reauth(ctx.connection, error.message)
        return Finish(
            State.PENDING,
            f"Waiting: Salesforce needs to be reconnected ({error.code}).",
            error=error,
            waiting_for=Wait.CONNECTION,
        )
    if error.code == "REQUEST_LIMIT_EXCEEDED":
        return Finish(
            State.PENDING,
            f"Waiting: Salesforce's daily API limit was reached ({error.code}).",
            error=error,
            waiting_for=Wait.API_LIMIT,
            retry_in=settings.SYNC_LIMIT_PAUSE_SECONDS,
        )
    if error.kind == "retry" or error.outcome_unknown:
        return Finish(State.PENDING, f"Will retry: {error}", error=error)
    return Finish(State.FAILED, f"Salesforce refused the change: {error}", error=error)
