"""Refuse a task-queue configuration under which a sync could run twice at once or be
retried forever."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks

# A batch's half-lease budget must hold a settle, a lookup and a write round, each of
# which can wait one full HTTP timeout.
HTTP_CALLS_PER_TIMEOUT = 4


@checks.register(checks.Tags.compatibility)
def sync_timeouts_check(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """django-q2 hands an unacknowledged task out again after `retry` seconds and kills a
    task after `timeout`. If retry <= timeout, a slow sync is started a second time while
    the first still runs; if timeout <= the Salesforce HTTP timeout, a worker is killed
    while waiting for an answer that may already have committed. max_attempts bounds how
    often django-q2 hands out one task that keeps crashing its worker (the sweeper's own
    re-dispatches are bounded by SYNC_MAX_ATTEMPTS)."""
    conf = settings.Q_CLUSTER
    errors: list[checks.CheckMessage] = []
    retry = int(conf.get("retry", 60))
    timeout = conf.get("timeout")
    http = settings.SALESFORCE_HTTP_TIMEOUT
    if timeout is None:
        errors.append(
            checks.Error(
                "Q_CLUSTER['timeout'] is not set: a hung sync would hold its worker forever.",
                hint="Set Q_TIMEOUT.",
                id="integrations.E001",
            )
        )
    elif not (retry > int(timeout) and int(timeout) >= HTTP_CALLS_PER_TIMEOUT * http):
        errors.append(
            checks.Error(
                f"Q_CLUSTER retry ({retry}s) must be longer than timeout ({timeout}s), which "
                f"must be at least {HTTP_CALLS_PER_TIMEOUT} x SALESFORCE_HTTP_TIMEOUT ({http}s): "
                "a batch makes several sequential calls and stops taking new steps at half "
                "its lease.",
                hint="Raise Q_RETRY or Q_TIMEOUT, or lower SALESFORCE_HTTP_TIMEOUT.",
                id="integrations.E002",
            )
        )
    if not conf.get("max_attempts") or int(conf["max_attempts"]) <= 0:
        errors.append(
            checks.Error(
                "Q_CLUSTER['max_attempts'] is unbounded: a task that crashes its worker would be "
                "handed out forever.",
                hint="Set Q_MAX_ATTEMPTS to a small number such as 3.",
                id="integrations.E003",
            )
        )
    if settings.SYNC_MAX_ATTEMPTS <= 0:
        errors.append(checks.Error("SYNC_MAX_ATTEMPTS must be at least 1.", id="integrations.E004"))
    return errors
