"""Writing sync jobs: in the caller's transaction, handed to the task queue on commit."""

from __future__ import annotations

import logging
import math
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.db.models import Exists, Q
from django.utils import timezone

from integrations.enums import Operation, Purpose
from integrations.models import SyncJob, SyncMapping
from integrations.outbox.dispatch import job_dispatch
from meetings.models import ActivityParticipant, Highlight, Meeting
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


def meeting_changes_lock(lock_key: str) -> None:
    """Take the row lock of the meeting whose records `lock_key` stands for, until the
    caller's transaction ends.

    A change to a meeting queues no job while one of its jobs is still to start (that
    job reads the change when it runs, see `meeting_sync_started`). That holds only if
    no job of the meeting becomes runnable unseen while the change is being made: a new
    one (a manual send) or one run again (a review answered, a retry). Those take this
    lock first, and so do changes: one waits for the other, then sees it."""
    kind, _, meeting_id = lock_key.partition(":")
    if kind == "meeting" and meeting_id.isdigit():
        list(Meeting.objects.select_for_update().filter(pk=int(meeting_id)).values_list("pk"))


def sync_job_enqueue(
    *,
    tenant: Tenant,
    operation: Operation,
    local_object: models.Model,
    params: dict[str, Any] | None = None,
    gather: bool = False,
) -> SyncJob:
    """Write a sync job in the caller's transaction; queue it once that commits.

    A job for the same object and operation that is still pending and not started is
    reused: it will read the object's latest state when it runs, so a burst of edits
    makes one push. With `gather`, the job is due at the end of the current gathering
    window (`gather_until`), with every other job gathered in it, and the sweep hands it
    over then.
    """
    content_type = ContentType.objects.get_for_model(local_object)
    meeting_changes_lock(lock_key_for(local_object))
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
            logger.debug(
                "sync job %s already pending for %s; not queued twice", pending.pk, operation
            )
            return pending
    until = gather_until(timezone.now()) if gather else None
    job = SyncJob.objects.create(
        tenant=tenant,
        operation=operation,
        content_type=content_type,
        object_id=local_object.pk,
        params=params or {},
        lock_key=lock_key_for(local_object),
        next_attempt_at=until,
        reason=(
            "Queued: sent together with the other meetings processed within "
            f"{settings.SYNC_GATHER_SECONDS:g} seconds."
            if until is not None
            else ""
        ),
    )
    logger.info(
        "sync job %s queued: %s of %s %s", job.pk, operation, content_type.model, local_object.pk
    )
    if until is None:
        transaction.on_commit(lambda: job_dispatch(job.pk))
    return job


def gather_until(now: datetime) -> datetime | None:
    """The end of the gathering window `now` falls in: the next multiple of
    SYNC_GATHER_SECONDS since the epoch, so every job gathered in one window is due at
    the same moment and one batch takes them together. None when gathering is off."""
    window = float(settings.SYNC_GATHER_SECONDS)
    if window <= 0:
        return None
    ends = (math.floor(now.timestamp() / window) + 1) * window
    return datetime.fromtimestamp(ends, tz=UTC)


def meeting_sync_started(*, tenant: Tenant, lock_key: str) -> bool:
    """Whether a job of one meeting (any job that may write its records) runs or has run
    an attempt, and so may have read the meeting before a change being made now.

    A job reads the meeting, its title, times and highlights each time it runs, so a
    change committed before it starts goes out with it. The meeting's jobs still to
    start are locked until the caller's transaction commits: a worker claiming one
    meanwhile waits for the lock (its claim is a conditional update of the row), and
    then reads the change. This is the rule `sync_job_enqueue` reuses a pending job by."""
    meeting_changes_lock(lock_key)
    return _open_jobs_started(tenant=tenant, lock_key=lock_key)


def _open_jobs_started(*, tenant: Tenant, lock_key: str) -> bool:
    """`meeting_sync_started` once the meeting's lock is held: the open jobs are read
    (and locked) after the lock was taken, so they include any that became runnable
    while this transaction waited for it."""
    open_jobs = list(
        SyncJob.objects.select_for_update()
        .filter(tenant=tenant, lock_key=lock_key, state__in=SyncJob.OPEN_STATES)
        .order_by()
        .values_list("state", "attempt_count")
    )
    return any(state != SyncJob.State.PENDING or tried > 0 for state, tried in open_jobs)


def highlight_change_enqueue(*, highlight: Highlight) -> SyncJob | None:
    """A highlight changed: queue its propagation only when something in Salesforce can
    change that no job still to come writes from the highlight as it is now:

    1. its Note or its meeting's auto-sync Note has a row in any state (a Note deleted
       with the last highlight is made again for a new one): queue it;
    2. otherwise, when a job of the meeting runs or has started an attempt, it may have
       read the highlight before this change and write the meeting's Note without it:
       queue it (it runs after that job);
    3. otherwise the highlight goes out with the meeting: with the meeting's jobs that
       have yet to start (each reads it when it runs), or later, when the meeting is
       synced or sent. A job of its own would only be skipped ("not in Salesforce yet")
       or find the Note already holding it, once per highlight.
    """
    in_salesforce = SyncMapping.objects.filter(
        Q(
            content_type=ContentType.objects.get_for_model(Highlight),
            object_id=highlight.pk,
            purpose=Purpose.HIGHLIGHT_NOTE,
        )
        | Q(
            content_type=ContentType.objects.get_for_model(Meeting),
            object_id=highlight.meeting_id,
            purpose=Purpose.MEETING_NOTE,
        ),
        tenant_id=highlight.tenant_id,
    )
    # The meeting's lock (see `meeting_changes_lock`) and step 1's question in one
    # statement. Its answer is as of the statement's start, as it was when the question
    # came before the lock.
    locked = (
        Meeting.objects.select_for_update()
        .filter(pk=highlight.meeting_id)
        .order_by()
        .values_list(Exists(in_salesforce), flat=True)
    )
    lock_key = lock_key_for(highlight)
    if not any(locked) and not _open_jobs_started(tenant=highlight.tenant, lock_key=lock_key):
        # Said for every highlight of a meeting not synced yet: only worth reading when
        # debugging.
        logger.debug(
            "highlight %s changed; nothing of its meeting is in Salesforce yet and no sync "
            "of it has started, no sync queued",
            highlight.pk,
        )
        return None
    return sync_job_enqueue(
        tenant=highlight.tenant, operation=Operation.HIGHLIGHT_SYNC, local_object=highlight
    )


def highlights_change_enqueue(*, meeting: Meeting, highlights: list[Highlight]) -> list[SyncJob]:
    """Many highlights of one meeting changed at once: the rule of
    `highlight_change_enqueue`, decided for all of them in two reads, and as few jobs as
    carry every change:
    1. each highlight with a Note of its own (sent by hand) gets its job;
    2. the meeting's auto-sync Note holds all its highlights, and any one highlight's
       job rewrites it whole: one job for it, when it exists or a job of the meeting
       has started (see `highlight_change_enqueue`);
    3. otherwise nothing is queued: the highlights go out with the meeting."""
    if not highlights:
        return []
    highlight_type = ContentType.objects.get_for_model(Highlight)
    rows = SyncMapping.objects.filter(
        Q(
            content_type=highlight_type,
            object_id__in=[h.pk for h in highlights],
            purpose=Purpose.HIGHLIGHT_NOTE,
        )
        | Q(
            content_type=ContentType.objects.get_for_model(Meeting),
            object_id=meeting.pk,
            purpose=Purpose.MEETING_NOTE,
        ),
        tenant=meeting.tenant,
    ).values_list("content_type_id", "object_id")
    with_own_note = {pk for type_id, pk in rows if type_id == highlight_type.pk}
    shared = any(type_id != highlight_type.pk for type_id, _ in rows) or meeting_sync_started(
        tenant=meeting.tenant, lock_key=lock_key_for(meeting)
    )
    chosen = [h for h in highlights if h.pk in with_own_note]
    others = [h for h in highlights if h.pk not in with_own_note]
    if shared and others:
        chosen.append(others[0])
    if not chosen:
        logger.debug(
            "%s highlights of meeting %s changed; nothing of the meeting is in Salesforce "
            "yet and no sync of it has started, no sync queued",
            len(highlights),
            meeting.pk,
        )
    return [
        sync_job_enqueue(
            tenant=meeting.tenant, operation=Operation.HIGHLIGHT_SYNC, local_object=highlight
        )
        for highlight in chosen
    ]


def meeting_change_enqueue(*, meeting: Meeting) -> SyncJob | None:
    """A meeting's title or time changed: queue the update of its records in Salesforce,
    by the rule of `highlight_change_enqueue`. When no record of the meeting or of its
    highlights has a row yet, the update could only be skipped ("not in Salesforce
    yet"), or, after a job still to come wrote the new title and time, repeat them and
    claim a change; so it is queued only when a job that may have read the old ones is
    running or has started."""
    highlights = Highlight.objects.filter(meeting_id=meeting.pk).values("pk")
    in_salesforce = SyncMapping.objects.filter(
        Q(content_type=ContentType.objects.get_for_model(Meeting), object_id=meeting.pk)
        | Q(content_type=ContentType.objects.get_for_model(Highlight), object_id__in=highlights),
        tenant=meeting.tenant,
    ).exists()
    lock_key = lock_key_for(meeting)
    if not in_salesforce and not meeting_sync_started(tenant=meeting.tenant, lock_key=lock_key):
        logger.info(
            "meeting %s changed; nothing of it is in Salesforce yet and no sync of it has "
            "started, no sync queued",
            meeting.pk,
        )
        return None
    return sync_job_enqueue(
        tenant=meeting.tenant, operation=Operation.MEETING_SYNC, local_object=meeting
    )
