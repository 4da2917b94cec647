"""A change that the sync cares about writes one sync job in its own transaction, and
the task queue hears of it only after the commit."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import transaction
from django_q import signing
from django_q.brokers import Broker, get_broker

from integrations.models import SyncJob
from meetings import services
from meetings.models import Highlight
from scheduler.services import booking_cancel
from tests.factories import BookingFactory, HighlightFactory, SyncMappingFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def queue() -> Iterator[Broker]:
    """django-q2's real broker (the database, or Redis when REDIS_URL is set), with
    tasks left on it instead of run inline."""
    from django_q.conf import Conf

    broker = get_broker()
    broker.purge_queue()
    Conf.SYNC = False
    yield broker
    broker.purge_queue()


def queued_job_ids(broker: Broker) -> list[int]:
    ids = []
    while (task := broker.dequeue()) is not None:
        for ack_id, payload in task:
            ids.append(signing.SignedPackage.loads(payload)["args"][0])
            broker.acknowledge(ack_id)
    return ids


def highlight_in_salesforce(**fields: Any) -> Highlight:
    """A highlight whose Note exists in Salesforce: its edits have somewhere to go."""
    highlight = HighlightFactory(**fields)
    SyncMappingFactory(local_object=highlight)
    return highlight


def test_an_edit_queues_exactly_one_job_after_commit(
    queue: Broker, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    highlight = highlight_in_salesforce()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.highlight_update(highlight=highlight, text="Edited")
        job = SyncJob.objects.get()
        assert queue.queue_size() == 0  # nothing leaves the process before the commit

    assert len(callbacks) == 1
    callbacks[0]()
    assert queued_job_ids(queue) == [job.pk]
    assert (job.operation, job.object_id, job.state) == ("highlight.sync", highlight.pk, "pending")


def test_a_rolled_back_edit_leaves_no_job_and_queues_nothing(
    queue: Broker, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    highlight = HighlightFactory()

    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        services.highlight_update(highlight=highlight, text="Edited")
        raise RuntimeError("the caller's transaction fails")

    assert not SyncJob.objects.exists()
    assert queue.queue_size() == 0
    assert Highlight.objects.get().text != "Edited"


def test_a_burst_of_edits_before_the_job_runs_shares_one_pending_job(
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    highlight = highlight_in_salesforce()

    with django_capture_on_commit_callbacks(execute=False):
        for n in range(5):
            services.highlight_update(highlight=highlight, text=f"Edit {n}")

    assert SyncJob.objects.count() == 1
    assert Highlight.objects.get().version == 6


def test_an_edit_with_no_change_queues_nothing(
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    highlight = HighlightFactory(text="Same")

    with django_capture_on_commit_callbacks(execute=True):
        services.highlight_update(highlight=highlight, text="Same")

    assert not SyncJob.objects.exists()


def test_an_edit_of_a_highlight_not_in_salesforce_queues_nothing(
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    """It goes out with its meeting when that is synced or sent; nothing to update."""
    highlight = HighlightFactory()

    with django_capture_on_commit_callbacks(execute=True):
        services.highlight_update(highlight=highlight, text="Edited")

    assert not SyncJob.objects.exists()


def test_an_edit_while_its_meeting_is_being_synced_is_queued_after_it(
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    highlight = HighlightFactory()
    with django_capture_on_commit_callbacks(execute=False):
        services.meeting_mark_processed(meeting=highlight.meeting)
    # A worker claimed the meeting's sync: it may have read the highlight already.
    SyncJob.objects.update(state=SyncJob.State.RUNNING, attempt_count=1)

    with django_capture_on_commit_callbacks(execute=False):
        services.highlight_update(highlight=highlight, text="Edited during the sync")

    operations = list(SyncJob.objects.order_by("id").values_list("operation", "lock_key"))
    key = f"meeting:{highlight.meeting_id}"
    assert operations == [("meeting.processed", key), ("highlight.sync", key)]


def test_an_edit_before_its_meetings_sync_starts_goes_out_with_it(
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    """The meeting's sync reads the highlights when it runs: a job per highlight would
    only find them in the meeting's Note already (or be skipped, once per highlight)."""
    highlight = HighlightFactory()
    with django_capture_on_commit_callbacks(execute=False):
        services.meeting_mark_processed(meeting=highlight.meeting)

        services.highlight_update(highlight=highlight, text="Edited before the sync")
        services.meeting_update(meeting=highlight.meeting, title="Renamed before the sync")

    assert list(SyncJob.objects.values_list("operation", flat=True)) == ["meeting.processed"]


def test_each_kind_of_change_queues_its_operation(
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    highlight = highlight_in_salesforce()
    booking = BookingFactory(tenant=highlight.tenant)

    with django_capture_on_commit_callbacks(execute=True):
        services.highlight_delete(highlight=highlight)
        services.meeting_mark_processed(meeting=highlight.meeting)
        services.meeting_update(meeting=highlight.meeting, title="New title")
        booking_cancel(booking=booking, version=2)

    assert sorted(SyncJob.objects.values_list("operation", flat=True)) == [
        "booking.sync",
        "highlight.sync",
        "meeting.processed",
        "meeting.sync",
    ]
    assert set(SyncJob.objects.values_list("tenant", flat=True)) == {highlight.tenant.pk}


def test_the_queued_task_reads_the_job_it_was_given(
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    """With tasks run inline, the django-q2 task runs the job by id; with no Salesforce
    connection it waits, without counting an attempt, for one."""
    highlight = highlight_in_salesforce()

    with django_capture_on_commit_callbacks(execute=True):
        services.highlight_update(highlight=highlight, text="Edited")

    job = SyncJob.objects.get()
    assert job.state == "pending" and job.attempt_count == 0
    assert job.reason == "Waiting: Salesforce is not connected for this tenant."
