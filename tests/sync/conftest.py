"""A tenant connected to a fresh emulator org over HTTPS, and helpers that act as the
partner product does: through the API."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone

from integrations.models import SalesforceConnection, SyncJob, SyncMapping
from integrations.services.connection import salesforce_connection_connect
from integrations.services.settings import integration_settings_update
from salesforce_emulator.store import WriteContext
from salesforce_emulator.testing import EmulatorServer, OrgHandle
from tests.conftest import Partner


@pytest.fixture
def sf(
    settings: Any, salesforce_server: EmulatorServer, salesforce: OrgHandle, partner: Partner
) -> OrgHandle:
    """The partner's tenant, connected to `salesforce` (with a Connected App, so the
    session can be refreshed), auto-sync on, links back to the portal."""
    settings.SALESFORCE_CA_FILE = salesforce_server.ca_file
    settings.SALESFORCE_LOGIN_URL = salesforce_server.base_url
    settings.SALESFORCE_CLIENT_ID = f"portal-{salesforce.id}"
    settings.SALESFORCE_CLIENT_SECRET = "connected-app-secret"
    salesforce.add_connected_app(
        settings.SALESFORCE_CLIENT_ID, "connected-app-secret", "http://testserver/cb/"
    )
    salesforce_connection_connect(
        tenant=partner.tenant,
        instance_url=salesforce.instance_url,
        access_token=salesforce.access_token,
        refresh_token=salesforce.refresh_token,
    )
    integration_settings_update(
        tenant=partner.tenant, auto_sync=True, link_back_base_url="https://portal.acme.test"
    )
    return salesforce


def connection_of(partner: Partner) -> SalesforceConnection:
    return SalesforceConnection.objects.get(tenant=partner.tenant)


def meeting_push(
    partner: Partner,
    external_id: str = "m-1",
    *,
    attendees: list[str] = ("ana@acme.test", "bob@initech.example"),  # type: ignore[assignment]
    highlights: list[str] = ("Budget is approved", "Needs SSO"),  # type: ignore[assignment]
    title: str = "Discovery with Initech",
    processed: bool = True,
) -> None:
    client = partner.client
    answer = client.post(
        "/api/v1/meetings/",
        {
            "external_id": external_id,
            "title": title,
            "start": "2026-11-20T15:00:00Z",
            "end": "2026-11-20T15:45:00Z",
            "attendees": [{"email": e, "name": e.split("@")[0].title()} for e in attendees],
        },
        format="json",
    )
    assert answer.status_code in (200, 201), answer.json()
    for index, text in enumerate(highlights):
        answer = client.post(
            f"/api/v1/meetings/{external_id}/highlights/",
            {"external_id": f"h{index + 1}", "text": text, "offset_seconds": 60 * (index + 1)},
            format="json",
        )
        assert answer.status_code in (200, 201), answer.json()
    if processed:
        answer = client.post(f"/api/v1/meetings/{external_id}/processed/")
        assert answer.status_code in (200, 202), answer.json()


def grace_passes() -> None:
    """The grace period of every write sent without an answer passes (Salesforce would
    have applied it by now, if it ever will)."""
    past = timezone.now() - timedelta(seconds=settings.SYNC_IN_DOUBT_GRACE_SECONDS + 1)
    SyncMapping.objects.filter(sent_at__gt=past).update(sent_at=past)


def records_in_doubt() -> int:
    """Records whose create (or delete) went out without an answer."""
    return SyncMapping.objects.filter(state__in=SyncMapping.IN_DOUBT).count()


def logged_call(sf: OrgHandle) -> dict[str, Any]:
    """A tenant that logs calls automatically, an agent who is a Salesforce User, a
    Lead on the other end, and the call between them as the partner posts it."""
    from integrations.services.settings import integration_settings_update
    from tenants.models import Tenant

    tenant = Tenant.objects.get()
    integration_settings_update(tenant=tenant, log_calls_automatically=True)
    sf.insert("User", Username="agent.sf", Email="agent@acme.test", LastName="Agent", Alias="agent")
    sf.insert("Lead", LastName="Prospect", Company="P", Email="lead@prospect.example")
    return {
        "external_id": "call-1",
        "kind": "call",
        "direction": "outbound",
        "started_at": "2026-11-20T09:00:00Z",
        "duration_seconds": 420,
        "subject": "Pricing",
        "notes": "Asked for a discount.",
        "logged_by_email": "agent@acme.test",
        "participants": [{"email": "agent@acme.test"}, {"email": "lead@prospect.example"}],
    }


def last_job(operation: str) -> SyncJob:
    return SyncJob.objects.filter(operation=operation).order_by("-id").first()


class SalesforceUser:
    """Someone working in Salesforce itself (not through the portal)."""

    def __init__(self, org: OrgHandle) -> None:
        self._org = org
        self._ctx = WriteContext(user_id=org.admin_user_id, trusted=True)

    def update(self, sobject: str, record_id: str, fields: dict[str, Any]) -> None:
        self._org.org.update(sobject, record_id, fields, self._ctx)

    def delete(self, sobject: str, record_id: str) -> None:
        self._org.org.delete(sobject, record_id, self._ctx)


def as_salesforce_user(org: OrgHandle) -> SalesforceUser:
    return SalesforceUser(org)
