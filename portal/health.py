"""Health for load balancers, orchestrators and monitoring.

- `/health/`: whether this deployment can do all its work, the sync included: the
  database, the broker, the sweeper's last run and the oldest due job. For an
  orchestrator or monitoring: it fails (503) when the sync worker has stopped.
- `/health/web/`: whether this web server can take requests: the database (503 when it
  fails); the broker only warns, since a queued job is a database row first and the
  sweeper hands it over once the broker is back. For a load balancer: a stopped worker
  never takes the web servers out of service.

200 when every check passes or only warns, 503 when one fails. The body names each
check with its status and, where useful, an age in seconds; it holds no tenant data and
no error text (errors go to the log), so it needs no sign-in."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Min
from django.db.models.functions import Coalesce
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from integrations.models import SalesforceConnection, SweeperRun, SyncJob

logger = logging.getLogger(__name__)

OK, WARNING, FAILING = "ok", "warning", "failing"
Check = dict[str, Any]


def _database() -> Check:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return {"status": OK}


def _broker() -> Check:
    """Redis when REDIS_URL is set (it carries both the cache and django-q2's task ids);
    otherwise the ORM broker's table in the database."""
    if settings.REDIS_URL:
        from django_q.brokers import get_broker

        get_broker().ping()
        return {"status": OK, "kind": "redis"}
    from django_q.models import OrmQ

    OrmQ.objects.exists()
    return {"status": OK, "kind": "database"}


def _sweeper(now: datetime) -> Check:
    run = SweeperRun.objects.first()
    if run is None:
        return {"status": FAILING, "detail": "The sweeper has never run."}
    age = max(0, int((now - run.finished_at).total_seconds()))
    limit = settings.HEALTH_SWEEPER_MAX_AGE_SECONDS
    if age > limit:
        return {
            "status": FAILING,
            "seconds_since_last_run": age,
            "detail": f"No sweep for over {limit} seconds: is the sync worker running?",
        }
    return {"status": OK, "seconds_since_last_run": age}


def _oldest_due_job(now: datetime) -> Check:
    """How long the longest-waiting job has been due. Jobs of tenants that cannot sync
    now (no connection, reconnect needed, paused by Salesforce's limit) do not count:
    they wait for a person, and the admin shows them."""
    due_since = (
        SyncJob.objects.filter(state=SyncJob.State.PENDING)
        .exclude(next_attempt_at__gt=now)
        .exclude(tenant__salesforce_connection__isnull=True)
        .exclude(
            tenant__salesforce_connection__status__in=[
                SalesforceConnection.Status.NEEDS_REAUTH,
                SalesforceConnection.Status.DISCONNECTED,
            ]
        )
        .exclude(tenant__salesforce_connection__paused_until__gt=now)
        .aggregate(due_since=Min(Coalesce("next_attempt_at", "created_at")))["due_since"]
    )
    age = 0 if due_since is None else max(0, int((now - due_since).total_seconds()))
    limit = settings.HEALTH_DUE_JOB_WARN_SECONDS
    if age > limit:
        return {
            "status": WARNING,
            "age_seconds": age,
            "detail": f"A sync has waited over {limit} seconds.",
        }
    return {"status": OK, "age_seconds": age}


def _run(name: str, check: Callable[[], Check]) -> Check:
    try:
        return check()
    except Exception:
        # Any error counts as failing; its text may name hosts, so only the log has it.
        logger.exception("health check %s failed", name)
        return {"status": FAILING, "detail": "The check could not complete."}


@never_cache
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    now = timezone.now()
    checks = {
        "database": _run("database", _database),
        "broker": _run("broker", _broker),
        "sweeper": _run("sweeper", lambda: _sweeper(now)),
        "oldest_due_job": _run("oldest_due_job", lambda: _oldest_due_job(now)),
    }
    return _answer(checks)


@never_cache
@require_GET
def health_web(request: HttpRequest) -> JsonResponse:
    broker = _run("broker", _broker)
    if broker["status"] == FAILING:
        broker = {**broker, "status": WARNING}
    return _answer({"database": _run("database", _database), "broker": broker})


def _answer(checks: dict[str, Check]) -> JsonResponse:
    statuses = {check["status"] for check in checks.values()}
    overall = FAILING if FAILING in statuses else WARNING if WARNING in statuses else OK
    return JsonResponse(
        {"status": overall, "checks": checks}, status=503 if overall == FAILING else 200
    )
