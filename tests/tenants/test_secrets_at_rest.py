from __future__ import annotations

import pytest
from django.db import connection

from tests.factories import SalesforceConnectionFactory, TenantFactory

pytestmark = pytest.mark.django_db


def raw_column(table: str, column: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608
        return cursor.fetchone()[0]


def test_oauth_tokens_are_encrypted_in_the_database() -> None:
    conn = SalesforceConnectionFactory(
        access_token="00Dxx!secret-access", refresh_token="5Aep-refresh"
    )

    stored_access = raw_column("integrations_salesforceconnection", "access_token", conn.pk)
    stored_refresh = raw_column("integrations_salesforceconnection", "refresh_token", conn.pk)
    conn.refresh_from_db()

    assert "secret-access" not in stored_access and "refresh" not in stored_refresh
    assert conn.access_token == "00Dxx!secret-access"
    assert conn.refresh_token == "5Aep-refresh"


def test_the_scheduler_secret_is_encrypted_in_the_database() -> None:
    tenant = TenantFactory(scheduler_webhook_secret="whsec-plain")

    assert "whsec-plain" not in raw_column("tenants_tenant", "scheduler_webhook_secret", tenant.pk)


def test_a_rotated_key_still_reads_old_secrets(settings: pytest.FixtureRequest) -> None:
    from cryptography.fernet import Fernet

    conn = SalesforceConnectionFactory(access_token="before-rotation")
    settings.FIELD_ENCRYPTION_KEYS = [
        Fernet.generate_key().decode(),
        *settings.FIELD_ENCRYPTION_KEYS,
    ]

    conn.refresh_from_db()

    assert conn.access_token == "before-rotation"
