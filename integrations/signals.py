"""Receivers of meetings' and scheduler's domain events: each writes one sync job
(the outbox row, inside the sender's transaction) and nothing more."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from integrations.enums import Operation
from integrations.outbox.enqueue import (
    highlight_change_enqueue,
    highlights_change_enqueue,
    meeting_change_enqueue,
    sync_job_enqueue,
)
from meetings import events as meeting_events
from meetings.models import Activity, Highlight, Meeting
from scheduler import events as scheduler_events
from scheduler.models import Booking


@receiver(meeting_events.highlight_changed)
def on_highlight_changed(sender: type, instance: Highlight, **kwargs: Any) -> None:
    highlight_change_enqueue(highlight=instance)


@receiver(meeting_events.highlights_changed)
def on_highlights_changed(
    sender: type, instance: Meeting, highlights: list[Highlight], **kwargs: Any
) -> None:
    highlights_change_enqueue(meeting=instance, highlights=highlights)


@receiver(meeting_events.meeting_processed)
def on_meeting_processed(sender: type, instance: Meeting, **kwargs: Any) -> None:
    sync_job_enqueue(
        tenant=instance.tenant,
        operation=Operation.MEETING_PROCESSED,
        local_object=instance,
        gather=True,
    )


@receiver(meeting_events.meeting_changed)
def on_meeting_changed(sender: type, instance: Meeting, **kwargs: Any) -> None:
    meeting_change_enqueue(meeting=instance)


@receiver(meeting_events.activity_changed)
def on_activity_changed(sender: type, instance: Activity, **kwargs: Any) -> None:
    sync_job_enqueue(
        tenant=instance.tenant, operation=Operation.ACTIVITY_SYNC, local_object=instance
    )


@receiver(scheduler_events.booking_changed)
def on_booking_changed(sender: type, instance: Booking, **kwargs: Any) -> None:
    sync_job_enqueue(
        tenant=instance.tenant, operation=Operation.BOOKING_SYNC, local_object=instance
    )
