"""Calls batch like meetings: a backlog of calls is looked up in one round and written
in one request per kind of record, a Lead made for a participant going out before the
Task that points at it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from integrations.enums import Purpose
from integrations.models import SalesforceConnection, SyncJob, SyncMapping
from integrations.services.actions import activity_log
from integrations.services.settings import integration_settings_update
from integrations.sync.runner import sync_jobs_run
from meetings.models import Activity
from salesforce_emulator.testing import OrgHandle
from tests.conftest import Partner

pytestmark = pytest.mark.django_db(transaction=True)

State = SyncJob.State


def call_body(index: int, participant: dict[str, str]) -> dict[str, Any]:
    return {
        "external_id": f"call-{index}",
        "kind": "call",
        "direction": "inbound",
        "started_at": "2026-11-20T09:00:00Z",
        "duration_seconds": 60 + index,
        "subject": f"Call {index}",
        "notes": "",
        "logged_by_email": "agent@acme.test",
        "participants": [{"email": "agent@acme.test"}, participant],
    }


@pytest.fixture
def paused(partner: Partner, sf: OrgHandle, settings: Any) -> OrgHandle:
    """Calls logged automatically; jobs wait (no attempt spent) while the connection is
    paused, so they pile up as a backlog."""
    settings.SYNC_BATCH_SIZE = 200
    integration_settings_update(tenant=partner.tenant, log_calls_automatically=True)
    sf.insert("User", Username="agent.sf", Email="agent@acme.test", LastName="Agent", Alias="agent")
    SalesforceConnection.objects.update(paused_until=timezone.now() + timedelta(hours=1))
    return sf


def backlog_run() -> list[SyncJob]:
    """Run the waiting calls: one batch, handed to a worker by its first job."""
    SalesforceConnection.objects.update(paused_until=None)
    jobs = SyncJob.objects.filter(operation="activity.sync").order_by("pk")
    waiting = jobs.filter(state=State.PENDING)
    waiting.update(next_attempt_at=None, dispatched_at=None)
    sync_jobs_run(job_id=waiting[0].pk)
    return list(jobs.all())


def test_a_backlog_of_100_calls_from_phone_only_callers_costs_a_few_api_calls(
    partner: Partner, paused: OrgHandle
) -> None:
    numbers = [f"(415) 555-{1000 + i:04d}" for i in range(100)]
    leads = paused.insert_many(
        "Lead",
        [{"LastName": f"Caller {i}", "Company": "P", "Phone": n} for i, n in enumerate(numbers)],
    )
    for index, number in enumerate(numbers):
        national = number.replace("(", "").replace(")", "").replace(" ", "-")
        answer = partner.client.post(
            "/api/v1/activities/", call_body(index, {"phone": f"+1 {national}"}), format="json"
        )
        assert answer.status_code == 201, answer.json()
    before = paused.api_calls

    jobs = backlog_run()

    assert [j.state for j in jobs] == [State.SUCCEEDED] * 100, {j.reason for j in jobs}
    # One lookup round (the numbers' search and the agent's User, one Composite) and
    # the 100 Tasks in one sObject Collection.
    assert paused.api_calls - before == 2
    assert sorted(t["WhoId"] for t in paused.records("Task")) == sorted(leads)


def test_a_lead_made_for_a_participant_in_a_batch_is_written_before_its_task(
    partner: Partner, paused: OrgHandle
) -> None:
    def post(index: int, participant: dict[str, str]) -> None:
        answer = partner.client.post(
            "/api/v1/activities/", call_body(index, participant), format="json"
        )
        assert answer.status_code == 201, answer.json()

    post(1, {"email": "nina@prospect.example", "name": "Nina New"})
    (skipped,) = backlog_run()
    assert skipped.state == State.SKIPPED and "create a Lead" in skipped.reason
    # Later, while the jobs wait again: another call comes in, and a person asks for a
    # Lead for the participant nobody matched.
    SalesforceConnection.objects.update(paused_until=timezone.now() + timedelta(hours=1))
    known = paused.insert("Contact", LastName="Known", Email="known@customer.example")
    post(2, {"email": "known@customer.example"})
    activity_log(
        activity=Activity.objects.get(external_id="call-1"),
        choices={"nina@prospect.example": {"object": "create_lead", "company": "Prospect"}},
    )
    before = paused.api_calls

    jobs = [j for j in backlog_run() if j.pk != skipped.pk]

    assert [j.state for j in jobs] == [State.SUCCEEDED] * 2, [j.reason for j in jobs]
    lead = next(r for r in paused.records("Lead") if r["Email"] == "nina@prospect.example")
    assert (lead["LastName"], lead["Company"]) == ("New", "Prospect")
    assert sorted(t["WhoId"] for t in paused.records("Task")) == sorted([known, lead["Id"]])
    made = SyncMapping.objects.get(purpose=Purpose.PARTICIPANT_LEAD)
    assert made.live and made.salesforce_id == lead["Id"]
    # One batch: one lookup round, the Lead, then both Tasks together.
    assert paused.api_calls - before == 3


def test_two_calls_asked_to_make_a_lead_for_one_new_number_make_one_lead(
    partner: Partner, paused: OrgHandle
) -> None:
    def post(index: int, phone: str) -> None:
        answer = partner.client.post(
            "/api/v1/activities/",
            call_body(index, {"phone": phone, "name": "Nina New"}),
            format="json",
        )
        assert answer.status_code == 201, answer.json()

    post(1, "+1 415-555-0199")
    post(2, "(415) 555-0199")
    assert {j.state for j in backlog_run()} == {State.SKIPPED}
    # While the jobs wait, a person asks for a Lead on each call, in one batch.
    SalesforceConnection.objects.update(paused_until=timezone.now() + timedelta(hours=1))
    for external_id in ("call-1", "call-2"):
        activity_log(
            activity=Activity.objects.get(external_id=external_id),
            choices={"+14155550199": {"object": "create_lead", "company": "Prospect"}},
        )

    backlog_run()
    # The second waits for the first's Lead, then logs to it.
    [second] = SyncJob.objects.filter(state=State.PENDING)
    assert "is creating the Lead for +1 415-555-0199" in second.reason
    assert second.attempt_count == 1 and not paused.records("Task")[1:]
    backlog_run()

    [lead] = paused.records("Lead")
    assert [t["WhoId"] for t in paused.records("Task")] == [lead["Id"], lead["Id"]]
    assert {j.state for j in SyncJob.objects.filter(operation="activity.sync")} <= {
        State.SUCCEEDED,
        State.SKIPPED,
    }
