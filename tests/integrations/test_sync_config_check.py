"""The system check refuses task-queue settings under which a sync could run twice at
once or be retried forever."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from integrations.checks import sync_timeouts_check


def ids(settings: Any) -> list[str]:
    return [e.id for e in sync_timeouts_check()]


def test_the_shipped_configuration_passes(settings: Any) -> None:
    assert ids(settings) == []


def test_retry_not_longer_than_timeout_is_refused(settings: Any) -> None:
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "timeout": 120, "retry": 120}

    assert ids(settings) == ["integrations.E002"]


def test_timeout_not_longer_than_the_salesforce_timeout_is_refused(settings: Any) -> None:
    settings.SALESFORCE_HTTP_TIMEOUT = 120
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "timeout": 120, "retry": 180}

    assert ids(settings) == ["integrations.E002"]


def test_unbounded_attempts_are_refused(settings: Any) -> None:
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "max_attempts": 0}

    assert ids(settings) == ["integrations.E003"]


def test_a_missing_timeout_is_refused(settings: Any) -> None:
    cluster = dict(settings.Q_CLUSTER)
    cluster.pop("timeout", None)
    settings.Q_CLUSTER = cluster

    assert ids(settings) == ["integrations.E001"]


def test_manage_py_check_stops_on_a_bad_configuration(settings: Any) -> None:
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "timeout": 120, "retry": 60}

    with pytest.raises(SystemCheckError, match="must be longer than timeout"):
        call_command("check")
