"""Requests at the edges of what the partner API accepts answer JSON with a code, as
every other refusal does: JSON nested too deep, a long text at its documented limit,
and an unexpected server error."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.test import Client

from meetings.models import Meeting
from tenants.models import Membership
from tests.conftest import Partner
from tests.factories import MeetingFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def _post(partner: Partner, path: str, body: str, method: str = "post") -> Any:
    return getattr(Client(), method)(
        path,
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Api-Key {partner.plain_key}",
    )


# --- JSON nested too deep ---------------------------------------------------------------

DEEP_LIST = "[" * 5000 + "]" * 5000
DEEP_OBJECT = '{"a":' * 3000 + "1" + "}" * 3000


@pytest.mark.parametrize("body", [DEEP_LIST, DEEP_OBJECT], ids=["list", "object"])
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/api/v1/meetings/"),
        ("post", "/api/v1/bookings/"),
        ("patch", "/api/v1/meetings/m-1/"),
        ("put", "/api/v1/meetings/m-1/transcript/"),
    ],
)
def test_json_nested_too_deep_is_a_parse_error(
    partner: Partner, method: str, path: str, body: str
) -> None:
    MeetingFactory(tenant=partner.tenant, external_id="m-1")

    answer = _post(partner, path, body, method)

    assert answer.status_code == 400
    assert answer["Content-Type"] == "application/json"
    assert answer.json()["code"] == "parse_error"
    assert answer.json()["detail"]


# --- the documented long-text limits fit in a request ----------------------------------


def test_a_transcript_of_900000_cjk_characters_is_accepted(partner: Partner) -> None:
    meeting = MeetingFactory(tenant=partner.tenant, external_id="m-1")
    text = "日" * 900_000

    answer = _post(
        partner,
        "/api/v1/meetings/m-1/transcript/",
        json.dumps({"text": text}, ensure_ascii=False),
        "put",
    )

    assert answer.status_code == 200, answer.content[:300]
    assert Meeting.objects.get(pk=meeting.pk).transcript.text == text


def test_a_highlight_of_100000_escaped_characters_is_accepted(partner: Partner) -> None:
    MeetingFactory(tenant=partner.tenant, external_id="m-1")
    text = "ü" * 100_000
    body = json.dumps({"external_id": "h-1", "text": text, "offset_seconds": 1})
    assert len(body) > 600_000  # "\u00fc" per character

    answer = _post(partner, "/api/v1/meetings/m-1/highlights/", body)

    assert answer.status_code == 201, answer.content[:300]
    assert answer.json()["text"] == text


def test_the_body_limit_leaves_room_for_a_whole_non_ascii_transcript() -> None:
    # 1,000,000 characters of three UTF-8 bytes each, with the JSON around them.
    assert django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE >= 3 * 1_000_000 + 1024


def test_a_body_over_the_limit_still_answers_json_413(partner: Partner) -> None:
    MeetingFactory(tenant=partner.tenant, external_id="m-1")
    body = json.dumps({"text": "x" * (django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)})

    answer = _post(partner, "/api/v1/meetings/m-1/transcript/", body, "put")

    assert answer.status_code == 413
    assert answer["Content-Type"] == "application/json"
    assert answer.json()["code"] == "payload_too_large"


# --- an unexpected server error ---------------------------------------------------------


def _boom(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("something nobody expected")


def test_a_server_error_under_the_api_answers_json(
    partner: Partner, monkeypatch: pytest.MonkeyPatch
) -> None:
    MeetingFactory(tenant=partner.tenant, external_id="m-1")
    monkeypatch.setattr("meetings.selectors.meeting_get", _boom)
    client = Client(raise_request_exception=False)

    answer = client.get("/api/v1/meetings/m-1/", HTTP_AUTHORIZATION=f"Api-Key {partner.plain_key}")

    assert answer.status_code == 500
    assert answer["Content-Type"] == "application/json"
    assert answer.json() == {"detail": "Server error.", "code": "server_error"}


def test_a_server_error_on_a_page_answers_the_html_page(
    partner: Partner, monkeypatch: pytest.MonkeyPatch
) -> None:
    MeetingFactory(tenant=partner.tenant, external_id="m-1")
    monkeypatch.setattr("meetings.selectors.meeting_get", _boom)
    monkeypatch.setattr("integrations.views.meetings._meeting_or_404", _boom)
    user = UserFactory()
    MembershipFactory(tenant=partner.tenant, user=user, role=Membership.Role.ADMIN)
    client = Client(raise_request_exception=False)
    client.force_login(user)

    answer = client.get("/meetings/m-1/")

    assert answer.status_code == 500
    assert answer["Content-Type"].startswith("text/html")
    assert "Server Error" in answer.content.decode()
