"""Where a meeting and each of its highlights stand in Salesforce, in the words a member
reads ("Not sent", "Sending", "Sent", "Needs review", "Failed", "Skipped"). Derived
from the meeting's sync jobs and Salesforce records when read, never stored: the jobs
and records are the truth, this only names it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Case, Exists, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce

from integrations.enums import Operation, Purpose
from integrations.models import SyncJob, SyncMapping
from meetings.models import Highlight, Meeting
from tenants.models import Tenant


class SendState(models.TextChoices):
    """A meeting's or a highlight's state in Salesforce, as the pages say it."""

    NOT_SENT = "not_sent", "Not sent"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    NEEDS_REVIEW = "needs_review", "Needs review"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"

    @property
    def badge(self) -> str:
        """The stylesheet's state class it looks like (`state-<badge>`)."""
        return _BADGES[self]


_BADGES = {
    SendState.NOT_SENT: "not_sent",
    SendState.SENDING: "running",
    SendState.SENT: "succeeded",
    SendState.NEEDS_REVIEW: "needs_review",
    SendState.FAILED: "failed",
    SendState.SKIPPED: "skipped",
}

# A job's state -> the state it gives what it is about, while it is the latest one.
_FROM_JOB = {
    SyncJob.State.PENDING: SendState.SENDING,
    SyncJob.State.RUNNING: SendState.SENDING,
    SyncJob.State.NEEDS_REVIEW: SendState.NEEDS_REVIEW,
    SyncJob.State.FAILED: SendState.FAILED,
}

# The records that say a meeting's content is in Salesforce.
CONTENT_PURPOSES = (Purpose.MEETING_NOTE, Purpose.MEETING_EVENT, Purpose.HIGHLIGHT_NOTE)


def _of_meeting(meeting_ref: OuterRef | int, highlights: QuerySet[Highlight, Any] | list[int]) -> Q:
    """Jobs or records about a meeting itself or about one of its highlights."""
    meeting_type = ContentType.objects.get_for_model(Meeting)
    highlight_type = ContentType.objects.get_for_model(Highlight)
    return Q(content_type=meeting_type, object_id=meeting_ref) | Q(
        content_type=highlight_type, object_id__in=highlights
    )


def meetings_with_send_state(meetings: QuerySet[Meeting]) -> QuerySet[Meeting]:
    """Meetings, each annotated in the same query with `send_state` (a `SendState`
    value, filterable) and `highlight_count` (highlights not deleted).

    The state is, in this order:
    1. the latest job about the meeting or its highlights (dismissed ones aside) while it
       is pending or running ("Sending"), needs review or failed: it needs a look;
    2. "Sent" when a Note or Event of the meeting, or a highlight's Note, is in
       Salesforce;
    3. "Skipped" when the latest job was skipped (auto-sync found nothing to link to);
    4. "Not sent" otherwise.
    """
    highlights = Highlight.objects.filter(meeting=OuterRef(OuterRef("pk"))).values("pk")
    about_it = _of_meeting(OuterRef("pk"), highlights)
    latest_job = (
        SyncJob.objects.filter(about_it, tenant=OuterRef("tenant"))
        .exclude(state=SyncJob.State.DISMISSED)
        .order_by("-created_at", "-id")
        .values("state")[:1]
    )
    in_salesforce = SyncMapping.objects.filter(
        about_it,
        tenant=OuterRef("tenant"),
        purpose__in=CONTENT_PURPOSES,
        state=SyncMapping.State.CONFIRMED,
    )
    highlight_count = (
        Highlight.objects.filter(meeting=OuterRef("pk"), is_deleted=False)
        .order_by()
        .values("meeting")
        .annotate(count=models.Count("pk"))
        .values("count")
    )
    by_job = [
        When(last_job_state=job_state, then=Value(state.value))
        for job_state, state in _FROM_JOB.items()
    ]
    return meetings.annotate(
        last_job_state=Subquery(latest_job),
        in_salesforce=Exists(in_salesforce),
        highlight_count=Coalesce(Subquery(highlight_count), 0),
    ).annotate(
        send_state=Case(
            *by_job,
            When(in_salesforce=True, then=Value(SendState.SENT.value)),
            When(last_job_state=SyncJob.State.SKIPPED, then=Value(SendState.SKIPPED.value)),
            default=Value(SendState.NOT_SENT.value),
            output_field=models.CharField(),
        )
    )


@dataclass(frozen=True)
class HighlightSendState:
    """Where one highlight stands: its state, the latest job about it (its `reason`
    says why it failed, waits or was skipped) and the Note it is in, if any."""

    state: SendState
    job: SyncJob | None
    note: SyncMapping | None
    # The Note is the meeting's (auto-sync writes every highlight into one Note).
    in_meeting_note: bool = False

    @property
    def reason(self) -> str:
        """Why it is not sent, when a job says (it failed, waits for a person, or had
        nothing to link to)."""
        waiting = (SendState.FAILED, SendState.NEEDS_REVIEW, SendState.SKIPPED)
        return self.job.reason if self.job is not None and self.state in waiting else ""


def _job_concerns(job: SyncJob, highlight: Highlight, *, in_meeting_note: bool) -> bool:
    """Whether a job of the meeting writes this highlight: its own propagation, a send
    that names it, or the auto-sync whose one Note carries every highlight. The meeting's
    Note is rewritten whole by any highlight's propagation, so while one is on its way
    it carries this highlight's change too (a bulk edit queues one job for that Note)."""
    if job.operation == Operation.HIGHLIGHT_SYNC:
        if job.object_id == highlight.pk and job.content_type.model == "highlight":
            return True
        return in_meeting_note and job.state in (SyncJob.State.PENDING, SyncJob.State.RUNNING)
    if job.operation == Operation.HIGHLIGHTS_SEND:
        return highlight.external_id in (job.params or {}).get("highlights", [])
    return job.operation == Operation.MEETING_PROCESSED


def highlight_send_states(
    *, tenant: Tenant, meeting: Meeting, highlights: Sequence[Highlight]
) -> dict[int, HighlightSendState]:
    """Each highlight's state by its pk, in two queries whatever their number.

    1. The latest job that writes the highlight (see `_job_concerns`), dismissed ones
       aside: pending or running is "Sending", needs review or failed is so.
    2. Otherwise, "Sent" when its own Note, or the meeting's Note, is in Salesforce.
    3. Otherwise the latest job's outcome: skipped is "Skipped", succeeded is "Sent".
    4. Otherwise "Not sent".
    """
    pks = [h.pk for h in highlights]
    about_it = _of_meeting(meeting.pk, pks)
    jobs = list(
        SyncJob.objects.filter(about_it, tenant=tenant)
        .exclude(state=SyncJob.State.DISMISSED)
        .exclude(operation=Operation.MEETING_SYNC)
        .select_related("content_type")
        .order_by("-created_at", "-id")
    )
    notes = SyncMapping.objects.filter(
        about_it, tenant=tenant, purpose__in=(Purpose.HIGHLIGHT_NOTE, Purpose.MEETING_NOTE)
    ).select_related("content_type")
    own_notes: dict[int, SyncMapping] = {}
    meeting_note: SyncMapping | None = None
    for note in notes:
        if note.purpose == Purpose.MEETING_NOTE:
            meeting_note = note
        else:
            own_notes[note.object_id] = note
    states: dict[int, HighlightSendState] = {}
    for highlight in highlights:
        own = own_notes.get(highlight.pk)
        shared = (own is None or not own.live) and meeting_note is not None and meeting_note.live
        job = next((j for j in jobs if _job_concerns(j, highlight, in_meeting_note=shared)), None)
        states[highlight.pk] = _highlight_state(job, own_notes.get(highlight.pk), meeting_note)
    return states


def _highlight_state(
    job: SyncJob | None, own_note: SyncMapping | None, meeting_note: SyncMapping | None
) -> HighlightSendState:
    live_own = own_note if own_note is not None and own_note.live else None
    live_meeting = meeting_note if meeting_note is not None and meeting_note.live else None
    note = live_own or live_meeting
    in_meeting_note = live_own is None and live_meeting is not None
    if job is not None and job.state in _FROM_JOB:
        return HighlightSendState(_FROM_JOB[SyncJob.State(job.state)], job, note, in_meeting_note)
    if note is not None:
        return HighlightSendState(SendState.SENT, job, note, in_meeting_note)
    if job is not None and job.state == SyncJob.State.SKIPPED:
        return HighlightSendState(SendState.SKIPPED, job, None)
    if job is not None and job.state == SyncJob.State.SUCCEEDED:
        return HighlightSendState(SendState.SENT, job, own_note)
    return HighlightSendState(SendState.NOT_SENT, job, None)


def highlights_sending(states: dict[int, HighlightSendState]) -> bool:
    """Whether a highlight's state will change without anyone doing anything (the page
    keeps looking until none will)."""
    return any(s.state == SendState.SENDING for s in states.values())
