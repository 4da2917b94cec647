"""A tenant admin connects a sandbox or a My Domain org: the login address they choose
is where they sign in, where the code is traded for tokens and where the sync later
refreshes the session. Only Salesforce's own hosts (and the configured login
addresses) are accepted.

The emulator plays the sandbox: it answers on https://localhost:<port> as well as on
https://127.0.0.1:<port>, so the sandbox login address is configured as the first while
"production" points where nothing answers: a step that went to production would fail."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import Client

from integrations.models import SalesforceConnection, SyncJob
from integrations.services.settings import integration_settings_update
from salesforce_emulator.testing import EmulatorServer, OrgHandle
from tenants.models import Membership, Tenant
from tests.conftest import Partner
from tests.factories import MembershipFactory, UserFactory
from tests.integrations.test_salesforce_connect import CALLBACK, consent
from tests.sync.conftest import meeting_push

# Sync jobs run when the transaction that queued them commits.
pytestmark = pytest.mark.django_db(transaction=True)

# Nothing listens on port 1: a request sent to the production login fails.
DEAD_PRODUCTION = "https://127.0.0.1:1"


def localhost_url(server: EmulatorServer) -> str:
    return f"https://localhost:{urlsplit(server.base_url).port}"


@pytest.fixture
def connected_app(
    settings: Any, salesforce_server: EmulatorServer, salesforce: OrgHandle
) -> OrgHandle:
    settings.SALESFORCE_LOGIN_URL = DEAD_PRODUCTION
    settings.SALESFORCE_SANDBOX_LOGIN_URL = localhost_url(salesforce_server)
    settings.SALESFORCE_CA_FILE = salesforce_server.ca_file
    settings.SALESFORCE_CLIENT_ID = f"portal-{salesforce.id}"
    settings.SALESFORCE_CLIENT_SECRET = "connected-app-secret"
    salesforce.add_connected_app(settings.SALESFORCE_CLIENT_ID, "connected-app-secret", CALLBACK)
    return salesforce


def admin_client(tenant: Tenant) -> Client:
    user = UserFactory()
    MembershipFactory(tenant=tenant, user=user, role=Membership.Role.ADMIN)
    client = Client()
    client.force_login(user)
    return client


def connect(client: Client, ca_file: str, **choice: str) -> Any:
    start = client.post("/salesforce/connect/", choice)
    assert start.status_code == 302, start.content.decode()
    back = consent(start["Location"], ca_file)
    return start, client.get(back.removeprefix("http://testserver"), follow=True)


def sync_after_the_session_expired(partner: Partner, org: OrgHandle) -> SyncJob:
    """The org's sessions end; a processed meeting makes the sync refresh its token."""
    integration_settings_update(
        tenant=partner.tenant, auto_sync=True, link_back_base_url="https://portal.acme.test"
    )
    account = org.insert("Account", Name="Initech")
    org.insert("Contact", LastName="Bob", Email="bob@initech.example", AccountId=account)
    org.expire_sessions()
    meeting_push(partner, attendees=["ana@acme.test", "bob@initech.example"])
    return SyncJob.objects.get(operation="meeting.processed")


def test_a_sandbox_signs_in_trades_the_code_and_refreshes_at_the_sandbox_login(
    partner: Partner, connected_app: OrgHandle, salesforce_server: EmulatorServer
) -> None:
    sandbox = localhost_url(salesforce_server)
    client = admin_client(partner.tenant)

    start, done = connect(client, salesforce_server.ca_file, login="sandbox")

    assert start["Location"].startswith(f"{sandbox}/services/oauth2/authorize?")
    assert f"Connected to Salesforce org {connected_app.id}" in done.content.decode()
    connection = SalesforceConnection.objects.get(tenant=partner.tenant)
    assert connection.status == "connected" and connection.login_url == sandbox
    assert f"Sandbox (localhost:{urlsplit(sandbox).port})" in done.content.decode()
    old_token = connection.access_token

    job = sync_after_the_session_expired(partner, connected_app)

    assert job.state == "succeeded", job.reason
    connection.refresh_from_db()
    assert connection.access_token != old_token and connection.status == "connected"
    assert len(connected_app.records("ContentNote")) == 1


def test_a_my_domain_address_is_kept_for_refreshing_after_the_default_login_changes(
    partner: Partner, connected_app: OrgHandle, salesforce_server: EmulatorServer, settings: Any
) -> None:
    # The org's own address is the emulator's; production is the emulator too, until
    # the operator points it elsewhere: the connection keeps signing in where it did.
    settings.SALESFORCE_LOGIN_URL = salesforce_server.base_url
    client = admin_client(partner.tenant)

    start, _ = connect(
        client, salesforce_server.ca_file, login="custom", custom_url=salesforce_server.base_url
    )
    settings.SALESFORCE_LOGIN_URL = DEAD_PRODUCTION

    assert start["Location"].startswith(f"{salesforce_server.base_url}/services/oauth2/authorize?")
    connection = SalesforceConnection.objects.get(tenant=partner.tenant)
    assert connection.login_url == salesforce_server.base_url
    job = sync_after_the_session_expired(partner, connected_app)
    assert job.state == "succeeded", job.reason


def test_a_connection_made_before_the_choice_refreshes_at_the_configured_login(
    partner: Partner, connected_app: OrgHandle, salesforce_server: EmulatorServer, settings: Any
) -> None:
    settings.SALESFORCE_LOGIN_URL = salesforce_server.base_url
    client = admin_client(partner.tenant)
    connect(client, salesforce_server.ca_file, login="production")
    connection = SalesforceConnection.objects.get(tenant=partner.tenant)
    assert connection.login_url == ""

    job = sync_after_the_session_expired(partner, connected_app)

    assert job.state == "succeeded", job.reason


def test_reconnecting_offers_the_login_the_connection_uses(
    partner: Partner, connected_app: OrgHandle, salesforce_server: EmulatorServer
) -> None:
    client = admin_client(partner.tenant)
    connect(client, salesforce_server.ca_file, login="sandbox")

    page = client.get("/salesforce/connect/").content.decode()

    assert '<h1 id="connect-title">Reconnect Salesforce</h1>' in page
    assert (
        'id="login-sandbox" value="sandbox" aria-describedby="login-sandbox-help" checked' in page
    )
    assert '<label for="id_custom_url">My Domain login address</label>' in page


def test_the_connect_page_offers_production_sandbox_and_my_domain(tenant: Tenant) -> None:
    page = admin_client(tenant).get("/salesforce/connect/").content.decode()

    assert "<legend>Which Salesforce org?</legend>" in page
    for choice, words in (
        ("production", "Production"),
        ("sandbox", "Sandbox"),
        ("custom", "My Domain"),
    ):
        assert f'<label for="login-{choice}">{words}</label>' in page
    assert 'value="production" aria-describedby="login-production-help" checked' in page
    assert "test.salesforce.com" in page and "login.salesforce.com" in page


REFUSED = [
    ("http://acme.my.salesforce.com", "must start with https://"),
    ("acme.my.salesforce.com", "must start with https://"),
    ("javascript:alert(1)", "must start with https://"),
    ("https://evil.example.com", "evil.example.com is not a Salesforce address"),
    ("https://login.salesforce.com.evil.com", "is not a Salesforce address"),
    ("https://salesforce.com", "is not a Salesforce address"),
    ("https://evil.com@login.salesforce.com", "must not hold a user name or password"),
    ("https://login.salesforce.com:pw@evil.com", "must not hold a user name or password"),
    ("https://evil.com\\@login.salesforce.com", "no spaces or backslashes"),
    ("https://acme.my.salesforce.com:8443", "must not name a port"),
    ("https://acme.my.salesforce.com/services/oauth2", "without a path"),
    ("https://acme.my.salesforce.com?next=https://evil.com", "without a path"),
    ("https://acme.my.salesforce.com#x", "without a path"),
    ("https://1.2.3.4", "not a Salesforce host name"),
    ("https://127.0.0.1", "not a Salesforce host name"),
    ("https://[::1]", "not a Salesforce host name"),
    ("https://acme.my.salesforce.com.", "not a Salesforce host name"),
    ("https://acme%2emy.salesforce.com", "not a Salesforce host name"),
    ("https://acme my.salesforce.com", "no spaces or backslashes"),
    ("", "Enter your org's My Domain login address"),
]


@pytest.mark.parametrize(("address", "why"), REFUSED, ids=[a or "empty" for a, _ in REFUSED])
def test_a_login_address_that_is_not_salesforce_is_refused_with_a_reason(
    tenant: Tenant, connected_app: OrgHandle, address: str, why: str
) -> None:
    client = admin_client(tenant)

    answer = client.post("/salesforce/connect/", {"login": "custom", "custom_url": address})

    assert answer.status_code == 200
    page = answer.content.decode()
    assert why in page.replace("&#x27;", "'")
    assert 'id="custom-url-errors" role="alert"' in page and 'aria-invalid="true"' in page
    # The choice is kept, so the field with the error stays in view.
    assert 'value="custom" aria-describedby="login-custom-help" checked' in page
    assert "salesforce_oauth" not in client.session


ACCEPTED = [
    ("https://acme.my.salesforce.com", "https://acme.my.salesforce.com"),
    ("https://acme--uat.sandbox.my.salesforce.com", "https://acme--uat.sandbox.my.salesforce.com"),
    ("  https://ACME.my.salesforce.com/ ", "https://acme.my.salesforce.com"),
    ("https://acme.lightning.force.com", "https://acme.lightning.force.com"),
    ("https://login.salesforce.com", "https://login.salesforce.com"),
]


@pytest.mark.parametrize(("address", "login"), ACCEPTED)
def test_a_salesforce_login_address_sends_the_admin_there(
    tenant: Tenant, connected_app: OrgHandle, address: str, login: str
) -> None:
    client = admin_client(tenant)

    answer = client.post("/salesforce/connect/", {"login": "custom", "custom_url": address})

    assert answer.status_code == 302
    assert answer["Location"].startswith(f"{login}/services/oauth2/authorize?")
    assert client.session["salesforce_oauth"]["login_url"] == login
