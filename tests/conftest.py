from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.db import connection
from hypothesis import settings as hypothesis_settings
from rest_framework.test import APIClient

from tenants.models import Tenant, TenantAPIKey
from tests.factories import TenantAPIKeyFactory, TenantFactory

pytest_plugins = ["salesforce_emulator.pytest_plugin"]

# Property tests try the same examples at every run, so a run's outcome never depends on
# luck (HYPOTHESIS_PROFILE=explore searches afresh, for a developer hunting new cases).
hypothesis_settings.register_profile("suite", derandomize=True, deadline=None, database=None)
hypothesis_settings.register_profile("explore", deadline=None)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "suite"))


@pytest.fixture(scope="session")
def django_db_modify_db_settings(
    django_db_modify_db_settings_parallel_suffix: None,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """On SQLite the test database is a file (one per run, so parallel runs never share
    it) rather than memory: a real worker process and concurrent threads reach it."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        path = tmp_path_factory.mktemp("sqlite") / "test.sqlite3"
        database.setdefault("TEST", {})["NAME"] = str(path)


@pytest.fixture(autouse=True)
def _tasks_run_inline(settings: pytest.FixtureRequest) -> Iterator[None]:
    """django-q2 tasks run in the test process when their transaction commits (a few
    tests start a real worker instead)."""
    from django_q.conf import Conf

    previous = Conf.SYNC
    Conf.SYNC = True
    yield
    Conf.SYNC = previous


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: pytest.FixtureRequest) -> None:
    # Password strength is Django's business; the suite only needs logins to work.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass
class Partner:
    """A tenant seen from the outside: its API key and a client that sends it."""

    tenant: Tenant
    api_key: TenantAPIKey
    plain_key: str
    client: APIClient


def partner_for(tenant: Tenant) -> Partner:
    api_key = TenantAPIKeyFactory(tenant=tenant)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key.plain_key}")
    return Partner(tenant=tenant, api_key=api_key, plain_key=api_key.plain_key, client=client)


@pytest.fixture
def tenant(db: None) -> Tenant:
    return TenantFactory(name="Acme", slug="acme", internal_domains=["acme.test"])


@pytest.fixture
def partner(tenant: Tenant) -> Partner:
    return partner_for(tenant)


@pytest.fixture
def api_client(partner: Partner) -> APIClient:
    return partner.client


@pytest.fixture
def other_partner(db: None) -> Partner:
    return partner_for(
        TenantFactory(name="Globex", slug="globex", internal_domains=["globex.test"])
    )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Say which database the suite ran on, so CI can check both runs happened."""
    marker = session.config.getoption("--db-report", default=None)
    if marker and session.testscollected:
        from django_q.conf import Conf

        broker = "ORM" if Conf.ORM else "Redis" if Conf.REDIS else "other"
        with open(marker, "a") as fh:
            fh.write(
                f"{connection.vendor} broker={broker} tests={session.testscollected} "
                f"exit={int(exitstatus)}\n"
            )


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--db-report", default=None, help="append the database vendor used to FILE")
