from __future__ import annotations

import pytest

from integrations.models import SyncJob
from scheduler.models import Booking
from tests.conftest import Partner

pytestmark = pytest.mark.django_db

BOOKING = {
    "external_id": "b-1",
    "version": 1,
    "host_email": "Host@Acme.test",
    "guest_email": "Guest@Customer.example",
    "guest_name": "Gina Guest",
    "title": "Intro call",
    "description": "Wants a demo",
    "start": "2026-12-01T10:00:00Z",
    "end": "2026-12-01T10:30:00Z",
}


def test_creating_a_booking(partner: Partner) -> None:
    response = partner.client.post("/api/v1/bookings/", BOOKING, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["outcome"] == "created" and body["applied"] is True
    assert body["booking"]["guest_email"] == "guest@customer.example"
    assert body["booking"]["status"] == "scheduled"
    assert SyncJob.objects.filter(operation="booking.sync").count() == 1


def test_repeating_a_booking_changes_nothing(partner: Partner) -> None:
    partner.client.post("/api/v1/bookings/", BOOKING, format="json")

    again = partner.client.post("/api/v1/bookings/", BOOKING, format="json")

    assert again.status_code == 200
    assert again.json()["outcome"] == "unchanged"
    assert Booking.objects.count() == 1


def test_reschedule_with_a_newer_version_moves_the_booking(partner: Partner) -> None:
    partner.client.post("/api/v1/bookings/", BOOKING, format="json")

    moved = partner.client.post(
        "/api/v1/bookings/b-1/reschedule/",
        {"version": 2, "start": "2026-12-02T10:00:00Z", "end": "2026-12-02T10:30:00Z"},
        format="json",
    ).json()

    assert moved["applied"] is True
    assert moved["booking"]["status"] == "rescheduled"
    assert moved["booking"]["start"] == "2026-12-02T10:00:00Z"
    assert moved["booking"]["version"] == 2


def test_an_older_reschedule_arriving_late_is_ignored(partner: Partner) -> None:
    partner.client.post("/api/v1/bookings/", BOOKING, format="json")
    partner.client.post(
        "/api/v1/bookings/b-1/reschedule/",
        {"version": 3, "start": "2026-12-03T10:00:00Z", "end": "2026-12-03T10:30:00Z"},
        format="json",
    )

    late = partner.client.post(
        "/api/v1/bookings/b-1/reschedule/",
        {"version": 2, "start": "2026-12-02T10:00:00Z", "end": "2026-12-02T10:30:00Z"},
        format="json",
    ).json()

    assert late["outcome"] == "stale_version_ignored" and late["applied"] is False
    assert late["booking"]["start"] == "2026-12-03T10:00:00Z"


def test_a_cancelled_booking_is_never_resurrected(partner: Partner) -> None:
    partner.client.post("/api/v1/bookings/", BOOKING, format="json")
    cancelled = partner.client.post(
        "/api/v1/bookings/b-1/cancel/", {"version": 2}, format="json"
    ).json()

    later = partner.client.post(
        "/api/v1/bookings/b-1/reschedule/",
        {"version": 5, "start": "2026-12-09T10:00:00Z", "end": "2026-12-09T10:30:00Z"},
        format="json",
    ).json()

    assert cancelled["booking"]["status"] == "cancelled" and cancelled["booking"]["cancelled_at"]
    assert later["outcome"] == "cancelled_booking_unchanged"
    assert later["booking"]["status"] == "cancelled"
    assert later["booking"]["start"] == "2026-12-01T10:00:00Z"


def test_a_booking_without_version_is_refused(partner: Partner) -> None:
    bad = {k: v for k, v in BOOKING.items() if k != "version"}

    response = partner.client.post("/api/v1/bookings/", bad, format="json")

    assert response.status_code == 400 and "version" in response.json()


def test_a_reschedule_ending_before_it_starts_is_refused(partner: Partner) -> None:
    partner.client.post("/api/v1/bookings/", BOOKING, format="json")

    response = partner.client.post(
        "/api/v1/bookings/b-1/reschedule/",
        {"version": 2, "start": "2026-12-02T10:00:00Z", "end": "2026-12-02T09:00:00Z"},
        format="json",
    )

    assert response.status_code == 400 and "end" in response.json()


def test_bookings_filter_by_status(partner: Partner) -> None:
    partner.client.post("/api/v1/bookings/", BOOKING, format="json")
    partner.client.post("/api/v1/bookings/", {**BOOKING, "external_id": "b-2"}, format="json")
    partner.client.post("/api/v1/bookings/b-2/cancel/", {"version": 2}, format="json")

    cancelled = partner.client.get("/api/v1/bookings/", {"status": "cancelled"}).json()

    assert [b["external_id"] for b in cancelled["results"]] == ["b-2"]
