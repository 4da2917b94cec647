"""Ops open a tenant's pages as the tenant sees them, read-only, and it is logged."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission, User
from django.test import Client

from integrations.models import SalesforceConnection, SyncJob
from salesforce_emulator.testing import OrgHandle
from tenants.models import Tenant
from tests.conftest import Partner
from tests.factories import (
    MeetingFactory,
    MembershipFactory,
    SalesforceConnectionFactory,
    SyncJobFactory,
    TenantFactory,
    UserFactory,
)
from tests.sync.conftest import meeting_push
from tests.sync.conftest import sf as sf  # the emulator-connected tenant fixture

pytestmark = pytest.mark.django_db

# What an ops user needs to see all a tenant's pages show.
VIEWING = ("view_tenant", "view_meeting", "view_activity", "view_booking", "view_syncjob")


def staff(*permissions: str) -> tuple[User, Client]:
    user = UserFactory(is_staff=True)
    for codename in permissions:
        user.user_permissions.add(Permission.objects.get(codename=codename))
    client = Client()
    client.force_login(user)
    return user, client


@pytest.fixture
def failed_job(tenant: Tenant) -> SyncJob:
    meeting = MeetingFactory(tenant=tenant, external_id="m-7", title="Renewal with Initech")
    return SyncJobFactory(
        local_object=meeting, state=SyncJob.State.FAILED, reason="A validation rule refused it."
    )


def test_ops_see_the_tenants_pages_with_a_banner_after_confirming(
    tenant: Tenant, failed_job: SyncJob
) -> None:
    TenantFactory(name="Globex", slug="globex")
    user, ops = staff(*VIEWING)

    confirm = ops.get(f"/ops/view-as/{tenant.pk}/")
    assert confirm.status_code == 200
    assert "read-only" in confirm.content.decode()
    assert "Viewing as" not in ops.get("/").content.decode()  # a GET alone switches nothing

    started = ops.post(f"/ops/view-as/{tenant.pk}/")
    assert started.status_code == 302 and started["Location"] == "/"
    home = ops.get("/").content.decode()
    log = ops.get("/sync/").content.decode()

    assert "Viewing as Acme" in home and "read-only" in home
    assert "Renewal with Initech" in log or "m-7" in log
    assert '<fieldset class="read-only" disabled>' in log
    entry = LogEntry.objects.get(user=user)
    assert entry.object_repr == "Acme" and "read-only" in entry.change_message


def test_ops_viewing_as_a_tenant_change_nothing(tenant: Tenant, failed_job: SyncJob) -> None:
    SalesforceConnectionFactory(tenant=tenant)
    _, ops = staff(*VIEWING)
    ops.post(f"/ops/view-as/{tenant.pk}/")

    retry = ops.post(f"/sync/{failed_job.pk}/retry/")
    settings = ops.post("/settings/", {"auto_sync": "on"})
    connect = ops.get("/salesforce/connect/")
    disconnect = ops.post("/salesforce/disconnect/")

    assert [r.status_code for r in (retry, settings, connect, disconnect)] == [403] * 4
    assert "Read-only while you view as Acme" in retry.content.decode()
    failed_job.refresh_from_db()
    assert failed_job.state == SyncJob.State.FAILED
    connection = SalesforceConnection.objects.get(tenant=tenant)
    assert connection.status == SalesforceConnection.Status.CONNECTED


def test_stopping_returns_ops_to_the_tenant_in_the_admin_and_is_logged(tenant: Tenant) -> None:
    user, ops = staff(*VIEWING)
    ops.post(f"/ops/view-as/{tenant.pk}/")

    stopped = ops.post("/ops/view-as/stop/")

    assert stopped["Location"] == f"/admin/tenants/tenant/{tenant.pk}/change/"
    messages = list(LogEntry.objects.filter(user=user).values_list("change_message", flat=True))
    assert any("Stopped viewing" in m for m in messages)
    # Back to their own view: an ops user without a membership has no tenant pages.
    assert ops.get("/").status_code == 403


def test_only_staff_allowed_to_see_tenants_can_view_as_one(tenant: Tenant) -> None:
    member = UserFactory()
    MembershipFactory(tenant=TenantFactory(name="Globex", slug="globex"), user=member)
    client = Client()
    client.force_login(member)
    _, staff_without_permission = staff()
    # Seeing tenants in the admin is not enough: their pages show meetings and jobs.
    _, tenants_only = staff("view_tenant")

    refused_member = client.post(f"/ops/view-as/{tenant.pk}/")
    refused_staff = staff_without_permission.post(f"/ops/view-as/{tenant.pk}/")
    refused_tenants_only = tenants_only.post(f"/ops/view-as/{tenant.pk}/")

    assert refused_member.status_code == 302 and "/admin/login/" in refused_member["Location"]
    assert refused_staff.status_code == 403
    assert refused_tenants_only.status_code == 403
    # The member still sees their own tenant, never Acme's.
    assert "Globex" in client.get("/").content.decode()
    assert not LogEntry.objects.exists()


def test_a_view_as_session_ends_when_the_user_loses_the_right(tenant: Tenant) -> None:
    user, ops = staff(*VIEWING)
    ops.post(f"/ops/view-as/{tenant.pk}/")
    user.is_staff = False
    user.save()

    assert ops.get("/").status_code == 403  # no membership of their own, no Acme


@pytest.mark.django_db(transaction=True)
def test_ops_viewing_as_a_tenant_spend_none_of_its_salesforce_calls(
    partner: Partner, sf: OrgHandle
) -> None:
    meeting_push(partner, "m-1", processed=False)
    _, ops = staff(*VIEWING)
    ops.post(f"/ops/view-as/{partner.tenant.pk}/")
    calls = sf.api_calls

    page = ops.get("/meetings/m-1/", {"preview": "1"}, HTTP_SEC_FETCH_SITE="same-origin")
    preview = ops.get("/meetings/m-1/matches/", HTTP_HX_REQUEST="true")
    search = ops.get("/meetings/m-1/records/", {"q": "Initech"}, HTTP_HX_REQUEST="true")

    assert page.status_code == preview.status_code == search.status_code == 200
    assert "ops don&#x27;t ask Salesforce" in preview.content.decode()
    assert "ops don&#x27;t ask Salesforce" in search.content.decode()
    assert sf.api_calls == calls
