"""/health/: what a load balancer or an orchestrator sees. 200 when the deployment can
work, 503 when it cannot, with each check named and no tenant data."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from integrations.models import SweeperRun, SyncJob
from integrations.outbox.sweeper import sync_jobs_sweep
from portal import health as checks
from tests.factories import SalesforceConnectionFactory, SyncJobFactory, TenantFactory

pytestmark = pytest.mark.django_db


def health() -> tuple[int, dict[str, object]]:
    response = Client().get("/health/")
    assert response["Content-Type"] == "application/json"
    return response.status_code, response.json()


def sweeper_ran(ago: timedelta) -> None:
    SweeperRun.objects.update_or_create(pk=1, defaults={"finished_at": timezone.now() - ago})


def test_healthy_after_a_sweep_without_signing_in() -> None:
    sync_jobs_sweep()

    status, body = health()

    assert status == 200
    assert body["status"] == "ok"
    checks = body["checks"]
    assert isinstance(checks, dict)
    assert set(checks) == {"database", "broker", "sweeper", "oldest_due_job"}
    assert all(check["status"] == "ok" for check in checks.values())
    assert checks["broker"]["kind"] == ("redis" if settings.REDIS_URL else "database")


def test_a_sweeper_that_never_ran_answers_503() -> None:
    status, body = health()

    assert status == 503
    assert body["status"] == "failing"
    assert body["checks"]["sweeper"]["status"] == "failing"  # type: ignore[index]


def test_a_sweeper_that_stopped_answers_503() -> None:
    sweeper_ran(ago=timedelta(seconds=settings.HEALTH_SWEEPER_MAX_AGE_SECONDS + 60))

    status, body = health()

    assert status == 503
    sweeper = body["checks"]["sweeper"]  # type: ignore[index]
    assert sweeper["status"] == "failing"
    assert "sync worker" in sweeper["detail"]


def test_a_long_waiting_due_sync_warns_but_stays_in_service() -> None:
    sweeper_ran(ago=timedelta(seconds=1))
    tenant = TenantFactory(name="Acme Secret Corp", slug="acme-secret")
    SalesforceConnectionFactory(tenant=tenant)
    job = SyncJobFactory(local_object__meeting__tenant=tenant)
    long_ago = timezone.now() - timedelta(seconds=settings.HEALTH_DUE_JOB_WARN_SECONDS + 120)
    SyncJob.objects.filter(pk=job.pk).update(next_attempt_at=long_ago)

    response = Client().get("/health/")
    body = response.json()

    assert response.status_code == 200
    assert body["status"] == "warning"
    oldest = body["checks"]["oldest_due_job"]
    assert oldest["status"] == "warning"
    assert oldest["age_seconds"] >= settings.HEALTH_DUE_JOB_WARN_SECONDS + 120
    assert "acme" not in response.content.decode().lower()


def test_a_job_of_a_tenant_that_must_reconnect_does_not_warn() -> None:
    sweeper_ran(ago=timedelta(seconds=1))
    tenant = TenantFactory()
    SalesforceConnectionFactory(tenant=tenant, status="needs_reauth")
    job = SyncJobFactory(local_object__meeting__tenant=tenant)
    SyncJob.objects.filter(pk=job.pk).update(next_attempt_at=timezone.now() - timedelta(days=1))

    status, body = health()

    assert status == 200
    assert body["checks"]["oldest_due_job"]["status"] == "ok"  # type: ignore[index]


def test_a_stopped_worker_keeps_the_web_servers_in_the_load_balancer() -> None:
    sweeper_ran(ago=timedelta(seconds=settings.HEALTH_SWEEPER_MAX_AGE_SECONDS + 60))

    response = Client().get("/health/web/")

    assert response.status_code == 200
    assert response.json()["checks"]["database"]["status"] == "ok"
    assert "sweeper" not in response.json()["checks"]


def test_a_broker_that_does_not_answer_only_warns_on_the_web_check(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broker_down() -> dict[str, object]:
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(checks, "_broker", broker_down)

    web = Client().get("/health/web/")
    whole = Client().get("/health/")

    assert web.status_code == 200 and web.json()["checks"]["broker"]["status"] == "warning"
    assert whole.status_code == 503 and whole.json()["checks"]["broker"]["status"] == "failing"


def test_a_database_that_does_not_answer_takes_the_web_server_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def database_down() -> dict[str, object]:
        raise ConnectionError("database unreachable")

    monkeypatch.setattr(checks, "_database", database_down)

    response = Client().get("/health/web/")

    assert response.status_code == 503
    assert response.json()["checks"]["database"] == {
        "status": "failing",
        "detail": "The check could not complete.",
    }
