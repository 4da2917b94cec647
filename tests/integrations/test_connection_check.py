"""The connection check: on connecting, and when an admin asks, the portal reads what
the org lets the installing user do (describe and limits, against the emulator) and
the settings page lists it, with what to do about anything missing."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from integrations.models import SalesforceConnection, SyncJob
from integrations.salesforce.capabilities import (
    PORTAL_WRITES,
    CheckItem,
    checklist,
    connection_check_from,
)
from salesforce_emulator.testing import EmulatorServer, OrgHandle, trusted_session
from tenants.models import Membership, Tenant
from tests.conftest import Partner
from tests.factories import MembershipFactory, UserFactory
from tests.integrations.test_salesforce_connect import connected_app as connected_app
from tests.integrations.test_salesforce_connect import consent
from tests.portal.test_view_as import VIEWING, staff
from tests.sync.conftest import sf as sf  # the emulator-connected tenant fixture

pytestmark = pytest.mark.django_db


def signed_in(tenant: Tenant, role: str = Membership.Role.ADMIN) -> Client:
    user = UserFactory()
    MembershipFactory(tenant=tenant, user=user, role=role)
    client = Client()
    client.force_login(user)
    return client


def check_card(page: str) -> str:
    """The settings page's "Connection check" card, its tags dropped."""
    card = page.split('id="check-title"', 1)[1].split("</section>", 1)[0]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", card)).replace("&#x27;", "'")


def test_connecting_checks_the_org_in_two_api_calls_and_the_page_lists_it(
    tenant: Tenant, connected_app: OrgHandle, salesforce_server: EmulatorServer
) -> None:
    client = signed_in(tenant)
    start = client.post("/salesforce/connect/", {"login": "production"})
    back = consent(start["Location"], salesforce_server.ca_file)
    calls = connected_app.api_calls

    client.get(back.removeprefix("http://testserver"))

    connection = SalesforceConnection.objects.get(tenant=tenant)
    assert connection.checked_at is not None
    assert connected_app.api_calls - calls == 2 == connection.capabilities["api_calls"]
    card = check_card(client.get("/settings/").content.decode())
    assert "Checked " in card
    assert "Shared Activities: OK." in card
    assert "Lightning notes (ContentNote): OK." in card
    assert "Tasks (calls, conferences and bookings): OK." in card
    assert "Daily API requests: OK." in card and "of the org's 100,000 daily API requests" in card
    assert "Missing" not in card


def test_an_org_without_shared_activities_shows_it_before_any_job_runs(
    tenant: Tenant, connected_app: OrgHandle, salesforce_server: EmulatorServer
) -> None:
    connected_app.set_shared_activities(False)
    client = signed_in(tenant)
    start = client.post("/salesforce/connect/", {"login": "production"})
    client.get(
        consent(start["Location"], salesforce_server.ca_file).removeprefix("http://testserver")
    )

    card = check_card(client.get("/settings/").content.decode())

    assert "Shared Activities: Missing." in card
    assert (
        "Ask your Salesforce admin to turn on Shared Activities (Setup → Activity Settings" in card
    )
    assert not SyncJob.objects.exists()


def test_the_check_button_reads_the_org_again_and_shows_the_checklist(
    partner: Partner, sf: OrgHandle
) -> None:
    client = signed_in(partner.tenant)
    assert "Not checked yet" in check_card(client.get("/settings/").content.decode())
    assert client.get("/salesforce/check/").status_code == 405

    page = client.post("/salesforce/check/", follow=True)

    html = page.content.decode()
    assert "Connection checked: everything the sync needs is there." in html
    card = check_card(html)
    assert "Checked " in card and "Shared Activities: OK." in card
    assert "Accounts: OK." in card and "Leads: OK." in card
    assert SalesforceConnection.objects.get(tenant=partner.tenant).checked_at is not None


def test_the_check_of_a_refused_session_says_so_and_asks_to_reconnect(
    partner: Partner, sf: OrgHandle
) -> None:
    sf.expire_sessions()
    sf.revoke_refresh_tokens()
    client = signed_in(partner.tenant)

    page = client.post("/salesforce/check/", follow=True).content.decode()

    assert "The connection check did not finish. Salesforce could not be read" in page
    connection = SalesforceConnection.objects.get(tenant=partner.tenant)
    assert connection.status == "needs_reauth"
    assert "Reconnect Salesforce" in page


def test_a_member_who_is_not_an_admin_cannot_run_the_check(partner: Partner, sf: OrgHandle) -> None:
    client = signed_in(partner.tenant, role=Membership.Role.MEMBER)
    calls = sf.api_calls

    answer = client.post("/salesforce/check/")

    assert answer.status_code == 403
    assert sf.api_calls == calls
    assert SalesforceConnection.objects.get(tenant=partner.tenant).checked_at is None
    assert "Check connection" not in client.get("/settings/").content.decode()


def test_ops_viewing_as_the_tenant_cannot_run_the_check(partner: Partner, sf: OrgHandle) -> None:
    _, ops = staff(*VIEWING)
    ops.post(f"/ops/view-as/{partner.tenant.pk}/")
    calls = sf.api_calls

    answer = ops.post("/salesforce/check/")

    assert answer.status_code == 403
    assert "Read-only while you view as Acme" in answer.content.decode()
    assert sf.api_calls == calls
    assert SalesforceConnection.objects.get(tenant=partner.tenant).checked_at is None


def _describes(org: OrgHandle, server: EmulatorServer) -> tuple[Any, dict[str, Any]]:
    """The emulator's global describe and the portal's objects' describes, as the
    installing user reads them."""
    http = trusted_session(server.ca_file)
    http.headers["Authorization"] = f"Bearer {org.access_token}"
    base = f"{org.instance_url}/services/data/v62.0/sobjects"
    return http.get(base).json(), {
        name: http.get(f"{base}/{name}/describe").json() for name in PORTAL_WRITES
    }


def test_what_the_installing_user_may_not_do_is_listed_with_what_to_do(
    salesforce: OrgHandle, salesforce_server: EmulatorServer
) -> None:
    listed, describes = _describes(salesforce, salesforce_server)
    # What Salesforce answers for a user whose field-level security hides Task.WhoId,
    # who may not create Leads, in an org without Shared Activities (no TaskRelation,
    # no IsParent) and without Lightning notes.
    for f in describes["Task"]["fields"]:
        if f["name"] == "WhoId":
            f["createable"] = f["updateable"] = False
    describes["Lead"]["createable"] = False
    listed["sobjects"] = [
        s for s in listed["sobjects"] if s["name"] not in ("TaskRelation", "ContentNote")
    ]
    describes["TaskRelation"] = describes["ContentNote"] = None
    describes["EventRelation"]["fields"] = [
        f for f in describes["EventRelation"]["fields"] if f["name"] != "IsParent"
    ]

    check = connection_check_from(
        global_describe=listed,
        describes=describes,
        limits={"DailyApiRequests": {"Max": 15000, "Remaining": 0}},
    )

    lines = {line.title: line for line in checklist(check)}
    missing = {title for title, line in lines.items() if not line.ok}
    assert missing == {
        "Daily API requests",
        "Shared Activities",
        "Lightning notes (ContentNote)",
        "Tasks (calls, conferences and bookings)",
        "Leads",
    }
    task = lines["Tasks (calls, conferences and bookings)"]
    assert task.detail == "The installing user cannot set these Task fields: WhoId."
    assert "Set Field-Level Security" in task.advice
    assert "Create and Edit on Lead" in lines["Leads"].advice
    assert "Setup → Activity Settings" in lines["Shared Activities"].advice
    assert "Classic Note" in lines["Lightning notes (ContentNote)"].advice
    assert all(line.advice for line in lines.values() if not line.ok)
    assert [line.item for line in checklist(check)][:3] == [
        CheckItem.API_LIMIT,
        CheckItem.SHARED_ACTIVITIES,
        CheckItem.CONTENT_NOTES,
    ]
