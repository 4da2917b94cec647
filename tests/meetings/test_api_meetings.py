from __future__ import annotations

import pytest

from integrations.models import SyncJob
from meetings.models import Meeting
from tests.conftest import Partner
from tests.factories import SyncMappingFactory

pytestmark = pytest.mark.django_db

MEETING = {
    "external_id": "m-1",
    "title": "Discovery with Initech",
    "start": "2026-11-20T15:00:00Z",
    "end": "2026-11-20T15:45:00Z",
    "organizer_email": "Ana@Acme.test",
    "recording_url": "https://recordings.example.com/m-1",
    "attendees": [
        {"email": "  Ana@ACME.test ", "name": "Ana"},
        {"email": "Bob.Lumbergh@Initech.example", "name": "Bob"},
    ],
}


def test_creating_a_meeting_answers_201_with_normalised_attendees(partner: Partner) -> None:
    response = partner.client.post("/api/v1/meetings/", MEETING, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["external_id"] == "m-1"
    assert body["organizer_email"] == "ana@acme.test"
    assert [(a["email"], a["is_internal"]) for a in body["attendees"]] == [
        ("ana@acme.test", True),
        ("bob.lumbergh@initech.example", False),
    ]


def test_repeating_a_meeting_upsert_changes_nothing(partner: Partner) -> None:
    first = partner.client.post("/api/v1/meetings/", MEETING, format="json")
    second = partner.client.post("/api/v1/meetings/", MEETING, format="json")

    assert (first.status_code, second.status_code) == (201, 200)
    assert Meeting.objects.filter(tenant=partner.tenant).count() == 1
    assert first.json()["attendees"] == second.json()["attendees"]
    assert not SyncJob.objects.exists()


def test_upsert_replaces_the_attendee_list(partner: Partner) -> None:
    partner.client.post("/api/v1/meetings/", MEETING, format="json")
    changed = {**MEETING, "attendees": [{"email": "milton@initech.example"}]}

    body = partner.client.post("/api/v1/meetings/", changed, format="json").json()

    assert [a["email"] for a in body["attendees"]] == ["milton@initech.example"]


def test_retitling_a_meeting_queues_one_event_sync(partner: Partner) -> None:
    partner.client.post("/api/v1/meetings/", MEETING, format="json")
    # Its Event is in Salesforce (a meeting with nothing there has nothing to update).
    SyncMappingFactory(
        local_object=Meeting.objects.get(),
        purpose="meeting_event",
        salesforce_object="Event",
        state="confirmed",
    )

    response = partner.client.patch("/api/v1/meetings/m-1/", {"title": "Renamed"}, format="json")

    assert response.status_code == 200
    assert response.json()["title"] == "Renamed"
    assert list(SyncJob.objects.values_list("operation", flat=True)) == ["meeting.sync"]


def test_meeting_that_ends_before_it_starts_is_refused_field_by_field(partner: Partner) -> None:
    bad = {**MEETING, "end": "2026-11-20T14:00:00Z"}

    response = partner.client.post("/api/v1/meetings/", bad, format="json")

    assert response.status_code == 400
    assert "end" in response.json()


def test_missing_and_malformed_fields_are_named(partner: Partner) -> None:
    response = partner.client.post(
        "/api/v1/meetings/",
        {"external_id": "m-2", "start": "yesterday", "attendees": [{"email": "not-an-email"}]},
        format="json",
    )

    assert response.status_code == 400
    body = response.json()
    assert set(body) >= {"title", "start", "end", "attendees"}
    assert "email" in body["attendees"]["0"]  # errors keyed by the attendee's position


def test_meeting_list_filters_by_status_and_date(partner: Partner) -> None:
    partner.client.post("/api/v1/meetings/", MEETING, format="json")
    later = {
        **MEETING,
        "external_id": "m-2",
        "start": "2026-11-22T10:00:00Z",
        "end": "2026-11-22T11:00:00Z",
    }
    partner.client.post("/api/v1/meetings/", later, format="json")
    partner.client.post("/api/v1/meetings/m-2/processed/")

    processed = partner.client.get("/api/v1/meetings/", {"status": "processed"}).json()
    after = partner.client.get("/api/v1/meetings/", {"start_after": "2026-11-21T00:00:00Z"}).json()
    bad = partner.client.get("/api/v1/meetings/", {"status": "sleeping"})

    assert [m["external_id"] for m in processed["results"]] == ["m-2"]
    assert [m["external_id"] for m in after["results"]] == ["m-2"]
    assert processed["count"] == 1
    assert bad.status_code == 400 and "status" in bad.json()


def test_meeting_list_is_paginated(partner: Partner) -> None:
    for n in range(55):
        partner.client.post(
            "/api/v1/meetings/",
            {**MEETING, "external_id": f"m-{n}", "attendees": []},
            format="json",
        )

    first = partner.client.get("/api/v1/meetings/").json()
    second = partner.client.get(first["next"]).json()

    assert first["count"] == 55
    assert len(first["results"]) == 50 and len(second["results"]) == 5


def test_a_partner_chooses_the_page_size_up_to_200(partner: Partner) -> None:
    for n in range(12):
        partner.client.post(
            "/api/v1/meetings/",
            {**MEETING, "external_id": f"m-{n}", "attendees": []},
            format="json",
        )

    five = partner.client.get("/api/v1/meetings/", {"page_size": 5}).json()
    capped = partner.client.get("/api/v1/meetings/", {"page_size": 100000}).json()

    assert len(five["results"]) == 5 and "page_size=5" in five["next"]
    assert len(capped["results"]) == 12 and capped["next"] is None


def test_marking_processed_twice_queues_one_processed_job(partner: Partner) -> None:
    partner.client.post("/api/v1/meetings/", MEETING, format="json")

    first = partner.client.post("/api/v1/meetings/m-1/processed/")
    second = partner.client.post("/api/v1/meetings/m-1/processed/")

    assert first.status_code == second.status_code == 200
    assert first.json()["status"] == "processed"
    assert SyncJob.objects.filter(operation="meeting.processed").count() == 1


def test_processed_meeting_cannot_go_back_to_recording(partner: Partner) -> None:
    partner.client.post("/api/v1/meetings/", {**MEETING, "status": "processed"}, format="json")

    response = partner.client.patch("/api/v1/meetings/m-1/", {"status": "recording"}, format="json")

    assert response.status_code == 409
    assert "processed" in response.json()["status"][0]


def test_transcript_is_stored_and_read_back(partner: Partner) -> None:
    partner.client.post("/api/v1/meetings/", MEETING, format="json")

    missing = partner.client.get("/api/v1/meetings/m-1/transcript/")
    put = partner.client.put(
        "/api/v1/meetings/m-1/transcript/", {"text": "Ana: hello"}, format="json"
    )
    got = partner.client.get("/api/v1/meetings/m-1/transcript/")
    meeting = partner.client.get("/api/v1/meetings/m-1/").json()

    assert missing.status_code == 404
    assert put.status_code == 200
    assert got.json() == {"text": "Ana: hello"}
    assert meeting["has_transcript"] is True


def test_empty_transcript_is_refused(partner: Partner) -> None:
    partner.client.post("/api/v1/meetings/", MEETING, format="json")

    response = partner.client.put("/api/v1/meetings/m-1/transcript/", {"text": ""}, format="json")

    assert response.status_code == 400 and "text" in response.json()


def test_deleting_a_meeting_removes_it(partner: Partner) -> None:
    partner.client.post("/api/v1/meetings/", MEETING, format="json")

    deleted = partner.client.delete("/api/v1/meetings/m-1/")
    after = partner.client.get("/api/v1/meetings/m-1/")

    assert deleted.status_code == 204
    assert after.status_code == 404
