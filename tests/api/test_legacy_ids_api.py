"""Objects whose external ids were stored before the safe alphabet (with `/`) can still
be read, changed and deleted through the API at their usual addresses; the addresses
of every other route keep their meaning."""

from __future__ import annotations

import pytest

from meetings.models import Highlight, Meeting
from tests.conftest import Partner
from tests.factories import ActivityFactory, BookingFactory, HighlightFactory, MeetingFactory

pytestmark = pytest.mark.django_db


def test_a_meeting_with_a_slash_in_its_id_can_be_read_changed_and_deleted(
    partner: Partner,
) -> None:
    MeetingFactory(tenant=partner.tenant, external_id="crm/2024/17", title="Legacy")

    read = partner.client.get("/api/v1/meetings/crm/2024/17/")
    changed = partner.client.patch(
        "/api/v1/meetings/crm/2024/17/", {"title": "Renamed"}, format="json"
    )
    deleted = partner.client.delete("/api/v1/meetings/crm/2024/17/")

    assert read.status_code == 200 and read.json()["external_id"] == "crm/2024/17"
    assert changed.status_code == 200 and changed.json()["title"] == "Renamed"
    assert deleted.status_code == 204
    assert not Meeting.objects.filter(external_id="crm/2024/17").exists()


def test_activities_bookings_and_highlights_with_slashes_can_be_reached(
    partner: Partner,
) -> None:
    ActivityFactory(tenant=partner.tenant, external_id="pbx/991")
    BookingFactory(tenant=partner.tenant, external_id="cal/7")
    meeting = MeetingFactory(tenant=partner.tenant, external_id="m-1")
    HighlightFactory(meeting=meeting, external_id="clip/3")

    assert partner.client.get("/api/v1/activities/pbx/991/").json()["external_id"] == "pbx/991"
    assert partner.client.get("/api/v1/bookings/cal/7/").json()["external_id"] == "cal/7"
    highlight = partner.client.get("/api/v1/meetings/m-1/highlights/clip/3/")
    assert highlight.json()["external_id"] == "clip/3"
    assert partner.client.delete("/api/v1/activities/pbx/991/").status_code == 204
    assert partner.client.delete("/api/v1/meetings/m-1/highlights/clip/3/").status_code == 204
    assert Highlight.objects.get(external_id="clip/3").is_deleted


def test_the_other_routes_keep_their_addresses(partner: Partner) -> None:
    meeting = MeetingFactory(tenant=partner.tenant, external_id="m-1")
    HighlightFactory(meeting=meeting, external_id="h-1")

    assert partner.client.get("/api/v1/meetings/m-1/highlights/").json()["count"] == 1
    assert partner.client.get("/api/v1/meetings/m-1/sync/").status_code == 200
    assert partner.client.get("/api/v1/meetings/m-1/transcript/").status_code in (200, 404)
    # An unknown legacy-looking address is a JSON 404, not another object.
    missing = partner.client.get("/api/v1/meetings/m-1/nothing-here/")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"


def test_another_tenants_legacy_ids_stay_out_of_reach(
    partner: Partner, other_partner: Partner
) -> None:
    MeetingFactory(tenant=other_partner.tenant, external_id="crm/1")

    assert partner.client.get("/api/v1/meetings/crm/1/").status_code == 404
    assert partner.client.delete("/api/v1/meetings/crm/1/").status_code == 404
    assert Meeting.objects.filter(external_id="crm/1").exists()
