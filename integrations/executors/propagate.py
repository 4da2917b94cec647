"""highlight.sync and meeting.sync: edits flow into what is already in Salesforce
(SPEC 3.4), one way, the newest version winning."""

from __future__ import annotations

from dataclasses import dataclass

from integrations.enums import Purpose
from integrations.executors.base import Executor, JobContext, Reading, lead_parents, skipped
from integrations.executors.notes import (
    event_plan,
    highlight_note_spec,
    meeting_note_spec,
    note_plan,
)
from integrations.models import SyncMapping
from integrations.salesforce.matching import Directory
from integrations.sync.plan import Finish, Plan
from meetings.models import Highlight, Meeting


@dataclass(kw_only=True)
class HighlightReading(Reading):
    highlight: Highlight
    own: dict[tuple[int, Purpose], SyncMapping]
    shared: dict[tuple[int, Purpose], SyncMapping]


class HighlightPropagate(Executor[HighlightReading]):
    def read(self, ctx: JobContext) -> HighlightReading | Finish:
        highlight = (
            Highlight.objects.select_related("meeting")
            .filter(pk=ctx.job.object_id, tenant=ctx.tenant)
            .first()
        )
        if highlight is None:
            return skipped("The highlight no longer exists.")
        own = ctx.mappings(Highlight, [highlight.pk])
        shared = ctx.mappings(Meeting, [highlight.meeting_id])
        # A Note deleted with its last highlight keeps its row: a new highlight makes it
        # again where it was.
        if (highlight.pk, Purpose.HIGHLIGHT_NOTE) not in own and (
            highlight.meeting_id,
            Purpose.MEETING_NOTE,
        ) not in shared:
            return skipped(
                "This highlight is not in Salesforce yet; its changes flow there once it is "
                "sent or auto-synced."
            )
        return HighlightReading(
            leads=lead_parents(own.values(), shared.values()),
            highlight=highlight,
            own=own,
            shared=shared,
        )

    def plan(
        self, ctx: JobContext, reading: HighlightReading, directory: Directory
    ) -> Plan | Finish:
        highlight = reading.highlight
        meeting = highlight.meeting
        plan = ctx.new_plan()
        if (highlight.pk, Purpose.HIGHLIGHT_NOTE) in reading.own:
            note_plan(ctx, plan, highlight_note_spec(meeting, highlight, reading.own))
        if (meeting.pk, Purpose.MEETING_NOTE) in reading.shared:
            note_plan(ctx, plan, meeting_note_spec(meeting, reading.shared))
        what = "removed from" if highlight.is_deleted else "updated in"
        plan.reason = (
            f"Highlight version {highlight.version} {what} Salesforce."
            if plan.writes
            else f"Salesforce already holds highlight version {highlight.version} or newer."
        )
        return plan


@dataclass(kw_only=True)
class MeetingChangeReading(Reading):
    meeting: Meeting
    mappings: dict[tuple[int, Purpose], SyncMapping]
    own: dict[tuple[int, Purpose], SyncMapping]
    highlights: list[Highlight]


class MeetingPropagate(Executor[MeetingChangeReading]):
    def read(self, ctx: JobContext) -> MeetingChangeReading | Finish:
        meeting = Meeting.objects.filter(pk=ctx.job.object_id, tenant=ctx.tenant).first()
        if meeting is None:
            return skipped("The meeting no longer exists.")
        mappings = ctx.mappings(Meeting, [meeting.pk])
        highlights = list(Highlight.objects.filter(meeting=meeting))
        own = ctx.mappings(Highlight, [h.pk for h in highlights])
        if not any(m.live for m in [*mappings.values(), *own.values()]):
            return skipped("The meeting is not in Salesforce yet; nothing to update.")
        return MeetingChangeReading(
            leads=lead_parents(mappings.values(), own.values()),
            meeting=meeting,
            mappings=mappings,
            own=own,
            highlights=highlights,
        )

    def plan(
        self, ctx: JobContext, reading: MeetingChangeReading, directory: Directory
    ) -> Plan | Finish:
        meeting, mappings = reading.meeting, reading.mappings
        plan = ctx.new_plan()
        event = mappings.get((meeting.pk, Purpose.MEETING_EVENT))
        if event is not None and event.live:
            event_plan(ctx, plan, meeting=meeting, mapping=event, target=None)
        # Notes that exist are re-rendered; one deleted in Salesforce is made again
        # where it was (its row kept the record it was linked to).
        note = meeting_note_spec(meeting, mappings)
        if note.mapping is not None:
            note_plan(ctx, plan, note, force=True)
        for highlight in reading.highlights:
            spec = highlight_note_spec(meeting, highlight, reading.own)
            if spec.mapping is not None:
                note_plan(ctx, plan, spec, force=True)
        # The Event and Notes carry no version of the title and time, so the job cannot
        # tell whether Salesforce had them already: it writes them and says only what
        # is true either way. (A change that a job still to come carries is not queued
        # at all: `meeting_change_enqueue`.)
        plan.reason = (
            "The meeting's Event and Notes in Salesforce show its current title and time."
            if plan.writes
            else "Nothing to change: no record the portal keeps current in Salesforce shows "
            "this meeting's title or time."
        )
        return plan
