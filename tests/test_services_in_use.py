"""The suite runs on the services it says it runs on: with DATABASE_URL and REDIS_URL
set, PostgreSQL holds the data and Redis carries the tasks."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection
from django_q.brokers import get_broker

pytestmark = pytest.mark.django_db


def test_the_database_is_the_configured_one() -> None:
    engine = settings.DATABASES["default"]["ENGINE"]

    assert connection.vendor in engine
    if "postgresql" in engine:
        with connection.cursor() as cursor:
            cursor.execute("SELECT version()")
            assert cursor.fetchone()[0].startswith("PostgreSQL")


def test_tasks_travel_on_the_configured_broker() -> None:
    broker = get_broker()
    expected = "Redis" if settings.REDIS_URL else "ORM"

    broker.purge_queue()
    broker.enqueue("ping")
    task = broker.dequeue()

    assert type(broker).__name__ == expected
    assert task
    payload = task[0][1]
    assert (payload.decode() if isinstance(payload, bytes) else payload) == "ping"
    broker.acknowledge(task[0][0])
    broker.purge_queue()
