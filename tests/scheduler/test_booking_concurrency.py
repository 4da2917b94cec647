"""Simultaneous upserts of the same booking, as real concurrent requests (threads, each
with its own database connection): neither answers an error, and the newer version
wins whichever arrives first.

PostgreSQL only: SQLite takes the write lock when a transaction begins, so requests
never race there."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from scheduler.models import Booking
from tenants.models import Tenant
from tests.concurrency import at_once, postgres_only  # noqa: F401 (the fixture)
from tests.conftest import Partner
from tests.scheduler.test_webhooks import deliver, event

PAIRS = 20

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres_only")]


def booking(external_id: str, version: int) -> dict[str, Any]:
    return {
        "external_id": external_id,
        "version": version,
        "host_email": "host@acme.test",
        "guest_email": f"guest-v{version}@customer.example",
        "title": f"Intro call, version {version}",
        "start": f"2026-12-0{version}T10:00:00Z",
        "end": f"2026-12-0{version}T10:30:00Z",
    }


def _newer_version_won(tenant: Tenant) -> None:
    bookings = Booking.objects.filter(tenant=tenant)
    assert bookings.count() == PAIRS
    for stored in bookings:
        assert stored.version == 2
        assert stored.title == "Intro call, version 2"
        assert stored.guest_email == "guest-v2@customer.example"
        assert stored.start.isoformat() == "2026-12-02T10:00:00+00:00"


def test_simultaneous_booking_upserts_keep_the_newer_version(partner: Partner) -> None:
    def post(body: dict[str, Any]) -> Any:
        # A server error comes back as a 500 answer rather than an exception here.
        client = APIClient(raise_request_exception=False)
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {partner.plain_key}")
        return lambda: client.post("/api/v1/bookings/", body, format="json")

    answers = [
        # Alternate which version is sent first, so each order is raced.
        at_once([post(booking(f"b-{n}", 1 + n % 2)), post(booking(f"b-{n}", 2 - n % 2))])
        for n in range(PAIRS)
    ]

    assert all(sorted(pair) == [200, 201] for pair in answers), answers
    _newer_version_won(partner.tenant)


def test_simultaneous_booking_webhooks_keep_the_newer_version(tenant: Tenant) -> None:
    def send(n: int, version: int) -> Any:
        payload = event(f"evt-{n}-{version}", **booking(f"b-{n}", version))
        return lambda: deliver(tenant, payload)

    answers = [at_once([send(n, 1), send(n, 2)]) for n in range(PAIRS)]

    assert all(500 not in pair for pair in answers), answers
    _newer_version_won(tenant)
