"""Simultaneous upserts of the same external id, as real concurrent requests (threads,
each with its own database connection): neither answers an error and both are applied.

PostgreSQL only: SQLite takes the write lock when a transaction begins, so requests
never race there."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from meetings.models import Activity, Highlight, Meeting
from tests.concurrency import at_once, postgres_only  # noqa: F401 (the fixture)
from tests.conftest import Partner
from tests.factories import MeetingFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres_only")]

PAIRS = 20


def _post_together(partner: Partner, url: str, bodies: list[dict[str, Any]]) -> list[int]:
    """POST every body at the same moment, one thread each; the answers' status codes."""

    def sender(body: dict[str, Any]) -> Callable[[], Any]:
        # A server error comes back as a 500 answer rather than an exception here.
        client = APIClient(raise_request_exception=False)
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {partner.plain_key}")
        return lambda: client.post(url, body, format="json")

    return at_once([sender(body) for body in bodies])


def _race_pairs(
    partner: Partner, url: str, body: Callable[[str, str], dict[str, Any]]
) -> list[list[int]]:
    return [
        _post_together(partner, url, [body(f"x-{n}", "first"), body(f"x-{n}", "second")])
        for n in range(PAIRS)
    ]


def test_simultaneous_meeting_upserts_both_apply(partner: Partner) -> None:
    def body(external_id: str, which: str) -> dict[str, Any]:
        return {
            "external_id": external_id,
            "title": f"Call, {which} version",
            "start": "2026-11-20T09:00:00Z",
            "end": "2026-11-20T09:30:00Z",
            "attendees": [{"email": f"{which}@prospect.example"}],
        }

    answers = _race_pairs(partner, "/api/v1/meetings/", body)

    assert all(sorted(pair) == [200, 201] for pair in answers), answers
    meetings = Meeting.objects.filter(tenant=partner.tenant).prefetch_related("attendees")
    assert meetings.count() == PAIRS
    for meeting in meetings:
        # The one applied last wins whole: its title with its own attendees.
        which = meeting.title.split(", ")[1].split(" ")[0]
        assert [a.email for a in meeting.attendees.all()] == [f"{which}@prospect.example"]


def test_simultaneous_highlight_upserts_both_apply(partner: Partner) -> None:
    MeetingFactory(tenant=partner.tenant, external_id="m-1")

    def body(external_id: str, which: str) -> dict[str, Any]:
        return {"external_id": external_id, "text": f"Budget, {which} version"}

    answers = _race_pairs(partner, "/api/v1/meetings/m-1/highlights/", body)

    assert all(sorted(pair) == [200, 201] for pair in answers), answers
    highlights = Highlight.objects.filter(tenant=partner.tenant)
    assert highlights.count() == PAIRS
    # Created by one, then edited by the other: each change counted once.
    assert {h.version for h in highlights} == {2}


def test_simultaneous_activity_upserts_both_apply(partner: Partner) -> None:
    def body(external_id: str, which: str) -> dict[str, Any]:
        return {
            "external_id": external_id,
            "kind": "call",
            "direction": "outbound",
            "started_at": "2026-11-20T09:00:00Z",
            "subject": f"Pricing, {which} version",
            "logged_by_email": "agent@acme.test",
            "participants": [{"email": f"{which}@prospect.example"}],
        }

    answers = _race_pairs(partner, "/api/v1/activities/", body)

    assert all(sorted(pair) == [200, 201] for pair in answers), answers
    activities = Activity.objects.filter(tenant=partner.tenant).prefetch_related("participants")
    assert activities.count() == PAIRS
    assert {a.version for a in activities} == {2}
    for activity in activities:
        which = activity.subject.split(", ")[1].split(" ")[0]
        assert [p.email for p in activity.participants.all()] == [f"{which}@prospect.example"]


def test_simultaneous_bulk_upserts_of_the_same_new_highlights_both_apply(
    partner: Partner,
) -> None:
    MeetingFactory(tenant=partner.tenant, external_id="m-1")
    url = "/api/v1/meetings/m-1/highlights-bulk/"

    def bulk(which: str, round_: int) -> dict[str, Any]:
        return {
            "highlights": [
                {"external_id": f"r{round_}-h{n}", "text": f"{which} {n}", "offset_seconds": n}
                for n in range(20)
            ]
        }

    answers = [
        _post_together(partner, url, [bulk("first", n), bulk("second", n)]) for n in range(PAIRS)
    ]

    assert all(pair == [200, 200] for pair in answers), answers
    highlights = Highlight.objects.filter(meeting__external_id="m-1")
    assert highlights.count() == PAIRS * 20
    for n in range(PAIRS):
        texts = {h.text.split()[0] for h in highlights.filter(external_id__startswith=f"r{n}-")}
        # Each round's highlights hold one request's text whole or the other's, and the
        # one applied second bumped the versions.
        assert len(texts) == 1
        assert {h.version for h in highlights.filter(external_id__startswith=f"r{n}-")} == {2}
