from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import call_command

from integrations.management.commands import demo_load
from integrations.models import SalesforceConnection, SyncJob
from meetings.models import Activity, Attendee, Highlight, Meeting
from salesforce_emulator.testing import EmulatorServer, OrgHandle
from scheduler.models import Booking
from tenants.models import TenantAPIKey

pytestmark = pytest.mark.django_db


def counts() -> dict[str, int]:
    models = [Meeting, Attendee, Highlight, Activity, Booking, SyncJob, TenantAPIKey]
    return {m.__name__: m.objects.count() for m in models}


def test_loading_the_demo_twice_changes_nothing(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    settings: pytest.FixtureRequest,
    salesforce_server: EmulatorServer,
    salesforce: OrgHandle,
) -> None:
    monkeypatch.setattr(demo_load, "SECRETS_FILE", tmp_path / "demo-secrets.json")
    settings.SALESFORCE_CA_FILE = salesforce_server.ca_file
    args = {"salesforce_url": salesforce.instance_url, "salesforce_token": salesforce.access_token}

    first_out, second_out = io.StringIO(), io.StringIO()
    call_command("demo_load", stdout=first_out, **args)
    after_first = counts()
    call_command("demo_load", stdout=second_out, **args)

    assert counts() == after_first
    assert after_first["Meeting"] == 3 and after_first["Booking"] == 1
    assert first_out.getvalue().splitlines()[-3:] == second_out.getvalue().splitlines()[-3:]
    connection = SalesforceConnection.objects.get(tenant__slug="acme")
    assert connection.org_id == salesforce.id and connection.status == "connected"
    assert (tmp_path / "demo-secrets.json").stat().st_mode & 0o077 == 0


def test_the_demo_api_key_printed_works(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from rest_framework.test import APIClient

    monkeypatch.setattr(demo_load, "SECRETS_FILE", tmp_path / "demo-secrets.json")
    out = io.StringIO()
    call_command("demo_load", stdout=out)
    key = out.getvalue().split("partner API key:")[1].split()[0]

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    listed = client.get("/api/v1/meetings/").json()

    assert listed["count"] == 3
