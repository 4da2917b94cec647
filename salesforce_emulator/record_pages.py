"""A page per record, at ``/<Id>`` as Salesforce's record links are: what a person
following a link from a client sees. Plain server-rendered HTML; every value escaped."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from html import escape
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote

from . import ids
from .store import Org

# Who made or owns a record is on every record: listed as fields, not as relationships.
_SYSTEM_REFERENCES = frozenset({"CreatedById", "LastModifiedById", "OwnerId"})
_NAME_FIELDS = ("Name", "Subject", "Title", "Username")
_RELATED_MAX = 200
# A note is a ContentDocument seen through ContentNote: both names reach the same record.
_TWINS = {"ContentNote": "ContentDocument", "ContentDocument": "ContentNote"}


@dataclass(frozen=True)
class Found:
    org: Org
    sobject: str
    row: Mapping[str, Any]


def record_find(orgs: list[Org], record_id: str, sobject: str | None = None) -> Found | None:
    """The live record with this 15- or 18-character Id among ``orgs`` (those served on
    the request's host), or None; ``sobject``, when the URL names one, must be its object."""
    full = ids.to18(record_id)
    if full is None:
        return None
    for org in orgs:
        with org.lock:
            found = _live(org, full)
            if found is None:
                continue
            name, row = found
            if sobject is not None:
                wanted = org.object_name(sobject)
                if wanted not in (name, _TWINS.get(name)):
                    return None
            return Found(org, name, dict(row))
    return None


def _live(org: Org, full_id: str) -> tuple[str, Mapping[str, Any]] | None:
    sobject = org.index.get(full_id)
    if sobject is None:
        return None
    if full_id in org.tables["ContentNote"]:
        sobject = "ContentNote"  # shown as the note it is, not as its document
    row = org.tables[sobject].get(full_id)
    if row is None or row["IsDeleted"]:
        return None
    return sobject, row


def record_title(found: Found) -> str:
    return f"{found.org.objects[found.sobject].label}: {_name(found.row)}"


def record_body(found: Found) -> str:
    """The record's page: its content for a note, its fields, and the records that point
    at it (each a link to its own page)."""
    org, row = found.org, found.row
    with org.lock:
        parts = [
            f"<p class='muted'>{escape(org.name)} · "
            f"<a href='/orgs/{quote(org.id)}/objects/{quote(found.sobject)}'>"
            f"all {escape(org.objects[found.sobject].label_plural)}</a></p>"
        ]
        if found.sobject == "ContentNote":
            parts.append(_note_content(org.blobs.get(row["Id"])))
        parts.append(_fields_table(org, found.sobject, row))
        parts.append(_related(org, row["Id"]))
    return "".join(parts)


def _name(row: Mapping[str, Any]) -> str:
    for field_name in _NAME_FIELDS:
        if row.get(field_name):
            return str(row[field_name])
    return str(row["Id"])


def _link(org: Org, record_id: str) -> str:
    """A link to a record of the same org, named as it is there; a bare Id when the org
    holds no live record with it."""
    found = _live(org, record_id) if isinstance(record_id, str) else None
    if found is None:
        return f"<code>{escape(str(record_id))}</code>"
    name, row = found
    return (
        f"<a href='/{quote(row['Id'])}'>{escape(_name(row))}</a> "
        f"<span class='muted'>({escape(org.objects[name].label)})</span>"
    )


def _fields_table(org: Org, sobject: str, row: Mapping[str, Any]) -> str:
    rows = []
    for f in org.objects[sobject].fields.values():
        value = row.get(f.name)
        if f.type == "base64":
            shown = "<span class='muted'>shown above</span>" if value else ""
        elif value is None or value == "":
            shown = ""
        elif f.type == "reference":
            shown = _link(org, value)
        else:
            shown = escape(str(value))
        rows.append(
            f"<tr><th>{escape(f.display_label)}</th><td><code>{escape(f.name)}</code></td>"
            f"<td>{shown}</td></tr>"
        )
    return (
        "<h2>Fields</h2><table><tr><th>Label</th><th>API name</th><th>Value</th></tr>"
        + "".join(rows)
        + "</table>"
    )


def _related(org: Org, record_id: str) -> str:
    """Records whose relationship fields name this one, with the other records they
    link it to (a note's links name the records it is filed under, an event's
    relations its attendees)."""
    rows: list[str] = []
    seen: set[str] = set()
    for obj in org.objects.values():
        references = [
            f
            for f in obj.fields.values()
            if f.type == "reference" and f.name not in _SYSTEM_REFERENCES
        ]
        for f in references:
            for other in org.live(obj.name):
                if other.get(f.name) != record_id or other["Id"] in seen:
                    continue
                seen.add(other["Id"])
                also = [
                    _link(org, other[g.name])
                    for g in references
                    if g is not f and other.get(g.name) and other.get(g.name) != record_id
                ]
                rows.append(
                    f"<tr><td>{escape(obj.label)}</td><td>{_link(org, other['Id'])}</td>"
                    f"<td>{escape(f.display_label)}</td><td>{'<br>'.join(also)}</td></tr>"
                )
    if not rows:
        return "<h2>Related records</h2><p class='muted'>None.</p>"
    more = (
        f"<p class='muted'>The first {_RELATED_MAX} of {len(rows)}.</p>"
        if len(rows) > _RELATED_MAX
        else ""
    )
    return (
        "<h2>Related records</h2>"
        "<table><tr><th>Object</th><th>Record</th><th>Through</th><th>Links to</th></tr>"
        + "".join(rows[:_RELATED_MAX])
        + f"</table>{more}"
    )


def _note_content(blob: bytes | None) -> str:
    if not blob:
        return "<h2>Content</h2><p class='muted'>Empty.</p>"
    text = note_text(blob.decode("utf-8", errors="replace"))
    return f"<h2>Content</h2><div class='note'>{escape(text)}</div>"


class _Text(HTMLParser):
    _BREAKS = frozenset({"p", "br", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6"})

    _HIDDEN = frozenset({"script", "style"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._HIDDEN:
            self.hidden += 1
        if tag == "a":
            self.links.append(dict(attrs).get("href") or "")
        if tag in self._BREAKS:
            self.parts.append("\n")
        if tag == "li":
            self.parts.append("• ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._HIDDEN and self.hidden:
            self.hidden -= 1
        if tag == "a" and self.links:
            href = self.links.pop()
            if href:  # where a link led, as text: "Listen to the audio (https://...)"
                self.parts.append(f" ({href})")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def note_text(content: str) -> str:
    """A note's HTML as text: its markup is the client's, so the page shows what it says
    (paragraphs and list items on lines of their own, a link's address after its text)
    and never runs it as HTML."""
    parser = _Text()
    parser.feed(content)
    parser.close()
    lines = (line.strip() for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line)
