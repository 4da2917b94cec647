"""Writing sync jobs: in the caller's transaction, handed to the task queue on commit."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.db.models import Q

from integrations.enums import Operation, Purpose
from integrations.models import SyncJob, SyncMapping
from integrations.outbox.dispatch import job_dispatch
from meetings.models import ActivityParticipant, Highlight
from tenants.models import Tenant

logger = logging.getLogger(__name__)


def lock_key_for(local_object: models.Model) -> str:
    """Jobs that write the same Salesforce records share a key, so they run one at a
    time: everything of a meeting (its Note, Event and highlights' Notes), of an
    activity (its Tasks), of a booking."""
    if isinstance(local_object, Highlight):
        return f"meeting:{local_object.meeting_id}"
    if isinstance(local_object, ActivityParticipant):
        return f"activity:{local_object.activity_id}"
    return f"{type(local_object).__name__.lower()}:{local_object.pk}"


def sync_job_enqueue(
    *,
    tenant: Tenant,
    operation: Operation,
    local_object: models.Model,
    params: dict[str, Any] | None = None,
) -> SyncJob:
    """Write a sync job in the caller's transaction; queue it once that commits.

    A job for the same object and operation that is still pending and not started is
    reused: it will read the object's latest state when it runs, so a burst of edits
    makes one push.
    """
    content_type = ContentType.objects.get_for_model(local_object)
    if not params:
        pending = (
            SyncJob.objects.select_for_update()
            .filter(
                tenant=tenant,
                operation=operation,
                content_type=content_type,
                object_id=local_object.pk,
                state=SyncJob.State.PENDING,
                attempt_count=0,
                params={},
            )
            .first()
        )
        if pending is not None:
            logger.info(
                "sync job %s already pending for %s; not queued twice", pending.pk, operation
            )
            return pending
    job = SyncJob.objects.create(
        tenant=tenant,
        operation=operation,
        content_type=content_type,
        object_id=local_object.pk,
        params=params or {},
        lock_key=lock_key_for(local_object),
    )
    logger.info(
        "sync job %s queued: %s of %s %s", job.pk, operation, content_type.model, local_object.pk
    )
    transaction.on_commit(lambda: job_dispatch(job.pk))
    return job


def highlight_change_enqueue(*, highlight: Highlight) -> SyncJob | None:
    """A highlight changed: queue its propagation only when something in Salesforce can
    change. That is when its Note or its meeting's auto-sync Note has a row in any state
    (a Note deleted with the last highlight is made again for a new one), or when a job
    that will write them is still open (it runs first and the propagation after it, so
    an edit made while it runs is not lost). Otherwise the highlight simply goes out
    with the meeting when that is synced or sent."""
    meeting_type = ContentType.objects.get_for_model(type(highlight.meeting))
    highlight_type = ContentType.objects.get_for_model(Highlight)
    in_salesforce = SyncMapping.objects.filter(
        Q(content_type=highlight_type, object_id=highlight.pk, purpose=Purpose.HIGHLIGHT_NOTE)
        | Q(
            content_type=meeting_type, object_id=highlight.meeting_id, purpose=Purpose.MEETING_NOTE
        ),
        tenant=highlight.tenant,
    ).exists()
    being_written = SyncJob.objects.filter(
        tenant=highlight.tenant,
        lock_key=lock_key_for(highlight),
        state__in=SyncJob.OPEN_STATES,
    ).exists()
    if not (in_salesforce or being_written):
        logger.info(
            "highlight %s changed; nothing of its meeting is in Salesforce yet, no sync queued",
            highlight.pk,
        )
        return None
    return sync_job_enqueue(
        tenant=highlight.tenant, operation=Operation.HIGHLIGHT_SYNC, local_object=highlight
    )
