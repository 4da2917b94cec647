"""Retiring an encryption key: after `manage.py secrets_reencrypt`, every stored secret
reads back with the newest key alone."""

from __future__ import annotations

import io

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.test import override_settings

from integrations.models import SalesforceConnection
from tenants.models import Tenant
from tests.factories import SalesforceConnectionFactory, TenantFactory

pytestmark = pytest.mark.django_db

KEY_A = Fernet.generate_key().decode()
KEY_B = Fernet.generate_key().decode()


def test_secrets_stored_under_an_old_key_survive_its_removal() -> None:
    with override_settings(FIELD_ENCRYPTION_KEYS=[KEY_A]):
        tenant = TenantFactory(scheduler_webhook_secret="whsec-kept")
        conn = SalesforceConnectionFactory(
            tenant=tenant, access_token="00Dxx!access-kept", refresh_token="5Aep-refresh-kept"
        )
        no_secret = TenantFactory(scheduler_webhook_secret="")

    with override_settings(FIELD_ENCRYPTION_KEYS=[KEY_B, KEY_A]):
        out = io.StringIO()
        call_command("secrets_reencrypt", stdout=out)

    assert "integrations.SalesforceConnection: 1 rows re-encrypted" in out.getvalue()
    with override_settings(FIELD_ENCRYPTION_KEYS=[KEY_B]):
        tenant = Tenant.objects.get(pk=tenant.pk)
        conn = SalesforceConnection.objects.get(pk=conn.pk)
        assert tenant.scheduler_webhook_secret == "whsec-kept"
        assert conn.access_token == "00Dxx!access-kept"
        assert conn.refresh_token == "5Aep-refresh-kept"
        assert Tenant.objects.get(pk=no_secret.pk).scheduler_webhook_secret == ""


def test_without_the_command_the_old_key_cannot_be_removed() -> None:
    with override_settings(FIELD_ENCRYPTION_KEYS=[KEY_A]):
        tenant = TenantFactory(scheduler_webhook_secret="whsec-old")

    with (
        override_settings(FIELD_ENCRYPTION_KEYS=[KEY_B]),
        pytest.raises(ImproperlyConfigured, match="cannot be decrypted"),
    ):
        Tenant.objects.get(pk=tenant.pk)
