"""A tenant admin connects Salesforce through the OAuth web-server flow with PKCE,
against the emulator over HTTPS, as against a real org."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import urlsplit

import pytest
from django.test import Client

from integrations.models import SalesforceConnection
from salesforce_emulator.testing import EmulatorServer, OrgHandle, trusted_session
from tenants.models import Membership, Tenant
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

CALLBACK = "http://testserver/salesforce/callback/"


@pytest.fixture
def connected_app(
    settings: pytest.FixtureRequest, salesforce_server: EmulatorServer, salesforce: OrgHandle
) -> OrgHandle:
    settings.SALESFORCE_LOGIN_URL = salesforce_server.base_url
    settings.SALESFORCE_CA_FILE = salesforce_server.ca_file
    settings.SALESFORCE_CLIENT_ID = f"portal-{salesforce.id}"
    settings.SALESFORCE_CLIENT_SECRET = "connected-app-secret"
    salesforce.add_connected_app(settings.SALESFORCE_CLIENT_ID, "connected-app-secret", CALLBACK)
    return salesforce


def signed_in(tenant: Tenant, role: str = Membership.Role.ADMIN) -> Client:
    user = UserFactory()
    MembershipFactory(tenant=tenant, user=user, role=role)
    client = Client()
    client.force_login(user)
    return client


def consent(authorize_url: str, ca_file: str, decision: str = "allow") -> str:
    """What the admin does on Salesforce's page: read it, press a button. Returns where
    Salesforce sends the browser back to."""
    browser = trusted_session(ca_file)
    page = browser.get(authorize_url)
    assert page.status_code == 200 and "Allow" in page.text
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', page.text))
    fields = {k: unescape(v) for k, v in fields.items()}
    answer = browser.post(
        urlsplit(authorize_url)._replace(query="").geturl(),
        data={**fields, "decision": decision},
        allow_redirects=False,
    )
    assert answer.status_code == 302
    return answer.headers["Location"]


def test_an_admin_connects_salesforce_and_the_tokens_are_stored(
    tenant: Tenant, connected_app: OrgHandle, salesforce_server: EmulatorServer
) -> None:
    client = signed_in(tenant)

    start = client.post("/salesforce/connect/", {"login": "production"})
    assert start.status_code == 302
    assert "code_challenge_method=S256" in start["Location"]
    back = consent(start["Location"], salesforce_server.ca_file)
    assert back.startswith(CALLBACK)
    done = client.get(back.removeprefix("http://testserver"), follow=True)

    connection = SalesforceConnection.objects.get(tenant=tenant)
    assert connection.status == "connected"
    assert connection.org_id == connected_app.id
    assert connection.installer_salesforce_user_id == connected_app.admin_user_id
    assert connection.access_token and connection.refresh_token
    assert f"Connected to Salesforce org {connected_app.id}" in done.content.decode()


def test_a_refusal_at_salesforce_is_reported_and_stores_nothing(
    tenant: Tenant, connected_app: OrgHandle, salesforce_server: EmulatorServer
) -> None:
    client = signed_in(tenant)
    start = client.post("/salesforce/connect/", {"login": "production"})

    back = consent(start["Location"], salesforce_server.ca_file, decision="deny")
    page = client.get(back.removeprefix("http://testserver"), follow=True)

    assert "Salesforce did not connect: end-user denied authorization" in page.content.decode()
    assert not SalesforceConnection.objects.filter(tenant=tenant, status="connected").exists()


def test_a_callback_with_a_foreign_state_is_refused(
    tenant: Tenant, connected_app: OrgHandle, salesforce_server: EmulatorServer
) -> None:
    client = signed_in(tenant)
    start = client.post("/salesforce/connect/", {"login": "production"})
    back = consent(start["Location"], salesforce_server.ca_file)

    forged = re.sub(r"state=[^&]+", "state=forged", back)
    page = client.get(forged.removeprefix("http://testserver"), follow=True)

    assert "does not belong to this sign-in" in page.content.decode()
    assert not SalesforceConnection.objects.filter(tenant=tenant).exists()


def test_members_who_are_not_admins_cannot_connect(
    tenant: Tenant, connected_app: OrgHandle
) -> None:
    client = signed_in(tenant, role=Membership.Role.MEMBER)

    assert client.get("/salesforce/connect/").status_code == 403


def test_disconnecting_revokes_the_refresh_token_at_salesforce(
    tenant: Tenant, connected_app: OrgHandle, salesforce_server: EmulatorServer
) -> None:
    client = signed_in(tenant)
    back = consent(
        client.post("/salesforce/connect/", {"login": "production"})["Location"],
        salesforce_server.ca_file,
    )
    client.get(back.removeprefix("http://testserver"))
    refresh_token = SalesforceConnection.objects.get(tenant=tenant).refresh_token

    client.post("/salesforce/disconnect/")

    connection = SalesforceConnection.objects.get(tenant=tenant)
    assert connection.status == "disconnected" and not connection.refresh_token
    refreshed = trusted_session(salesforce_server.ca_file).post(
        f"{salesforce_server.base_url}/services/oauth2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": f"portal-{connected_app.id}",
            "client_secret": "connected-app-secret",
        },
    )
    assert refreshed.status_code == 400 and refreshed.json()["error"] == "invalid_grant"


def test_connecting_without_a_connected_app_configured_says_so(
    tenant: Tenant, settings: pytest.FixtureRequest
) -> None:
    settings.SALESFORCE_CLIENT_ID = ""
    client = signed_in(tenant)

    page = client.post("/salesforce/connect/", {"login": "production"}, follow=True)

    assert "SALESFORCE_CLIENT_ID is not configured" in page.content.decode()
