"""The kinds of work the outbox carries, one name each (stored in SyncJob.operation)."""

from __future__ import annotations

OPERATION_HIGHLIGHT_SYNC = "highlight.sync"  # a highlight changed: update its Note(s)
OPERATION_MEETING_PROCESSED = "meeting.processed"  # auto-sync of a processed meeting
OPERATION_MEETING_SYNC = "meeting.sync"  # a meeting's title or time changed
OPERATION_ACTIVITY_SYNC = "activity.sync"  # log (or update) an activity's Tasks
OPERATION_BOOKING_SYNC = "booking.sync"  # a scheduler booking's open Task
OPERATION_HIGHLIGHTS_SEND = "highlights.send"  # highlights sent by hand
OPERATION_LEAD_CREATE = "lead.create"  # a Lead from an activity's participant

# Jobs whose plans never depend on each other's results, so a worker may run them
# together in one batch.
BATCHABLE = frozenset(
    {
        OPERATION_MEETING_PROCESSED,
        OPERATION_BOOKING_SYNC,
        OPERATION_HIGHLIGHT_SYNC,
        OPERATION_MEETING_SYNC,
    }
)
