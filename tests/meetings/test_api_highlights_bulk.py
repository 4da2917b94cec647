"""Up to 500 highlights of a meeting in one request: each checked as the single upsert
checks it, all stored or none, in statements that do not grow with their number, and
only the sync jobs that carry the changes queued."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from integrations.models import SyncJob
from meetings.models import Highlight
from salesforce_emulator.testing import OrgHandle
from tests.conftest import Partner
from tests.factories import MeetingFactory
from tests.sync.conftest import meeting_push
from tests.sync.conftest import sf as sf  # the emulator-connected tenant fixture

pytestmark = pytest.mark.django_db

URL = "/api/v1/meetings/m-1/highlights-bulk/"


def items(count: int, *, text: str = "Said at {n}", start: int = 0) -> list[dict[str, Any]]:
    return [
        {"external_id": f"h-{n}", "text": text.format(n=n), "offset_seconds": n}
        for n in range(start, start + count)
    ]


def test_500_highlights_in_one_request_are_all_stored(partner: Partner) -> None:
    MeetingFactory(tenant=partner.tenant, external_id="m-1")

    answer = partner.client.post(URL, {"highlights": items(500)}, format="json")

    assert answer.status_code == 200, answer.json()
    body = answer.json()
    assert (body["created"], body["updated"], body["unchanged"]) == (500, 0, 0)
    assert [h["external_id"] for h in body["highlights"]] == [f"h-{n}" for n in range(500)]
    stored = Highlight.objects.filter(meeting__external_id="m-1")
    assert stored.count() == 500
    assert stored.get(external_id="h-42").text == "Said at 42"
    listed = partner.client.get("/api/v1/meetings/m-1/highlights/", {"page_size": 200}).json()
    assert listed["count"] == 500


def test_a_bulk_of_500_costs_the_statements_of_a_bulk_of_10(partner: Partner) -> None:
    MeetingFactory(tenant=partner.tenant, external_id="m-1")
    counts = []
    for start, size in ((0, 10), (10, 500)):
        with CaptureQueriesContext(connection) as captured:
            answer = partner.client.post(
                URL, {"highlights": items(size, start=start)}, format="json"
            )
        assert answer.status_code == 200
        # Django splits one insert to stay under SQLite's 999 variables per statement.
        inserts = [q for q in captured.captured_queries if q["sql"].startswith("INSERT")]
        counts.append(len(captured.captured_queries) - len(inserts) + min(len(inserts), 1))
    assert counts[0] == counts[1]


def test_sending_them_again_changes_nothing_and_an_edit_bumps_only_its_version(
    partner: Partner,
) -> None:
    MeetingFactory(tenant=partner.tenant, external_id="m-1")
    partner.client.post(URL, {"highlights": items(3)}, format="json")
    Highlight.objects.filter(external_id="h-2").update(is_deleted=True, version=2)
    again = items(3)
    again[0]["text"] = "Said at 0, corrected"

    body = partner.client.post(URL, {"highlights": again}, format="json").json()

    results = {h["external_id"]: (h["result"], h["version"]) for h in body["highlights"]}
    assert results == {
        "h-0": ("updated", 2),
        "h-1": ("unchanged", 1),
        "h-2": ("updated", 3),  # a deleted highlight sent again is restored
    }
    assert not Highlight.objects.get(external_id="h-2").is_deleted
    assert Highlight.objects.get(external_id="h-0").text == "Said at 0, corrected"


def test_one_bad_item_is_named_by_its_place_and_nothing_is_stored(partner: Partner) -> None:
    MeetingFactory(tenant=partner.tenant, external_id="m-1")
    batch = items(4)
    batch[2]["text"] = ""
    batch[3]["external_id"] = "has/slash"

    answer = partner.client.post(URL, {"highlights": batch}, format="json")

    assert answer.status_code == 400
    errors = answer.json()["highlights"]
    assert set(errors) == {"2", "3"}
    assert "text" in errors["2"] and "external_id" in errors["3"]
    assert answer.json()["code"] == "invalid"
    assert not Highlight.objects.exists()


def test_an_id_twice_in_one_request_is_refused_at_its_second_place(partner: Partner) -> None:
    MeetingFactory(tenant=partner.tenant, external_id="m-1")
    batch = items(3)
    batch[2]["external_id"] = "h-0"

    answer = partner.client.post(URL, {"highlights": batch}, format="json")

    assert answer.status_code == 400
    assert answer.json()["highlights"] == {
        "2": {"external_id": ["This external_id appears twice."]}
    }
    assert not Highlight.objects.exists()


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"highlights": items(501)}, "no more than 500"),
        ({"highlights": []}, "empty"),
        ({"highlights": {"external_id": "h-1"}}, "list"),
        ({}, "required"),
    ],
)
def test_a_bulk_out_of_bounds_is_a_clear_400(partner: Partner, body: Any, words: str) -> None:
    MeetingFactory(tenant=partner.tenant, external_id="m-1")

    answer = partner.client.post(URL, body, format="json")

    assert answer.status_code == 400
    errors = answer.json()["highlights"]
    message = " ".join(errors["non_field_errors"] if isinstance(errors, dict) else errors)
    assert words in message.lower(), message


def test_another_tenants_meeting_is_not_found(partner: Partner, other_partner: Partner) -> None:
    MeetingFactory(tenant=other_partner.tenant, external_id="m-1")

    answer = partner.client.post(URL, {"highlights": items(2)}, format="json")

    assert answer.status_code == 404
    assert not Highlight.objects.exists()


def test_highlights_of_a_meeting_not_yet_synced_queue_nothing(partner: Partner) -> None:
    MeetingFactory(tenant=partner.tenant, external_id="m-1")

    partner.client.post(URL, {"highlights": items(50)}, format="json")

    assert not SyncJob.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_bulk_edit_of_a_synced_meeting_reaches_its_note_with_one_job(
    partner: Partner, sf: OrgHandle
) -> None:
    account = sf.insert("Account", Name="Initech")
    sf.insert("Contact", LastName="Bob", Email="bob@initech.example", AccountId=account)
    meeting_push(partner, "m-1", highlights=["Budget is approved", "Needs SSO"])
    note_jobs_before = SyncJob.objects.count()
    edits = [
        {"external_id": "h1", "text": "Budget is approved for Q1", "offset_seconds": 60},
        {"external_id": "h2", "text": "Needs SSO", "offset_seconds": 120},
        {"external_id": "h3", "text": "Wants a pilot", "offset_seconds": 180},
    ]

    answer = partner.client.post(URL, {"highlights": edits}, format="json")

    assert [h["result"] for h in answer.json()["highlights"]] == ["updated", "unchanged", "created"]
    new_jobs = SyncJob.objects.order_by("id")[note_jobs_before:]
    assert [j.operation for j in new_jobs] == ["highlight.sync"]
    assert new_jobs[0].state == "succeeded", new_jobs[0].reason
    (note,) = sf.records("ContentNote")
    body = (sf.note_content(note["Id"]) or b"").decode()
    assert "Budget is approved for Q1" in body and "Wants a pilot" in body
