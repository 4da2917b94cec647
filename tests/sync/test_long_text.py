"""Long text is never refused and never cut in silence: the portal keeps it whole; where
a Salesforce field is shorter, the value is cut to fit with a visible marker and the way
back to the portal, and the job's result names the field that was cut."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from integrations.salesforce import payloads
from integrations.salesforce.payloads import CUT_MARKER, fit, note_html_fit, salesforce_length
from integrations.services.settings import integration_settings_update
from meetings.models import Activity, Meeting
from salesforce_emulator.testing import OrgHandle
from scheduler.models import Booking
from tests.conftest import Partner
from tests.scheduler.test_webhooks import deliver, event
from tests.sync.conftest import last_job, meeting_push

PORTAL = "https://portal.acme.test"
MEETING_PAGE = f"{PORTAL}/meetings/m-1/"
CALL_PAGE = f"{PORTAL}/calls/call-1/"


def _words(length: int) -> str:
    """Readable text of exactly `length` characters (with no space at its ends, which
    the API trims)."""
    text = "Budget approved for next quarter, pending legal review. " * (length // 50 + 1)
    return text[: length - 1] + "."


LONG_TITLE = _words(1_000)


@pytest.fixture
def initech(sf: OrgHandle) -> str:
    account = sf.insert("Account", Name="Initech")
    sf.insert("Contact", LastName="Bob", Email="bob@initech.example", AccountId=account)
    return account


def _call(partner: Partner, sf: OrgHandle, **overrides: Any) -> None:
    """A call the tenant logs automatically, by an agent who is a Salesforce User (so the
    Task's Description is the call's notes alone), with a Lead on the other end."""
    integration_settings_update(tenant=partner.tenant, log_calls_automatically=True)
    sf.insert("User", Username="agent.sf", Email="agent@acme.test", LastName="Agent", Alias="agent")
    sf.insert("Lead", LastName="Prospect", Company="P", Email="lead@prospect.example")
    body = {
        "external_id": "call-1",
        "kind": "call",
        "direction": "outbound",
        "started_at": "2026-11-20T09:00:00Z",
        "subject": "Pricing",
        "notes": "Asked for a discount.",
        "logged_by_email": "agent@acme.test",
        "participants": [{"email": "agent@acme.test"}, {"email": "lead@prospect.example"}],
        **overrides,
    }
    answer = partner.client.post("/api/v1/activities/", body, format="json")
    assert answer.status_code == 201, answer.json()


@pytest.mark.django_db(transaction=True)
class TestThroughTheSync:
    def test_a_long_meeting_title_is_kept_whole_and_the_event_subject_is_cut_with_a_marker(
        self, partner: Partner, sf: OrgHandle, initech: str
    ) -> None:
        meeting_push(partner, title=LONG_TITLE)

        assert Meeting.objects.get().title == LONG_TITLE
        job = last_job("meeting.processed")
        assert job.state == "succeeded", job.reason
        event = sf.records("Event")[0]
        # The Subject has room for the marker and the way to the whole title.
        assert len(event["Subject"]) <= 255
        assert event["Subject"].endswith(f"{CUT_MARKER} {MEETING_PAGE}")
        assert event["Subject"].startswith(LONG_TITLE[:100])
        # The Description stays the Salesforce users' own.
        assert not event["Description"]
        note = sf.records("ContentNote")[0]
        assert len(note["Title"]) <= 255 and note["Title"].endswith(CUT_MARKER)
        body = sf.note_content(note["Id"]).decode()
        assert LONG_TITLE in body and MEETING_PAGE in body
        assert "Event Subject was cut at 255 characters (full text in the portal)." in job.reason
        assert "ContentNote Title was cut at 255 characters" in job.reason
        assert job.attempts.get().message.startswith(job.reason)

    def test_a_title_at_exactly_the_subject_length_is_not_cut(
        self, partner: Partner, sf: OrgHandle, initech: str
    ) -> None:
        title = _words(255)

        meeting_push(partner, title=title)

        event = sf.records("Event")[0]
        assert event["Subject"] == title and not event["Description"]
        reason = last_job("meeting.processed").reason
        assert "Event Subject" not in reason
        # The Note's title adds ": highlights" to it: that one is over and says so.
        assert "ContentNote Title was cut at 255 characters" in reason

    def test_long_call_notes_give_a_task_description_cut_with_the_marker_and_the_link(
        self, partner: Partner, sf: OrgHandle
    ) -> None:
        notes = _words(40_000)

        _call(partner, sf, notes=notes)

        assert Activity.objects.get().notes == notes
        task = sf.records("Task")[0]
        description = task["Description"]
        assert len(description) <= 32_000
        assert description.endswith(f"{CUT_MARKER} {CALL_PAGE}")
        assert description.startswith(notes[:30_000])
        job = last_job("activity.sync")
        assert job.state == "succeeded", job.reason
        assert job.reason == (
            "Logged as 1 Task(s). Task Description was cut at 32,000 characters "
            "(full text in the portal)."
        )

    def test_notes_at_exactly_the_description_length_are_sent_whole(
        self, partner: Partner, sf: OrgHandle
    ) -> None:
        notes = _words(32_000)

        _call(partner, sf, notes=notes)

        assert sf.records("Task")[0]["Description"] == notes
        assert last_job("activity.sync").reason == "Logged as 1 Task(s)."

    def test_notes_of_emoji_are_cut_by_salesforce_s_count_of_characters(
        self, partner: Partner, sf: OrgHandle
    ) -> None:
        # Salesforce counts an emoji as two characters: 16,001 of them are 32,002.
        _call(partner, sf, notes="🎉" * 16_001)

        description = sf.records("Task")[0]["Description"]
        assert salesforce_length(description) <= 32_000
        assert description.startswith("🎉" * 15_000) and description.endswith(CALL_PAGE)

    def test_a_long_call_subject_is_cut_and_given_whole_in_the_description(
        self, partner: Partner, sf: OrgHandle
    ) -> None:
        subject = _words(1_000)

        _call(partner, sf, subject=subject)

        assert Activity.objects.get().subject == subject
        task = sf.records("Task")[0]
        assert len(task["Subject"]) <= 255 and task["Subject"].endswith(CUT_MARKER)
        assert f"Outbound call: {subject}" in task["Description"]
        assert CALL_PAGE in task["Description"]
        assert "Task Subject was cut at 255 characters" in last_job("activity.sync").reason

    def test_a_classic_note_body_over_its_length_is_cut_with_the_marker_and_the_link(
        self, partner: Partner, sf: OrgHandle, initech: str
    ) -> None:
        integration_settings_update(tenant=partner.tenant, note_flavour="classic_note")
        text = _words(40_000)

        meeting_push(partner, highlights=[text, "Needs SSO"])

        note = sf.records("Note")[0]
        assert len(note["Body"]) <= 32_000
        assert note["Body"].endswith(f"{CUT_MARKER} {MEETING_PAGE}")
        assert text[:30_000] in note["Body"]
        job = last_job("meeting.processed")
        assert job.state == "succeeded", job.reason
        assert "Note Body was cut at 32,000 characters (full text in the portal)." in job.reason

    def test_a_classic_note_title_is_cut_at_80_and_the_link_goes_in_the_body(
        self, partner: Partner, sf: OrgHandle, initech: str
    ) -> None:
        integration_settings_update(tenant=partner.tenant, note_flavour="classic_note")

        meeting_push(partner, title=LONG_TITLE)

        note = sf.records("Note")[0]
        assert len(note["Title"]) <= 80 and note["Title"].endswith(CUT_MARKER)
        assert LONG_TITLE in note["Body"] and MEETING_PAGE in note["Body"]
        assert "Note Title was cut at 80 characters" in last_job("meeting.processed").reason

    def test_an_edited_highlight_grown_too_long_updates_the_note_cut_and_says_so(
        self, partner: Partner, sf: OrgHandle, initech: str
    ) -> None:
        integration_settings_update(tenant=partner.tenant, note_flavour="classic_note")
        meeting_push(partner)
        text = _words(33_000)

        answer = partner.client.patch(
            "/api/v1/meetings/m-1/highlights/h1/", {"text": text}, format="json"
        )

        assert answer.status_code == 200, answer.json()
        note = sf.records("Note")[0]
        assert len(note["Body"]) <= 32_000 and note["Body"].endswith(MEETING_PAGE)
        assert "Note Body was cut at 32,000" in last_job("highlight.sync").reason

    def test_a_booking_webhook_with_a_long_title_is_accepted_and_logged_cut(
        self, partner: Partner, sf: OrgHandle
    ) -> None:
        sf.insert("User", Username="host.sf", Email="host@acme.test", LastName="Host", Alias="Host")
        sf.insert("Contact", LastName="Guest", Email="guest@customer.example")
        title = _words(1_000)

        answer = deliver(partner.tenant, event("evt-1", title=title))

        assert answer.status_code in (200, 201, 202), answer.content
        assert Booking.objects.get().title == title
        task = sf.records("Task")[0]
        assert len(task["Subject"]) <= 255 and task["Subject"].endswith(CUT_MARKER)
        assert title in task["Description"]
        assert f"{PORTAL}/bookings/?q=b-1" in task["Description"]
        job = last_job("booking.sync")
        assert job.state == "succeeded", job.reason
        assert "Task Subject was cut at 255 characters" in job.reason
        assert "Description" not in job.reason


# Pure rules of the cut, over any text (the same examples at every run).
@settings(derandomize=True, max_examples=300)
@given(
    text=st.text(),
    limit=st.integers(min_value=80, max_value=400),
    link=st.sampled_from(["", CALL_PAGE]),
)
def test_a_fitted_value_never_exceeds_its_field_and_says_when_it_was_cut(
    text: str, limit: int, link: str
) -> None:
    value, cut = fit(text, limit, link=link)

    assert salesforce_length(value) <= limit
    if salesforce_length(text) <= limit:
        assert (value, cut) == (text, False)
    else:
        # The link comes too, where it takes at most half the field.
        tail = f"{CUT_MARKER} {link}" if link else CUT_MARKER
        if salesforce_length(tail) * 2 > limit:
            tail = CUT_MARKER
        assert cut and value.endswith(tail)


def test_a_link_too_long_for_a_short_field_is_left_out_and_the_marker_stays() -> None:
    value, cut = fit("x" * 300, 80, link=f"{PORTAL}/meetings/{'m' * 100}/")

    assert cut and len(value) <= 80 and value.endswith(CUT_MARKER)


@given(texts=st.lists(st.text(min_size=1), min_size=1, max_size=8))
def test_a_note_s_html_is_cut_between_paragraphs_never_inside_a_tag_or_an_entity(
    texts: list[str],
) -> None:
    from datetime import UTC, datetime
    from decimal import Decimal

    meeting = payloads.MeetingView(
        "m-1",
        "Q&A <review>",
        datetime(2026, 11, 20, tzinfo=UTC),
        datetime(2026, 11, 20, tzinfo=UTC),
    )
    highlights = [
        payloads.HighlightView(text * 20, "Bob & Ana", Decimal(i), f"h{i}")
        for i, text in enumerate(texts)
    ]
    html = payloads.note_html(
        meeting=meeting,
        highlights=highlights,
        base_url=PORTAL,
        instance_url="https://acme.my.salesforce.test",
        target_id="001000000000001AAA",
        target_name="Initech",
    )
    limit = max(len(html.encode()) // 2, 600)

    fitted, cut = note_html_fit(html, limit, page_url=MEETING_PAGE)

    assert len(fitted.encode()) <= limit
    if cut:
        paragraphs = fitted.split("</p>")
        assert paragraphs[-1] == ""
        # Every kept paragraph is one of the original ones, whole; then the marker, then
        # the record the Note belongs to.
        assert all(p + "</p>" in html for p in paragraphs[:-3])
        assert CUT_MARKER in paragraphs[-3] and MEETING_PAGE in paragraphs[-3]
        assert "Related to:" in paragraphs[-2]
    else:
        assert fitted == html


def test_an_event_never_carries_a_description_so_its_users_notes_stay() -> None:
    for title in ("Short", "x" * 2000):
        meeting = payloads.MeetingView("m-1", title, datetime.now(UTC), datetime.now(UTC))
        fields = payloads.event_payload(meeting, page_url="https://portal.test/meetings/m-1/")
        assert "Description" not in fields.fields
