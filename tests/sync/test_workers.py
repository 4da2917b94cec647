"""The sync with real worker processes: a `manage.py qcluster` subprocess takes the job
ids from the configured broker (the ORM broker in the SQLite run, Redis in the
PostgreSQL + Redis run) and pushes to the emulator; a worker killed with SIGKILL in the
middle of a sync leaves a job the sweeper finishes once its lease expires, without a
duplicate record in Salesforce."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone
from werkzeug.wrappers import Request, Response

from integrations.models import SyncAttempt, SyncJob
from integrations.outbox.sweeper import sync_jobs_sweep
from salesforce_emulator.server import EmulatorApp
from salesforce_emulator.testing import OrgHandle
from tests.conftest import Partner
from tests.sync.conftest import grace_passes, last_job, meeting_push, records_in_doubt
from tests.sync.worker_process import database_url, worker_environment

pytestmark = pytest.mark.django_db(transaction=True)

# Seconds a worker may take to start and deliver; generous for a loaded CI machine.
DEADLINE = 60
WORKER_TIMEOUT = 10  # Q_TIMEOUT of the worker process, so its leases last 40 seconds


def configured_broker() -> str:
    return "redis" if "redis" in settings.Q_CLUSTER else "orm"


class Worker:
    """`manage.py sync_worker` (a qcluster and the short-period sweeper) in its own
    process group, logging to a file."""

    def __init__(self, log_path: Path, extra_env: dict[str, str] | None = None) -> None:
        self.log_path = log_path
        env = worker_environment(
            database_url(),
            Q_WORKERS="1",
            Q_TIMEOUT=str(WORKER_TIMEOUT),
            Q_RETRY=str(WORKER_TIMEOUT + 5),
            SALESFORCE_HTTP_TIMEOUT="2",
            **(extra_env or {}),
        )
        self._log = open(log_path, "wb")  # noqa: SIM115 (closed in stop())
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "sync_worker"],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: sentinel, pusher, workers
        )

    def alive(self) -> bool:
        return self.process.poll() is None

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")[-4000:]

    def kill(self) -> None:
        """SIGKILL to the whole cluster: nothing gets to clean up."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        try:
            if self.alive():
                self.process.send_signal(signal.SIGTERM)  # the cluster stops its children
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.process.wait(timeout=15)
        finally:
            # Whatever of the group is left (a worker the sentinel had started).
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
            self._log.close()


@pytest.fixture
def start_worker(sf: OrgHandle, tmp_path: Path) -> Iterator[Callable[..., Worker]]:
    """Tasks go to the broker instead of running in the test process; the returned
    function starts a worker cluster, always stopped at the end of the test."""
    from django_q.brokers import get_broker
    from django_q.conf import Conf

    previous = Conf.SYNC
    Conf.SYNC = False
    get_broker().purge_queue()  # nothing left over from an earlier run
    started: list[Worker] = []

    def start(**extra_env: str) -> Worker:
        worker = Worker(tmp_path / f"qcluster-{len(started)}.log", extra_env)
        started.append(worker)
        return worker

    try:
        yield start
    finally:
        Conf.SYNC = previous
        for worker in started:
            worker.stop()
        get_broker().purge_queue()


def wait_for(what: str, check: Callable[[], Any], worker: Worker) -> Any:
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        assert worker.alive(), f"the worker exited while waiting for {what}:\n{worker.log()}"
        time.sleep(0.1)
    jobs = list(SyncJob.objects.values_list("pk", "operation", "state", "reason"))
    pytest.fail(f"timed out waiting for {what}; jobs: {jobs}\nworker log:\n{worker.log()}")


def seed_bob(sf: OrgHandle) -> str:
    account = sf.insert("Account", Name="Initech")
    sf.insert("Contact", LastName="Bob", Email="bob@initech.example", AccountId=account)
    return account


@pytest.mark.parametrize("broker", ["orm", "redis"])
def test_an_edit_through_the_api_reaches_salesforce_through_a_real_worker(
    broker: str, partner: Partner, sf: OrgHandle, start_worker: Callable[[], Worker]
) -> None:
    if broker != configured_broker():
        pytest.skip(
            f"this run's broker is {configured_broker()} (REDIS_URL "
            f"{'set' if settings.REDIS_URL else 'unset'}); the {broker} broker is "
            "exercised by the other pass of `make test`"
        )
    seed_bob(sf)
    worker = start_worker()

    meeting_push(partner)

    processed = wait_for(
        "the meeting's Note",
        lambda: (job := last_job("meeting.processed")).state == "succeeded" and job,
        worker,
    )
    assert "Account Initech" in processed.reason
    [note] = sf.records("ContentNote")
    assert "Budget is approved" in sf.note_content(note["Id"]).decode()

    answer = partner.client.patch(
        "/api/v1/meetings/m-1/highlights/h1/", {"text": "Budget doubled"}, format="json"
    )
    assert answer.status_code == 200, answer.json()

    wait_for(
        "the edit in Salesforce",
        lambda: b"Budget doubled" in (sf.note_content(note["Id"]) or b""),
        worker,
    )
    job = last_job("highlight.sync")
    wait_for(
        "the edit's job to finish",
        lambda: SyncJob.objects.get(pk=job.pk).state not in SyncJob.OPEN_STATES,
        worker,
    )
    job.refresh_from_db()
    assert job.state == "succeeded", job.reason
    assert "Budget is approved" not in sf.note_content(note["Id"]).decode()
    assert [n["Id"] for n in sf.records("ContentNote")] == [note["Id"]]
    assert len(sf.records("Event")) == 1
    assert worker.alive(), worker.log()


class HeldWrite:
    """Holds the first composite request that writes (not a lookup round) inside the
    emulator: either after Salesforce applied it (the answer never reaches the worker)
    or before (Salesforce never sees it)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, *, applied: bool) -> None:
        self.applied = applied
        self.arrived = threading.Event()
        self.release = threading.Event()
        original = EmulatorApp._rest
        held = self

        def _rest(app: EmulatorApp, request: Request) -> tuple[Response, Any, int, bool]:
            if held.arrived.is_set() or not _is_a_write(request):
                return original(app, request)
            if held.applied:
                answer = original(app, request)
                held.arrived.set()
                held.release.wait(DEADLINE)
                return answer
            held.arrived.set()
            held.release.wait(DEADLINE)
            return Response(status=503), None, 0, False

        monkeypatch.setattr(EmulatorApp, "_rest", _rest)


def _is_a_write(request: Request) -> bool:
    if request.method != "POST" or not request.path.rstrip("/").endswith("/composite"):
        return False
    body = request.get_json(silent=True, cache=True) or {}
    return any(sub.get("method") != "GET" for sub in body.get("compositeRequest", []))


@pytest.fixture
def held_write(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Iterator[Any]:
    held = HeldWrite(monkeypatch, applied=request.param)
    try:
        yield held
    finally:
        held.release.set()


@pytest.mark.parametrize(
    "held_write", [True, False], ids=["after-salesforce-applied", "before"], indirect=True
)
def test_a_worker_killed_mid_sync_is_finished_by_the_sweeper_without_duplicates(
    partner: Partner,
    sf: OrgHandle,
    start_worker: Callable[[], Worker],
    held_write: HeldWrite,
) -> None:
    from django_q.conf import Conf

    account = seed_bob(sf)
    worker = start_worker()

    meeting_push(partner)
    wait_for("the write to reach Salesforce", held_write.arrived.is_set, worker)

    job = last_job("meeting.processed")
    assert job.state == "running" and records_in_doubt() > 0
    assert job.lease_expires_at is not None
    if held_write.applied:
        assert len(sf.records("ContentNote")) == 1 and len(sf.records("Event")) == 1
    else:
        assert sf.records("ContentNote") == [] and sf.records("Event") == []

    worker.kill()
    held_write.release.set()
    Conf.SYNC = True  # from here the sweeper's tasks run in the test process

    # While the lease holds, the sweeper leaves the job to its (dead) worker.
    assert sync_jobs_sweep(now=timezone.now())["recovered"] == 0
    job.refresh_from_db()
    assert job.state == "running"

    grace_passes()  # as long as the lease: whatever was sent has landed by then
    swept = sync_jobs_sweep(now=job.lease_expires_at + timedelta(seconds=1))

    assert swept["recovered"] == 1
    job.refresh_from_db()
    assert job.state == "succeeded", job.reason
    assert records_in_doubt() == 0
    assert SyncAttempt.objects.filter(job=job, message__contains="lease expired").count() == 1
    [note] = sf.records("ContentNote")
    body = sf.note_content(note["Id"]).decode()
    assert "Budget is approved" in body and "Needs SSO" in body
    links = [r for r in sf.records("ContentDocumentLink") if r["ContentDocumentId"] == note["Id"]]
    assert [r["LinkedEntityId"] for r in links] == [account]
    [event] = sf.records("Event")
    assert event["WhatId"] == account
