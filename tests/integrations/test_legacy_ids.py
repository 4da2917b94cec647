"""External ids stored before the safe alphabet was enforced (`/`, spaces, `%`, `?`)
still give every page a working link: the home page, the lists, the sync log and the
object's own page open for every member instead of failing."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from integrations.salesforce.payloads import MeetingView, listen_url
from meetings.models import Meeting
from tenants.models import Membership, Tenant
from tests.factories import (
    ActivityFactory,
    HighlightFactory,
    MeetingFactory,
    MembershipFactory,
    SyncJobFactory,
    TenantFactory,
    UserFactory,
)

LEGACY_IDS = ["crm/2024/17", "a b?c#d", "50%off", "..", "ü-ñ"]


def member_client(tenant: Tenant) -> Client:
    user = UserFactory()
    MembershipFactory(tenant=tenant, user=user, role=Membership.Role.MEMBER)
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("legacy_id", LEGACY_IDS)
def test_a_meeting_with_a_legacy_id_is_listed_and_its_page_opens(legacy_id: str) -> None:
    tenant = TenantFactory()
    meeting = MeetingFactory(tenant=tenant, external_id=legacy_id, title="Legacy review")
    SyncJobFactory(local_object=HighlightFactory(meeting=meeting))
    client = member_client(tenant)

    for name in ("portal:home", "integrations:meetings", "integrations:sync-log"):
        assert client.get(reverse(name)).status_code == 200, name

    url = reverse("integrations:meeting", args=[legacy_id])
    assert "/" not in url.removeprefix("/").removesuffix("/").split("meetings/", 1)[1]
    page = client.get(url)
    assert page.status_code == 200
    assert "Legacy review" in page.content.decode()
    assert page.context["meeting"].pk == meeting.pk


@pytest.mark.django_db
def test_the_listing_links_to_the_legacy_meeting_itself() -> None:
    tenant = TenantFactory()
    MeetingFactory(tenant=tenant, external_id="crm/2024/17", title="Legacy review")
    client = member_client(tenant)

    html = client.get(reverse("integrations:meetings")).content.decode()
    link = reverse("integrations:meeting", args=["crm/2024/17"])
    assert f'href="{link}"' in html
    assert client.get(link).context["meeting"].external_id == "crm/2024/17"


@pytest.mark.django_db
def test_a_call_with_a_legacy_id_is_listed_and_its_page_opens() -> None:
    tenant = TenantFactory()
    ActivityFactory(tenant=tenant, external_id="pbx/line 4/991", subject="Renewal")
    client = member_client(tenant)

    assert client.get(reverse("integrations:calls")).status_code == 200
    page = client.get(reverse("integrations:call", args=["pbx/line 4/991"]))
    assert page.status_code == 200
    assert "Renewal" in page.content.decode()


@pytest.mark.django_db
def test_a_legacy_id_never_opens_another_meeting() -> None:
    tenant = TenantFactory()
    MeetingFactory(tenant=tenant, external_id="a/b", title="Slash")
    MeetingFactory(tenant=tenant, external_id="a%2Fb", title="Percent")
    client = member_client(tenant)

    slash = client.get(reverse("integrations:meeting", args=["a/b"]))
    percent = client.get(reverse("integrations:meeting", args=["a%2Fb"]))
    assert slash.context["meeting"].title == "Slash"
    assert percent.context["meeting"].title == "Percent"
    assert Meeting.objects.filter(tenant=tenant).count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize("legacy_id", LEGACY_IDS)
def test_the_listen_link_a_note_carries_opens_the_legacy_meetings_recording(
    legacy_id: str,
) -> None:
    tenant = TenantFactory()
    MeetingFactory(tenant=tenant, external_id=legacy_id, recording_url="https://rec.test/1")
    view = MeetingView(legacy_id, "Legacy", datetime(2026, 1, 1, tzinfo=UTC), datetime.now(UTC))

    link = listen_url("https://portal.acme.test", view, Decimal("42"))

    assert link == f"https://portal.acme.test{reverse('meetings:listen', args=[legacy_id])}?t=42"
    page = member_client(tenant).get(link.removeprefix("https://portal.acme.test"))
    assert page.status_code == 200
