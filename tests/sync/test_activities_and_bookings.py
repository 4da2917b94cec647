"""SPEC 3.5 and 3.6: calls, conferences and tasks become Tasks with the right owner;
scheduler bookings become open Tasks that follow every reschedule and cancellation."""

from __future__ import annotations

from typing import Any

import pytest

from integrations.services.jobs import sync_job_resolve
from integrations.services.settings import integration_settings_update
from salesforce_emulator.testing import OrgHandle
from tests.conftest import Partner
from tests.sync.conftest import last_job

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def auto_log(partner: Partner, sf: OrgHandle) -> OrgHandle:
    integration_settings_update(tenant=partner.tenant, log_calls_automatically=True)
    return sf


def user(sf: OrgHandle, email: str, name: str = "Agent") -> str:
    return sf.insert("User", Username=f"{email}.sf", Email=email, LastName=name, Alias=name[:8])


def activity(partner: Partner, **overrides: Any) -> dict:
    body = {
        "external_id": "call-1",
        "kind": "call",
        "direction": "outbound",
        "started_at": "2026-11-20T09:00:00Z",
        "duration_seconds": 420,
        "subject": "Pricing questions",
        "notes": "Asked for a discount.",
        "logged_by_email": "agent@acme.test",
        "logged_by_name": "Agent Smith",
        "participants": [{"email": "agent@acme.test"}, {"email": "lead@prospect.example"}],
        **overrides,
    }
    answer = partner.client.post("/api/v1/activities/", body, format="json")
    assert answer.status_code in (200, 201), answer.json()
    return answer.json()


def test_a_call_is_logged_as_a_completed_call_task_owned_by_the_logging_user(
    partner: Partner, auto_log: OrgHandle
) -> None:
    agent = user(auto_log, "agent@acme.test")
    lead = auto_log.insert("Lead", LastName="Prospect", Company="P", Email="lead@prospect.example")

    activity(partner)

    tasks = auto_log.records("Task")
    assert len(tasks) == 1, last_job("activity.sync").reason
    task = tasks[0]
    assert task["WhoId"] == lead and task["OwnerId"] == agent
    assert task["Subject"] == "Outbound call: Pricing questions"
    assert (task["TaskSubtype"], task["CallType"], task["Status"]) == (
        "Call",
        "Outbound",
        "Completed",
    )
    assert task["CallDurationInSeconds"] == 420 and task["ActivityDate"] == "2026-11-20"
    assert "Logged by" not in (task["Description"] or "")


def test_without_a_salesforce_user_the_installer_owns_it_and_it_says_who_logged_it(
    partner: Partner, auto_log: OrgHandle
) -> None:
    auto_log.insert("Contact", LastName="Prospect", Email="lead@prospect.example")

    activity(partner)

    task = auto_log.records("Task")[0]
    assert task["OwnerId"] == auto_log.admin_user_id  # the user who installed it
    assert "Logged by Agent Smith <agent@acme.test>" in task["Description"]


def test_a_conference_makes_one_task_per_matched_participant_and_lead_owners_own_theirs(
    partner: Partner, auto_log: OrgHandle
) -> None:
    agent = user(auto_log, "agent@acme.test", "Agent")
    owner = user(auto_log, "owner@acme.test", "Owner")
    lead = auto_log.insert(
        "Lead", LastName="One", Company="P", Email="one@prospect.example", OwnerId=owner
    )
    contact = auto_log.insert("Contact", LastName="Two", Email="two@customer.example")

    activity(
        partner,
        external_id="conf-1",
        kind="conference",
        direction="",
        participants=[
            {"email": "agent@acme.test"},
            {"email": "owner@acme.test"},
            {"email": "one@prospect.example"},
            {"email": "two@customer.example"},
            {"email": "nobody@elsewhere.example"},
        ],
    )

    tasks = {t["WhoId"]: t for t in auto_log.records("Task")}
    assert set(tasks) == {lead, contact}
    assert tasks[lead]["OwnerId"] == owner  # the Lead's owner took part
    assert tasks[contact]["OwnerId"] == agent
    assert tasks[lead]["Subject"].startswith("Conference")


def test_an_internal_only_activity_is_not_logged(partner: Partner, auto_log: OrgHandle) -> None:
    before = auto_log.api_calls

    activity(partner, participants=[{"email": "agent@acme.test"}, {"email": "b@eu.acme.test"}])

    job = last_job("activity.sync")
    assert job.state == "skipped" and "internal" in job.reason
    assert auto_log.records("Task") == [] and auto_log.api_calls == before


def test_calls_wait_for_a_request_when_automatic_logging_is_off(
    partner: Partner, sf: OrgHandle
) -> None:
    sf.insert("Contact", LastName="Prospect", Email="lead@prospect.example")

    activity(partner)

    job = last_job("activity.sync")
    assert job.state == "skipped" and "on request" in job.reason
    assert sf.records("Task") == []


def test_a_participant_matching_two_records_waits_for_a_choice_that_is_remembered(
    partner: Partner, auto_log: OrgHandle
) -> None:
    first = auto_log.insert("Contact", LastName="A", Email="lead@prospect.example")
    auto_log.insert("Lead", LastName="B", Company="P", Email="lead@prospect.example")

    activity(partner)
    job = last_job("activity.sync")
    assert job.state == "needs_review" and len(job.candidates) == 2
    assert auto_log.records("Task") == []

    sync_job_resolve(job=job, choices={"lead@prospect.example": {"object": "Contact", "id": first}})
    activity(partner, external_id="call-2")

    tasks = auto_log.records("Task")
    assert [t["WhoId"] for t in tasks] == [first, first]


def test_editing_a_logged_call_updates_its_task(partner: Partner, auto_log: OrgHandle) -> None:
    auto_log.insert("Contact", LastName="Prospect", Email="lead@prospect.example")
    activity(partner)

    partner.client.patch("/api/v1/activities/call-1/", {"notes": "Discount agreed."}, format="json")

    tasks = auto_log.records("Task")
    assert len(tasks) == 1 and "Discount agreed." in tasks[0]["Description"]


BOOKING = {
    "external_id": "b-1",
    "version": 1,
    "host_email": "host@acme.test",
    "guest_email": "Guest@Customer.example",
    "guest_name": "Gina Guest",
    "title": "Intro call",
    "description": "Wants a demo",
    "start": "2026-12-01T10:00:00Z",
    "end": "2026-12-01T10:30:00Z",
}


@pytest.fixture
def host_and_guest(sf: OrgHandle) -> tuple[str, str]:
    return user(sf, "host@acme.test", "Host"), sf.insert(
        "Contact", LastName="Guest", Email="guest@customer.example"
    )


def test_a_guest_booking_is_an_open_task_owned_by_the_host(
    partner: Partner, sf: OrgHandle, host_and_guest: tuple[str, str]
) -> None:
    host, guest = host_and_guest

    partner.client.post("/api/v1/bookings/", BOOKING, format="json")

    task = sf.records("Task")[0]
    assert (task["OwnerId"], task["WhoId"]) == (host, guest)
    assert task["Status"] == "Not Started" and not task["IsClosed"]
    assert task["ActivityDate"] == "2026-12-01"
    assert "Intro call" in task["Subject"] and "Wants a demo" in task["Description"]


def test_reschedule_moves_the_task_and_cancel_completes_it(
    partner: Partner, sf: OrgHandle, host_and_guest: tuple[str, str]
) -> None:
    partner.client.post("/api/v1/bookings/", BOOKING, format="json")

    partner.client.post(
        "/api/v1/bookings/b-1/reschedule/",
        {"version": 2, "start": "2026-12-03T10:00:00Z", "end": "2026-12-03T10:30:00Z"},
        format="json",
    )
    task = sf.records("Task")[0]
    assert task["ActivityDate"] == "2026-12-03" and task["Status"] == "Not Started"

    partner.client.post("/api/v1/bookings/b-1/cancel/", {"version": 3}, format="json")
    tasks = sf.records("Task")
    assert len(tasks) == 1
    assert tasks[0]["Status"] == "Completed" and "cancelled" in tasks[0]["Description"].lower()


def test_late_and_repeated_scheduler_events_never_move_or_revive_the_task(
    partner: Partner, sf: OrgHandle, host_and_guest: tuple[str, str]
) -> None:
    partner.client.post("/api/v1/bookings/", BOOKING, format="json")
    partner.client.post("/api/v1/bookings/b-1/cancel/", {"version": 3}, format="json")

    partner.client.post(
        "/api/v1/bookings/b-1/reschedule/",
        {"version": 2, "start": "2026-11-28T10:00:00Z", "end": "2026-11-28T10:30:00Z"},
        format="json",
    )
    partner.client.post("/api/v1/bookings/", {**BOOKING, "version": 4}, format="json")

    tasks = sf.records("Task")
    assert len(tasks) == 1
    assert tasks[0]["Status"] == "Completed" and tasks[0]["ActivityDate"] == "2026-12-01"


def test_a_booking_is_skipped_when_the_guest_is_not_in_salesforce(
    partner: Partner, sf: OrgHandle
) -> None:
    user(sf, "host@acme.test", "Host")

    partner.client.post("/api/v1/bookings/", BOOKING, format="json")

    job = last_job("booking.sync")
    assert job.state == "skipped" and "guest@customer.example" in job.reason
    assert sf.records("Task") == []


def test_a_booking_is_skipped_when_the_host_has_no_salesforce_user(
    partner: Partner, sf: OrgHandle
) -> None:
    sf.insert("Contact", LastName="Guest", Email="guest@customer.example")

    partner.client.post("/api/v1/bookings/", BOOKING, format="json")

    job = last_job("booking.sync")
    assert job.state == "skipped" and "host@acme.test" in job.reason
