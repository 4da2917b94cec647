"""Recovering what a crash or a lost broker message left behind, and lifting waits.

The sweeper runs every couple of seconds inside `manage.py sync_worker` (and once a
minute from a django-q2 schedule, for clusters started with plain `qcluster`)."""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from integrations.models import SalesforceConnection, SweeperRun, SyncAttempt, SyncJob
from integrations.outbox.dispatch import job_dispatch, lowest_due_job
from tenants.models import Tenant

logger = logging.getLogger(__name__)

State = SyncJob.State
Wait = SyncJob.Wait


def sync_jobs_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Steps:
    1. running jobs whose lease passed (their worker died) go back to pending, or fail
       once their worker has died with them SYNC_MAX_ATTEMPTS times;
    2. each tenant that can sync gets one dispatch: its lowest due job that waits for
       one (a worker takes that job's due companions with it), so a backlog costs one
       message per batch, not one per job."""
    now = now or timezone.now()
    recovered = _expired_recover(now)
    dispatched = 0
    connection = "tenant__salesforce_connection"
    can_sync = (
        Q(**{f"{connection}__isnull": False})
        & ~Q(
            **{
                f"{connection}__status__in": [
                    SalesforceConnection.Status.NEEDS_REAUTH,
                    SalesforceConnection.Status.DISCONNECTED,
                ]
            }
        )
        & ~Q(**{f"{connection}__paused_until__gt": now})
    )
    tenants = (
        SyncJob.objects.filter(state=State.PENDING)
        .exclude(next_attempt_at__gt=now)
        # A tenant that cannot sync is passed over, unless a job of it was never told
        # why it waits (one gathered while the tenant was disconnected): its worker
        # then records the reason on every due job, which ends the dispatches.
        .filter(can_sync | Q(waiting_for=Wait.NOTHING))
        .order_by()  # no default ordering, or DISTINCT would count every job
        .values_list("tenant_id", flat=True)
        .distinct()
    )
    for tenant_id in list(tenants):
        job_id = lowest_due_job(tenant_id, now=now)
        if job_id is not None:
            job_dispatch(job_id)
            dispatched += 1
    if recovered or dispatched:
        logger.info("sweeper: %s lost jobs recovered, %s tenants dispatched", recovered, dispatched)
    _finished_record()
    return {"recovered": recovered, "dispatched": dispatched}


def _finished_record() -> None:
    """Rewrites the one SweeperRun row (the real clock, not `now`: /health/ asks whether
    the sweeper is alive)."""
    finished_at = timezone.now()
    if not SweeperRun.objects.filter(pk=1).update(finished_at=finished_at):
        SweeperRun.objects.update_or_create(pk=1, defaults={"finished_at": finished_at})


def _expired_recover(now: datetime) -> int:
    recovered = 0
    for job in SyncJob.objects.filter(state=State.RUNNING, lease_expires_at__lt=now):
        exhausted = job.attempt_count >= settings.SYNC_MAX_ATTEMPTS
        with transaction.atomic():
            moved = SyncJob.objects.filter(
                pk=job.pk,
                state=State.RUNNING,
                claim_token=job.claim_token,
                lease_expires_at__lt=now,
            ).update(
                state=State.FAILED if exhausted else State.PENDING,
                lease_expires_at=None,
                claim_token=None,
                dispatched_at=None,
                waiting_for=Wait.NOTHING if exhausted else Wait.BACKOFF,
                reason=(
                    f"Gave up after {job.attempt_count} attempts: its worker stopped mid-sync "
                    "each time."
                    if exhausted
                    else "Its worker stopped mid-sync; taken up again."
                ),
                finished_at=now if exhausted else None,
                updated_at=now,
            )
            if moved:
                SyncAttempt.objects.create(
                    job=job,
                    started_at=job.updated_at,
                    finished_at=now,
                    outcome=SyncAttempt.Outcome.FAILED if exhausted else SyncAttempt.Outcome.RETRY,
                    message=(
                        "The worker running this job stopped before it finished (lease expired)."
                    ),
                )
                recovered += 1
    return recovered


def tenant_jobs_reconnected(*, tenant: Tenant) -> int:
    """After a reconnect: the jobs that waited for a working connection run now. Jobs
    backing off after errors keep their backoff, and an API-limit pause stays (the org's
    daily limit does not reset with a new session)."""
    waiting = SyncJob.objects.filter(
        tenant=tenant, state=State.PENDING, waiting_for=Wait.CONNECTION
    )
    count = waiting.update(next_attempt_at=None, waiting_for=Wait.NOTHING, dispatched_at=None)
    if count:
        logger.info("tenant %s reconnected: %s jobs stop waiting and run", tenant.slug, count)
    transaction.on_commit(lambda: _tenant_dispatch(tenant.pk))
    return count


def tenant_jobs_capable_again(*, tenant: Tenant) -> int:
    """After a connection check or a change of the settings: the jobs that waited for
    something the org did not allow run now (those still not allowed wait again)."""
    count = SyncJob.objects.filter(
        tenant=tenant, state=State.PENDING, waiting_for=Wait.CAPABILITY
    ).update(next_attempt_at=None, waiting_for=Wait.NOTHING, dispatched_at=None)
    if count:
        logger.info("tenant %s: %s jobs held by the org's settings run again", tenant.slug, count)
        transaction.on_commit(lambda: _tenant_dispatch(tenant.pk))
    return count


def tenant_pause_lift(*, tenant: Tenant) -> int:
    """Lift an API-limit pause: only the jobs that waited for it run now."""
    SalesforceConnection.objects.filter(tenant=tenant).update(paused_until=None)
    count = SyncJob.objects.filter(
        tenant=tenant, state=State.PENDING, waiting_for=Wait.API_LIMIT
    ).update(next_attempt_at=None, waiting_for=Wait.NOTHING, dispatched_at=None)
    logger.info(
        "tenant %s: API-limit pause lifted; %s jobs stop waiting and run", tenant.slug, count
    )
    transaction.on_commit(lambda: _tenant_dispatch(tenant.pk))
    return count


def _tenant_dispatch(tenant_id: int) -> None:
    job_id = lowest_due_job(tenant_id)
    if job_id is not None:
        job_dispatch(job_id)
