"""What a `manage.py sync_worker` subprocess started by a test needs: the test database
as a URL, and an environment with the test process's settings (shared by the worker
tests and the fault campaign)."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection


def database_url() -> str:
    """The database this process uses, as a worker process reads it from DATABASE_URL."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        name = str(db["NAME"])
        assert name != ":memory:" and "mode=memory" not in name, (
            "a worker process needs a file-based test database (see tests/conftest.py)"
        )
        return f"sqlite:///{Path(name).resolve()}"
    assert connection.vendor == "postgresql", connection.vendor
    user = quote(db.get("USER") or "", safe="")
    password = quote(db.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if password else f"{user}@" if user else ""
    return f"postgres://{credentials}{db.get('HOST') or ''}:{db.get('PORT') or 5432}/{db['NAME']}"


def worker_environment(database: str, **overrides: str) -> dict[str, str]:
    """The environment of a worker process: this process's secrets and Salesforce
    settings, the given database, tasks queued (not inline), and `overrides`."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DJANGO_ENV="development",
        DJANGO_SECRET_KEY=settings.SECRET_KEY,
        FIELD_ENCRYPTION_KEYS=",".join(settings.FIELD_ENCRYPTION_KEYS),
        DATABASE_URL=database,
        DATABASE_CONN_MAX_AGE="0",
        Q_SYNC="false",
        SALESFORCE_CA_FILE=settings.SALESFORCE_CA_FILE,
        SALESFORCE_LOGIN_URL=settings.SALESFORCE_LOGIN_URL,
        SALESFORCE_CLIENT_ID=settings.SALESFORCE_CLIENT_ID,
        SALESFORCE_CLIENT_SECRET=settings.SALESFORCE_CLIENT_SECRET,
        LOG_LEVEL="INFO",
        PYTHONUNBUFFERED="1",
    )
    if settings.REDIS_URL:
        env["REDIS_URL"] = settings.REDIS_URL
    env.update(overrides)
    return env
