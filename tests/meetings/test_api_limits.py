"""Numbers, ids and lengths the partner API accepts: the same limits as the database,
so an out-of-range value is a 400 the partner can act on, never a 500."""

from __future__ import annotations

import json
from typing import Any

import pytest

from meetings.models import Activity, Highlight, Meeting
from tests.conftest import Partner
from tests.factories import MeetingFactory

pytestmark = pytest.mark.django_db

MEETING = {
    "external_id": "m-1",
    "title": "Discovery call",
    "start": "2026-11-20T09:00:00Z",
    "end": "2026-11-20T09:30:00Z",
}
CALL = {
    "external_id": "call-1",
    "kind": "call",
    "direction": "outbound",
    "started_at": "2026-11-20T09:00:00Z",
    "logged_by_email": "agent@acme.test",
    "participants": [{"email": "lead@prospect.example"}],
}
LONG_EMAIL = "a" * 243 + "@example.com"  # 255 characters: one over the column


def _post(partner: Partner, url: str, body: dict[str, Any]) -> Any:
    return partner.client.post(url, body, format="json")


def _names(response: Any, field: str) -> bool:
    """The 400 answer points at `field` (wherever the error body puts field names)."""
    return f'"{field}"' in json.dumps(response.json())


@pytest.mark.parametrize("duration", [2**31, 2**63])
def test_a_duration_larger_than_the_database_holds_is_refused(
    partner: Partner, duration: int
) -> None:
    response = _post(partner, "/api/v1/activities/", {**CALL, "duration_seconds": duration})

    assert response.status_code == 400
    assert _names(response, "duration_seconds")
    assert not Activity.objects.exists()


def test_the_largest_duration_the_database_holds_is_stored(partner: Partner) -> None:
    response = _post(partner, "/api/v1/activities/", {**CALL, "duration_seconds": 2**31 - 1})

    assert response.status_code == 201, response.json()
    assert Activity.objects.get().duration_seconds == 2**31 - 1


@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        ("/api/v1/meetings/", {**MEETING, "attendees": [{"email": LONG_EMAIL}]}, "attendees"),
        ("/api/v1/meetings/", {**MEETING, "organizer_email": LONG_EMAIL}, "organizer_email"),
        (
            "/api/v1/activities/",
            {**CALL, "participants": [{"email": LONG_EMAIL}]},
            "participants",
        ),
        ("/api/v1/activities/", {**CALL, "logged_by_email": LONG_EMAIL}, "logged_by_email"),
    ],
)
def test_an_email_longer_than_the_database_holds_is_refused(
    partner: Partner, url: str, body: dict[str, Any], field: str
) -> None:
    response = _post(partner, url, body)

    assert response.status_code == 400
    assert _names(response, field)
    assert not Meeting.objects.exists() and not Activity.objects.exists()


@pytest.mark.parametrize("external_id", ["a/b", "with space", "tab\there", "..", "é", "x" * 201])
def test_an_external_id_outside_the_safe_alphabet_is_refused(
    partner: Partner, external_id: str
) -> None:
    MeetingFactory(tenant=partner.tenant, external_id="m-1")
    answers = [
        _post(partner, "/api/v1/meetings/", {**MEETING, "external_id": external_id}),
        _post(partner, "/api/v1/activities/", {**CALL, "external_id": external_id}),
        _post(
            partner,
            "/api/v1/meetings/m-1/highlights/",
            {"external_id": external_id, "text": "Budget is 50k"},
        ),
    ]

    assert [answer.status_code for answer in answers] == [400, 400, 400]
    for answer in answers:
        assert _names(answer, "external_id")
    assert Meeting.objects.count() == 1
    assert not Activity.objects.exists() and not Highlight.objects.exists()


def test_the_refusal_names_the_allowed_characters(partner: Partner) -> None:
    response = _post(partner, "/api/v1/meetings/", {**MEETING, "external_id": "crm/42"})

    assert "letters, digits and - _ . : @" in str(response.json())


def test_an_id_using_the_whole_alphabet_can_be_read_and_deleted(partner: Partner) -> None:
    external_id = "Crm:Meeting@2026.11_20-" + "9" * 177  # 200 characters

    created = _post(partner, "/api/v1/meetings/", {**MEETING, "external_id": external_id})
    read = partner.client.get(f"/api/v1/meetings/{external_id}/")
    deleted = partner.client.delete(f"/api/v1/meetings/{external_id}/")

    assert (created.status_code, read.status_code, deleted.status_code) == (201, 200, 204)
    assert read.json()["external_id"] == external_id


def test_the_schema_documents_the_external_id_alphabet(partner: Partner) -> None:
    schema = partner.client.get("/api/schema/", HTTP_ACCEPT="application/json").json()

    for name in ("MeetingInputRequest", "HighlightInputRequest", "ActivityInputRequest"):
        field = schema["components"]["schemas"][name]["properties"]["external_id"]
        assert "letters, digits and - _ . : @" in field["description"]
        assert field["maxLength"] == 200
        assert "pattern" in field
