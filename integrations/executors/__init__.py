"""What each kind of sync job writes, one module per kind, in one explicit registry."""

from __future__ import annotations

from typing import Any

from integrations.enums import Operation
from integrations.executors.activities import ActivityLog, LeadCreate
from integrations.executors.auto_sync import MeetingAutoSync
from integrations.executors.base import Executor
from integrations.executors.bookings import BookingLog
from integrations.executors.manual_send import HighlightsSend
from integrations.executors.propagate import HighlightPropagate, MeetingPropagate

EXECUTORS: dict[str, Executor[Any]] = {
    Operation.MEETING_PROCESSED: MeetingAutoSync(),
    Operation.HIGHLIGHT_SYNC: HighlightPropagate(),
    Operation.MEETING_SYNC: MeetingPropagate(),
    Operation.HIGHLIGHTS_SEND: HighlightsSend(),
    Operation.ACTIVITY_SYNC: ActivityLog(),
    Operation.LEAD_CREATE: LeadCreate(),
    Operation.BOOKING_SYNC: BookingLog(),
}
