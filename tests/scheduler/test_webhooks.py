from __future__ import annotations

import json
import time
from typing import Any

import pytest
from django.test import Client

from scheduler.models import Booking
from scheduler.services import scheduler_signature
from tenants.models import Tenant

pytestmark = pytest.mark.django_db


def event(event_id: str, kind: str = "booking.created", **booking: Any) -> dict[str, Any]:
    data = {
        "external_id": "b-1",
        "version": 1,
        "host_email": "host@acme.test",
        "guest_email": "guest@customer.example",
        "title": "Intro",
        "start": "2026-12-01T10:00:00Z",
        "end": "2026-12-01T10:30:00Z",
    }
    data.update(booking)
    return {"id": event_id, "event": kind, "booking": data}


def deliver(
    tenant: Tenant,
    payload: Any,
    *,
    secret: str | None = None,
    at: float | None = None,
    raw: bytes | None = None,
    header: str | None = None,
) -> Any:
    body = raw if raw is not None else json.dumps(payload).encode()
    timestamp = int(time.time() if at is None else at)
    signature = scheduler_signature(
        secret=secret or tenant.scheduler_webhook_secret, timestamp=timestamp, body=body
    )
    return Client().post(
        f"/api/v1/scheduler/webhooks/{tenant.slug}/",
        data=body,
        content_type="application/json",
        headers={
            "Scheduler-Signature": header if header is not None else f"t={timestamp},v1={signature}"
        },
    )


def test_a_signed_booking_event_creates_the_booking(tenant: Tenant) -> None:
    response = deliver(tenant, event("evt-1"))

    assert response.status_code == 200, response.json()
    assert response.json()["outcome"] == "created"
    assert Booking.objects.get(tenant=tenant).guest_email == "guest@customer.example"


def test_a_wrong_signature_is_refused_and_changes_nothing(tenant: Tenant) -> None:
    response = deliver(tenant, event("evt-1"), secret="not-the-secret")

    assert response.status_code == 401
    assert not Booking.objects.exists()


def test_a_body_changed_after_signing_is_refused(tenant: Tenant) -> None:
    timestamp = int(time.time())
    signed = json.dumps(event("evt-1")).encode()
    signature = scheduler_signature(
        secret=tenant.scheduler_webhook_secret, timestamp=timestamp, body=signed
    )

    response = deliver(
        tenant,
        None,
        raw=json.dumps(event("evt-1", title="Tampered")).encode(),
        header=f"t={timestamp},v1={signature}",
    )

    assert response.status_code == 401


def test_a_stale_timestamp_is_refused(tenant: Tenant) -> None:
    response = deliver(tenant, event("evt-1"), at=time.time() - 3600)

    assert response.status_code == 401
    assert "too old" in response.json()["detail"]


def test_a_missing_signature_header_is_refused(tenant: Tenant) -> None:
    response = deliver(tenant, event("evt-1"), header="")

    assert response.status_code == 401


def test_a_replayed_event_id_is_refused(tenant: Tenant) -> None:
    deliver(tenant, event("evt-1"))

    replay = deliver(tenant, event("evt-1", version=2, title="Changed"))

    assert replay.status_code == 409
    assert Booking.objects.get().title == "Intro"


def test_reschedule_and_cancel_events_follow_versions(tenant: Tenant) -> None:
    deliver(tenant, event("evt-1"))
    deliver(tenant, event("evt-3", "booking.cancelled", version=3))

    late = deliver(
        tenant,
        event(
            "evt-2",
            "booking.rescheduled",
            version=2,
            start="2026-12-05T10:00:00Z",
            end="2026-12-05T11:00:00Z",
        ),
    )

    booking = Booking.objects.get()
    assert late.json()["outcome"] == "stale_version_ignored"
    assert booking.status == "cancelled" and booking.start.day == 1


def test_an_event_with_a_bad_booking_names_the_field(tenant: Tenant) -> None:
    response = deliver(tenant, event("evt-1", start="tomorrow"))

    assert response.status_code == 400
    assert "booking.start" in response.json()
    assert not Booking.objects.exists()


def test_a_rejected_event_can_be_sent_again_once_fixed(tenant: Tenant) -> None:
    deliver(tenant, event("evt-1", start="tomorrow"))

    fixed = deliver(tenant, event("evt-1"))

    assert fixed.status_code == 200


def test_an_unknown_event_type_is_refused(tenant: Tenant) -> None:
    response = deliver(tenant, event("evt-1", "booking.exploded"))

    assert response.status_code == 400 and "event" in response.json()


def test_an_unknown_tenant_slug_is_refused_like_a_bad_signature(tenant: Tenant) -> None:
    response = Client().post(
        "/api/v1/scheduler/webhooks/nobody/", data=b"{}", content_type="application/json"
    )

    assert response.status_code == 401


def test_another_tenants_secret_does_not_sign_for_this_tenant(tenant: Tenant) -> None:
    from tests.factories import TenantFactory

    other = TenantFactory()

    response = deliver(tenant, event("evt-1"), secret=other.scheduler_webhook_secret)

    assert response.status_code == 401
