"""Writes to highlights: one at a time (one statement where the database allows it)
and in bulk."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from core.errors import Conflict, InvalidInput
from core.services import row_claim
from meetings import events
from meetings.models import Highlight, Meeting


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
