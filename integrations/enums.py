"""The names the sync speaks in: what a job asks, what a Salesforce record is for, and
which Salesforce objects it writes. Stored values never change; a typo is a type error."""

from __future__ import annotations

from enum import StrEnum

from django.db import models


class Operation(models.TextChoices):
    """What a sync job asks (stored in SyncJob.operation)."""

    HIGHLIGHT_SYNC = "highlight.sync", "Highlight changed"
    MEETING_PROCESSED = "meeting.processed", "Meeting auto-sync"
    MEETING_SYNC = "meeting.sync", "Meeting title or time changed"
    ACTIVITY_SYNC = "activity.sync", "Call, conference or task"
    BOOKING_SYNC = "booking.sync", "Scheduler booking"
    HIGHLIGHTS_SEND = "highlights.send", "Highlights sent by hand"
    LEAD_CREATE = "lead.create", "Lead from a participant"


# Jobs whose plans never depend on each other's results, so a worker may run them
# together in one batch (creating an organisation by hand, or a Lead on its own, waits
# on its own answers). An activity's plan may create a Lead for a participant and point
# its Task at it: in a batch the Lead goes out first and the Task after it; should the
# Task fail, the Lead's row is kept and the retry uses that Lead.
BATCHABLE: frozenset[str] = frozenset(
    {
        Operation.MEETING_PROCESSED,
        Operation.ACTIVITY_SYNC,
        Operation.BOOKING_SYNC,
        Operation.HIGHLIGHT_SYNC,
        Operation.MEETING_SYNC,
    }
)


class Purpose(models.TextChoices):
    """What one Salesforce record is for, per local object (SyncMapping.purpose)."""

    MEETING_NOTE = "meeting_note", "Meeting Note (all highlights)"
    MEETING_NOTE_LINK = "meeting_note_link", "Meeting Note's link to its record"
    MEETING_EVENT = "meeting_event", "Meeting Event"
    EVENT_RELATION = "event_relation", "Attendee on the meeting Event"
    HIGHLIGHT_NOTE = "highlight_note", "Highlight Note"
    HIGHLIGHT_NOTE_LINK = "highlight_note_link", "Highlight Note's link to its record"
    # A Note linked to a Lead that was converted is linked to the converted Account too.
    MEETING_NOTE_ACCOUNT_LINK = (
        "meeting_note_account_link",
        "Meeting Note's link to the Account of its converted Lead",
    )
    HIGHLIGHT_NOTE_ACCOUNT_LINK = (
        "highlight_note_account_link",
        "Highlight Note's link to the Account of its converted Lead",
    )
    CREATED_ACCOUNT = "created_account", "Account created for the meeting"
    CREATED_OPPORTUNITY = "created_opportunity", "Opportunity created for the meeting"
    CONTACT = "contact", "Contact created for an outside person"
    CONTACT_ROLE = "opportunity_contact_role", "Attendee's role on the Opportunity"
    ACTIVITY_TASK = "activity_task", "Participant's Task"
    PARTICIPANT_LEAD = "lead", "Lead created for a participant"
    BOOKING_TASK = "booking_task", "Booking's open Task"

    @property
    def link(self) -> Purpose | None:
        """The link row that hangs on a Note of this purpose (a ContentNote is attached to
        its record by a ContentDocumentLink, which goes when the note goes)."""
        return _NOTE_LINKS.get(self)

    @property
    def account_link(self) -> Purpose | None:
        """The second link row of a Note whose Lead was converted: to the Account."""
        return _NOTE_ACCOUNT_LINKS.get(self)

    @property
    def links(self) -> tuple[Purpose, ...]:
        """Every link row that hangs on a Note of this purpose (and goes with it)."""
        return tuple(p for p in (self.link, self.account_link) if p is not None)


_NOTE_LINKS = {
    Purpose.MEETING_NOTE: Purpose.MEETING_NOTE_LINK,
    Purpose.HIGHLIGHT_NOTE: Purpose.HIGHLIGHT_NOTE_LINK,
}
_NOTE_ACCOUNT_LINKS = {
    Purpose.MEETING_NOTE: Purpose.MEETING_NOTE_ACCOUNT_LINK,
    Purpose.HIGHLIGHT_NOTE: Purpose.HIGHLIGHT_NOTE_ACCOUNT_LINK,
}

# Records in Salesforce whose identity is the pair of records they join; Salesforce
# refuses a second one with DUPLICATE_VALUE.
LINK_PURPOSES = frozenset(
    {
        Purpose.MEETING_NOTE_LINK,
        Purpose.HIGHLIGHT_NOTE_LINK,
        Purpose.MEETING_NOTE_ACCOUNT_LINK,
        Purpose.HIGHLIGHT_NOTE_ACCOUNT_LINK,
        Purpose.EVENT_RELATION,
        Purpose.CONTACT_ROLE,
    }
)


class SObject(StrEnum):
    """The Salesforce objects the sync reads or writes."""

    ACCOUNT = "Account"
    OPPORTUNITY = "Opportunity"
    CONTACT = "Contact"
    LEAD = "Lead"
    USER = "User"
    TASK = "Task"
    EVENT = "Event"
    EVENT_RELATION = "EventRelation"
    CONTENT_NOTE = "ContentNote"
    CONTENT_DOCUMENT_LINK = "ContentDocumentLink"
    NOTE = "Note"
    OPPORTUNITY_CONTACT_ROLE = "OpportunityContactRole"


# The order auto-sync walks by default (SPEC 3.2).
DEFAULT_MATCH_ORDER = [SObject.ACCOUNT, SObject.OPPORTUNITY, SObject.LEAD, SObject.CONTACT]
