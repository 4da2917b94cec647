"""A tenant's timezone: a setting its admins change, in which every time on its pages
is shown."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from django.test import Client
from django.utils import timezone

from core.errors import InvalidInput
from tenants.models import Membership, Tenant
from tenants.services import tenant_timezone_set
from tests.factories import MeetingFactory, MembershipFactory, TenantFactory, UserFactory

pytestmark = pytest.mark.django_db

NOON_UTC = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def signed_in(tenant: Tenant, role: str = Membership.Role.ADMIN) -> Client:
    user = UserFactory()
    MembershipFactory(tenant=tenant, user=user, role=role)
    client = Client()
    client.force_login(user)
    return client


def test_a_new_tenant_reads_times_in_utc(tenant: Tenant) -> None:
    assert tenant.timezone == "UTC"


def test_the_service_sets_a_known_zone_and_refuses_others(tenant: Tenant) -> None:
    tenant_timezone_set(tenant=tenant, timezone="Europe/Berlin")
    tenant.refresh_from_db()
    assert tenant.timezone == "Europe/Berlin"

    with pytest.raises(InvalidInput) as refused:
        tenant_timezone_set(tenant=tenant, timezone="Mars/Olympus_Mons")

    assert refused.value.field == "timezone" and "is not a timezone" in refused.value.message
    tenant.refresh_from_db()
    assert tenant.timezone == "Europe/Berlin"


def test_times_on_tenant_pages_are_in_the_tenants_zone_with_its_abbreviation(
    tenant: Tenant,
    other_partner,  # type: ignore[no-untyped-def]
) -> None:
    tenant_timezone_set(tenant=tenant, timezone="Asia/Tokyo")
    MeetingFactory(tenant=tenant, title="Kickoff", start=NOON_UTC)
    MeetingFactory(tenant=other_partner.tenant, title="Theirs", start=NOON_UTC)

    ours = signed_in(tenant).get("/").content.decode()
    theirs = signed_in(other_partner.tenant).get("/").content.decode()

    assert "30 Nov 2026, 21:00 JST" in ours
    # The zone is the request's only: the next tenant's page is in its own (UTC).
    assert "30 Nov 2026, 12:00 UTC" in theirs
    assert timezone.get_current_timezone_name() == "UTC"


def test_an_admin_changes_the_timezone_on_the_settings_page(tenant: Tenant) -> None:
    admin = signed_in(tenant)

    settings = admin.get("/settings/").content.decode()
    saved = admin.post("/settings/timezone/", {"timezone": "Europe/Paris"}, follow=True)

    assert re.search(r'<select name="timezone"[^>]*>', settings)
    assert '<label for="id_timezone">Show times in</label>' in settings
    assert '<option value="Europe/Paris">Paris</option>' in settings
    assert "Times are now shown in Europe/Paris." in saved.content.decode()
    tenant.refresh_from_db()
    assert tenant.timezone == "Europe/Paris"


def test_an_unknown_zone_is_refused_and_the_page_says_why(tenant: Tenant) -> None:
    refused = signed_in(tenant).post("/settings/timezone/", {"timezone": "Europe/Atlantis"})

    assert refused.status_code == 400
    assert "Select a valid choice" in refused.content.decode()
    tenant.refresh_from_db()
    assert tenant.timezone == "UTC"


def test_members_see_the_timezone_but_cannot_change_it(tenant: Tenant) -> None:
    member = signed_in(tenant, Membership.Role.MEMBER)

    settings = member.get("/settings/").content.decode()
    refused = member.post("/settings/timezone/", {"timezone": "Europe/Paris"})

    assert "Times are shown in <strong>UTC</strong>" in settings
    assert '<select name="timezone"' not in settings
    assert refused.status_code == 403
    tenant.refresh_from_db()
    assert tenant.timezone == "UTC"


def test_a_zone_without_an_abbreviation_shows_its_offset() -> None:
    from portal.templatetags.portal import local_time

    with timezone.override("Asia/Dubai"):
        assert local_time(NOON_UTC) == "30 Nov 2026, 16:00 +04"
    assert local_time(None) == ""
    assert TenantFactory().timezone == "UTC"
