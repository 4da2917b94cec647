"""The scheduler webhook at its edges: headers that do not parse, tenants that do not
exist, bodies the booking API would refuse, and cancellations that carry the booking's
latest time. Each answer is a plain JSON 400 or 401, never a server error."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.test import Client

from scheduler.models import Booking, SchedulerWebhookEvent
from tenants.models import Tenant
from tests.conftest import Partner
from tests.factories import TenantFactory
from tests.scheduler.test_webhooks import deliver, event

pytestmark = pytest.mark.django_db


def post_signed(slug: str, header: str) -> Any:
    return Client().post(
        f"/api/v1/scheduler/webhooks/{slug}/",
        data=b'{"id": "evt-1"}',
        content_type="application/json",
        headers={"Scheduler-Signature": header},
    )


@pytest.mark.parametrize(
    "header",
    [
        "t=²,v1=abcdef",
        "t=" + "9" * 400 + ",v1=abcdef",
        "t=" + "9" * 5000 + ",v1=abcdef",
        "t=-5,v1=abcdef",
        f"t={int(time.time())},v1=é",
        f"t={int(time.time())},v1=" + "é" * 64,
        "complete garbage",
        "t,v1,=,,==",
    ],
    ids=[
        "superscript",
        "400-digits",
        "5000-digits",
        "negative",
        "accent",
        "accents",
        "words",
        "commas",
    ],
)
def test_a_malformed_signature_header_is_a_plain_401(tenant: Tenant, header: str) -> None:
    response = post_signed(tenant.slug, header)

    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert "detail" in response.json()
    assert not SchedulerWebhookEvent.objects.exists()


@pytest.mark.parametrize(
    "header",
    [
        f"t={int(time.time())},v1={'ab' * 32}",
        f"t={int(time.time()) - 3600},v1={'ab' * 32}",
        "t=²,v1=abcdef",
        "",
    ],
    ids=["wrong-signature", "old", "malformed", "missing"],
)
def test_an_unknown_tenant_is_answered_exactly_like_a_bad_signature(
    tenant: Tenant, header: str
) -> None:
    known = post_signed(tenant.slug, header)
    unknown = post_signed("no-such-tenant", header)

    assert known.status_code == unknown.status_code == 401
    assert known.json() == unknown.json()


def test_a_tenant_without_a_secret_is_answered_like_a_bad_signature(tenant: Tenant) -> None:
    unsigned = TenantFactory(scheduler_webhook_secret="")
    header = f"t={int(time.time())},v1={'ab' * 32}"

    response = post_signed(unsigned.slug, header)

    assert response.status_code == 401
    assert response.json() == post_signed(tenant.slug, header).json()


def test_a_tenant_without_a_secret_takes_no_delivery_signed_with_a_blank_one(
    tenant: Tenant,
) -> None:
    unsigned = TenantFactory(scheduler_webhook_secret="")

    response = deliver(unsigned, event("evt-1"), secret="")

    assert response.status_code == 401
    assert not Booking.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("title", "x" * 2001),  # one over the documented 2,000
        ("title", "Intro\x00call"),
        ("host_email", "not an email"),
        ("guest_email", "a" * 250 + "@example.com"),
        ("guest_name", "n" * 300),
        ("description", "bad\x00byte"),
        ("description", "d" * 100_001),
        ("external_id", "e" * 300),
        ("version", 2**31),
        ("version", 2**63),
        ("version", "seven"),
        ("start", "2027-13-45T10:00:00Z"),
        ("start", "2027-01-01T25:00:00Z"),
        ("start", "2027-02-30T10:00:00Z"),
        ("end", "2026-11-30T10:00:00Z"),
    ],
)
def test_a_booking_the_api_would_refuse_is_refused_with_its_field_named(
    tenant: Tenant, field: str, value: Any
) -> None:
    response = deliver(tenant, event("evt-1", **{field: value}))

    assert response.status_code == 400, response.content
    assert f"booking.{field}" in response.json()
    assert not Booking.objects.exists()
    assert not SchedulerWebhookEvent.objects.exists()


@pytest.mark.parametrize("kind", ["booking.rescheduled", "booking.cancelled"])
def test_a_change_with_an_impossible_date_is_refused(tenant: Tenant, kind: str) -> None:
    deliver(tenant, event("evt-1"))

    response = deliver(tenant, event("evt-2", kind, version=2, start="2027-02-30T10:00:00Z"))

    assert response.status_code == 400
    assert "booking.start" in response.json()
    assert Booking.objects.get().version == 1


@pytest.mark.parametrize(("sent", "stored"), [("false", False), (False, False), ("true", True)])
def test_booked_by_guest_is_read_as_a_yes_or_no(tenant: Tenant, sent: Any, stored: bool) -> None:
    response = deliver(tenant, event("evt-1", booked_by_guest=sent))

    assert response.status_code == 200
    assert Booking.objects.get().booked_by_guest is stored


def test_an_event_that_is_not_an_object_is_refused(tenant: Tenant) -> None:
    for number, body in enumerate([[1, 2], "text", {"id": "evt", "event": "booking.created"}]):
        response = deliver(tenant, body)
        assert response.status_code == 400, (number, response.content)
    assert deliver(tenant, None, raw=b"[" * 100_000).status_code == 400


def test_a_cancellation_moves_the_booking_to_its_latest_time_and_title(tenant: Tenant) -> None:
    deliver(tenant, event("evt-1"))

    response = deliver(
        tenant,
        event(
            "evt-2",
            "booking.cancelled",
            version=2,
            title="Intro (moved, then cancelled)",
            start="2026-12-05T10:00:00Z",
            end="2026-12-05T11:00:00Z",
        ),
    )

    assert response.json()["outcome"] == "updated"
    booking = Booking.objects.get()
    assert booking.status == "cancelled" and booking.start.day == 5 and booking.end.hour == 11
    assert booking.title == "Intro (moved, then cancelled)"


def test_an_older_cancellation_never_moves_the_booking_back(tenant: Tenant) -> None:
    deliver(tenant, event("evt-1"))
    deliver(
        tenant,
        event(
            "evt-3",
            "booking.rescheduled",
            version=3,
            start="2026-12-09T10:00:00Z",
            end="2026-12-09T10:30:00Z",
        ),
    )

    late = deliver(tenant, event("evt-2", "booking.cancelled", version=2))

    assert late.json()["outcome"] == "stale_version_ignored"
    booking = Booking.objects.get()
    assert booking.status == "rescheduled" and booking.start.day == 9


def test_the_api_cancellation_may_carry_the_latest_time(partner: Partner) -> None:
    deliver(partner.tenant, event("evt-1"))

    half = partner.client.post(
        "/api/v1/bookings/b-1/cancel/",
        {"version": 2, "start": "2026-12-05T10:00:00Z"},
        format="json",
    )
    whole = partner.client.post(
        "/api/v1/bookings/b-1/cancel/",
        {"version": 2, "start": "2026-12-05T10:00:00Z", "end": "2026-12-05T10:30:00Z"},
        format="json",
    )

    assert half.status_code == 400 and "end" in half.json()
    assert whole.status_code == 200
    assert whole.json()["booking"]["start"] == "2026-12-05T10:00:00Z"
