"""What the records the sync writes say: Notes, Events and Tasks, rendered from local
state (SPEC 3.3, 3.5, 3.6). Pure functions; all text that goes into a note's HTML is
escaped here. The portal keeps text whole; a value longer than its Salesforce field is
cut to fit with a marker and the way back to the portal, and the cut is reported
(`Payload.cuts`) so the job's result names the field."""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from html import escape, unescape
from typing import Any
from urllib.parse import quote

from core.converters import ExternalIdConverter

# Salesforce's field lengths (characters): ContentNote.Title 255, Note.Title 80, the
# Subject of Events and Tasks 255, Task/Event Description and Note.Body 32,000.
CONTENT_NOTE_TITLE_MAX = 255
CLASSIC_NOTE_TITLE_MAX = 80
SUBJECT_MAX = 255
DESCRIPTION_MAX = 32000
# ContentNote.Content has no field length; Salesforce takes at most 37.5 MB of base64
# data in one JSON request, and a batch carries several records. A Note's HTML is kept
# well under that (UTF-8 bytes), which holds dozens of the longest highlights.
CONTENT_NOTE_HTML_MAX_BYTES = 5_000_000

# Ends every value cut to fit its Salesforce field; the portal keeps the whole text.
CUT_MARKER = "… [cut: full text in the portal]"


@dataclass(frozen=True)
class Cut:
    """A value longer than its Salesforce field, sent shortened with `CUT_MARKER`."""

    sobject: str
    field_name: str
    limit: int
    unit: str = "characters"

    def sentence(self) -> str:
        return (
            f"{self.sobject} {self.field_name} was cut at {self.limit:,} {self.unit} "
            "(full text in the portal)."
        )


def cut_sentences(cuts: Sequence[Cut]) -> list[str]:
    """What a job's result says about its cuts: each field once, however many records."""
    return [cut.sentence() for cut in dict.fromkeys(cuts)]


@dataclass
class Payload:
    """A record's fields as sent, and which of them were cut to fit."""

    sobject: str
    fields: dict[str, Any] = field(default_factory=dict)
    cuts: list[Cut] = field(default_factory=list)

    def put(self, name: str, text: str, limit: int, *, link: str = "") -> bool:
        """Set a text field, cut to `limit` with the marker (and `link`, when the field
        has room for it) if it is longer. True when it was cut."""
        value, cut = fit(text, limit, link=link)
        self.fields[name] = value
        if cut:
            self.cuts.append(Cut(self.sobject, name, limit))
        return cut


def salesforce_length(text: str) -> int:
    """Salesforce counts a text's length in UTF-16 code units (a character outside the
    Basic Multilingual Plane, such as an emoji, counts twice)."""
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


def _prefix(text: str, units: int) -> str:
    """The longest start of `text` within `units` UTF-16 code units, never splitting a
    character."""
    if units <= 0:
        return ""
    if len(text) * 2 <= units or salesforce_length(text) <= units:
        return text
    return text.encode("utf-16-le")[: units * 2].decode("utf-16-le", errors="ignore")


def fit(text: str, limit: int, *, link: str = "") -> tuple[str, bool]:
    """`text` whole when it fits in `limit`; else its start, then the marker and `link`
    (or the marker alone when the field is too short to hold the link as well), never
    longer than `limit`. Returns (value, whether it was cut)."""
    if salesforce_length(text) <= limit:
        return text, False
    tail = f"{CUT_MARKER} {link}" if link else CUT_MARKER
    if salesforce_length(tail) * 2 > limit:
        tail = CUT_MARKER
    return _prefix(text, limit - salesforce_length(tail)).rstrip() + tail, True


@dataclass(frozen=True)
class HighlightView:
    text: str
    speaker: str
    offset_seconds: Decimal
    external_id: str


@dataclass(frozen=True)
class MeetingView:
    external_id: str
    title: str
    start: datetime
    end: datetime


def clip(text: str, limit: int) -> str:
    """`text` as Salesforce holds it in a field of `limit` characters."""
    return fit(text, limit)[0]


def offset_label(offset: Decimal) -> str:
    total = int(offset)
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def listen_url(base_url: str, meeting: MeetingView, offset: Decimal) -> str:
    """The portal's page that plays the recording from the highlight's offset."""
    if not base_url:
        return ""
    query = f"t={int(offset)}"  # as `urlencode` writes it: digits need no quoting
    # As `reverse` writes it: the id encoded for the page's path, then its `%` escaped.
    segment = quote(ExternalIdConverter().to_url(meeting.external_id), safe="-_.:@")
    return f"{base_url.rstrip('/')}/listen/{segment}/?{query}"


def portal_line(page_url: str) -> str:
    return f"Full text in the portal: {page_url}" if page_url else ""


def note_title_text(meeting: MeetingView, highlights: Sequence[HighlightView]) -> str:
    """The Note's title, whole (`note_payload` fits it to the flavour's Title)."""
    if len(highlights) == 1:
        return f"{meeting.title}: highlight at {offset_label(highlights[0].offset_seconds)}"
    return f"{meeting.title}: highlights"


def note_title(meeting: MeetingView, highlights: Sequence[HighlightView], *, classic: bool) -> str:
    """The Note's title as Salesforce holds it."""
    limit = CLASSIC_NOTE_TITLE_MAX if classic else CONTENT_NOTE_TITLE_MAX
    return fit(note_title_text(meeting, highlights), limit)[0]


def note_html(
    *,
    meeting: MeetingView,
    highlights: Sequence[HighlightView],
    base_url: str,
    instance_url: str,
    target_id: str,
    target_name: str,
) -> str:
    """The Note's body (SPEC 3.3): the meeting name and date, each highlight's text in
    recording order with a link that plays it, and a link to the record it belongs to.
    One `<p>` per part, never nested (`note_html_fit` cuts between them)."""
    parts = [
        f"<p><b>{escape(meeting.title)}</b></p>",
        f"<p>Meeting date: {meeting.start:%Y-%m-%d %H:%M} UTC</p>",
    ]
    for item in sorted(highlights, key=lambda h: (h.offset_seconds, h.external_id)):
        speaker = f"{escape(item.speaker)}: " if item.speaker else ""
        line = f"<p>[{offset_label(item.offset_seconds)}] {speaker}{escape(item.text)}"
        url = listen_url(base_url, meeting, item.offset_seconds)
        if url:
            line += f' <a href="{escape(url)}">Listen to the audio</a>'
        parts.append(line + "</p>")
    if target_id:
        link = f"{instance_url.rstrip('/')}/{quote(target_id)}"
        parts.append(
            f'<p>{_RELATED_TO} <a href="{escape(link)}">{escape(target_name or target_id)}</a></p>'
        )
    return "".join(parts)


_RELATED_TO = "Related to:"


def _portal_paragraph(text: str, page_url: str) -> str:
    link = f' <a href="{escape(page_url)}">{escape(page_url)}</a>' if page_url else ""
    return f"<p>{escape(text)}{link}</p>"


def _size(html: str) -> int:
    return len(html.encode())


def note_html_fit(html: str, limit: int, *, page_url: str = "") -> tuple[str, bool]:
    """A Note's HTML whole when it is within `limit` UTF-8 bytes; else its paragraphs
    from the start while they fit, then one with the marker and the portal link, then
    the closing "Related to" paragraph. Cutting only between whole paragraphs, it never
    splits a tag or an entity. Returns (html, whether it was cut)."""
    if _size(html) <= limit:
        return html, False
    paragraphs = re.findall(r"<p>.*?</p>", html, flags=re.DOTALL)
    closing = ""
    if paragraphs and paragraphs[-1].startswith(f"<p>{_RELATED_TO}"):
        closing = paragraphs.pop()
    marker = _portal_paragraph(CUT_MARKER, page_url)
    budget = limit - _size(marker) - _size(closing)
    kept: list[str] = []
    for paragraph in paragraphs:
        budget -= _size(paragraph)
        if budget < 0:
            break
        kept.append(paragraph)
    return "".join([*kept, marker, closing]), True


def html_to_text(html: str) -> str:
    """A classic Note's Body is plain text."""
    text = re.sub(r"</p>", "\n", html)
    text = re.sub(r'<a href="([^"]*)">([^<]*)</a>', r"\2: \1", text)
    return unescape(re.sub(r"<[^>]+>", "", text)).strip()


def note_payload(*, title: str, html: str, classic: bool, page_url: str = "") -> Payload:
    """A Note's Title and body, each fitted to its field. A title cut to fit names the
    portal's page of the meeting in the body (the title is too short to hold it); the
    body starts with the whole meeting name."""
    if classic:
        payload = Payload("Note")
        title_cut = payload.put("Title", title, CLASSIC_NOTE_TITLE_MAX)
        body = html_to_text(html)
        if title_cut and page_url:
            body = f"{body}\n{portal_line(page_url)}"
        payload.put("Body", body, DESCRIPTION_MAX, link=page_url)
        return payload
    payload = Payload("ContentNote")
    if payload.put("Title", title, CONTENT_NOTE_TITLE_MAX) and page_url:
        html += _portal_paragraph("Full text in the portal:", page_url)
    content, cut = note_html_fit(html, CONTENT_NOTE_HTML_MAX_BYTES, page_url=page_url)
    if cut:
        payload.cuts.append(Cut("ContentNote", "Content", CONTENT_NOTE_HTML_MAX_BYTES, "bytes"))
    payload.fields["Content"] = base64.b64encode(content.encode()).decode()
    return payload


def _with_portal_line(text: str, page_url: str) -> str:
    line = portal_line(page_url)
    return f"{text}\n\n{line}" if line else text


def event_payload(meeting: MeetingView, *, page_url: str = "") -> Payload:
    """The meeting as an Event. A title cut to fit the Subject ends with the marker and
    the portal's page of the meeting. The Event's Description is left alone: it is the
    Salesforce users' to write in, and the meeting's Note holds the whole title."""
    payload = Payload(
        "Event", {"StartDateTime": _iso(meeting.start), "EndDateTime": _iso(meeting.end)}
    )
    payload.put("Subject", meeting.title, SUBJECT_MAX, link=page_url)
    return payload


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def activity_subject_text(kind: str, direction: str, subject: str) -> str:
    """A Task's subject names the kind and direction (SPEC 3.5), then the subject, whole."""
    label = {"call": "Call", "conference": "Conference", "task": "Task"}.get(kind, kind)
    if kind == "call" and direction:
        label = f"{direction.capitalize()} call"
    return f"{label}: {subject}" if subject else label


def activity_subject(kind: str, direction: str, subject: str) -> str:
    """The Task's Subject as Salesforce holds it."""
    return fit(activity_subject_text(kind, direction, subject), SUBJECT_MAX)[0]


def logged_by_line(name: str, email: str) -> str:
    who = f"{name} <{email}>" if name else email
    return f"Logged by {who}, who has no Salesforce user."


def activity_task_payload(
    *, kind: str, direction: str, subject: str, notes: str, logged_by: str, page_url: str
) -> Payload:
    """An activity's Task Subject and Description (SPEC 3.5): who logged it when that is
    not the owner (`logged_by`), then the notes. A subject cut to fit is given whole at
    the top of the Description, with the portal's page of the activity at the end."""
    payload = Payload("Task")
    whole = activity_subject_text(kind, direction, subject)
    subject_cut = payload.put("Subject", whole, SUBJECT_MAX)
    parts = [f"Subject: {whole}"] if subject_cut else []
    parts += [text for text in (logged_by, notes) if text]
    if subject_cut and page_url:
        parts.append(portal_line(page_url))
    payload.put("Description", "\n\n".join(parts), DESCRIPTION_MAX, link=page_url)
    return payload


def booking_description(
    *,
    title: str,
    description: str,
    start: datetime,
    end: datetime,
    guest: str,
    cancelled: bool,
) -> str:
    """A booking's Task Description, whole (`booking_task_payload` fits it)."""
    lines = []
    if cancelled:
        lines.append("Cancelled: this meeting was cancelled by the scheduler.")
    lines.append(f"Meeting: {title}")
    lines.append(f"When: {start:%Y-%m-%d %H:%M} to {end:%H:%M} UTC")
    if guest:
        lines.append(f"Guest: {guest}")
    if description:
        lines.extend(["", description])
    return "\n".join(lines)


def booking_task_payload(
    *,
    title: str,
    description: str,
    start: datetime,
    end: datetime,
    guest: str,
    cancelled: bool,
    page_url: str,
) -> Payload:
    """A booking's Task Subject and Description (SPEC 3.6). The Description names the
    meeting whole, so a title cut to fit the Subject adds only the portal's page."""
    payload = Payload("Task")
    prefix = "Cancelled" if cancelled else "Meeting"
    subject_cut = payload.put("Subject", f"{prefix}: {title}", SUBJECT_MAX)
    text = booking_description(
        title=title,
        description=description,
        start=start,
        end=end,
        guest=guest,
        cancelled=cancelled,
    )
    if subject_cut:
        text = _with_portal_line(text, page_url)
    payload.put("Description", text, DESCRIPTION_MAX, link=page_url)
    return payload
