"""An activity's participants keep their rows across edits.

Sync mappings (the Salesforce Task logged for a participant, the Lead made from one) are
keyed on the participant's id: a person who is still listed after an edit must keep
their row, or the next sync would make a second Task.
"""

from __future__ import annotations

from typing import Any

import pytest

from meetings.models import ActivityParticipant
from tests.conftest import Partner

pytestmark = pytest.mark.django_db

AGENT = {"email": "agent@acme.test"}
LEAD = {"email": "Lead@Prospect.example", "phone": "+3312345"}
BUYER = {"email": "buyer@prospect.example"}
CALLER = {"phone": "+33 6 12 34 56 78"}

CALL: dict[str, Any] = {
    "external_id": "call-1",
    "kind": "call",
    "direction": "outbound",
    "started_at": "2026-11-20T09:00:00Z",
    "logged_by_email": "agent@acme.test",
    "participants": [AGENT, LEAD],
}


def participant_ids() -> dict[str, int]:
    """Each participant's id, keyed by their email (or phone when they have none)."""
    return {p.email or p.phone: p.pk for p in ActivityParticipant.objects.all()}


def participants_set(partner: Partner, people: list[dict[str, str]]) -> dict[str, Any]:
    response = partner.client.patch(
        "/api/v1/activities/call-1/", {"participants": people}, format="json"
    )
    assert response.status_code == 200, response.json()
    return response.json()


def test_naming_a_participant_keeps_their_id(partner: Partner) -> None:
    partner.client.post("/api/v1/activities/", CALL, format="json")
    before = participant_ids()

    body = participants_set(partner, [AGENT, {**LEAD, "name": "Lena Lead"}])

    assert participant_ids() == before
    assert ActivityParticipant.objects.get(pk=before["lead@prospect.example"]).name == "Lena Lead"
    assert body["version"] == 2


def test_resending_the_call_with_a_new_name_keeps_every_id(partner: Partner) -> None:
    partner.client.post("/api/v1/activities/", CALL, format="json")
    before = participant_ids()

    again = {**CALL, "participants": [AGENT, {**LEAD, "name": "Lena Lead"}]}
    partner.client.post("/api/v1/activities/", again, format="json")

    assert participant_ids() == before


def test_reordering_participants_keeps_their_ids_and_changes_nothing(partner: Partner) -> None:
    partner.client.post("/api/v1/activities/", CALL, format="json")
    before = participant_ids()

    body = participants_set(partner, [LEAD, AGENT])

    assert participant_ids() == before
    assert body["version"] == 1


def test_removing_a_participant_deletes_only_their_row(partner: Partner) -> None:
    partner.client.post(
        "/api/v1/activities/", {**CALL, "participants": [AGENT, LEAD, BUYER]}, format="json"
    )
    before = participant_ids()

    body = participants_set(partner, [AGENT, BUYER])

    assert participant_ids() == {
        "agent@acme.test": before["agent@acme.test"],
        "buyer@prospect.example": before["buyer@prospect.example"],
    }
    assert body["version"] == 2


def test_a_new_participant_gets_a_row_and_the_others_keep_theirs(partner: Partner) -> None:
    partner.client.post("/api/v1/activities/", CALL, format="json")
    before = participant_ids()

    participants_set(partner, [AGENT, LEAD, BUYER])

    after = participant_ids()
    assert {k: after[k] for k in before} == before
    assert after["buyer@prospect.example"] not in before.values()


def test_a_phone_only_participant_keeps_their_id_when_their_name_changes(
    partner: Partner,
) -> None:
    partner.client.post(
        "/api/v1/activities/", {**CALL, "participants": [AGENT, CALLER]}, format="json"
    )
    before = participant_ids()

    body = participants_set(partner, [AGENT, {**CALLER, "name": "Unknown caller"}])

    assert participant_ids() == before
    assert ActivityParticipant.objects.get(pk=before[CALLER["phone"]]).name == "Unknown caller"
    assert body["version"] == 2


def test_a_participant_matched_by_email_takes_their_new_phone(partner: Partner) -> None:
    partner.client.post("/api/v1/activities/", CALL, format="json")
    before = participant_ids()

    participants_set(partner, [AGENT, {**LEAD, "phone": "+3399"}])

    lead = ActivityParticipant.objects.get(pk=before["lead@prospect.example"])
    assert lead.phone == "+3399"
