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


def salesforce_counts(org: OrgHandle) -> dict[str, int]:
    names = ["Account", "Contact", "Lead", "User", "ContentNote", "Event", "Task"]
    return {name: len(org.records(name)) for name in names}


@pytest.mark.django_db(transaction=True)
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
    in_salesforce = salesforce_counts(salesforce)
    call_command("demo_load", stdout=second_out, **args)

    assert counts() == after_first
    assert salesforce_counts(salesforce) == in_salesforce
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


@pytest.mark.django_db(transaction=True)
def test_the_demo_lands_in_salesforce(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    settings: pytest.FixtureRequest,
    salesforce_server: EmulatorServer,
    salesforce: OrgHandle,
) -> None:
    """What a newcomer sees after `make run`: the demo meetings, call and booking are
    Notes, Events and Tasks in the emulator."""
    monkeypatch.setattr(demo_load, "SECRETS_FILE", tmp_path / "demo-secrets.json")
    settings.SALESFORCE_CA_FILE = salesforce_server.ca_file

    call_command(
        "demo_load",
        stdout=io.StringIO(),
        salesforce_url=salesforce.instance_url,
        salesforce_token=salesforce.access_token,
    )

    def states(operation: str, **params: object) -> list[str]:
        jobs = SyncJob.objects.filter(operation=operation)
        if params:
            jobs = jobs.filter(**{f"params__{k}": v for k, v in params.items()})
        return list(jobs.values_list("state", flat=True))

    assert states("meeting.processed") == ["succeeded"] * 3
    assert states("booking.sync") == ["succeeded"], list(
        SyncJob.objects.filter(operation="booking.sync").values_list("reason", flat=True)
    )
    assert states("activity.sync", requested=True) == ["succeeded"]
    assert len(salesforce.records("ContentNote")) == 3
    assert len(salesforce.records("Event")) == 3
    subjects = sorted(t["Subject"] for t in salesforce.records("Task"))
    assert subjects == [
        "Meeting: Umbrella: product demo",
        "Outbound call: Follow-up on the Initech proposal",
    ]
