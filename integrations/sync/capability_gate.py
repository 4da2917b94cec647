"""Jobs that need something the org does not allow wait instead of failing one by one.

The connection check (integrations.salesforce.capabilities) records what the installing
user may write. A job whose writes need a missing object waits with the reason and
what to do; a new check, or a change of the settings that chose that object, lets the
waiting jobs run again. With no check recorded (or one that could not read the org),
nothing is held: the sync finds out as it always did."""

from __future__ import annotations

from integrations.enums import Operation
from integrations.models import IntegrationSettings, SalesforceConnection
from integrations.salesforce.capabilities import ConnectionCheck

# How long a held job waits before it looks again (the check's result is re-read).
HOLD_SECONDS = 3600

_NOTES = {
    Operation.MEETING_PROCESSED,
    Operation.HIGHLIGHT_SYNC,
    Operation.MEETING_SYNC,
    Operation.HIGHLIGHTS_SEND,
}
_EVENTS = {Operation.MEETING_PROCESSED, Operation.MEETING_SYNC}
_TASKS = {Operation.ACTIVITY_SYNC, Operation.BOOKING_SYNC}


def capability_gap(
    operation: str, connection: SalesforceConnection, settings_row: IntegrationSettings
) -> str:
    """Why a job of `operation` cannot run in this org now ("" when it can)."""
    check = ConnectionCheck.from_json(connection.capabilities)
    if check is None or check.error:
        return ""
    notes = settings_row.note_flavour
    if operation in _NOTES:
        if notes == IntegrationSettings.NoteFlavour.CONTENT_NOTE and not check.content_notes:
            return (
                "Waiting: Lightning notes (ContentNote) cannot be written in this org by the "
                "installing user. Ask your Salesforce admin to turn on Notes, or choose "
                "Classic Note in the settings; then check the connection again."
            )
        if notes == IntegrationSettings.NoteFlavour.CLASSIC_NOTE and not _writable(check, "Note"):
            return _object_missing("Classic Notes (Note)")
    events = settings_row.highlights_destination == IntegrationSettings.Destination.NOTES_AND_EVENTS
    if operation in _EVENTS and events and not _writable(check, "Event"):
        return _object_missing("Events")
    if operation in _TASKS and not _writable(check, "Task"):
        return _object_missing("Tasks")
    return ""


def _writable(check: ConnectionCheck, name: str) -> bool:
    """Known not writable only when the check described the object."""
    access = check.objects.get(name)
    return access is None or access.writable


def _object_missing(what: str) -> str:
    return (
        f"Waiting: {what} cannot be written in this org by the installing user (see the "
        "connection check in the settings). Ask your Salesforce admin for that access; "
        "then check the connection again."
    )
