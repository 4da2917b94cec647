"""SPEC 3.6: a cancellation from the scheduler carries the booking's latest time, and the
cancelled Task in Salesforce shows it."""

from __future__ import annotations

import pytest

from salesforce_emulator.testing import OrgHandle
from tests.conftest import Partner
from tests.scheduler.test_webhooks import deliver, event

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def host_and_guest(sf: OrgHandle) -> None:
    sf.insert("User", Username="host.sf", Email="host@acme.test", LastName="Host", Alias="Host")
    sf.insert("Contact", LastName="Guest", Email="guest@customer.example")


@pytest.mark.usefixtures("host_and_guest")
def test_a_cancellation_with_a_new_date_moves_the_cancelled_task(
    partner: Partner, sf: OrgHandle
) -> None:
    deliver(partner.tenant, event("evt-1"))

    deliver(
        partner.tenant,
        event(
            "evt-2",
            "booking.cancelled",
            version=2,
            start="2026-12-07T10:00:00Z",
            end="2026-12-07T10:30:00Z",
        ),
    )

    tasks = sf.records("Task")
    assert len(tasks) == 1
    assert tasks[0]["Status"] == "Completed" and tasks[0]["ActivityDate"] == "2026-12-07"
