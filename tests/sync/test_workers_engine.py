"""The engine's guarantees through real `manage.py sync_worker` processes (the ORM
broker on SQLite, Redis on PostgreSQL): a poisoned job in a backlog, an edited call, and
a retry dispatched within seconds of its time."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from integrations.models import SyncJob
from salesforce_emulator.testing import OrgHandle
from tests.conftest import Partner
from tests.sync.conftest import last_job, logged_call, meeting_push
from tests.sync.test_workers import Worker, seed_bob, start_worker, wait_for

pytestmark = pytest.mark.django_db(transaction=True)
__all__ = ["start_worker"]  # the fixture, used by name

ATTENDEES = ["ana@acme.test", "bob@initech.example"]


def all_done() -> bool:
    return not SyncJob.objects.filter(state__in=["pending", "running"]).exists()


def test_a_malformed_job_in_a_backlog_of_50_fails_alone_and_49_are_synced(
    partner: Partner, sf: OrgHandle, start_worker: Callable[..., Worker]
) -> None:
    seed_bob(sf)
    for n in range(50):
        meeting_push(partner, f"m-{n}", attendees=ATTENDEES, highlights=[f"Point {n}"])
    jobs = SyncJob.objects.filter(operation="meeting.processed").order_by("id")
    poisoned = jobs[17]
    SyncJob.objects.filter(pk=poisoned.pk).update(params={"target": {"object": "Account"}})

    worker = start_worker()
    wait_for("the backlog", all_done, worker)

    states = dict(jobs.values_list("pk", "state"))
    assert states.pop(poisoned.pk) == "failed"
    assert list(states.values()) == ["succeeded"] * 49
    assert len(sf.records("ContentNote")) == 49
    assert any("in a batch of" in j.attempts.get().message for j in jobs if j.pk != poisoned.pk)


def test_an_edited_call_updates_its_task_through_a_real_worker(
    partner: Partner, sf: OrgHandle, start_worker: Callable[..., Worker]
) -> None:
    body = logged_call(sf)
    worker = start_worker()
    assert partner.client.post("/api/v1/activities/", body, format="json").status_code == 201
    wait_for("the Task", lambda: sf.records("Task"), worker)

    body["participants"][1]["name"] = "Pat Prospect"
    body["notes"] = "Discount agreed."
    assert partner.client.post("/api/v1/activities/", body, format="json").status_code == 200
    wait_for("the edit", lambda: "Discount agreed." in sf.records("Task")[0]["Description"], worker)
    wait_for("the jobs", all_done, worker)

    assert len(sf.records("Task")) == 1
    assert set(SyncJob.objects.values_list("state", flat=True)) == {"succeeded"}


def test_a_retry_is_dispatched_within_seconds_of_its_time(
    partner: Partner, sf: OrgHandle, start_worker: Callable[..., Worker]
) -> None:
    seed_bob(sf)
    sf.faults.fail_next(
        1, method="POST", path=r"/composite$", error_code="SERVER_UNAVAILABLE", after=1
    )
    worker = start_worker(SYNC_RETRY_BASE_SECONDS="1")
    meeting_push(partner, attendees=ATTENDEES)

    first = wait_for(
        "the first attempt", lambda: last_job("meeting.processed").attempts.first(), worker
    )
    assert first.outcome == "retry"
    started = time.monotonic()
    wait_for("the retry", lambda: last_job("meeting.processed").state == "succeeded", worker)

    # The one-minute schedule would take up to 60 s; the worker's sweeper a few.
    assert time.monotonic() - started < 20
    assert len(sf.records("ContentNote")) == 1
