"""Long titles and text are stored whole up to the documented limits (titles and subjects
2,000 characters; highlight text, activity notes and booking descriptions 100,000; a
transcript 1,000,000); one character more is a 400 naming the field, never a database
error or a silent cut."""

from __future__ import annotations

import json
from typing import Any

import pytest

from meetings.models import Activity, Highlight, Meeting, Transcript
from scheduler.models import Booking
from tests.conftest import Partner
from tests.meetings.test_api_limits import CALL, MEETING

pytestmark = pytest.mark.django_db

BOOKING = {
    "external_id": "b-1",
    "version": 1,
    "host_email": "host@acme.test",
    "guest_email": "guest@customer.example",
    "title": "Intro call",
    "start": "2026-12-01T10:00:00Z",
    "end": "2026-12-01T10:30:00Z",
}


def _text(length: int) -> str:
    """Text of exactly `length` characters, some of them outside ASCII."""
    return ("Präsentation für das Team. " * (length // 20 + 1))[: length - 1] + "."


def _post(partner: Partner, url: str, body: dict[str, Any]) -> Any:
    return partner.client.post(url, body, format="json")


def _names(response: Any, field: str) -> bool:
    return f'"{field}"' in json.dumps(response.json())


def test_a_meeting_title_of_a_thousand_characters_is_stored_whole(partner: Partner) -> None:
    title = _text(1_000)

    created = _post(partner, "/api/v1/meetings/", {**MEETING, "title": title})

    assert created.status_code == 201, created.json()
    assert Meeting.objects.get().title == title
    assert partner.client.get("/api/v1/meetings/m-1/").json()["title"] == title


@pytest.mark.parametrize(
    ("url", "body", "field", "limit"),
    [
        ("/api/v1/meetings/", MEETING, "title", 2_000),
        ("/api/v1/activities/", CALL, "subject", 2_000),
        ("/api/v1/activities/", CALL, "notes", 100_000),
        ("/api/v1/bookings/", BOOKING, "title", 2_000),
        ("/api/v1/bookings/", BOOKING, "description", 100_000),
    ],
)
def test_text_at_the_limit_is_stored_whole_and_one_more_character_is_refused(
    partner: Partner, url: str, body: dict[str, Any], field: str, limit: int
) -> None:
    over = _post(partner, url, {**body, field: _text(limit + 1)})
    assert over.status_code == 400
    assert _names(over, field)
    assert not (Meeting.objects.exists() or Activity.objects.exists() or Booking.objects.exists())

    at = _post(partner, url, {**body, field: _text(limit)})

    assert at.status_code == 201, at.json()
    stored = [
        getattr(row, field)
        for row in [*Meeting.objects.all(), *Activity.objects.all(), *Booking.objects.all()]
    ]
    assert stored == [_text(limit)]


def test_a_renamed_meeting_may_have_a_long_title_too(partner: Partner) -> None:
    _post(partner, "/api/v1/meetings/", MEETING)

    renamed = partner.client.patch("/api/v1/meetings/m-1/", {"title": _text(2_000)}, format="json")
    refused = partner.client.patch("/api/v1/meetings/m-1/", {"title": _text(2_001)}, format="json")

    assert (renamed.status_code, refused.status_code) == (200, 400)
    assert Meeting.objects.get().title == _text(2_000)


def test_highlight_text_is_stored_whole_up_to_its_limit(partner: Partner) -> None:
    _post(partner, "/api/v1/meetings/", MEETING)
    url = "/api/v1/meetings/m-1/highlights/"

    over = _post(partner, url, {"external_id": "h1", "text": _text(100_001)})
    at = _post(partner, url, {"external_id": "h1", "text": _text(100_000)})
    edit_over = partner.client.patch(f"{url}h1/", {"text": _text(100_001)}, format="json")

    assert (over.status_code, at.status_code, edit_over.status_code) == (400, 201, 400)
    assert _names(over, "text") and _names(edit_over, "text")
    assert Highlight.objects.get().text == _text(100_000)


def test_a_transcript_over_its_limit_is_refused_and_one_at_it_is_stored(
    partner: Partner,
) -> None:
    _post(partner, "/api/v1/meetings/", MEETING)
    url = "/api/v1/meetings/m-1/transcript/"
    text = "x" * 1_000_000

    over = partner.client.put(url, {"text": text + "y"}, format="json")
    at = partner.client.put(url, {"text": text}, format="json")

    assert (over.status_code, at.status_code) == (400, 200)
    assert _names(over, "text")
    assert Transcript.objects.get().text == text


def test_the_schema_documents_the_limits(partner: Partner) -> None:
    schemas = partner.client.get("/api/schema/", HTTP_ACCEPT="application/json").json()[
        "components"
    ]["schemas"]

    def max_length(serializer: str, field: str) -> int:
        # Input shapes may carry a "Request" suffix in the schema.
        shape = schemas.get(f"{serializer}Request") or schemas[serializer]
        return int(shape["properties"][field]["maxLength"])

    assert max_length("MeetingInput", "title") == 2_000
    assert max_length("HighlightInput", "text") == 100_000
    assert max_length("ActivityInput", "subject") == 2_000
    assert max_length("ActivityInput", "notes") == 100_000
    assert max_length("BookingInput", "title") == 2_000
    assert max_length("BookingInput", "description") == 100_000
    assert max_length("Transcript", "text") == 1_000_000
