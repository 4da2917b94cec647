"""The tenant pages for the sync: a meeting with its highlights (preview a match, send
them), the sync log (answer a job waiting for review, retry a failed one) and the page
Salesforce Notes link back to, which plays the recording."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from integrations.enums import Operation
from integrations.models import SyncJob
from integrations.services.settings import integration_settings_update
from meetings.models import Meeting
from salesforce_emulator.testing import OrgHandle
from tenants.models import Membership, Tenant
from tests.conftest import Partner
from tests.factories import (
    ActivityFactory,
    ActivityParticipantFactory,
    AttendeeFactory,
    HighlightFactory,
    MeetingFactory,
    MembershipFactory,
    SalesforceConnectionFactory,
    SyncAttemptFactory,
    SyncJobFactory,
    SyncMappingFactory,
    UserFactory,
)
from tests.sync.conftest import meeting_push
from tests.sync.conftest import sf as sf  # the emulator-connected tenant fixture

# A form or button of the portal itself: only these ask Salesforce.
FROM_THE_PAGE = {"HTTP_SEC_FETCH_SITE": "same-origin"}

ACCOUNT_A = "001000000000001AAA"
ACCOUNT_B = "001000000000002AAA"


def signed_in(tenant: Tenant, role: str = Membership.Role.MEMBER) -> Client:
    user = UserFactory()
    MembershipFactory(tenant=tenant, user=user, role=role)
    client = Client()
    client.force_login(user)
    return client


def page_text(response) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def review_job(meeting: Meeting) -> SyncJob:
    """An auto-sync job that found two Accounts and waits for a person."""
    return SyncJobFactory(
        local_object=meeting,
        operation=Operation.MEETING_PROCESSED,
        state=SyncJob.State.NEEDS_REVIEW,
        reason="Several Accounts match.",
        candidates=[
            {"object": "Account", "id": ACCOUNT_A, "name": "Initech"},
            {"object": "Account", "id": ACCOUNT_B, "name": "Initrode"},
        ],
    )


# --- the meeting page --------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_meeting_page_shows_attendees_highlights_and_their_salesforce_records(
    tenant: Tenant,
) -> None:
    SalesforceConnectionFactory(tenant=tenant, instance_url="https://acme.my.salesforce.test/")
    meeting = MeetingFactory(tenant=tenant, external_id="m-1", title="Discovery with Initech")
    AttendeeFactory(meeting=meeting, email="ana@acme.test", name="Ana")
    AttendeeFactory(meeting=meeting, email="bob@initech.example", name="Bob")
    sent = HighlightFactory(meeting=meeting, external_id="h1", text="Budget is approved")
    HighlightFactory(meeting=meeting, external_id="h2", text="Needs SSO")
    SyncMappingFactory(local_object=sent, salesforce_id="069000000000001AAA", state="confirmed")
    SyncMappingFactory(
        local_object=meeting,
        purpose="meeting_event",
        salesforce_object="Event",
        salesforce_id="00U000000000001AAA",
    )

    html = page_text(signed_in(tenant).get("/meetings/m-1/"))

    assert "Discovery with Initech" in html
    attendees = html[html.index('id="attendees"') :]
    assert "Your team" in attendees[attendees.index("ana@acme.test") :][:200]
    assert "Outside" in attendees[attendees.index("bob@initech.example") :][:200]
    assert 'name="highlights" value="h1"' in html and 'name="highlights" value="h2"' in html
    assert 'href="https://acme.my.salesforce.test/069000000000001AAA"' in html
    assert 'href="https://acme.my.salesforce.test/00U000000000001AAA"' in html
    assert "Not sent" in html


@pytest.mark.django_db
def test_the_overview_links_each_meeting_to_its_page(tenant: Tenant) -> None:
    MeetingFactory(tenant=tenant, external_id="m-1", title="Discovery with Initech")

    html = page_text(signed_in(tenant).get("/"))

    assert '<a href="/meetings/m-1/">Discovery with Initech</a>' in html
    assert 'href="/sync/"' in html


@pytest.mark.django_db
def test_a_preview_without_salesforce_says_why_as_a_message(tenant: Tenant) -> None:
    meeting = MeetingFactory(tenant=tenant, external_id="m-1")
    HighlightFactory(meeting=meeting, external_id="h1")

    html = page_text(
        signed_in(tenant).get("/meetings/m-1/", {"highlights": "h1", "preview": 1}, **FROM_THE_PAGE)
    )

    assert "Salesforce is not connected for this tenant" in html
    assert "Match preview" not in html


@pytest.mark.django_db
def test_a_preview_needs_no_highlight_chosen_first(tenant: Tenant) -> None:
    meeting = MeetingFactory(tenant=tenant, external_id="m-1")
    HighlightFactory(meeting=meeting, external_id="h1")

    html = page_text(signed_in(tenant).get("/meetings/m-1/", {"preview": 1}, **FROM_THE_PAGE))

    # The match depends on the attendees; highlights are chosen when sending.
    assert "Choose at least one highlight." not in html
    assert "Salesforce is not connected for this tenant" in html


@pytest.mark.django_db
def test_sending_queues_a_job_with_the_account_to_create_and_comes_back_to_the_meeting(
    tenant: Tenant,
) -> None:
    meeting = MeetingFactory(tenant=tenant, external_id="m-1")
    HighlightFactory(meeting=meeting, external_id="h1")
    HighlightFactory(meeting=meeting, external_id="h2")
    client = signed_in(tenant)

    page = client.post(
        "/meetings/m-1/send/",
        {
            "highlights": ["h1", "h2"],
            "record": "create",
            "account_name": "Initech",
            "opportunity_name": "Initech SSO",
        },
        follow=True,
    )

    job = SyncJob.objects.get(operation=Operation.HIGHLIGHTS_SEND)
    assert page.redirect_chain[-1][0] == "/meetings/m-1/#highlights"
    assert "Sending 2 highlights to Salesforce." in page_text(page)
    assert job.tenant == tenant and job.local_object == meeting
    assert job.params == {
        "highlights": ["h1", "h2"],
        "create": {"account_name": "Initech", "opportunity_name": "Initech SSO"},
    }
    assert job.requested_by is not None


@pytest.mark.django_db
def test_sending_to_an_offered_record_keeps_its_name(tenant: Tenant) -> None:
    meeting = MeetingFactory(tenant=tenant, external_id="m-1")
    HighlightFactory(meeting=meeting, external_id="h1")

    signed_in(tenant).post(
        "/meetings/m-1/send/",
        {"highlights": ["h1"], "record": f"Account:{ACCOUNT_A}:Initech: EMEA"},
    )

    job = SyncJob.objects.get(operation=Operation.HIGHLIGHTS_SEND)
    assert job.params["target"] == {"object": "Account", "id": ACCOUNT_A, "name": "Initech: EMEA"}


@pytest.mark.django_db
def test_an_incomplete_send_is_refused_with_a_message_and_nothing_queued(tenant: Tenant) -> None:
    meeting = MeetingFactory(tenant=tenant, external_id="m-1")
    HighlightFactory(meeting=meeting, external_id="h1")
    client = signed_in(tenant)

    no_name = client.post(
        "/meetings/m-1/send/", {"highlights": ["h1"], "record": "create"}, follow=True
    )
    bad_id = client.post(
        "/meetings/m-1/send/",
        {"highlights": ["h1"], "record": "other", "other_object": "Account", "other_id": "x"},
        follow=True,
    )

    assert "An Account needs a name." in page_text(no_name)
    assert "15 or 18 character Salesforce Id" in page_text(bad_id)
    assert not SyncJob.objects.exists()


# --- the sync log ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_sync_log_lists_the_tenants_jobs_newest_first_with_their_attempts(
    tenant: Tenant, other_partner: Partner
) -> None:
    meeting = MeetingFactory(tenant=tenant, external_id="m-1")
    older = SyncJobFactory(
        local_object=HighlightFactory(meeting=meeting, external_id="h1"),
        state=SyncJob.State.FAILED,
        reason="A validation rule refused the Note.",
        last_error_code="FIELD_CUSTOM_VALIDATION_EXCEPTION",
    )
    SyncAttemptFactory(job=older, api_calls=2, salesforce_error_code="UNABLE_TO_LOCK_ROW")
    SyncAttemptFactory(
        job=older, api_calls=3, salesforce_error_code="FIELD_CUSTOM_VALIDATION_EXCEPTION"
    )
    newer = SyncJobFactory(local_object=meeting, operation="meeting.processed")
    SyncJobFactory(
        local_object=MeetingFactory(tenant=other_partner.tenant, external_id="theirs"),
        operation="their.operation",
    )

    html = page_text(signed_in(tenant).get("/sync/"))

    assert html.index(f"#{newer.pk}<") < html.index(f"#{older.pk}<")
    assert "their.operation" not in html
    row = html[html.index(f'id="job-{older.pk}"') :]
    assert "2 attempts, 5 API calls" in row
    # The error in words, with the next step, rather than its code.
    assert "Salesforce refused it" in row and "choose another record" in row
    assert "FIELD_CUSTOM_VALIDATION_EXCEPTION" not in row
    assert f'href="/meetings/m-1/">Highlight h1 of “{meeting.title}” (m-1)</a>' in row
    assert f'action="/sync/{older.pk}/retry/"' in html


@pytest.mark.django_db
def test_the_sync_log_filters_by_state_and_pages(tenant: Tenant) -> None:
    meeting = MeetingFactory(tenant=tenant)
    review = review_job(meeting)
    SyncJobFactory.create_batch(
        30, local_object=meeting, operation="meeting.sync", state=SyncJob.State.SUCCEEDED
    )
    client = signed_in(tenant)

    only_review = page_text(client.get("/sync/", {"state": "needs_review"}))
    first = page_text(client.get("/sync/"))
    second = page_text(client.get("/sync/", {"page": 2}))

    assert f"#{review.pk}<" in only_review
    assert "Meeting title or time changed</a>" not in only_review
    assert "Page 1 of 2" in first and f"#{review.pk}<" not in first
    assert f"#{review.pk}<" in second


@pytest.mark.django_db
def test_a_member_resolves_a_job_waiting_for_review(tenant: Tenant) -> None:
    job = review_job(MeetingFactory(tenant=tenant))
    client = signed_in(tenant)

    form = page_text(client.get(f"/sync/{job.pk}/"))
    page = client.post(
        f"/sync/{job.pk}/resolve/",
        {f"job{job.pk}-choice": f"Account:{ACCOUNT_B}", "next": "/sync/?state=needs_review"},
        follow=True,
    )

    job.refresh_from_db()
    assert f'value="Account:{ACCOUNT_B}:Initrode"' in form
    assert page.redirect_chain[-1][0] == "/sync/?state=needs_review"
    assert f"Job #{job.pk} runs again with your choice." in page_text(page)
    assert job.state != SyncJob.State.NEEDS_REVIEW
    assert job.params["target"] == {"object": "Account", "id": ACCOUNT_B, "name": "Initrode"}


@pytest.mark.django_db
def test_an_activity_job_is_answered_per_address_with_a_lead_to_create(tenant: Tenant) -> None:
    activity = ActivityFactory(tenant=tenant)
    ActivityParticipantFactory(activity=activity, email="bob@initech.example")
    ActivityParticipantFactory(activity=activity, email="carol@initech.example")
    job = SyncJobFactory(
        local_object=activity,
        operation=Operation.ACTIVITY_SYNC,
        state=SyncJob.State.NEEDS_REVIEW,
        candidates=[
            {"email": "bob@initech.example", "object": "Contact", "id": "003000000000001AAA"},
            {"email": "bob@initech.example", "object": "Lead", "id": "00Q000000000001AAA"},
            {"email": "carol@initech.example", "object": "Contact", "id": "003000000000002AAA"},
            {"email": "carol@initech.example", "object": "Contact", "id": "003000000000003AAA"},
        ],
    )
    client = signed_in(tenant)

    form = page_text(client.get(f"/sync/{job.pk}/"))
    client.post(
        f"/sync/{job.pk}/resolve/",
        {
            f"job{job.pk}-choice_0": "Lead:00Q000000000001AAA",
            f"job{job.pk}-choice_1": "create_lead",
            f"job{job.pk}-company_1": "Initech",
        },
    )

    job.refresh_from_db()
    assert "bob@initech.example" in form and "Create a Lead" in form
    assert job.state != SyncJob.State.NEEDS_REVIEW
    assert job.params["choices"] == {
        "bob@initech.example": {"object": "Lead", "id": "00Q000000000001AAA", "name": ""},
        "carol@initech.example": {"object": "create_lead", "company": "Initech"},
    }


@pytest.mark.django_db
def test_a_member_retries_a_failed_job(tenant: Tenant) -> None:
    job = SyncJobFactory(
        local_object=HighlightFactory(meeting=MeetingFactory(tenant=tenant)),
        state=SyncJob.State.FAILED,
        attempt_count=1,
    )

    page = signed_in(tenant).post(f"/sync/{job.pk}/retry/", follow=True)

    job.refresh_from_db()
    assert f"Job #{job.pk} is being tried again." in page_text(page)
    assert job.state == SyncJob.State.PENDING and job.reason == "Retried by hand."


@pytest.mark.django_db
def test_answers_to_a_job_that_no_longer_waits_are_messages_not_errors(tenant: Tenant) -> None:
    job = SyncJobFactory(
        local_object=MeetingFactory(tenant=tenant),
        operation="meeting.processed",
        state=SyncJob.State.SUCCEEDED,
        candidates=[{"object": "Account", "id": ACCOUNT_A, "name": "Initech"}],
    )
    client = signed_in(tenant)

    retried = client.post(f"/sync/{job.pk}/retry/", follow=True)
    resolved = client.post(
        f"/sync/{job.pk}/resolve/", {f"job{job.pk}-choice": f"Account:{ACCOUNT_A}"}, follow=True
    )
    unknown = client.post(
        f"/sync/{job.pk}/resolve/", {f"job{job.pk}-choice": "Account:001000000000009AAA"}
    )

    job.refresh_from_db()
    assert "Only failed jobs are retried by hand" in page_text(retried)
    assert "not waiting for a review" in page_text(resolved)
    assert unknown.status_code == 302
    assert job.state == SyncJob.State.SUCCEEDED and "target" not in job.params


# --- one tenant never reaches another's --------------------------------------------------------


@pytest.mark.django_db
def test_another_tenants_meeting_and_jobs_are_not_found_and_unchanged(
    tenant: Tenant, other_partner: Partner
) -> None:
    theirs = MeetingFactory(tenant=other_partner.tenant, external_id="theirs")
    HighlightFactory(meeting=theirs, external_id="h1")
    review = review_job(theirs)
    failed = SyncJobFactory(local_object=theirs, operation="meeting.sync", state="failed")
    client = signed_in(tenant)

    answers = [
        client.get("/meetings/theirs/"),
        client.get("/meetings/theirs/", {"highlights": "h1", "preview": 1}, **FROM_THE_PAGE),
        client.post("/meetings/theirs/send/", {"highlights": ["h1"], "record": "create"}),
        client.get("/listen/theirs/", {"t": 5}),
        client.post(
            f"/sync/{review.pk}/resolve/", {f"job{review.pk}-choice": f"Account:{ACCOUNT_A}"}
        ),
        client.post(f"/sync/{failed.pk}/retry/"),
    ]

    assert [a.status_code for a in answers] == [404] * len(answers)
    review.refresh_from_db()
    failed.refresh_from_db()
    assert review.state == SyncJob.State.NEEDS_REVIEW and "target" not in review.params
    assert failed.state == SyncJob.State.FAILED
    assert not SyncJob.objects.filter(operation=Operation.HIGHLIGHTS_SEND).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/meetings/m-1/", "/sync/", "/listen/m-1/?t=5", "/sync/1/retry/"])
def test_the_sync_pages_need_a_sign_in(tenant: Tenant, url: str) -> None:
    MeetingFactory(tenant=tenant, external_id="m-1")

    response = Client().get(url) if "retry" not in url else Client().post(url)

    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


# --- the listen page ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_listen_page_plays_the_recording_from_the_highlight(tenant: Tenant) -> None:
    meeting = MeetingFactory(
        tenant=tenant,
        external_id="m-1",
        title="Discovery with Initech",
        recording_url="https://recordings.example.com/m-1.mp3",
    )
    HighlightFactory(meeting=meeting, offset_seconds=Decimal("90.4"))

    html = page_text(signed_in(tenant).get("/listen/m-1/", {"t": "90"}))

    assert "Discovery with Initech" in html
    assert (
        '<audio controls preload="metadata" src="https://recordings.example.com/m-1.mp3#t=90"'
        in html
    )
    assert 'href="https://recordings.example.com/m-1.mp3#t=90"' in html
    assert 'href="?t=90"' in html


@pytest.mark.django_db
def test_a_video_recording_gets_a_video_player_and_a_bad_offset_plays_from_the_start(
    tenant: Tenant,
) -> None:
    MeetingFactory(
        tenant=tenant, external_id="m-1", recording_url="https://cdn.example.com/m-1.MP4"
    )

    html = page_text(signed_in(tenant).get("/listen/m-1/", {"t": "soon"}))

    assert '<video controls preload="metadata" src="https://cdn.example.com/m-1.MP4#t=0"' in html


@pytest.mark.django_db
def test_the_listen_link_survives_the_sign_in(tenant: Tenant) -> None:
    MeetingFactory(tenant=tenant, external_id="m-1")

    response = Client().get("/listen/m-1/?t=42")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/listen/m-1/%3Ft%3D42"


# --- end to end against the emulator -----------------------------------------------------------


@pytest.fixture
def manual(partner: Partner, sf: OrgHandle) -> OrgHandle:
    """The connected org with auto-sync off: only what a member sends is sent."""
    integration_settings_update(tenant=partner.tenant, auto_sync=False)
    return sf


@pytest.mark.django_db(transaction=True)
def test_a_member_previews_the_match_and_sends_each_highlight_as_a_note(
    partner: Partner, manual: OrgHandle
) -> None:
    account = manual.insert("Account", Name="Initech")
    manual.insert("Contact", LastName="Bob", Email="bob@initech.example", AccountId=account)
    meeting_push(partner, processed=False)
    client = signed_in(partner.tenant)

    preview = page_text(
        client.get("/meetings/m-1/", {"highlights": ["h1", "h2"], "preview": 1}, **FROM_THE_PAGE)
    )
    sent = client.post(
        "/meetings/m-1/send/",
        {"highlights": ["h1", "h2"], "record": f"Account:{account}:Initech"},
        follow=True,
    )
    meeting_page = page_text(client.get("/meetings/m-1/"))

    assert "The Contacts belong to one record" in preview
    assert f'value="Account:{account}:Initech" checked' in preview
    assert "Create an Account" not in preview  # only where the Contacts belong to none
    assert page_text(sent) and sent.redirect_chain[-1][0] == "/meetings/m-1/#highlights"
    job = SyncJob.objects.get(operation=Operation.HIGHLIGHTS_SEND)
    assert job.state == SyncJob.State.SUCCEEDED, job.reason
    notes = manual.records("ContentNote")
    assert len(notes) == 2
    links = [r for r in manual.records("ContentDocumentLink") if r["LinkedEntityId"] == account]
    assert sorted(link["ContentDocumentId"] for link in links) == sorted(n["Id"] for n in notes)
    for note in notes:
        assert f'href="{manual.instance_url.rstrip("/")}/{note["Id"]}"' in meeting_page


@pytest.mark.django_db(transaction=True)
def test_nobody_matching_offers_to_create_an_account(partner: Partner, manual: OrgHandle) -> None:
    meeting_push(partner, processed=False)
    client = signed_in(partner.tenant)

    preview = page_text(
        client.get("/meetings/m-1/", {"highlights": "h1", "preview": 1}, **FROM_THE_PAGE)
    )
    client.post(
        "/meetings/m-1/send/",
        {"highlights": ["h1"], "record": "create", "account_name": "Initech"},
    )

    assert "Nobody matches" in preview and 'value="create" checked' in preview
    assert [a["Name"] for a in manual.records("Account")] == ["Initech"]
    assert len(manual.records("ContentNote")) == 1


@pytest.mark.django_db(transaction=True)
def test_resolving_an_auto_sync_in_review_links_the_note_to_the_chosen_account(
    partner: Partner, sf: OrgHandle
) -> None:
    initech = sf.insert("Account", Name="Initech")
    initrode = sf.insert("Account", Name="Initrode")
    sf.insert("Contact", LastName="Bob", Email="bob@initech.example", AccountId=initech)
    sf.insert("Contact", LastName="Carol", Email="carol@initrode.example", AccountId=initrode)
    meeting_push(
        partner, attendees=["ana@acme.test", "bob@initech.example", "carol@initrode.example"]
    )
    job = SyncJob.objects.get(operation=Operation.MEETING_PROCESSED)
    assert job.state == SyncJob.State.NEEDS_REVIEW, job.reason
    client = signed_in(partner.tenant)

    client.post(f"/sync/{job.pk}/resolve/", {f"job{job.pk}-choice": f"Account:{initrode}"})

    job.refresh_from_db()
    assert job.state == SyncJob.State.SUCCEEDED, job.reason
    notes = sf.records("ContentNote")
    assert len(notes) == 1
    links = [r for r in sf.records("ContentDocumentLink") if r["LinkedEntityId"] == initrode]
    assert [link["ContentDocumentId"] for link in links] == [notes[0]["Id"]]
