"""A burst of edits of one highlight, delivered by concurrent workers in shuffled order
(and each delivery twice, as an at-least-once broker may), leaves the meeting's Note with
the last version's text: jobs of one meeting never run together, each reads the state
of the moment it runs, and a job holding an older version writes nothing over a newer
one."""

from __future__ import annotations

import random
import threading
import time

import pytest
from django.db import connection, transaction

from integrations.enums import Operation
from integrations.models import SyncJob, SyncMapping
from integrations.outbox import dispatch
from integrations.outbox.enqueue import sync_job_enqueue
from integrations.services.jobs import sync_job_run
from meetings.models import Highlight, Meeting
from salesforce_emulator.testing import OrgHandle
from tests.conftest import Partner
from tests.sync.conftest import last_job, meeting_push

pytestmark = pytest.mark.django_db(transaction=True)

EDITS = 5
WORKERS = 4


class Broker:
    """Job ids handed to the queue, taken by workers in random order; every id is
    delivered twice."""

    def __init__(self, seed: int) -> None:
        self._random = random.Random(seed)
        self._ids: list[int] = []
        self._lock = threading.Lock()
        self.busy = 0
        self.delivered: list[int] = []

    def put(self, job_id: int) -> None:
        with self._lock:
            self._ids += [job_id, job_id]

    def take(self) -> tuple[int | None, float]:
        with self._lock:
            if not self._ids:
                return None, 0.0
            self.busy += 1
            job_id = self._ids.pop(self._random.randrange(len(self._ids)))
            self.delivered.append(job_id)
            return job_id, self._random.uniform(0, 0.02)

    def done(self) -> None:
        with self._lock:
            self.busy -= 1

    def idle(self) -> bool:
        with self._lock:
            return not self._ids and not self.busy


def worker_loop(broker: Broker, stop: threading.Event, errors: list[BaseException]) -> None:
    try:
        while not stop.is_set():
            job_id, delay = broker.take()
            if job_id is None:
                time.sleep(0.002)
                continue
            try:
                time.sleep(delay)
                sync_job_run(job_id=job_id)
            except BaseException as exc:
                errors.append(exc)
            finally:
                broker.done()
    finally:
        connection.close()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_five_quick_edits_delivered_concurrently_out_of_order_leave_the_fifth_version(
    seed: int, partner: Partner, sf: OrgHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = sf.insert("Account", Name="Initech")
    sf.insert("Contact", LastName="Bob", Email="bob@initech.example", AccountId=account)
    meeting_push(partner)
    processed = last_job("meeting.processed")
    assert processed.state == "succeeded"
    [note] = sf.records("ContentNote")
    highlight = Highlight.objects.get(external_id="h1")

    broker = Broker(seed)
    # The task queue is replaced by the shuffling broker above; the portal's own
    # dispatch (marking the job handed over) runs as it does in production.
    monkeypatch.setattr(dispatch, "async_task", lambda task, job_id, **_: broker.put(job_id))
    stop = threading.Event()
    errors: list[BaseException] = []
    workers = [
        threading.Thread(target=worker_loop, args=(broker, stop, errors), name=f"worker-{n}")
        for n in range(WORKERS)
    ]
    for thread in workers:
        thread.start()
    try:
        pace = random.Random(seed)
        for n in range(1, EDITS + 1):
            answer = partner.client.patch(
                "/api/v1/meetings/m-1/highlights/h1/", {"text": f"Budget v{n}"}, format="json"
            )
            assert answer.status_code == 200, answer.json()
            # Each edit's own delivery, as when it lands while a worker holds the job
            # of the previous one (a pending job would otherwise be reused).
            with transaction.atomic():
                sync_job_enqueue(
                    tenant=partner.tenant,
                    operation=Operation.HIGHLIGHT_SYNC,
                    local_object=highlight,
                    params={"edit": n},
                )
            time.sleep(pace.uniform(0.01, 0.08))
        deadline = time.monotonic() + 60
        while not (broker.idle() and not SyncJob.objects.filter(state__in=["pending", "running"])):
            assert time.monotonic() < deadline, list(
                SyncJob.objects.values_list("pk", "state", "reason")
            )
            time.sleep(0.01)
    finally:
        stop.set()
        for thread in workers:
            thread.join(timeout=30)
    assert not errors, errors

    jobs = SyncJob.objects.filter(operation=Operation.HIGHLIGHT_SYNC, pk__gt=processed.pk)
    assert jobs.count() >= EDITS
    assert len(broker.delivered) >= 2 * EDITS
    assert {j.state for j in jobs} == {"succeeded"}, [(j.pk, j.state, j.reason) for j in jobs]
    assert [n["Id"] for n in sf.records("ContentNote")] == [note["Id"]]
    body = sf.note_content(note["Id"]).decode()
    assert "Budget v5" in body, body
    for old in ("Budget is approved", "Budget v1", "Budget v2", "Budget v3", "Budget v4"):
        assert old not in body
    assert "Needs SSO" in body
    meeting = Meeting.objects.get(external_id="m-1")
    mapping = SyncMapping.objects.get(object_id=meeting.pk, purpose="meeting_note")
    highlight.refresh_from_db()
    assert highlight.text == "Budget v5"
    assert mapping.pushed_version == sum(h.version for h in meeting.highlights.all()) + 1
