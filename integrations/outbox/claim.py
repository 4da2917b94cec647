"""Taking jobs to run. A job is claimed with a conditional update (pending -> running)
that gives it a lease and a fresh claim token; a unique index over running jobs'
`lock_key` keeps two jobs of one object from running at once. Every later write of
the job's row names the token, so a worker that outlived its lease changes nothing."""

from __future__ import annotations

import uuid
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from integrations.enums import BATCHABLE
from integrations.models import SyncJob
from integrations.outbox.dispatch import due, due_param, due_sql, job_column

State = SyncJob.State


def lease_seconds() -> int:
    return int(settings.Q_CLUSTER.get("timeout", 120)) + 30


@dataclass(frozen=True)
class Claim:
    """The jobs one worker runs together, and the token that fences them."""

    token: uuid.UUID
    jobs: list[SyncJob]
    started: datetime

    @property
    def budget_ends(self) -> datetime:
        """Past half the lease a batch takes no new step: what is left goes back to
        wait, so the lease never runs out under a live worker."""
        return self.started + timedelta(seconds=lease_seconds() / 2)


def job_claim(job_id: int, *, now: datetime, token: uuid.UUID) -> bool:
    """pending -> running, only if still pending, due, and no job with the same lock key
    is running (the unique index refuses the second one).

    Every delivery of a job's message starts here, and in a backlog nearly every one
    finds its job taken by a batch already: the statement is written out as the ORM
    would write it, whose building costs several times its running."""
    meta = SyncJob._meta
    lease = now + timedelta(seconds=lease_seconds())
    params = [
        State.RUNNING.value,
        meta.get_field("claim_token").get_db_prep_value(token, connection),
        meta.get_field("lease_expires_at").get_db_prep_value(lease, connection),
        job_id,
        State.PENDING.value,
        due_param(now),
    ]
    # Inside a transaction, a refusal must not spoil it: the statement gets a savepoint.
    # Alone (as a worker runs it) it is a transaction by itself.
    alone = not connection.in_atomic_block
    try:
        with nullcontext() if alone else transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(_claim_sql(connection.vendor), params)
            return bool(cursor.rowcount == 1)
    except IntegrityError:
        return False


@lru_cache
def _claim_sql(vendor: str) -> str:
    """`job_claim`'s statement (the same text for every job of a database vendor)."""
    column = job_column
    return (
        f"UPDATE {connection.ops.quote_name(SyncJob._meta.db_table)} SET "  # noqa: S608
        f"{column('state')} = %s, {column('claim_token')} = %s, "
        f"{column('lease_expires_at')} = %s, "
        f"{column('attempt_count')} = ({column('attempt_count')} + 1) "
        f"WHERE {column('id')} = %s AND {column('state')} = %s AND {due_sql()}"
    )


def jobs_claim_batch(first_id: int, *, now: datetime) -> Claim | None:
    """Claim a job and, when it can be batched, up to SYNC_BATCH_SIZE - 1 due jobs of
    the same tenant whose objects no running job holds (one per object)."""
    token = uuid.uuid4()
    if not job_claim(first_id, now=now, token=token):
        return None
    first = SyncJob.objects.select_related("tenant").get(pk=first_id)
    if first.operation not in BATCHABLE:
        return Claim(token, [first], now)
    busy = SyncJob.objects.filter(state=State.RUNNING).values("lock_key")
    candidates = (
        SyncJob.objects.filter(
            tenant_id=first.tenant_id, state=State.PENDING, operation__in=BATCHABLE
        )
        .filter(due(now))
        .exclude(lock_key__in=busy)
        .order_by("id")
        .values_list("pk", "lock_key")[: settings.SYNC_BATCH_SIZE * 3]
    )
    keys = {first.lock_key}
    chosen: list[int] = []
    for job_id, key in list(candidates):
        if len(chosen) + 1 >= settings.SYNC_BATCH_SIZE:
            break
        if key not in keys:
            keys.add(key)
            chosen.append(job_id)
    companions_claim(chosen, now=now, token=token)
    rest = list(SyncJob.objects.filter(pk__in=chosen, claim_token=token).order_by("id"))
    for job in rest:
        # Companions are the first job's tenant's: its row, read once for the batch
        # (its secrets are decrypted as a row is read).
        job.tenant = first.tenant
    return Claim(token, [first, *rest], now)


def companions_claim(job_ids: list[int], *, now: datetime, token: uuid.UUID) -> None:
    """Claim the chosen companions in one statement. When another worker started a job
    of one of their objects meanwhile, the unique index refuses the statement whole;
    then each is claimed on its own, and the busy ones are left."""
    if not job_ids:
        return
    try:
        with transaction.atomic():
            SyncJob.objects.filter(pk__in=job_ids, state=State.PENDING).filter(due(now)).update(
                state=State.RUNNING,
                claim_token=token,
                lease_expires_at=now + timedelta(seconds=lease_seconds()),
                attempt_count=F("attempt_count") + 1,
            )
    except IntegrityError:
        for job_id in job_ids:
            job_claim(job_id, now=now, token=token)


def lease_extend(claim: Claim) -> None:
    """Push the lease of the claim's running jobs forward (after each Salesforce call)."""
    SyncJob.objects.filter(
        pk__in=[j.pk for j in claim.jobs], state=State.RUNNING, claim_token=claim.token
    ).update(lease_expires_at=timezone.now() + timedelta(seconds=lease_seconds()))
