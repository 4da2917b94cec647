"""What the records the sync writes say: Notes, Events and Tasks, rendered from local
state (SPEC 3.3, 3.5, 3.6). Pure functions; all text that goes into a note's HTML is
escaped here."""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from html import escape, unescape
from urllib.parse import quote, urlencode

# Salesforce's limits: ContentNote.Title 255, Note.Title 80, Subject 255.
CONTENT_NOTE_TITLE_MAX = 255
CLASSIC_NOTE_TITLE_MAX = 80
SUBJECT_MAX = 255
DESCRIPTION_MAX = 32000


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
    return text if len(text) <= limit else text[: limit - 1] + "…"


def offset_label(offset: Decimal) -> str:
    total = int(offset)
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def listen_url(base_url: str, meeting: MeetingView, offset: Decimal) -> str:
    """The portal's page that plays the recording from the highlight's offset."""
    if not base_url:
        return ""
    query = urlencode({"t": str(int(offset))})
    return f"{base_url.rstrip('/')}/listen/{quote(meeting.external_id, safe='')}/?{query}"


def note_title(meeting: MeetingView, highlights: Sequence[HighlightView], *, classic: bool) -> str:
    limit = CLASSIC_NOTE_TITLE_MAX if classic else CONTENT_NOTE_TITLE_MAX
    if len(highlights) == 1:
        title = f"{meeting.title}: highlight at {offset_label(highlights[0].offset_seconds)}"
    else:
        title = f"{meeting.title}: highlights"
    return clip(title, limit)


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
    recording order with a link that plays it, and a link to the record it belongs to."""
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
            f'<p>Related to: <a href="{escape(link)}">{escape(target_name or target_id)}</a></p>'
        )
    return "".join(parts)


def html_to_text(html: str) -> str:
    """A classic Note's Body is plain text."""
    text = re.sub(r"</p>", "\n", html)
    text = re.sub(r'<a href="([^"]*)">([^<]*)</a>', r"\2: \1", text)
    return unescape(re.sub(r"<[^>]+>", "", text)).strip()


def content_note_fields(title: str, html: str) -> dict[str, str]:
    return {"Title": title, "Content": base64.b64encode(html.encode()).decode()}


def classic_note_fields(title: str, html: str) -> dict[str, str]:
    return {"Title": title, "Body": clip(html_to_text(html), DESCRIPTION_MAX)}


def event_fields(meeting: MeetingView) -> dict[str, object]:
    return {
        "Subject": clip(meeting.title, SUBJECT_MAX),
        "StartDateTime": _iso(meeting.start),
        "EndDateTime": _iso(meeting.end),
    }


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def activity_subject(kind: str, direction: str, subject: str) -> str:
    label = {"call": "Call", "conference": "Conference", "task": "Task"}.get(kind, kind)
    if kind == "call" and direction:
        label = f"{direction.capitalize()} call"
    return clip(f"{label}: {subject}" if subject else label, SUBJECT_MAX)


def logged_by_line(name: str, email: str) -> str:
    who = f"{name} <{email}>" if name else email
    return f"Logged by {who}, who has no Salesforce user."


def booking_description(
    *,
    title: str,
    description: str,
    start: datetime,
    end: datetime,
    guest: str,
    cancelled: bool,
) -> str:
    lines = []
    if cancelled:
        lines.append("Cancelled: this meeting was cancelled by the scheduler.")
    lines.append(f"Meeting: {title}")
    lines.append(f"When: {start:%Y-%m-%d %H:%M} to {end:%H:%M} UTC")
    if guest:
        lines.append(f"Guest: {guest}")
    if description:
        lines.extend(["", description])
    return clip("\n".join(lines), DESCRIPTION_MAX)
