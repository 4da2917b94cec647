"""Which records are in doubt, and when they may be settled.

A write whose answer never came may still be applied by Salesforce for a while: for
SYNC_IN_DOUBT_GRACE_SECONDS after it, the record is neither called lost nor written
over (`rows_landing`, `landing_wait`). After that, a batch settles the rows of its own
objects and any of the tenant's left in doubt by a job that is no longer open
(`rows_in_doubt`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.utils import timezone

from integrations.models import SyncJob, SyncMapping
from integrations.sync.plan import Finish

if TYPE_CHECKING:
    from integrations.sync.pipeline import Run

MState = SyncMapping.State


def grace_start() -> datetime:
    """Writes sent without an answer after this moment may still land."""
    return timezone.now() - timedelta(seconds=settings.SYNC_IN_DOUBT_GRACE_SECONDS)


def rows_landing(jobs: Sequence[SyncJob]) -> list[SyncMapping]:
    """Rows of these jobs' objects with a write whose answer never came, recently
    enough that Salesforce may still apply it: nothing more is written to them, and a
    create is not called lost, until their grace period has passed."""
    if not jobs:
        return []
    keys = {j.lock_key for j in jobs if j.lock_key}
    return list(
        SyncMapping.objects.filter(
            tenant_id=jobs[0].tenant_id, lock_key__in=keys, sent_at__gt=grace_start()
        ).exclude(state=MState.PLANNED)
    )


def rows_in_doubt(jobs: Sequence[SyncJob]) -> list[SyncMapping]:
    """Rows a batch must settle before it decides anything: those sent or being deleted
    by an earlier run of these jobs or by any job of their objects, and any of the
    tenant's left in doubt by a job that is no longer open (it gave up, or was resolved
    by hand), so no record stays unowned until somebody retries that job."""
    if not jobs:
        return []
    keys = {j.lock_key for j in jobs if j.lock_key}
    ours = models.Q(lock_key__in=keys) | models.Q(sent_by_job__in=[j.pk for j in jobs])
    abandoned = models.Q(sent_by_job__isnull=True) | ~models.Q(
        sent_by_job__state__in=SyncJob.OPEN_STATES
    )
    return list(
        SyncMapping.objects.filter(tenant_id=jobs[0].tenant_id, state__in=SyncMapping.IN_DOUBT)
        .filter(ours | abandoned)
        .exclude(sent_at__gt=grace_start())
        .order_by("id")
    )


def landing_wait(runs: Sequence[Run]) -> None:
    """A job whose object had a write go out without an answer, within the grace
    period, waits: Salesforce may still apply it, so the record is neither called lost
    nor written over until then."""
    landing = rows_landing([r.ctx.job for r in runs])
    if not landing:
        return
    now = timezone.now()
    grace = timedelta(seconds=settings.SYNC_IN_DOUBT_GRACE_SECONDS)
    until: dict[str, datetime] = {}
    for row in landing:
        assert row.sent_at is not None
        until[row.lock_key] = max(until.get(row.lock_key, now), row.sent_at + grace)
    for run in runs:
        moment = until.get(run.ctx.job.lock_key)
        if moment is not None:
            run.finish = Finish(
                SyncJob.State.PENDING,
                # The moment is the job's next attempt, which the pages show in the
                # tenant's timezone: the reason carries no clock time of its own.
                "Waiting: a change sent to Salesforce got no answer; it may still land, so "
                "it is looked for at the next attempt.",
                waiting_for=SyncJob.Wait.DOUBT,
                retry_in=(moment - now).total_seconds(),
            )
