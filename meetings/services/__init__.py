"""Writes to meetings, highlights and activities. Every change that the sync cares
about is announced through `meetings.events` from inside the transaction."""

from meetings.services.activities import (
    activity_delete,
    activity_update,
    activity_upsert,
)
from meetings.services.highlights import (
    HIGHLIGHTS_BULK_MAX,
    HighlightInput,
    highlight_delete,
    highlight_update,
    highlight_upsert,
    highlights_upsert_bulk,
)
from meetings.services.meetings import (
    meeting_delete,
    meeting_mark_processed,
    meeting_transcript_set,
    meeting_update,
    meeting_upsert,
)
from meetings.services.people import (
    PersonInput,
)

__all__ = [
    "HIGHLIGHTS_BULK_MAX",
    "HighlightInput",
    "PersonInput",
    "activity_delete",
    "activity_update",
    "activity_upsert",
    "highlight_delete",
    "highlight_update",
    "highlight_upsert",
    "highlights_upsert_bulk",
    "meeting_delete",
    "meeting_mark_processed",
    "meeting_transcript_set",
    "meeting_update",
    "meeting_upsert",
]
