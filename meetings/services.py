"""Writes to meetings, highlights and activities. Every change that the sync cares
about is announced through `meetings.events` from inside the transaction."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from core.errors import Conflict, InvalidInput
from core.services import row_claim
from meetings import events
from meetings.models import Activity, ActivityParticipant, Attendee, Highlight, Meeting, Transcript
from tenants.emails import email_normalise
from tenants.models import Tenant


@dataclass(frozen=True)
class PersonInput:
    email: str = ""
    name: str = ""
    phone: str = ""


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


@transaction.atomic
def highlight_upsert(
    *,
    meeting: Meeting,
    external_id: str,
    text: str,
    speaker: str = "",
    offset_seconds: Decimal = Decimal(0),
) -> tuple[Highlight, bool]:
    """Create or edit a highlight. Any real change bumps its version and is announced;
    repeating the same call changes nothing. Re-sending a deleted highlight restores it."""
    if not text.strip():
        raise InvalidInput("A highlight needs some text.", field="text")
    if _upsert_in_one_statement():
        return _highlight_upsert_statement(
            meeting=meeting,
            external_id=external_id,
            text=text,
            speaker=speaker,
            offset_seconds=offset_seconds,
        )
    fresh = Highlight(
        tenant=meeting.tenant,
        meeting=meeting,
        external_id=external_id,
        text=text,
        speaker=speaker,
        offset_seconds=offset_seconds,
    )
    highlight, created = row_claim(fresh, meeting=meeting, external_id=external_id)
    if created:
        events.highlight_changed.send(sender=Highlight, instance=highlight)
        return highlight, True
    new = (text, speaker, Decimal(offset_seconds), False)
    if (highlight.text, highlight.speaker, highlight.offset_seconds, highlight.is_deleted) != new:
        highlight.text, highlight.speaker, highlight.offset_seconds = text, speaker, offset_seconds
        highlight.is_deleted = False
        highlight.version += 1
        highlight.save()
        events.highlight_changed.send(sender=Highlight, instance=highlight)
    return highlight, False


def _upsert_in_one_statement() -> bool:
    """PostgreSQL and SQLite (3.35 and later) insert-or-update in one statement that
    answers the row it wrote (INSERT ... ON CONFLICT DO UPDATE ... RETURNING)."""
    return connection.vendor in ("postgresql", "sqlite") and (
        connection.features.can_return_rows_from_bulk_insert
    )


def _highlight_insert_fields() -> list[Any]:
    return [field for field in Highlight._meta.concrete_fields if not field.primary_key]


@functools.cache
def _highlight_upsert_sql(vendor: str) -> tuple[str, str, str]:
    """The statement of `_highlight_upsert_statement`, as the text before the rows'
    values, one row's placeholders, and the text after them (per database: names are
    quoted its way). Only the model's table and column names are spliced in; values
    are parameters."""
    quote = connection.ops.quote_name
    table = quote(Highlight._meta.db_table)
    column = {field.name: quote(str(field.column)) for field in Highlight._meta.concrete_fields}
    inserted = ", ".join(quote(str(field.column)) for field in _highlight_insert_fields())
    row = "(" + ", ".join(["%s"] * len(_highlight_insert_fields())) + ")"
    edited = ("text", "speaker", "offset_seconds")
    taken = ", ".join(f"{column[name]} = EXCLUDED.{column[name]}" for name in edited)
    differs = " OR ".join(f"{table}.{column[name]} <> EXCLUDED.{column[name]}" for name in edited)
    head = f"INSERT INTO {table} ({inserted}) VALUES "  # noqa: S608
    tail = (
        f" ON CONFLICT ({column['meeting']}, {column['external_id']}) DO UPDATE SET {taken}, "
        f"{column['is_deleted']} = EXCLUDED.{column['is_deleted']}, "
        f"{column['version']} = {table}.{column['version']} + 1, "
        f"{column['updated_at']} = EXCLUDED.{column['updated_at']} "
        f"WHERE {differs} OR {table}.{column['is_deleted']} "
        f"RETURNING {', '.join(column.values())}"
    )
    return head, row, tail


def _highlights_upsert_rows(meeting: Meeting, items: list[HighlightInput]) -> list[Highlight]:
    """Insert or update the items' rows in one statement (see
    `_highlight_upsert_statement`); returns the rows it wrote, not those that were
    already the same."""
    now = timezone.now()
    fields = _highlight_insert_fields()
    params: list[Any] = []
    for item in items:
        fresh = Highlight(
            tenant=meeting.tenant,
            meeting=meeting,
            external_id=item.external_id,
            text=item.text,
            speaker=item.speaker,
            offset_seconds=item.offset_seconds,
            version=1,
            is_deleted=False,
            created_at=now,
            updated_at=now,
        )
        params += [
            field.get_db_prep_save(getattr(fresh, field.attname), connection) for field in fields
        ]
    head, row, tail = _highlight_upsert_sql(connection.vendor)
    # One statement, unless the database takes fewer parameters in one (SQLite: 999).
    most = connection.features.max_query_params
    per_statement = len(items) if most is None else max(1, most // len(fields))
    written: list[Highlight] = []
    for first in range(0, len(items), per_statement):
        rows = min(per_statement, len(items) - first)
        chunk = params[first * len(fields) : (first + rows) * len(fields)]
        written += Highlight.objects.raw(head + ", ".join([row] * rows) + tail, chunk)
    for highlight in written:
        highlight.meeting, highlight.tenant = meeting, meeting.tenant
    return written


def _highlight_upsert_statement(
    *, meeting: Meeting, external_id: str, text: str, speaker: str, offset_seconds: Decimal
) -> tuple[Highlight, bool]:
    """`highlight_upsert` in one statement, whatever the row's state:

    1. no row with this external id: it is inserted at version 1;
    2. a row whose text, speaker or offset differ, or that was deleted: it is updated
       in place, its version one more (the database locks the row meanwhile, so two
       concurrent edits make two versions);
    3. a row with the same values: the statement writes nothing and answers nothing;
       the row is then read as it is, and nothing is announced.

    The statement answers the row it wrote; version 1 means it was inserted (an update
    always leaves a version of 2 or more)."""
    item = HighlightInput(external_id, text, speaker, offset_seconds)
    written = _highlights_upsert_rows(meeting, [item])
    if not written:
        unchanged = Highlight.objects.get(meeting=meeting, external_id=external_id)
        unchanged.meeting, unchanged.tenant = meeting, meeting.tenant
        return unchanged, False
    highlight = written[0]
    events.highlight_changed.send(sender=Highlight, instance=highlight)
    return highlight, highlight.version == 1


@dataclass(frozen=True)
class HighlightInput:
    external_id: str
    text: str
    speaker: str = ""
    offset_seconds: Decimal = Decimal(0)


# Highlights one bulk request may carry.
HIGHLIGHTS_BULK_MAX = 500


def highlights_upsert_bulk(
    *, meeting: Meeting, items: list[HighlightInput]
) -> list[tuple[Highlight, str]]:
    """Create or edit many highlights of one meeting at once, each as `highlight_upsert`
    would (a real change bumps its version; the same values change nothing; a deleted
    one sent again is restored), in a few statements whatever their number: one upsert
    and one read where the database allows it (see `_highlights_write_statement`),
    otherwise one read, one insert and one update; and one announcement of those that
    changed.

    Returns each highlight with what happened to it: "created", "updated" or
    "unchanged", in the order given. All or nothing: one bad item stores none."""
    if len(items) > HIGHLIGHTS_BULK_MAX:
        raise InvalidInput(f"At most {HIGHLIGHTS_BULK_MAX} highlights per request.")
    ids = [item.external_id for item in items]
    if len(set(ids)) != len(ids):
        raise InvalidInput("Each highlight may appear once per request.", field="highlights")
    for item in items:
        if not item.text.strip():
            raise InvalidInput("A highlight needs some text.", field="text")
    if _upsert_in_one_statement():
        return _highlights_write_statement(meeting, items)
    try:
        return _highlights_write(meeting, items)
    except IntegrityError:
        # Another request inserted one of these highlights meanwhile: take each in turn,
        # as single upserts do (they update the row that won).
        with transaction.atomic():
            results = []
            for item in items:
                before = (
                    Highlight.objects.filter(meeting=meeting, external_id=item.external_id)
                    .values_list("version", flat=True)
                    .first()
                )
                highlight, created = highlight_upsert(meeting=meeting, **vars(item))
                outcome = "created" if created else "unchanged"
                if not created and before is not None and highlight.version != before:
                    outcome = "updated"
                results.append((highlight, outcome))
            return results


@transaction.atomic
def _highlights_write_statement(
    meeting: Meeting, items: list[HighlightInput]
) -> list[tuple[Highlight, str]]:
    """`highlights_upsert_bulk` in two statements: the upsert of them all (which answers
    the rows it inserted or changed; version 1 means inserted), then a read of those it
    left as they were."""
    written = {h.external_id: h for h in _highlights_upsert_rows(meeting, items)}
    same = [item.external_id for item in items if item.external_id not in written]
    unchanged = {}
    if same:
        rows = Highlight.objects.filter(meeting=meeting, external_id__in=same)
        unchanged = {h.external_id: h for h in rows}
    results: list[tuple[Highlight, str]] = []
    for item in items:
        highlight = written.get(item.external_id)
        if highlight is None:
            results.append((unchanged[item.external_id], "unchanged"))
        else:
            results.append((highlight, "created" if highlight.version == 1 else "updated"))
    changed = [h for h, outcome in results if outcome != "unchanged"]
    if changed:
        events.highlights_changed.send(sender=Meeting, instance=meeting, highlights=changed)
    return results


@transaction.atomic
def _highlights_write(meeting: Meeting, items: list[HighlightInput]) -> list[tuple[Highlight, str]]:
    existing = {
        h.external_id: h
        for h in Highlight.objects.select_for_update().filter(
            meeting=meeting, external_id__in=[item.external_id for item in items]
        )
    }
    results: list[tuple[Highlight, str]] = []
    fresh: list[Highlight] = []
    edited: list[Highlight] = []
    for item in items:
        highlight = existing.get(item.external_id)
        if highlight is None:
            highlight = Highlight(tenant=meeting.tenant, meeting=meeting, **vars(item))
            fresh.append(highlight)
            results.append((highlight, "created"))
            continue
        new = (item.text, item.speaker, Decimal(item.offset_seconds), False)
        if (
            highlight.text,
            highlight.speaker,
            highlight.offset_seconds,
            highlight.is_deleted,
        ) == new:
            results.append((highlight, "unchanged"))
            continue
        highlight.text, highlight.speaker = item.text, item.speaker
        highlight.offset_seconds, highlight.is_deleted = item.offset_seconds, False
        highlight.version += 1
        highlight.updated_at = timezone.now()
        edited.append(highlight)
        results.append((highlight, "updated"))
    with transaction.atomic():
        Highlight.objects.bulk_create(fresh)
    if edited:
        Highlight.objects.bulk_update(
            edited, ["text", "speaker", "offset_seconds", "is_deleted", "version", "updated_at"]
        )
    if fresh or edited:
        events.highlights_changed.send(
            sender=Meeting, instance=meeting, highlights=[*fresh, *edited]
        )
    return results


@transaction.atomic
def highlight_update(
    *,
    highlight: Highlight,
    text: str | None = None,
    speaker: str | None = None,
    offset_seconds: Decimal | None = None,
) -> Highlight:
    highlight = Highlight.objects.select_for_update().get(pk=highlight.pk)
    if highlight.is_deleted:
        raise Conflict("This highlight was deleted; create it again to restore it.")
    return highlight_upsert(
        meeting=highlight.meeting,
        external_id=highlight.external_id,
        text=highlight.text if text is None else text,
        speaker=highlight.speaker if speaker is None else speaker,
        offset_seconds=highlight.offset_seconds if offset_seconds is None else offset_seconds,
    )[0]


@transaction.atomic
def highlight_delete(*, highlight: Highlight) -> None:
    """Soft delete: the row stays so the sync can take the text out of Salesforce."""
    highlight = Highlight.objects.select_for_update().get(pk=highlight.pk)
    if highlight.is_deleted:
        return
    highlight.is_deleted = True
    highlight.version += 1
    highlight.save(update_fields=["is_deleted", "version", "updated_at"])
    events.highlight_changed.send(sender=Highlight, instance=highlight)


def _participants_clean(participants: list[PersonInput]) -> list[PersonInput]:
    """The participants as stored: normalised email, trimmed phone and name. Refuses a
    participant with neither email nor phone before anything is written."""
    cleaned = []
    for person in participants:
        email, phone = email_normalise(person.email), person.phone.strip()
        if not email and not phone:
            raise InvalidInput(
                "Every participant needs an email address or a phone number.",
                field="participants",
            )
        cleaned.append(PersonInput(email=email, phone=phone, name=person.name.strip()))
    return cleaned


def _participant_rows_match(
    rows: list[ActivityParticipant], people: list[PersonInput]
) -> list[ActivityParticipant | None]:
    """For each incoming person, the existing row that is the same person (or None).

    1. People with an email claim the unclaimed row with that email.
    2. People without one claim an unclaimed row with their phone, preferring a row
       without an email (the likelier same person when both kinds share the number).
    Each row is claimed once, so two people with the same email keep two rows.
    """
    unclaimed = list(rows)
    matched: list[ActivityParticipant | None] = [None] * len(people)

    def claim(index: int, candidates: list[ActivityParticipant]) -> None:
        if candidates:
            matched[index] = candidates[0]
            unclaimed.remove(candidates[0])

    for index, person in enumerate(people):
        if person.email:
            claim(index, [row for row in unclaimed if row.email == person.email])
    for index, person in enumerate(people):
        if not person.email:
            by_phone = [row for row in unclaimed if row.phone == person.phone]
            claim(index, sorted(by_phone, key=lambda row: bool(row.email)))
    return matched


def _participants_replace(activity: Activity, participants: list[PersonInput]) -> bool:
    """Make the participant list exactly `participants`, in place; True when it changed.

    A person who stays keeps their row: sync mappings (the Salesforce Task logged for a
    participant, the Lead made from one) are keyed on the row's id, so replacing the
    rows would lose them and Salesforce would get a second Task. Matched rows get the
    new name, phone and email; new people get new rows; people no longer listed lose
    theirs. The order they are sent in is not stored (rows list by id), so a reordered
    list is no change.
    """
    people = _participants_clean(participants)
    rows = list(activity.participants.all())
    matched = _participant_rows_match(rows, people)
    changed = False
    new_rows = []
    for person, row in zip(people, matched, strict=True):
        if row is None:
            new_rows.append(
                ActivityParticipant(
                    activity=activity, email=person.email, phone=person.phone, name=person.name
                )
            )
            continue
        fields = [f for f in ("email", "phone", "name") if getattr(row, f) != getattr(person, f)]
        if fields:
            row.email, row.phone, row.name = person.email, person.phone, person.name
            row.save(update_fields=fields)
            changed = True
    kept = {row.pk for row in matched if row is not None}
    gone = [row.pk for row in rows if row.pk not in kept]
    if gone:
        ActivityParticipant.objects.filter(pk__in=gone).delete()
    if new_rows:
        ActivityParticipant.objects.bulk_create(new_rows)
    return changed or bool(gone) or bool(new_rows)


@transaction.atomic
def activity_upsert(
    *,
    tenant: Tenant,
    external_id: str,
    kind: str,
    started_at: dt.datetime,
    logged_by_email: str,
    participants: list[PersonInput],
    direction: str = "",
    duration_seconds: int = 0,
    subject: str = "",
    notes: str = "",
    logged_by_name: str = "",
) -> tuple[Activity, bool]:
    """Create or edit a call, conference or task, keyed by the partner's external id."""
    if kind == Activity.Kind.CALL and direction not in Activity.Direction.values:
        raise InvalidInput("A call needs a direction: inbound or outbound.", field="direction")
    if kind != Activity.Kind.CALL and direction:
        raise InvalidInput("Only calls have a direction.", field="direction")
    if not participants:
        raise InvalidInput("An activity needs at least one participant.", field="participants")
    values = {
        "kind": kind,
        "direction": direction,
        "started_at": started_at,
        "duration_seconds": duration_seconds,
        "subject": subject,
        "notes": notes,
        "logged_by_email": email_normalise(logged_by_email),
        "logged_by_name": logged_by_name.strip(),
    }
    fresh = Activity(tenant=tenant, external_id=external_id, **values)
    activity, created = row_claim(fresh, tenant=tenant, external_id=external_id)
    changed = created or any(getattr(activity, k) != v for k, v in values.items())
    if not created:
        for key, value in values.items():
            setattr(activity, key, value)
        activity.save()
    changed = _participants_replace(activity, participants) or changed
    if changed and not created:
        activity.version += 1
        activity.save(update_fields=["version", "updated_at"])
    if changed:
        events.activity_changed.send(sender=Activity, instance=activity)
    return activity, created


def activity_update(*, activity: Activity, **changes: Any) -> Activity:
    """Change the given fields of an activity (a partial update), keeping the rest."""
    values: dict[str, Any] = {
        "kind": activity.kind,
        "direction": activity.direction,
        "started_at": activity.started_at,
        "duration_seconds": activity.duration_seconds,
        "subject": activity.subject,
        "notes": activity.notes,
        "logged_by_email": activity.logged_by_email,
        "logged_by_name": activity.logged_by_name,
        "participants": [
            PersonInput(email=p.email, phone=p.phone, name=p.name)
            for p in activity.participants.all()
        ],
    }
    unknown = set(changes) - set(values)
    if unknown:
        raise InvalidInput(f"These fields cannot be changed: {', '.join(sorted(unknown))}.")
    values.update(changes)
    if "kind" in changes and changes["kind"] != Activity.Kind.CALL and "direction" not in changes:
        values["direction"] = ""
    return activity_upsert(tenant=activity.tenant, external_id=activity.external_id, **values)[0]


def activity_delete(*, activity: Activity) -> None:
    activity.delete()
