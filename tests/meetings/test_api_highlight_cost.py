"""What one highlight upsert through the partner API costs the database: a guard on
the number of statements (not on time, which depends on the machine). Partners send
highlights one request at a time, many per second."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from integrations.models import SyncJob
from meetings.models import Highlight
from tenants.api import authentication
from tests.conftest import Partner
from tests.factories import MeetingFactory, SyncMappingFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/meetings/m-1/highlights/"


@pytest.fixture(autouse=True)
def _key_remembered(settings: Any) -> Iterator[None]:
    # As in production: the partner's key was checked by an earlier request.
    settings.API_KEY_CACHE_SECONDS = 60.0
    authentication._checked.clear()
    yield
    authentication._checked.clear()


@pytest.fixture
def partner_warm(partner: Partner) -> Partner:
    """A partner whose process has served it before (its key checked, the content types
    known)."""
    MeetingFactory(tenant=partner.tenant, external_id="m-1")
    warm_up = partner.client.post(URL, {"external_id": "h-0", "text": "Hello"})
    assert warm_up.status_code == 201
    return partner


def statements(partner: Partner, body: dict[str, Any], status: int) -> list[str]:
    """The SQL of one upsert, without the transaction's own bookkeeping (BEGIN, COMMIT,
    or the savepoints a test's transaction turns them into)."""
    with CaptureQueriesContext(connection) as queries:
        response = partner.client.post(URL, body)
    assert response.status_code == status, response.json()
    return [
        q["sql"]
        for q in queries.captured_queries
        if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "BEGIN", "COMMIT"))
    ]


def test_a_new_highlight_of_a_meeting_not_synced_takes_four_statements(
    partner_warm: Partner,
) -> None:
    sql = statements(partner_warm, {"external_id": "h-1", "text": "Budget approved"}, 201)

    # The meeting; the upsert; the meeting's lock with "is any of it in Salesforce?";
    # its open jobs. Nothing is queued: the highlight goes out with the meeting.
    assert len(sql) == 4, "\n".join(sql)
    assert sum(s.startswith("INSERT") for s in sql) == 1
    assert not SyncJob.objects.exists()


def test_an_edit_takes_the_same_four_statements(partner_warm: Partner) -> None:
    partner_warm.client.post(URL, {"external_id": "h-1", "text": "Budget approved"})

    sql = statements(partner_warm, {"external_id": "h-1", "text": "Budget doubled"}, 200)

    assert len(sql) == 4, "\n".join(sql)
    assert Highlight.objects.get(external_id="h-1").version == 2


def test_the_same_values_again_write_nothing(partner_warm: Partner) -> None:
    body = {"external_id": "h-1", "text": "Budget approved", "offset_seconds": "1.5"}
    partner_warm.client.post(URL, body)

    sql = statements(partner_warm, body, 200)

    # The meeting; the upsert that finds nothing to change; the row as it is.
    assert len(sql) == 3, "\n".join(sql)
    assert Highlight.objects.get(external_id="h-1").version == 1


def test_edits_of_a_synced_highlight_queue_one_job_in_few_statements(
    partner_warm: Partner,
) -> None:
    partner_warm.client.post(URL, {"external_id": "h-1", "text": "Budget approved"})
    SyncMappingFactory(local_object=Highlight.objects.get(external_id="h-1"))

    first = statements(partner_warm, {"external_id": "h-1", "text": "Budget doubled"}, 200)
    second = statements(partner_warm, {"external_id": "h-1", "text": "Budget tripled"}, 200)

    # The four above (the mapping answers yes), then the job: the meeting's lock taken
    # again by the enqueue, the pending job looked up, and the first time only, the job
    # written (it is handed to the queue after the commit).
    assert len(first) == 6, "\n".join(first)
    assert len(second) == 5, "\n".join(second)
    assert SyncJob.objects.filter(operation="highlight.sync").count() == 1
