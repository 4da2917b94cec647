"""A booking's external id appears in the API's paths and the portal's pages, so it
keeps to the same safe alphabet as every other external id."""

from __future__ import annotations

import pytest

from scheduler.models import Booking, SchedulerWebhookEvent
from tenants.models import Tenant
from tests.conftest import Partner
from tests.scheduler.test_api_bookings import BOOKING
from tests.scheduler.test_webhooks import deliver, event

pytestmark = pytest.mark.django_db

REFUSED = ["a/b", "a b", "..", ".", "caf\u00e9", "a?b", "a#b", "%2F", "x" * 300]


@pytest.mark.parametrize("external_id", REFUSED)
def test_the_booking_api_refuses_an_id_outside_the_alphabet(
    partner: Partner, external_id: str
) -> None:
    response = partner.client.post(
        "/api/v1/bookings/", {**BOOKING, "external_id": external_id}, format="json"
    )

    assert response.status_code == 400
    assert "external_id" in str(response.json())
    assert not Booking.objects.exists()


@pytest.mark.parametrize("external_id", REFUSED)
def test_a_webhook_refuses_an_id_outside_the_alphabet(tenant: Tenant, external_id: str) -> None:
    response = deliver(tenant, event("evt-1", external_id=external_id))

    assert response.status_code == 400
    assert "booking.external_id" in str(response.json())
    assert not Booking.objects.exists()
    assert not SchedulerWebhookEvent.objects.exists()


def test_an_id_using_the_whole_alphabet_can_be_read_back(partner: Partner) -> None:
    external_id = "Cal.com:evt_9-1@acme"
    created = partner.client.post(
        "/api/v1/bookings/", {**BOOKING, "external_id": external_id}, format="json"
    )

    read = partner.client.get(f"/api/v1/bookings/{external_id}/")

    assert created.status_code == 201, created.json()
    assert read.status_code == 200
    assert read.json()["external_id"] == external_id


def test_the_schema_documents_the_alphabet(partner: Partner) -> None:
    schema = partner.client.get("/api/schema/?format=json")

    assert schema.status_code == 200
    external_id = schema.json()["components"]["schemas"]["BookingInputRequest"]["properties"][
        "external_id"
    ]
    assert "no slashes, no spaces" in external_id["description"]
    assert external_id["pattern"] == "^(?!\\.+$)[A-Za-z0-9._:@-]+$"
