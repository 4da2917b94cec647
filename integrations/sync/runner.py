"""The task a worker runs for a job id: claim the job (and due companions of its
tenant), run them as one batch against the tenant's Salesforce, record each outcome,
then hand the tenant's next due job to the queue."""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from integrations.executors.base import JobContext
from integrations.models import IntegrationSettings, SalesforceConnection, SyncJob
from integrations.outbox.claim import Claim, jobs_claim_batch, lease_extend
from integrations.outbox.dispatch import job_dispatch, job_dispatch_missed, lowest_due_job
from integrations.outbox.outcomes import AttemptFacts, job_release, jobs_finish
from integrations.outbox.sweeper import tenant_jobs_capable_again
from integrations.salesforce.errors import SalesforceError
from integrations.sync.capability_gate import HOLD_SECONDS, capability_gap
from integrations.sync.connection import connection_client
from integrations.sync.pipeline import Run, batch_run
from integrations.sync.plan import Finish

logger = logging.getLogger(__name__)

Wait = SyncJob.Wait
# The lease is pushed forward at most this often while Salesforce answers.
LEASE_EXTEND_EVERY_SECONDS = 5.0


def sync_jobs_run(*, job_id: int) -> None:
    claim = jobs_claim_batch(job_id, now=timezone.now())
    if claim is None:
        job_dispatch_missed(job_id)
        # Said at every redelivery of a waiting job: only worth reading when debugging.
        logger.debug("sync job %s not claimed: already taken, not due, or its object busy", job_id)
        return
    tenant_id = claim.jobs[0].tenant_id
    # More of the tenant's jobs may be due than one batch takes: the next batch goes to
    # the queue now, so another worker runs it beside this one (a backlog drains on
    # every worker, not one batch after another); still one message per batch.
    waiting = lowest_due_job(tenant_id)
    if waiting is not None:
        job_dispatch(waiting)
    ran = False
    try:
        with collector_paused():
            ran = _claim_run(claim)
    except Exception as exc:
        # Outside every job's own boundary (the connection, the database): the jobs are
        # recorded as a failed try, retried with backoff, never left running.
        logger.exception("sync jobs %s: unexpected error", [j.pk for j in claim.jobs])
        error = SalesforceError("retry", "INTERNAL_ERROR", f"{type(exc).__name__}: {exc}")
        facts = AttemptFacts(claim.started, 0, 0, len(claim.jobs))
        retry = Finish(SyncJob.State.PENDING, f"Will retry: {error}", error=error)
        jobs_finish(claim.token, [(job, retry, facts) for job in claim.jobs])
    finally:
        # The tenant's next due job goes to the queue, unless this run found the tenant
        # unable to sync (the sweeper and a reconnect take over then).
        next_job = lowest_due_job(tenant_id) if ran else None
        if next_job is not None:
            job_dispatch(next_job)


class _CollectorPause:
    """Python's cycle collector waits while a batch runs, and runs again after it.

    A batch makes and drops a great many short-lived objects (rows, plans, answers):
    while it runs, the collector would walk the whole process (every module, Django
    itself) a few times per batch, for a tenth or more of the batch's time, to find
    almost nothing: what a batch drops is freed as it goes, by reference counting. The
    cycles it leaves are collected once it ends. Batches running side by side in
    threads share one pause, which ends with the last of them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._holders = 0
        self._was_enabled = True

    @contextmanager
    def __call__(self) -> Iterator[None]:
        with self._lock:
            if self._holders == 0:
                self._was_enabled = gc.isenabled()
                gc.disable()
            self._holders += 1
        try:
            yield
        finally:
            with self._lock:
                self._holders -= 1
                if self._holders == 0 and self._was_enabled:
                    gc.enable()


collector_paused = _CollectorPause()


def _claim_run(claim: Claim) -> bool:
    """Run the claim's batch; False when the tenant cannot sync now."""
    tenant = claim.jobs[0].tenant
    connection = SalesforceConnection.objects.filter(tenant=tenant).first()
    settings_row, _ = IntegrationSettings.objects.get_or_create(tenant=tenant)
    if not _can_sync(claim, connection) or connection is None:
        return False
    jobs = _capable(claim, connection, settings_row)
    if not jobs:
        return True
    _waits_end(claim)
    started = time.perf_counter()
    client = connection_client(connection, on_call=_lease_keeper(claim))
    runs = [Run(JobContext(job, tenant, settings_row, connection)) for job in jobs]
    batch_run(client, claim, runs)
    if any(r.finish and r.finish.waiting_for == Wait.API_LIMIT for r in runs):
        pause = timezone.now() + timedelta(seconds=settings.SYNC_LIMIT_PAUSE_SECONDS)
        SalesforceConnection.objects.filter(pk=connection.pk).update(paused_until=pause)
        logger.warning("tenant %s: API limit reached, syncing paused until %s", tenant.slug, pause)
    if client.usage.limit:
        SalesforceConnection.objects.filter(pk=connection.pk).update(
            api_usage_used=client.usage.used,
            api_usage_limit=client.usage.limit,
            api_usage_at=timezone.now(),
        )
        logger.info(
            "tenant %s: %s API calls for %s jobs; the org has used %s of %s today",
            tenant.slug,
            client.api_calls,
            len(runs),
            client.usage.used,
            client.usage.limit,
        )
    duration_ms = int((time.perf_counter() - started) * 1000)
    share, rest = divmod(client.api_calls, len(runs))
    outcomes = []
    for index, run in enumerate(runs):
        facts = AttemptFacts(
            claim.started,
            share + (1 if index < rest else 0),
            duration_ms,
            len(runs),
            connection.installer_salesforce_user_id,
        )
        finish = run.finish or Finish(SyncJob.State.FAILED, "The sync ended without an outcome.")
        outcomes.append((run.ctx.job, finish, facts))
    jobs_finish(claim.token, outcomes)
    # Whether the tenant can go on syncing (the batch may have met a refused session or
    # the API limit): only then is its next job handed over at once.
    connection.refresh_from_db(fields=["status", "paused_until"])
    return connection.status == SalesforceConnection.Status.CONNECTED and not (
        connection.paused_until and connection.paused_until > timezone.now()
    )


def _can_sync(claim: Claim, connection: SalesforceConnection | None) -> bool:
    """A tenant without a working connection, or paused by the API limit, sends
    nothing: its jobs go back to wait for what ends that, spending no attempt."""
    if connection is None or connection.status != SalesforceConnection.Status.CONNECTED:
        reason = (
            "Waiting: Salesforce needs to be connected again (re-authorised) for this tenant."
            if connection is not None
            and connection.status == SalesforceConnection.Status.NEEDS_REAUTH
            else "Waiting: Salesforce is not connected for this tenant."
        )
        for job in claim.jobs:
            job_release(job, claim.token, reason, waiting_for=Wait.CONNECTION, until=None)
        return False
    paused = connection.paused_until
    if paused and paused > timezone.now():
        # When it resumes is the job's next attempt, shown in the tenant's timezone.
        reason = "Waiting: Salesforce's daily API limit was reached; syncing resumes by itself."
        for job in claim.jobs:
            job_release(job, claim.token, reason, waiting_for=Wait.API_LIMIT, until=paused)
        return False
    return True


def _capable(
    claim: Claim, connection: SalesforceConnection, settings_row: IntegrationSettings
) -> list[SyncJob]:
    """The claim's jobs the org allows; the others wait, spending no attempt, until a
    new connection check or a change of the settings (see `capability_gate`).

    A check or a change saved while this batch ran lets go only the jobs that were
    waiting then, not these (they were running): so once these are held, the check and
    the settings are read again, and if they allow the jobs now, they run again at
    once rather than an hour later."""
    jobs, held = [], []
    until = timezone.now() + timedelta(seconds=HOLD_SECONDS)
    for job in claim.jobs:
        gap = capability_gap(job.operation, connection, settings_row)
        if gap:
            job_release(job, claim.token, gap, waiting_for=Wait.CAPABILITY, until=until)
            held.append(job)
        else:
            jobs.append(job)
    if held:
        fresh = SalesforceConnection.objects.filter(pk=connection.pk).first()
        fresh_settings = IntegrationSettings.objects.filter(pk=settings_row.pk).first()
        if (
            fresh is not None
            and fresh_settings is not None
            and any(not capability_gap(j.operation, fresh, fresh_settings) for j in held)
        ):
            tenant_jobs_capable_again(tenant=claim.jobs[0].tenant)
    return jobs


def _waits_end(claim: Claim) -> None:
    """A job that waited for something outside it (the API limit, a connection, another
    sync, its turn, an answer from Salesforce) was logged when it started waiting; it is
    logged once more now that it runs, and not in between."""
    ended: dict[str, list[int]] = {}
    for job in claim.jobs:
        if job.waiting_for not in (Wait.NOTHING, Wait.BACKOFF):
            ended.setdefault(job.get_waiting_for_display(), []).append(job.pk)
    for what, job_ids in ended.items():
        logger.info("sync jobs %s stop waiting for %s and run", job_ids, what.lower())


def _lease_keeper(claim: Claim) -> Callable[[], None]:
    """Pushes the claim's lease forward after Salesforce answers, at most every few
    seconds, so a batch that is making progress never loses its jobs to the sweeper."""
    last = [time.monotonic()]

    def extend() -> None:
        if time.monotonic() - last[0] >= LEASE_EXTEND_EVERY_SECONDS:
            last[0] = time.monotonic()
            lease_extend(claim)

    return extend
