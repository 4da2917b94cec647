"""Writes to meetings: upsert, update, processed, delete, transcript."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from core.errors import Conflict, InvalidInput
from core.services import row_claim
from meetings import events
from meetings.models import Attendee, Meeting, Transcript
from meetings.services.people import PersonInput
from tenants.emails import email_normalise
from tenants.models import Tenant


def _times_check(start: dt.datetime, end: dt.datetime) -> None:
    if end < start:
        raise InvalidInput("The meeting cannot end before it starts.", field="end")


def _attendees_replace(meeting: Meeting, attendees: list[PersonInput]) -> None:
    """Make the meeting's attendee list exactly `attendees` (one row per email)."""
    wanted: dict[str, PersonInput] = {}
    for person in attendees:
        email = email_normalise(person.email)
        if not email:
            raise InvalidInput("Every attendee needs an email address.", field="attendees")
        wanted[email] = person
    meeting.attendees.exclude(email__in=wanted).delete()
    existing = {a.email: a for a in meeting.attendees.all()}
    for email, person in wanted.items():
        row = existing.get(email)
        if row is None:
            Attendee.objects.create(
                meeting=meeting, email=email, name=person.name.strip(), phone=person.phone.strip()
            )
        elif (row.name, row.phone) != (person.name.strip(), person.phone.strip()):
            row.name, row.phone = person.name.strip(), person.phone.strip()
            row.save(update_fields=["name", "phone"])


def _meeting_status_set(meeting: Meeting, status: str) -> bool:
    """Set the status; True when the meeting has just become processed."""
    if status == meeting.status:
        return False
    if meeting.status == Meeting.Status.PROCESSED:
        raise Conflict("A processed meeting cannot go back to an earlier status.", field="status")
    meeting.status = status
    if status == Meeting.Status.PROCESSED:
        meeting.processed_at = timezone.now()
        return True
    return False


@transaction.atomic
def meeting_upsert(
    *,
    tenant: Tenant,
    external_id: str,
    title: str,
    start: dt.datetime,
    end: dt.datetime,
    organizer_email: str = "",
    recording_url: str = "",
    status: str | None = None,
    attendees: list[PersonInput] | None = None,
) -> tuple[Meeting, bool]:
    """Create the meeting or update it in place, keyed by the partner's external id.

    Repeating the same call changes nothing and announces nothing.
    """
    _times_check(start, end)
    values = {
        "title": title,
        "start": start,
        "end": end,
        "organizer_email": email_normalise(organizer_email),
        "recording_url": recording_url,
    }
    fresh = Meeting(tenant=tenant, external_id=external_id, **values)
    fresh_processed = _meeting_status_set(fresh, status) if status else False
    meeting, created = row_claim(fresh, tenant=tenant, external_id=external_id)
    retimed, became_processed = False, fresh_processed
    if not created:
        retimed = (meeting.title, meeting.start, meeting.end) != (title, start, end)
        for key, value in values.items():
            setattr(meeting, key, value)
        became_processed = _meeting_status_set(meeting, status) if status else False
        meeting.save()
    if attendees is not None:
        _attendees_replace(meeting, attendees)
    if retimed:
        events.meeting_changed.send(sender=Meeting, instance=meeting)
    if became_processed:
        events.meeting_processed.send(sender=Meeting, instance=meeting)
    return meeting, created


@transaction.atomic
def meeting_update(
    *,
    meeting: Meeting,
    title: str | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    organizer_email: str | None = None,
    recording_url: str | None = None,
    status: str | None = None,
    attendees: list[PersonInput] | None = None,
) -> Meeting:
    """Change the given fields only (a partial update)."""
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    return meeting_upsert(
        tenant=meeting.tenant,
        external_id=meeting.external_id,
        title=meeting.title if title is None else title,
        start=meeting.start if start is None else start,
        end=meeting.end if end is None else end,
        organizer_email=meeting.organizer_email if organizer_email is None else organizer_email,
        recording_url=meeting.recording_url if recording_url is None else recording_url,
        status=status,
        attendees=attendees,
    )[0]


@transaction.atomic
def meeting_mark_processed(*, meeting: Meeting) -> Meeting:
    """All highlights and the transcript are in. Announced once, on the transition."""
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    if _meeting_status_set(meeting, Meeting.Status.PROCESSED):
        meeting.save(update_fields=["status", "processed_at", "updated_at"])
        events.meeting_processed.send(sender=Meeting, instance=meeting)
    return meeting


def meeting_delete(*, meeting: Meeting) -> None:
    meeting.delete()


def meeting_transcript_set(*, meeting: Meeting, text: str) -> Transcript:
    transcript, _ = Transcript.objects.update_or_create(meeting=meeting, defaults={"text": text})
    return transcript
