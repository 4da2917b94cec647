from __future__ import annotations

import pytest
from django.test import Client

from integrations.models import IntegrationSettings
from tenants.models import Membership, Tenant
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

FORM = {
    "highlights_destination": "notes_only",
    "note_flavour": "classic_note",
    "auto_sync": "on",
    "auto_sync_match_order": "lead, account, opportunity, contact",
    "log_scheduled_meetings": "on",
    "link_back_base_url": "https://portal.acme.test",
}


def signed_in(tenant: Tenant, role: str = Membership.Role.ADMIN) -> Client:
    user = UserFactory()
    MembershipFactory(tenant=tenant, user=user, role=role)
    client = Client()
    client.force_login(user)
    return client


def test_an_admin_saves_the_settings(tenant: Tenant) -> None:
    client = signed_in(tenant)

    page = client.post("/settings/", FORM, follow=True)

    row = IntegrationSettings.objects.get(tenant=tenant)
    assert "Settings saved." in page.content.decode()
    assert row.highlights_destination == "notes_only" and row.note_flavour == "classic_note"
    assert row.auto_sync and not row.log_calls_automatically
    assert row.auto_sync_match_order == ["Lead", "Account", "Opportunity", "Contact"]


def test_a_match_order_missing_an_object_is_refused_with_a_reason(tenant: Tenant) -> None:
    client = signed_in(tenant)

    page = client.post("/settings/", {**FORM, "auto_sync_match_order": "Account, Lead"})

    assert page.status_code == 200
    assert "must list Account, Opportunity, Lead and Contact" in page.content.decode()
    assert IntegrationSettings.objects.get(tenant=tenant).auto_sync_match_order == [
        "Account",
        "Opportunity",
        "Lead",
        "Contact",
    ]


def test_a_member_reads_the_settings_but_cannot_change_them(tenant: Tenant) -> None:
    client = signed_in(tenant, role=Membership.Role.MEMBER)

    assert "Only admins can change these" in client.get("/settings/").content.decode()
    assert client.post("/settings/", FORM).status_code == 403
    assert (
        IntegrationSettings.objects.get(tenant=tenant).highlights_destination == "notes_and_events"
    )


def test_pages_show_only_the_members_own_tenant(tenant: Tenant, other_partner) -> None:  # type: ignore[no-untyped-def]
    from tests.factories import MeetingFactory

    MeetingFactory(tenant=tenant, title="Our meeting")
    MeetingFactory(tenant=other_partner.tenant, title="Their meeting")
    client = signed_in(tenant, role=Membership.Role.MEMBER)

    home = client.get("/").content.decode()

    assert "Our meeting" in home and "Their meeting" not in home


def test_pages_need_a_sign_in(db: None) -> None:
    response = Client().get("/settings/")

    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_user_without_a_tenant_is_told_so(db: None) -> None:
    client = Client()
    client.force_login(UserFactory())

    response = client.get("/")

    assert response.status_code == 403 and "not a member of any tenant" in response.content.decode()
