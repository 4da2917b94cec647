"""A NUL byte in an address (path or query string) or in an API key is refused with a
400 (401 for the key), never a server error: PostgreSQL cannot store or compare text
holding one, so such a request must not reach a query."""

from __future__ import annotations

import pytest
from django.test import Client

from tenants.models import Membership
from tests.conftest import Partner
from tests.factories import (
    ActivityFactory,
    BookingFactory,
    HighlightFactory,
    MeetingFactory,
    MembershipFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def objects(partner: Partner) -> None:
    meeting = MeetingFactory(tenant=partner.tenant, external_id="m-1")
    HighlightFactory(meeting=meeting, external_id="h-1")
    ActivityFactory(tenant=partner.tenant, external_id="call-1")
    BookingFactory(tenant=partner.tenant, external_id="bk-1")


API_REQUESTS = [
    ("get", "/api/v1/meetings/%00/"),
    ("patch", "/api/v1/meetings/%00/"),
    ("delete", "/api/v1/meetings/%00/"),
    ("get", "/api/v1/meetings/m%001/transcript/"),
    ("get", "/api/v1/bookings/a%00b/"),
    ("post", "/api/v1/bookings/%00/cancel/"),
    ("get", "/api/v1/activities/%00/"),
    ("patch", "/api/v1/activities/%00/"),
    ("delete", "/api/v1/activities/%00/"),
    ("get", "/api/v1/meetings/m-1/highlights/%00/"),
    ("patch", "/api/v1/meetings/m-1/highlights/%00/"),
    ("delete", "/api/v1/meetings/m-1/highlights/%00/"),
    ("get", "/api/v1/meetings/?external_id=%00"),
    ("get", "/api/v1/activities/?external_id=x%00y"),
    ("get", "/api/v1/bookings/?page=%00"),
]


@pytest.mark.parametrize(("method", "path"), API_REQUESTS)
@pytest.mark.usefixtures("objects")
def test_a_nul_byte_in_an_api_address_is_a_json_400(
    partner: Partner, method: str, path: str
) -> None:
    answer = getattr(partner.client, method)(path, {}, format="json")

    assert answer.status_code == 400
    assert answer["Content-Type"] == "application/json"
    assert answer.json()["code"] == "invalid"
    assert "NUL" in answer.json()["detail"]


PAGES = [
    "/meetings/%00/",
    "/meetings/%2500/",
    "/calls/%00/",
    "/calls/a%00b/state/",
    "/listen/%00/",
    "/meetings/?q=%00",
    "/calls/?q=%00",
    "/bookings/?q=x%00",
]


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.usefixtures("objects")
def test_a_nul_byte_in_a_page_address_is_a_short_400_page(partner: Partner, path: str) -> None:
    user = UserFactory()
    MembershipFactory(tenant=partner.tenant, user=user, role=Membership.Role.ADMIN)
    client = Client()
    client.force_login(user)

    answer = client.get(path)

    assert answer.status_code == 400
    assert answer["Content-Type"].startswith("text/html")
    assert "Bad Request" in answer.content.decode()


@pytest.mark.usefixtures("objects")
def test_the_same_addresses_without_the_nul_still_answer(partner: Partner) -> None:
    assert partner.client.get("/api/v1/meetings/m-1/").status_code == 200
    assert partner.client.get("/api/v1/meetings/?status=scheduled").status_code == 200
    # An escaped percent sign is no NUL: "%00" is merely an unknown status.
    unknown = partner.client.get("/api/v1/meetings/?status=%2500")
    assert unknown.status_code == 400
    assert "status" in unknown.json()


@pytest.mark.parametrize("key_suffix", ["\x00", "\x00cd", "\x07", "\x7f"])
@pytest.mark.usefixtures("objects")
def test_an_api_key_with_a_control_character_is_refused_as_unknown(
    partner: Partner, key_suffix: str
) -> None:
    prefix = partner.plain_key.split(".")[0]
    partner.client.credentials(HTTP_AUTHORIZATION=f"Api-Key {prefix}{key_suffix}.x")

    answer = partner.client.get("/api/v1/meetings/")

    assert answer.status_code == 401
    assert answer.json()["code"] == "authentication_failed"


def test_the_whole_key_carrying_a_nul_is_refused(partner: Partner) -> None:
    partner.client.credentials(HTTP_AUTHORIZATION=f"Api-Key ab\x00cd.{partner.plain_key}")

    answer = partner.client.get("/api/v1/meetings/")

    assert answer.status_code == 401
    assert answer.json()["code"] == "authentication_failed"
