from __future__ import annotations

import pytest

from integrations.models import SyncJob
from meetings.models import Activity
from tests.conftest import Partner

pytestmark = pytest.mark.django_db

CALL = {
    "external_id": "call-1",
    "kind": "call",
    "direction": "outbound",
    "started_at": "2026-11-20T09:00:00Z",
    "duration_seconds": 420,
    "subject": "Pricing questions",
    "logged_by_email": "Agent@Acme.test",
    "logged_by_name": "Agent Smith",
    "participants": [
        {"email": "agent@acme.test"},
        {"email": "Lead@Prospect.example", "phone": "+3312345"},
    ],
}


def test_logging_a_call_answers_201_and_queues_a_sync(partner: Partner) -> None:
    response = partner.client.post("/api/v1/activities/", CALL, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["logged_by_email"] == "agent@acme.test"
    assert [(p["email"], p["is_internal"]) for p in body["participants"]] == [
        ("agent@acme.test", True),
        ("lead@prospect.example", False),
    ]
    assert SyncJob.objects.filter(operation="activity.sync").count() == 1


def test_repeating_the_same_call_is_harmless(partner: Partner) -> None:
    partner.client.post("/api/v1/activities/", CALL, format="json")

    again = partner.client.post("/api/v1/activities/", CALL, format="json")

    assert again.status_code == 200
    assert again.json()["version"] == 1
    assert Activity.objects.count() == 1


def test_editing_a_call_bumps_its_version(partner: Partner) -> None:
    partner.client.post("/api/v1/activities/", CALL, format="json")

    edited = partner.client.patch(
        "/api/v1/activities/call-1/", {"notes": "Sent the quote"}, format="json"
    )
    participants = partner.client.patch(
        "/api/v1/activities/call-1/", {"participants": [{"phone": "+3399"}]}, format="json"
    )

    assert edited.json()["version"] == 2 and edited.json()["notes"] == "Sent the quote"
    assert participants.json()["version"] == 3
    assert [p["phone"] for p in participants.json()["participants"]] == ["+3399"]


def test_a_call_without_direction_is_refused(partner: Partner) -> None:
    response = partner.client.post("/api/v1/activities/", {**CALL, "direction": ""}, format="json")

    assert response.status_code == 400 and "direction" in response.json()


def test_a_conference_with_a_direction_is_refused(partner: Partner) -> None:
    response = partner.client.post(
        "/api/v1/activities/", {**CALL, "kind": "conference"}, format="json"
    )

    assert response.status_code == 400 and "direction" in response.json()


def test_a_participant_needs_an_email_or_a_phone(partner: Partner) -> None:
    response = partner.client.post(
        "/api/v1/activities/", {**CALL, "participants": [{"name": "Nobody"}]}, format="json"
    )

    assert response.status_code == 400 and "participants" in response.json()


def test_an_activity_without_participants_is_refused(partner: Partner) -> None:
    response = partner.client.post(
        "/api/v1/activities/", {**CALL, "participants": []}, format="json"
    )

    assert response.status_code == 400 and "participants" in response.json()


def test_activities_filter_by_kind(partner: Partner) -> None:
    partner.client.post("/api/v1/activities/", CALL, format="json")
    task = {**CALL, "external_id": "task-1", "kind": "task", "direction": ""}
    partner.client.post("/api/v1/activities/", task, format="json")

    tasks = partner.client.get("/api/v1/activities/", {"kind": "task"}).json()

    assert [a["external_id"] for a in tasks["results"]] == ["task-1"]


def test_deleting_an_activity(partner: Partner) -> None:
    partner.client.post("/api/v1/activities/", CALL, format="json")

    assert partner.client.delete("/api/v1/activities/call-1/").status_code == 204
    assert partner.client.get("/api/v1/activities/call-1/").status_code == 404
