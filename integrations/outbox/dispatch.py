"""Handing job ids to django-q2. The outbox row is the truth; a message only says
"look at this job now", so a lost or repeated message costs nothing but a look."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import F, Field, Q
from django.utils import timezone
from django_q.tasks import async_task

from integrations.models import SyncJob

TASK = "integrations.tasks.sync_job_run"


def job_dispatch(job_id: int) -> None:
    """Queue the job now (called after commit, never inside a transaction)."""
    SyncJob.objects.filter(pk=job_id).update(dispatched_at=timezone.now())
    async_task(TASK, job_id, task_name=f"sync-job-{job_id}")


def job_dispatch_missed(job_id: int) -> None:
    """A delivery that could not take its job (not due yet, or its object busy): the job
    counts as not handed over, so the next look dispatches it when it can run.

    Written out as the ORM would write it: in a backlog nearly every delivery finds its
    job taken by a batch already and comes here, so its cost is the queue's per message
    (the ORM's building of the statement costs several times its running)."""
    table = connection.ops.quote_name(SyncJob._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {job_column('dispatched_at')} = NULL "  # noqa: S608
            f"WHERE {job_column('id')} = %s AND {job_column('state')} = %s",
            [job_id, SyncJob.State.PENDING.value],
        )


def due(now: datetime) -> Q:
    return Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)


def due_sql() -> str:
    """`due` in SQL, for statements written out: one parameter, `now` (see
    `due_param`)."""
    column = job_column("next_attempt_at")
    return f"({column} IS NULL OR {column} <= %s)"


def due_param(now: datetime) -> object:
    return SyncJob._meta.get_field("next_attempt_at").get_db_prep_value(now, connection)


def job_column(field_name: str) -> str:
    """A SyncJob field's column, quoted: only names from the model go into SQL text."""
    field = SyncJob._meta.get_field(field_name)
    assert isinstance(field, Field) and field.column
    return str(connection.ops.quote_name(field.column))


def undispatched(now: datetime) -> Q:
    """Not handed over since it became due, or handed over so long ago that the broker
    must have lost the message (django-q2 itself re-delivers after `retry`)."""
    lost = now - timedelta(seconds=int(settings.Q_CLUSTER.get("retry", 180)))
    return (
        Q(dispatched_at__isnull=True)
        | Q(dispatched_at__lt=F("next_attempt_at"))
        | Q(dispatched_at__lt=lost)
    )


def lowest_due_job(tenant_id: int, *, now: datetime | None = None) -> int | None:
    """The tenant's oldest due pending job, when it waits for a dispatch: a worker takes
    it first and its due companions with it. None while it is handed over already (that
    delivery brings the others along), so a backlog costs one message per batch."""
    now = now or timezone.now()
    lowest = (
        SyncJob.objects.filter(tenant_id=tenant_id, state=SyncJob.State.PENDING)
        .filter(due(now))
        # A job whose object another job is syncing starts when that one ends.
        .exclude(
            lock_key__in=SyncJob.objects.filter(state=SyncJob.State.RUNNING).values("lock_key")
        )
        .order_by("id")
        .first()
    )
    if (
        lowest is None
        or not SyncJob.objects.filter(pk=lowest.pk).filter(undispatched(now)).exists()
    ):
        return None
    return lowest.pk
