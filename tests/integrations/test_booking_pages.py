"""The bookings list: search, filters, pages, each booking's state in Salesforce in
words and a link that opens its Task in the org (the emulator serves a page there)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from integrations.enums import Operation
from integrations.models import SyncJob
from salesforce_emulator.testing import EmulatorServer, OrgHandle, trusted_session
from scheduler.models import Booking
from tenants.models import Membership, Tenant
from tests.conftest import Partner
from tests.factories import (
    BookingFactory,
    MembershipFactory,
    SalesforceConnectionFactory,
    SyncJobFactory,
    SyncMappingFactory,
    TenantFactory,
    UserFactory,
)
from tests.sync.conftest import sf as sf  # the emulator-connected tenant fixture


def signed_in(tenant: Tenant, role: str = Membership.Role.MEMBER) -> Client:
    user = UserFactory()
    MembershipFactory(tenant=tenant, user=user, role=role)
    client = Client()
    client.force_login(user)
    return client


def page_text(response: Any) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def rows_by_id(html: str) -> dict[str, str]:
    """Each row of the list by the booking's id (shown as "id <external id>")."""
    if "<tbody>" not in html:
        return {}
    body = html[html.index("<tbody>") : html.index("</tbody>")]
    return {row.split("· id ")[1].split("<")[0]: row for row in body.split("<tr>")[1:]}


def job_about(booking: Booking, state: str, **fields: Any) -> SyncJob:
    return SyncJobFactory(
        local_object=booking, operation=Operation.BOOKING_SYNC, state=state, **fields
    )


@pytest.mark.django_db
def test_the_bookings_list_says_where_each_booking_stands_and_opens_its_task(
    tenant: Tenant,
) -> None:
    SalesforceConnectionFactory(tenant=tenant, instance_url="https://acme.my.salesforce.test/")
    logged = BookingFactory(tenant=tenant, external_id="b-logged", title="Intro with Gina")
    SyncMappingFactory(
        tenant=tenant,
        local_object=logged,
        purpose="booking_task",
        salesforce_object="Task",
        salesforce_id="00T000000000001AAA",
        state="confirmed",
    )
    job_about(logged, "succeeded", reason="Logged as an open Task.")
    cancelled = BookingFactory(tenant=tenant, external_id="b-cancelled", status="cancelled")
    SyncMappingFactory(
        tenant=tenant,
        local_object=cancelled,
        purpose="booking_task",
        salesforce_object="Task",
        salesforce_id="00T000000000002AAA",
        state="confirmed",
    )
    unknown = BookingFactory(tenant=tenant, external_id="b-unknown")
    job_about(
        unknown,
        "skipped",
        reason="The guest g@x.example is not a Contact or Lead in Salesforce; bookings are "
        "logged only for people already there.",
    )
    pending = BookingFactory(tenant=tenant, external_id="b-pending")
    job_about(pending, "pending")
    two_guests = BookingFactory(tenant=tenant, external_id="b-two")
    review = job_about(two_guests, "needs_review", reason="Several records match the guest.")

    rows = rows_by_id(page_text(signed_in(tenant).get("/bookings/")))

    assert "Logged</span>" in rows["b-logged"] and "An open Task" in rows["b-logged"]
    assert 'href="https://acme.my.salesforce.test/00T000000000001AAA"' in rows["b-logged"]
    assert "Open the Task in Salesforce" in rows["b-logged"]
    assert "says the booking was cancelled" in rows["b-cancelled"]
    assert "Cancelled" in rows["b-cancelled"]
    assert "Not logged</span>" in rows["b-unknown"] and "not a Contact or Lead" in rows["b-unknown"]
    assert "Open the Task" not in rows["b-unknown"]
    assert "Being logged</span>" in rows["b-pending"]
    assert "Needs your choice</span>" in rows["b-two"]
    assert f'href="/sync/{review.pk}/">Choose the guest' in rows["b-two"]
    assert "booking_task" not in "".join(rows.values())


@pytest.mark.django_db
def test_bookings_are_found_by_guest_host_title_or_id(tenant: Tenant) -> None:
    BookingFactory(tenant=tenant, external_id="b-1", guest_email="gina@initech.example")
    BookingFactory(tenant=tenant, external_id="b-2", host_email="hal@acme.test")
    BookingFactory(tenant=tenant, external_id="b-3", title="Renewal review")
    BookingFactory(tenant=tenant, external_id="zz-9")
    BookingFactory(
        tenant=TenantFactory(), external_id="b-theirs", guest_email="gina@initech.example"
    )
    client = signed_in(tenant)

    def found(query: str) -> set[str]:
        return set(rows_by_id(page_text(client.get("/bookings/", {"q": query}))))

    assert found("INITECH") == {"b-1"}
    assert found("hal@") == {"b-2"}
    assert found("renewal") == {"b-3"}
    assert found("zz-") == {"zz-9"}
    html = page_text(client.get("/bookings/", {"q": "nobody"}))
    assert "No booking matches these filters." in html


@pytest.mark.django_db
def test_bookings_are_filtered_by_status_state_and_day(tenant: Tenant) -> None:
    soon = timezone.now().replace(microsecond=0) + dt.timedelta(days=20)
    BookingFactory(tenant=tenant, external_id="moved", status="rescheduled", start=soon)
    off = BookingFactory(tenant=tenant, external_id="off", status="cancelled")
    job_about(off, "failed", reason="Refused.")
    BookingFactory(tenant=tenant, external_id="on")
    client = signed_in(tenant)

    def found(**query: str) -> set[str]:
        return set(rows_by_id(page_text(client.get("/bookings/", query))))

    assert found(status="rescheduled") == {"moved"}
    assert found(status="rescheduled", q="moved") == {"moved"}
    assert found(status="cancelled") == {"off"}
    assert found(state="failed") == {"off"}
    assert found(since=str(soon.date())) == {"moved"}
    assert found(until=str((soon - dt.timedelta(days=1)).date())) == {"off", "on"}


@pytest.mark.django_db
def test_the_bookings_list_pages_and_reads_a_fixed_number_of_queries(tenant: Tenant) -> None:
    start = timezone.now().replace(microsecond=0)
    client = signed_in(tenant)

    def queries(**query: Any) -> tuple[int, str]:
        with CaptureQueriesContext(connection) as done:
            html = page_text(client.get("/bookings/", query))
        return len(done), html

    for n in range(3):
        job_about(BookingFactory(tenant=tenant, start=start - dt.timedelta(hours=n)), "skipped")
    few, _ = queries()
    for n in range(27):
        BookingFactory(
            tenant=tenant,
            external_id=f"late-{n:02}",
            status="rescheduled",
            start=start - dt.timedelta(days=1, hours=n),
        )
    many, first = queries(status="rescheduled")
    _, second = queries(status="rescheduled", page=2)

    assert many == few
    assert "Page 1 of 2" in first and 'href="?status=rescheduled&amp;page=2"' in first
    assert "late-26" in second and "late-26" not in first


@pytest.mark.django_db(transaction=True)
def test_a_booked_meeting_opens_its_task_in_the_org(
    partner: Partner, sf: OrgHandle, salesforce_server: EmulatorServer
) -> None:
    sf.insert("User", Username="host.sf", Email="host@acme.test", LastName="Host", Alias="host")
    sf.insert("Contact", LastName="Guest", Email="guest@customer.example")
    answer = partner.client.post(
        "/api/v1/bookings/",
        {
            "external_id": "b-1",
            "version": 1,
            "host_email": "host@acme.test",
            "guest_email": "guest@customer.example",
            "guest_name": "Gina Guest",
            "title": "Intro call",
            "start": "2026-12-01T10:00:00Z",
            "end": "2026-12-01T10:30:00Z",
        },
        format="json",
    )
    assert answer.status_code in (200, 201), answer.json()
    [task] = sf.records("Task")

    html = page_text(signed_in(partner.tenant).get("/bookings/"))

    link = f"{sf.instance_url}/{task['Id']}"
    assert f'href="{link}"' in html
    record_page = trusted_session(salesforce_server.ca_file).get(link, timeout=10)
    assert record_page.status_code == 200 and "Intro call" in record_page.text


@pytest.mark.django_db
def test_without_salesforce_connected_the_list_offers_no_task_link(tenant: Tenant) -> None:
    booking = BookingFactory(tenant=tenant, external_id="b-1")
    SyncMappingFactory(
        tenant=tenant,
        local_object=booking,
        purpose="booking_task",
        salesforce_object="Task",
        state="confirmed",
    )

    html = page_text(signed_in(tenant).get("/bookings/"))

    assert "Open the Task" not in html
