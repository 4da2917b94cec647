"""Every partner API endpoint, called with one tenant's key on another tenant's objects,
answers 404 (or shows nothing) and changes nothing.

The table is checked against the URL configuration: an endpoint added without a row
here fails `test_every_api_endpoint_is_in_the_table`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from integrations.models import MatchChoice, SyncJob
from meetings.models import Activity, Highlight, Meeting
from scheduler.models import Booking
from tests.conftest import Partner
from tests.factories import (
    ActivityFactory,
    ActivityParticipantFactory,
    BookingFactory,
    HighlightFactory,
    MeetingFactory,
    SyncJobFactory,
    TranscriptFactory,
)

pytestmark = pytest.mark.django_db

# Endpoints that do not take an API key, with the reason and the test that covers them.
NOT_KEY_SCOPED = {
    "scheduler-webhook": (
        "signed per tenant: test_another_tenants_secret_does_not_sign_for_this_tenant"
    ),
}

KWARGS = {"external_id": "theirs", "highlight_id": "their-hl"}
THEIR_EMAIL = "their-prospect@customer.example"


@dataclass
class Call:
    method: str
    body: dict[str, Any] = field(default_factory=dict)
    # "404": refused as not found; "empty": a list that shows none of theirs;
    # "own": an upsert that makes the caller's own object, never touching theirs.
    expect: str = "404"


MEETING_BODY = {
    "external_id": "theirs",
    "title": "Mine",
    "start": "2026-01-01T10:00:00Z",
    "end": "2026-01-01T11:00:00Z",
}
ACTIVITY_BODY = {
    "external_id": "theirs",
    "kind": "task",
    "started_at": "2026-01-01T10:00:00Z",
    "logged_by_email": "me@acme.test",
    "participants": [{"email": "x@y.example"}],
}
BOOKING_BODY = {
    "external_id": "theirs",
    "version": 9,
    "host_email": "h@acme.test",
    "guest_email": "g@y.example",
    "title": "Mine",
    "start": "2026-01-01T10:00:00Z",
    "end": "2026-01-01T11:00:00Z",
}

TABLE: dict[str, list[Call]] = {
    "meeting-list": [Call("get", expect="empty"), Call("post", MEETING_BODY, expect="own")],
    "meeting-detail": [Call("get"), Call("patch", {"title": "Hijacked"}), Call("delete")],
    "meeting-transcript": [Call("get"), Call("put", {"text": "Hijacked"})],
    "meeting-processed": [Call("post")],
    "highlight-list": [Call("get"), Call("post", {"external_id": "x", "text": "Hijacked"})],
    "highlight-detail": [Call("get"), Call("patch", {"text": "Hijacked"}), Call("delete")],
    # Ids stored before the safe alphabet (with slashes) have these addresses too.
    "meeting-detail-slashed": [Call("get"), Call("patch", {"title": "Hijacked"}), Call("delete")],
    "highlight-detail-slashed": [Call("get"), Call("patch", {"text": "Hijacked"}), Call("delete")],
    "activity-detail-slashed": [Call("get"), Call("patch", {"notes": "Hijacked"}), Call("delete")],
    "booking-detail-slashed": [Call("get")],
    "highlight-bulk": [
        Call("post", {"highlights": [{"external_id": "x", "text": "Hijacked"}]}),
    ],
    "activity-list": [Call("get", expect="empty"), Call("post", ACTIVITY_BODY, expect="own")],
    "activity-detail": [Call("get"), Call("patch", {"notes": "Hijacked"}), Call("delete")],
    "booking-list": [Call("get", expect="empty"), Call("post", BOOKING_BODY, expect="own")],
    "booking-detail": [Call("get")],
    "booking-reschedule": [
        Call("post", {"version": 9, "start": "2026-02-01T10:00:00Z", "end": "2026-02-01T11:00:00Z"})
    ],
    "booking-cancel": [Call("post", {"version": 9})],
    "meeting-match-preview": [Call("get", {"highlights": "their-hl"})],
    "meeting-send-highlights": [
        Call("post", {"highlights": ["their-hl"], "create": {"account_name": "Hijacked"}}),
        Call(
            "post",
            {
                "highlights": ["their-hl"],
                "target": {"object": "Account", "id": "001000000000001AAA"},
            },
        ),
    ],
    "meeting-sync": [Call("get")],
    "highlight-sync": [Call("get")],
    "activity-log": [
        Call("post"),
        Call("post", {"choices": {THEIR_EMAIL: {"object": "create_lead"}}}),
    ],
    "activity-lead-create": [Call("post", {"email": THEIR_EMAIL})],
    "activity-sync": [Call("get")],
    "booking-sync": [Call("get")],
    "sync-job-list": [Call("get", expect="empty"), Call("get", {"state": "needs_review"}, "empty")],
    "sync-job-detail": [Call("get")],
    "sync-job-resolve": [
        Call("post", {"choice": {"object": "Account", "id": "001000000000001AAA"}}),
        Call("post", {"choices": {THEIR_EMAIL: {"object": "Contact", "id": "003000000000001AAA"}}}),
    ],
    "sync-job-retry": [Call("post")],
}


def api_url_patterns() -> dict[str, str]:
    """name -> route of every pattern under the `api` namespace."""
    _, resolver = get_resolver().namespace_dict["api"]
    found: dict[str, str] = {}

    def walk(patterns: list[Any], prefix: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                found[pattern.name] = prefix + str(pattern.pattern)

    walk(resolver.url_patterns, "/api/v1/")
    return found


def test_every_api_endpoint_is_in_the_table() -> None:
    assert set(api_url_patterns()) == set(TABLE) | set(NOT_KEY_SCOPED)


@pytest.fixture
def their_objects(other_partner: Partner) -> dict[str, Any]:
    tenant = other_partner.tenant
    meeting = MeetingFactory(tenant=tenant, external_id="theirs", title="Theirs")
    TranscriptFactory(meeting=meeting, text="Theirs")
    highlight = HighlightFactory(meeting=meeting, external_id="their-hl", text="Theirs")
    activity = ActivityFactory(
        tenant=tenant, external_id="theirs", subject="Theirs", notes="Theirs"
    )
    ActivityParticipantFactory(activity=activity, email=THEIR_EMAIL)
    booking = BookingFactory(tenant=tenant, external_id="theirs", title="Theirs", version=1)
    # Waiting for review, so only the tenant check stands between it and a resolve.
    job = SyncJobFactory(
        local_object=activity, operation="activity.sync", state=SyncJob.State.NEEDS_REVIEW
    )
    return {
        "meeting": meeting,
        "highlight": highlight,
        "activity": activity,
        "booking": booking,
        "job": job,
    }


def snapshot(tenant: Any) -> list[Any]:
    return [
        list(Meeting.objects.filter(tenant=tenant).values("title", "status", "updated_at")),
        list(Highlight.objects.filter(tenant=tenant).values("text", "version", "is_deleted")),
        list(Activity.objects.filter(tenant=tenant).values("notes", "version")),
        list(Booking.objects.filter(tenant=tenant).values("title", "status", "version", "start")),
        [m.transcript.text for m in Meeting.objects.filter(tenant=tenant)],
        list(SyncJob.objects.filter(tenant=tenant).values("state", "params", "updated_at")),
        list(MatchChoice.objects.filter(tenant=tenant).values("email", "salesforce_id")),
    ]


CASES = [(name, call) for name, calls in TABLE.items() for call in calls]


@pytest.mark.parametrize(("name", "call"), CASES, ids=[f"{n}-{c.method}" for n, c in CASES])
def test_another_tenants_object_is_not_found_and_unchanged(
    name: str, call: Call, partner: Partner, other_partner: Partner, their_objects: dict[str, Any]
) -> None:
    route = api_url_patterns()[name]
    url = (
        route.replace("<str:external_id>", KWARGS["external_id"])
        .replace("<str:highlight_id>", KWARGS["highlight_id"])
        .replace("<int:job_id>", str(their_objects["job"].pk))
    )
    before = snapshot(other_partner.tenant)

    response = getattr(partner.client, call.method)(url, call.body, format="json")

    if call.expect == "404":
        assert response.status_code == 404, (url, response.status_code, response.content)
        assert set(response.json()) >= {"detail"}
    elif call.expect == "empty":
        assert response.status_code == 200
        assert response.json()["count"] == 0
    else:
        assert response.status_code == 201, response.json()
    assert snapshot(other_partner.tenant) == before
