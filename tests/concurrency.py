"""Real concurrent requests for the tests that race upserts: threads, each with its own
database connection, started at the same moment.

PostgreSQL only: SQLite takes the write lock when a transaction begins, so requests
never race there."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections


@pytest.fixture
def postgres_only(db: None) -> None:
    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers at BEGIN, so these requests cannot race")


def at_once(sends: list[Callable[[], Any]]) -> list[int]:
    """Run every send at the same moment, one thread each; the answers' status codes."""
    start = threading.Barrier(len(sends))
    statuses = [0] * len(sends)

    def run(index: int, send: Callable[[], Any]) -> None:
        try:
            start.wait()
            statuses[index] = send().status_code
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=item) for item in enumerate(sends)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses
