from __future__ import annotations

import pytest

from integrations.models import SyncJob
from meetings.models import Highlight
from tests.conftest import Partner
from tests.factories import MeetingFactory, SyncMappingFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def meeting_id(partner: Partner) -> str:
    return MeetingFactory(tenant=partner.tenant, external_id="m-1").external_id


URL = "/api/v1/meetings/m-1/highlights/"


def test_creating_a_highlight_starts_at_version_one(partner: Partner, meeting_id: str) -> None:
    response = partner.client.post(
        URL,
        {"external_id": "h-1", "text": "Budget is 50k", "speaker": "Bob", "offset_seconds": "61.5"},
    )

    assert response.status_code == 201, response.json()
    assert response.json()["version"] == 1
    assert response.json()["offset_seconds"] == 61.5


def test_each_edit_bumps_the_version_and_queues_a_sync(partner: Partner, meeting_id: str) -> None:
    partner.client.post(URL, {"external_id": "h-1", "text": "Budget is 50k"})
    # Its Note is in Salesforce, so edits have somewhere to go.
    SyncMappingFactory(local_object=Highlight.objects.get(external_id="h-1"))

    edited = partner.client.patch(URL + "h-1/", {"text": "Budget is 60k"}, format="json")
    again = partner.client.patch(URL + "h-1/", {"text": "Budget is 60k"}, format="json")

    assert edited.json()["version"] == 2
    assert again.json()["version"] == 2  # the same text again is no edit
    assert edited.json()["text"] == "Budget is 60k"
    assert SyncJob.objects.filter(operation="highlight.sync").count() == 1


def test_upserting_the_same_highlight_twice_keeps_one_row(
    partner: Partner, meeting_id: str
) -> None:
    first = partner.client.post(URL, {"external_id": "h-1", "text": "A"})
    second = partner.client.post(URL, {"external_id": "h-1", "text": "A"})

    assert (first.status_code, second.status_code) == (201, 200)
    assert Highlight.objects.count() == 1
    assert second.json()["version"] == 1


def test_deleting_a_highlight_hides_it_but_keeps_it_for_the_sync(
    partner: Partner, meeting_id: str
) -> None:
    partner.client.post(URL, {"external_id": "h-1", "text": "A"})

    deleted = partner.client.delete(URL + "h-1/")
    listed = partner.client.get(URL).json()
    detail = partner.client.get(URL + "h-1/")

    assert deleted.status_code == 204
    assert listed["count"] == 0
    assert detail.status_code == 404
    row = Highlight.objects.get()
    assert row.is_deleted and row.version == 2


def test_highlights_list_in_recording_order(partner: Partner, meeting_id: str) -> None:
    partner.client.post(URL, {"external_id": "late", "text": "B", "offset_seconds": "90"})
    partner.client.post(URL, {"external_id": "early", "text": "A", "offset_seconds": "5"})

    listed = partner.client.get(URL).json()

    assert [h["external_id"] for h in listed["results"]] == ["early", "late"]


def test_blank_text_and_negative_offset_are_refused(partner: Partner, meeting_id: str) -> None:
    response = partner.client.post(URL, {"external_id": "h-1", "text": " ", "offset_seconds": "-1"})

    assert response.status_code == 400
    assert set(response.json()) == {"text", "offset_seconds", "code"}


def test_highlight_on_unknown_meeting_is_404(partner: Partner) -> None:
    response = partner.client.post(
        "/api/v1/meetings/nope/highlights/", {"external_id": "h", "text": "A"}
    )

    assert response.status_code == 404
