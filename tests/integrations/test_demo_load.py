from __future__ import annotations

import datetime as dt
import io
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import transaction
from django.http import HttpRequest
from django.test import Client

from integrations.management.commands import demo_load
from integrations.models import SalesforceConnection, SyncJob
from integrations.services.connection import salesforce_disconnect
from meetings import services as meeting_services
from meetings.models import Activity, Attendee, Highlight, Meeting
from meetings.services import PersonInput
from salesforce_emulator.testing import EmulatorServer, OrgHandle
from scheduler.models import Booking
from scheduler.services import scheduler_signature_verify
from tenants.models import Tenant, TenantAPIKey

pytestmark = pytest.mark.django_db


def counts() -> dict[str, int]:
    models = [Meeting, Attendee, Highlight, Activity, Booking, SyncJob, TenantAPIKey]
    return {m.__name__: m.objects.count() for m in models}


def salesforce_counts(org: OrgHandle) -> dict[str, int]:
    names = ["Account", "Contact", "Lead", "User", "ContentNote", "Event", "Task"]
    return {name: len(org.records(name)) for name in names}


@pytest.fixture
def secrets_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "demo-secrets.json"
    monkeypatch.setattr(demo_load, "SECRETS_FILE", path)
    return path


@pytest.fixture
def demo_args(
    settings: Any, secrets_file: Path, salesforce_server: EmulatorServer, salesforce: OrgHandle
) -> dict[str, str]:
    """What scripts/run.sh gives the demo: the emulator, its admin's token, and a
    Connected App of the org for the portal (settings), as `make run` sets them up."""
    settings.SALESFORCE_CA_FILE = salesforce_server.ca_file
    settings.SALESFORCE_LOGIN_URL = salesforce_server.base_url
    settings.SALESFORCE_CLIENT_ID = f"portal-demo-{salesforce.id}"
    settings.SALESFORCE_CLIENT_SECRET = "demo-app-secret"
    salesforce.add_connected_app(
        settings.SALESFORCE_CLIENT_ID,
        "demo-app-secret",
        "http://127.0.0.1:8000/salesforce/callback/",
    )
    return {"salesforce_url": salesforce.instance_url, "salesforce_token": salesforce.access_token}


def load(**args: str) -> str:
    out = io.StringIO()
    call_command("demo_load", stdout=out, **args)
    return out.getvalue()


def printed_login(output: str, username: str) -> str:
    found = re.search(rf" {username} / (\S+)", output)
    assert found, output
    return found.group(1)


@pytest.mark.django_db(transaction=True)
def test_loading_the_demo_twice_changes_nothing(
    secrets_file: Path, demo_args: dict[str, str], salesforce: OrgHandle
) -> None:
    first_out = load(**demo_args)
    after_first = counts()
    in_salesforce = salesforce_counts(salesforce)
    second_out = load(**demo_args)

    assert counts() == after_first
    assert salesforce_counts(salesforce) == in_salesforce
    assert after_first["Meeting"] == 5 and after_first["Booking"] == 1
    assert first_out.splitlines()[-5:] == second_out.splitlines()[-5:]
    connection = SalesforceConnection.objects.get(tenant__slug="acme")
    assert connection.org_id == salesforce.id and connection.status == "connected"
    assert secrets_file.stat().st_mode & 0o077 == 0


def test_the_demo_api_key_printed_works(secrets_file: Path) -> None:
    from rest_framework.test import APIClient

    key = load().split("partner API key:")[1].split()[0]

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    listed = client.get("/api/v1/meetings/").json()

    assert listed["count"] == 5


def test_ops_and_the_member_log_in_with_passwords_of_their_own(secrets_file: Path) -> None:
    output = load()
    ops, member = printed_login(output, "ops"), printed_login(output, "ana")

    assert ops != member
    assert Client().login(request=HttpRequest(), username="ops", password=ops)
    assert Client().login(request=HttpRequest(), username="ana", password=member)
    assert not Client().login(request=HttpRequest(), username="ana", password=ops)
    assert not Client().login(request=HttpRequest(), username="ops", password=member)
    # Loading again keeps both.
    again = load()
    assert (printed_login(again, "ops"), printed_login(again, "ana")) == (ops, member)


@pytest.mark.django_db(transaction=True)
def test_the_demo_lands_in_salesforce_with_one_sync_to_review_and_one_refused(
    demo_args: dict[str, str], salesforce: OrgHandle
) -> None:
    """What a newcomer sees after `make run`: the demo meetings, call and booking are
    Notes, Events and Tasks in the emulator; one meeting waits for a person to pick the
    customer, one was refused by the org's validation rule."""
    output = load(**demo_args)

    def states(operation: str, **params: object) -> list[str]:
        jobs = SyncJob.objects.filter(operation=operation)
        if params:
            jobs = jobs.filter(**{f"params__{k}": v for k, v in params.items()})
        return sorted(jobs.values_list("state", flat=True))

    assert states("meeting.processed") == ["failed", "needs_review"] + ["succeeded"] * 3
    assert SyncJob.objects.filter(state="needs_review").count() == 1
    assert SyncJob.objects.filter(state="failed").count() == 1
    review = SyncJob.objects.get(state="needs_review")
    assert review.local_object.title == "Joint roadmap with Initech and Globex"
    names = {c["name"] for c in review.candidates}
    assert names == {"Initech", "Globex"}, review.candidates
    refused = SyncJob.objects.get(state="failed")
    assert refused.local_object.title == "On-site security review with Umbrella"
    assert "need a location" in refused.reason
    assert refused.attempts.get().salesforce_error_code == "FIELD_CUSTOM_VALIDATION_EXCEPTION"
    assert f"/admin/integrations/syncjob/{review.pk}/change/" in output
    assert f"/admin/integrations/syncjob/{refused.pk}/change/" in output

    assert states("booking.sync") == ["succeeded"]
    assert states("activity.sync", requested=True) == ["succeeded"]
    # Three meetings are filed under their customers (the refused one's Note, made in
    # the same batch, waits unlinked for its retry).
    linked = {link["ContentDocumentId"] for link in salesforce.records("ContentDocumentLink")}
    assert len(linked) == 3
    assert len(salesforce.records("Event")) == 3
    subjects = sorted(t["Subject"] for t in salesforce.records("Task"))
    assert subjects == [
        "Meeting: Umbrella: product demo",
        "Outbound call: Follow-up on the Initech proposal",
    ]


@pytest.mark.django_db(transaction=True)
def test_a_session_that_expires_is_refreshed_with_the_demo_connections_refresh_token(
    demo_args: dict[str, str], salesforce: OrgHandle
) -> None:
    load(**demo_args)
    connection = SalesforceConnection.objects.get(tenant__slug="acme")
    assert connection.refresh_token
    salesforce.expire_sessions()

    tenant = Tenant.objects.get(slug="acme")
    start = dt.datetime(2026, 12, 1, 15, 0, tzinfo=dt.UTC)
    with transaction.atomic():
        meeting, _ = meeting_services.meeting_upsert(
            tenant=tenant,
            external_id="after-expiry",
            title="Follow-up with Initech",
            start=start,
            end=start + dt.timedelta(minutes=30),
            organizer_email="ana@acme.example",
            attendees=[PersonInput(email="bill.lumbergh@initech.example", name="Bill")],
        )
        meeting_services.highlight_upsert(meeting=meeting, external_id="h1", text="Go ahead")
        meeting_services.meeting_mark_processed(meeting=meeting)

    job = SyncJob.objects.filter(operation="meeting.processed").latest("pk")
    assert job.state == "succeeded", job.reason
    connection.refresh_from_db()
    assert connection.status == "connected"
    assert "Follow-up with Initech" in {e["Subject"] for e in salesforce.records("Event")}


@pytest.mark.django_db(transaction=True)
def test_loading_again_keeps_a_disconnected_tenant_disconnected(
    demo_args: dict[str, str],
) -> None:
    load(**demo_args)
    salesforce_disconnect(tenant=Tenant.objects.get(slug="acme"))

    output = load(**demo_args)

    connection = SalesforceConnection.objects.get(tenant__slug="acme")
    assert connection.status == "disconnected"
    assert not connection.access_token and not connection.refresh_token
    assert "Salesforce connection left as it is: Disconnected." in output


def test_the_printed_webhook_example_is_signed_for_its_exact_body(secrets_file: Path) -> None:
    load()
    out = io.StringIO()
    call_command("demo_webhook", stdout=out)
    printed = out.getvalue()
    command = printed[printed.index("curl ") :].replace("\\\n", " ")
    words = shlex.split(command)
    header = next(w for w in words if w.startswith("Scheduler-Signature: "))
    body = words[words.index("--data-raw") + 1].encode()
    url = words[words.index("POST") + 1]
    tenant = Tenant.objects.get(slug="acme")

    scheduler_signature_verify(tenant=tenant, header=header.split(": ", 1)[1], body=body)
    assert tenant.scheduler_webhook_secret in printed
    delivered = Client().post(
        url.removeprefix("http://127.0.0.1:8000"),
        data=body,
        content_type="application/json",
        headers={"Scheduler-Signature": header.split(": ", 1)[1]},
    )
    assert delivered.status_code == 200, delivered.content
    assert delivered.json()["outcome"] == "created"
