"""The sync log and a job's page as a member uses them: filters that find a job by its
state, what it did, its meeting, its day and free text; rows in words; a job's page
with what was asked, its records, readable candidates and attempts; and the answers
given there (choose a record offered or found by name, point a failed job at another
record, retry, dismiss with a reason). Also: the log has one row per thing that
happened."""

from __future__ import annotations

import datetime as dt
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from integrations.enums import Operation, Purpose
from integrations.models import IntegrationSettings, SalesforceConnection, SyncJob
from integrations.services import actions
from integrations.services.jobs import sync_tenant_resume
from integrations.services.settings import integration_settings_update
from meetings import services as meeting_services
from meetings.models import Highlight, Meeting
from salesforce_emulator.testing import OrgHandle
from tenants.models import Membership, Tenant
from tests.conftest import Partner
from tests.factories import (
    AttendeeFactory,
    HighlightFactory,
    MeetingFactory,
    SalesforceConnectionFactory,
    SyncAttemptFactory,
    SyncJobFactory,
    SyncMappingFactory,
)
from tests.integrations.test_sync_pages import page_text, review_job, signed_in
from tests.sync.conftest import connection_of, meeting_push
from tests.sync.conftest import sf as sf  # the emulator-connected tenant fixture

# A form or button of the portal itself: only these ask Salesforce.
FROM_THE_PAGE = {"HTTP_SEC_FETCH_SITE": "same-origin"}

ACCOUNT_A = "001000000000001AAA"


def row_ids(html: str) -> set[int]:
    """The jobs listed on a log page."""
    return {int(n) for n in re.findall(r'<tr id="job-(\d+)"', html)}


def row_of(html: str, job: SyncJob) -> str:
    start = html.index(f'<tr id="job-{job.pk}"')
    return html[start : html.index("</tr>", start)]


def created_at(job: SyncJob, moment: dt.datetime) -> SyncJob:
    SyncJob.objects.filter(pk=job.pk).update(created_at=moment)
    job.refresh_from_db()
    return job


# --- the log: filters -------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_log_filters_by_state_as_the_overview_links_to_it(tenant: Tenant) -> None:
    meeting = MeetingFactory(tenant=tenant)
    review = review_job(meeting)
    failed = SyncJobFactory(local_object=meeting, operation="meeting.sync", state="failed")
    done = SyncJobFactory(local_object=meeting, operation="meeting.sync", state="succeeded")
    client = signed_in(tenant)

    assert row_ids(page_text(client.get("/sync/?state=needs_review"))) == {review.pk}
    assert row_ids(page_text(client.get("/sync/?state=failed"))) == {failed.pk}
    assert row_ids(page_text(client.get("/sync/"))) == {review.pk, failed.pk, done.pk}


@pytest.mark.django_db
def test_the_log_filters_by_what_the_job_did_its_meeting_and_free_text(tenant: Tenant) -> None:
    initech = MeetingFactory(tenant=tenant, external_id="m-1", title="Discovery with Initech")
    globex = MeetingFactory(tenant=tenant, external_id="m-2", title="Pricing with Globex")
    AttendeeFactory(meeting=globex, email="hank@globex.example")
    synced = SyncJobFactory(local_object=initech, operation=Operation.MEETING_PROCESSED)
    edited = SyncJobFactory(
        local_object=HighlightFactory(meeting=initech), operation="highlight.sync"
    )
    other = SyncJobFactory(local_object=globex, operation=Operation.MEETING_PROCESSED)
    client = signed_in(tenant)

    def found(**query: str) -> set[int]:
        return row_ids(page_text(client.get("/sync/", query)))

    assert found(meeting="initech") == {synced.pk, edited.pk}
    assert found(meeting="m-2") == {other.pk}
    assert found(operation="highlight.sync") == {edited.pk}
    assert found(operation="meeting.processed", meeting="Initech") == {synced.pk}
    assert found(q="hank@globex.example") == {other.pk}
    assert found(q=str(edited.pk)) == {edited.pk}
    assert "No job matches these filters." in page_text(
        client.get("/sync/", {"meeting": "Umbrella"})
    )


@pytest.mark.django_db
def test_the_log_filters_by_day_in_the_tenants_timezone(tenant: Tenant) -> None:
    tenant.timezone = "Europe/Berlin"
    tenant.save()
    meeting = MeetingFactory(tenant=tenant)
    # 23:30 UTC on the 20th is already the 21st in Berlin.
    late = created_at(
        SyncJobFactory(local_object=meeting), dt.datetime(2026, 11, 20, 23, 30, tzinfo=dt.UTC)
    )
    noon = created_at(
        SyncJobFactory(local_object=meeting), dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)
    )
    client = signed_in(tenant)

    def found(**query: str) -> set[int]:
        return row_ids(page_text(client.get("/sync/", query)))

    assert found(since="2026-11-21") == {late.pk}
    assert found(until="2026-11-20") == {noon.pk}
    assert found(since="2026-11-20", until="2026-11-21") == {late.pk, noon.pk}


@pytest.mark.django_db
def test_the_pages_of_the_log_keep_its_filters(tenant: Tenant) -> None:
    meeting = MeetingFactory(tenant=tenant, external_id="m-1")
    SyncJobFactory.create_batch(30, local_object=meeting, operation="meeting.sync", state="failed")
    SyncJobFactory.create_batch(3, local_object=meeting, operation="meeting.sync")
    client = signed_in(tenant)

    first = page_text(client.get("/sync/", {"state": "failed", "meeting": "m-1"}))
    second = page_text(client.get("/sync/", {"state": "failed", "meeting": "m-1", "page": 2}))

    assert "Page 1 of 2" in first
    assert 'href="?state=failed&amp;meeting=m-1&amp;page=2"' in first
    assert len(row_ids(second)) == 5
    assert 'href="?state=failed&amp;meeting=m-1&amp;page=1"' in second


# --- the log: rows in words -------------------------------------------------------------------


@pytest.mark.django_db
def test_rows_name_the_meeting_the_record_and_the_time_in_the_tenants_zone(tenant: Tenant) -> None:
    tenant.timezone = "Europe/Berlin"
    tenant.save()
    meeting = MeetingFactory(tenant=tenant, external_id="m-1", title="Discovery with Initech")
    job = SyncJobFactory(
        local_object=meeting,
        operation=Operation.MEETING_PROCESSED,
        state="succeeded",
        reason="Linked to the Account chosen by a person (Initech).",
        params={"target": {"object": "Account", "id": ACCOUNT_A, "name": "Initech"}},
    )
    created_at(job, dt.datetime(2026, 11, 20, 14, 0, tzinfo=dt.UTC))

    row = row_of(page_text(signed_in(tenant).get("/sync/")), job)

    assert "Meeting auto-sync" in row and "meeting.processed" not in row
    assert '<a href="/meetings/m-1/">Meeting “Discovery with Initech” (m-1)</a>' in row
    assert "Record: Account “Initech”" in row
    assert "20 Nov 2026, 15:00 CET" in row
    assert f'href="/sync/{job.pk}/"' in row


@pytest.mark.django_db
def test_the_log_reads_a_page_in_the_same_number_of_queries_however_many_rows(
    tenant: Tenant,
) -> None:
    client = signed_in(tenant)
    meeting = MeetingFactory(tenant=tenant)

    def queries() -> int:
        with CaptureQueriesContext(connection) as run:
            page_text(client.get("/sync/"))
        return len(run)

    def jobs(count: int) -> None:
        for _ in range(count):
            job = SyncJobFactory(local_object=HighlightFactory(meeting=meeting), state="failed")
            SyncAttemptFactory(job=job, outcome="failed")

    jobs(2)
    few = queries()
    jobs(10)

    assert queries() == few


# --- a job's page -----------------------------------------------------------------------------


def hank_candidates() -> list[dict[str, str]]:
    """Two Contacts of one name, told apart by email, Account and owner."""
    return [
        {
            "object": "Contact",
            "id": "003000000000001AAA",
            "name": "Hank Scorpio",
            "email": "hank@globex.example",
            "account": "Globex",
            "owner": "Ana Lopez",
        },
        {
            "object": "Contact",
            "id": "003000000000002AAA",
            "name": "Hank Scorpio",
            "email": "h.scorpio@globex-labs.example",
            "account": "Globex Labs",
            "owner": "Ben Ortiz",
        },
    ]


@pytest.mark.django_db
def test_the_job_page_shows_what_was_asked_its_records_candidates_and_attempts(
    tenant: Tenant,
) -> None:
    SalesforceConnectionFactory(tenant=tenant, instance_url="https://acme.my.salesforce.test/")
    meeting = MeetingFactory(tenant=tenant, external_id="m-1", title="Discovery with Initech")
    budget = HighlightFactory(meeting=meeting, external_id="h1", text="Budget is approved")
    SyncMappingFactory(
        local_object=budget,
        salesforce_id="069000000000001AAA",
        state="confirmed",
        parent_object="Account",
        parent_id=ACCOUNT_A,
        parent_name="Initech",
    )
    SyncMappingFactory(
        local_object=budget,
        purpose=Purpose.HIGHLIGHT_NOTE_LINK,
        salesforce_object="ContentDocumentLink",
        salesforce_id="06A000000000001AAA",
    )
    job = SyncJobFactory(
        local_object=meeting,
        operation=Operation.HIGHLIGHTS_SEND,
        state=SyncJob.State.FAILED,
        params={
            "highlights": ["h1"],
            "target": {"object": "Contact", "id": "003000000000001AAA", "name": "Hank Scorpio"},
        },
        candidates=hank_candidates(),
        last_error_code="FIELD_CUSTOM_VALIDATION_EXCEPTION",
    )
    SyncAttemptFactory(
        job=job,
        outcome="failed",
        salesforce_error_code="FIELD_CUSTOM_VALIDATION_EXCEPTION",
        message="FIELD_CUSTOM_VALIDATION_EXCEPTION: Contacts of Globex take no Notes",
        api_calls=2,
    )

    html = page_text(signed_in(tenant).get(f"/sync/{job.pk}/"))

    assert "Highlights sent by hand" in html and "Send the chosen highlights" in html
    assert '<a href="/meetings/m-1/">Meeting “Discovery with Initech” (m-1)</a>' in html
    assert "“Budget is approved”" in html
    # The error in words with the next step, in the banner and in the attempt.
    assert html.count("Salesforce refused it: Contacts of Globex take no Notes") == 2
    # The records, in words, linked to Salesforce; the Note's link is not a row of its own.
    assert 'href="https://acme.my.salesforce.test/069000000000001AAA"' in html
    assert "Account “Initech”" in html
    assert "highlight_note_link" not in html and "ContentDocumentLink" not in html
    # Two Hank Scorpios a person can tell apart.
    for hank in hank_candidates():
        for value in (hank["email"], hank["account"], hank["owner"], hank["id"]):
            assert value in html
        assert f'href="https://acme.my.salesforce.test/{hank["id"]}"' in html
    # A failed job: choose another record (by name), retry, and (admins) dismiss.
    assert "Choose another record" in html and "Search Salesforce by name" in html
    assert f'action="/sync/{job.pk}/retry/"' in html
    assert "A tenant admin of" in html and f'action="/sync/{job.pk}/dismiss/"' not in html
    assert '<a href="/sync/?meeting=m-1">' in html


@pytest.mark.django_db
def test_a_refused_record_keeps_what_was_typed(tenant: Tenant) -> None:
    job = review_job(MeetingFactory(tenant=tenant))

    page = page_text(
        signed_in(tenant).post(
            f"/sync/{job.pk}/choose/",
            {"record": "other", "other_object": "Opportunity", "other_id": "006-not-an-id"},
        )
    )

    job.refresh_from_db()
    assert job.state == SyncJob.State.NEEDS_REVIEW and "target" not in job.params
    assert 'role="alert"' in page
    assert 'value="006-not-an-id"' in page
    assert 'value="other" checked' in page
    assert '<option value="Opportunity" selected>' in page


@pytest.mark.django_db
def test_an_answer_to_a_job_that_moved_on_says_why(tenant: Tenant) -> None:
    job = SyncJobFactory(
        local_object=MeetingFactory(tenant=tenant),
        operation=Operation.MEETING_PROCESSED,
        state="succeeded",
    )
    client = signed_in(tenant, Membership.Role.ADMIN)

    chosen = page_text(client.post(f"/sync/{job.pk}/choose/", {"record": f"Account:{ACCOUNT_A}:X"}))
    dismissed = page_text(client.post(f"/sync/{job.pk}/dismiss/", {"reason": "Not ours"}))

    assert "this one is succeeded" in chosen
    assert "This job has already ended (succeeded)" in dismissed
    job.refresh_from_db()
    assert job.state == SyncJob.State.SUCCEEDED and job.params == {}


@pytest.mark.django_db
def test_another_tenants_job_pages_are_not_found_and_unchanged(
    tenant: Tenant, other_partner: Partner
) -> None:
    theirs = SyncJobFactory(
        local_object=MeetingFactory(tenant=other_partner.tenant),
        operation=Operation.MEETING_PROCESSED,
        state="failed",
    )
    client = signed_in(tenant, Membership.Role.ADMIN)

    answers = [
        client.get(f"/sync/{theirs.pk}/"),
        client.post(f"/sync/{theirs.pk}/choose/", {"record": f"Account:{ACCOUNT_A}:Initech"}),
        client.post(f"/sync/{theirs.pk}/dismiss/", {"reason": "Not ours"}),
    ]

    assert [a.status_code for a in answers] == [404, 404, 404]
    theirs.refresh_from_db()
    assert theirs.state == SyncJob.State.FAILED and theirs.params == {}


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/sync/1/", "/sync/1/choose/", "/sync/1/dismiss/"])
def test_the_job_pages_need_a_sign_in(tenant: Tenant, url: str) -> None:
    response = Client().get(url) if url == "/sync/1/" else Client().post(url)

    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


# --- dismiss ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_tenant_admin_dismisses_a_failed_job_with_a_reason(tenant: Tenant) -> None:
    job = SyncJobFactory(local_object=MeetingFactory(tenant=tenant), state="failed")
    client = signed_in(tenant, Membership.Role.ADMIN)

    page = client.post(
        f"/sync/{job.pk}/dismiss/", {"reason": "The customer asked us not to log it."}, follow=True
    )

    job.refresh_from_db()
    assert page.redirect_chain[-1][0] == f"/sync/{job.pk}/"
    assert f"Job #{job.pk} is dismissed" in page_text(page)
    assert job.state == SyncJob.State.DISMISSED
    assert job.reason.endswith("The customer asked us not to log it.")


@pytest.mark.django_db
def test_a_refused_dismissal_keeps_the_reason_typed(tenant: Tenant) -> None:
    job = SyncJobFactory(local_object=MeetingFactory(tenant=tenant), state="failed")
    client = signed_in(tenant, Membership.Role.ADMIN)
    too_long = "Not ours. " * 60

    empty = page_text(client.post(f"/sync/{job.pk}/dismiss/", {"reason": "  "}))
    long = page_text(client.post(f"/sync/{job.pk}/dismiss/", {"reason": too_long}))

    job.refresh_from_db()
    assert job.state == SyncJob.State.FAILED
    assert "The job was not dismissed." in empty and "This field is required." in empty
    assert "The job was not dismissed." in long
    assert too_long.strip() in long  # back in the box, to shorten


@pytest.mark.django_db
def test_a_member_may_not_dismiss(tenant: Tenant) -> None:
    job = SyncJobFactory(local_object=MeetingFactory(tenant=tenant), state="failed")

    refused = signed_in(tenant).post(f"/sync/{job.pk}/dismiss/", {"reason": "Not ours"})

    job.refresh_from_db()
    assert refused.status_code == 403
    assert job.state == SyncJob.State.FAILED


# --- answers against the emulator -------------------------------------------------------------


def two_customers(sf: OrgHandle) -> dict[str, str]:
    initech = sf.insert("Account", Name="Initech")
    initrode = sf.insert("Account", Name="Initrode")
    sf.insert("Contact", LastName="Bob", Email="bob@initech.example", AccountId=initech)
    sf.insert("Contact", LastName="Carol", Email="carol@initrode.example", AccountId=initrode)
    return {"initech": initech, "initrode": initrode}


@pytest.mark.django_db(transaction=True)
def test_a_member_resolves_a_review_with_a_record_found_by_name(
    partner: Partner, sf: OrgHandle
) -> None:
    two_customers(sf)
    holdings = sf.insert("Account", Name="Initech Holdings")
    meeting_push(
        partner, attendees=["ana@acme.test", "bob@initech.example", "carol@initrode.example"]
    )
    job = SyncJob.objects.get(operation=Operation.MEETING_PROCESSED)
    assert job.state == SyncJob.State.NEEDS_REVIEW, job.reason
    client = signed_in(partner.tenant)

    found = page_text(client.get(f"/sync/{job.pk}/", {"q": "holdings"}, **FROM_THE_PAGE))
    answered = client.post(
        f"/sync/{job.pk}/choose/", {"record": f"Account:{holdings}:Initech Holdings"}, follow=True
    )

    assert f'value="Account:{holdings}:Initech Holdings"' in found
    assert f"Job #{job.pk} runs again, linked to Account “Initech Holdings”" in page_text(answered)
    job.refresh_from_db()
    assert job.state == SyncJob.State.SUCCEEDED, job.reason
    assert [e["WhatId"] for e in sf.records("Event")] == [holdings]


@pytest.fixture
def refused(partner: Partner, sf: OrgHandle) -> dict[str, str]:
    """A meeting whose auto-sync failed: the org refuses Events on Initech."""
    initech = sf.insert("Account", Name="Initech")
    globex = sf.insert("Account", Name="Globex")
    sf.insert("Contact", LastName="Bob", Email="bob@initech.example", AccountId=initech)
    sf.validation_rule(
        "Event", "Initech takes no new meetings", field="WhatId", when={"WhatId": initech}
    )
    meeting_push(partner)
    return {"initech": initech, "globex": globex}


@pytest.mark.django_db(transaction=True)
def test_a_member_points_a_failed_job_at_another_record_and_it_syncs_there(
    partner: Partner, sf: OrgHandle, refused: dict[str, str]
) -> None:
    job = SyncJob.objects.get(operation=Operation.MEETING_PROCESSED)
    assert job.state == SyncJob.State.FAILED, job.reason
    client = signed_in(partner.tenant)

    page = page_text(client.get(f"/sync/{job.pk}/", {"q": "Glob"}, **FROM_THE_PAGE))
    client.post(f"/sync/{job.pk}/choose/", {"record": f"Account:{refused['globex']}:Globex"})

    assert "Salesforce refused it: Initech takes no new meetings" in page
    assert f'value="Account:{refused["globex"]}:Globex"' in page
    job.refresh_from_db()
    assert job.state == SyncJob.State.SUCCEEDED, job.reason
    assert job.params["target"] == {"object": "Account", "id": refused["globex"], "name": "Globex"}
    assert [e["WhatId"] for e in sf.records("Event")] == [refused["globex"]]


@pytest.mark.django_db(transaction=True)
def test_a_member_retries_a_failed_job_from_its_page(
    partner: Partner, sf: OrgHandle, refused: dict[str, str]
) -> None:
    job = SyncJob.objects.get(operation=Operation.MEETING_PROCESSED)
    with sf.org.lock:
        sf.org.validation_rules.clear()  # the Salesforce admin lifted the rule

    page = signed_in(partner.tenant).post(
        f"/sync/{job.pk}/retry/", {"next": f"/sync/{job.pk}/"}, follow=True
    )

    assert page.redirect_chain[-1][0] == f"/sync/{job.pk}/"
    assert f"Job #{job.pk} is being tried again." in page_text(page)
    job.refresh_from_db()
    assert job.state == SyncJob.State.SUCCEEDED, job.reason
    assert [e["WhatId"] for e in sf.records("Event")] == [refused["initech"]]


# --- one row per thing that happened ----------------------------------------------------------


def paused(partner: Partner) -> None:
    """The org's daily API limit was reached: jobs wait (as they do for a connection)."""
    SalesforceConnection.objects.filter(pk=connection_of(partner).pk).update(
        paused_until=timezone.now() + timedelta(hours=1)
    )


def highlights_post(partner: Partner, texts: list[str]) -> None:
    for n, text in enumerate(texts, start=1):
        answer = partner.client.post(
            "/api/v1/meetings/m-1/highlights/",
            {"external_id": f"h{n}", "text": text},
            format="json",
        )
        assert answer.status_code in (200, 201), answer.json()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("customers", ["one", "two"])
def test_highlights_that_arrive_before_the_meetings_sync_runs_make_no_rows_of_their_own(
    partner: Partner, sf: OrgHandle, customers: str
) -> None:
    """The meeting's own sync, still to come, carries them in its Note: whether it then
    writes the Note (one customer) or waits for a person (two), there is nothing for a
    job per highlight to do, and no row saying so once per highlight."""
    two_customers(sf)
    attendees = ["ana@acme.test", "bob@initech.example"]
    if customers == "two":
        attendees.append("carol@initrode.example")
    paused(partner)
    meeting_push(partner, highlights=[], attendees=attendees)
    highlights_post(partner, ["Budget is approved", "Needs SSO", "Starts in Q3"])

    sync_tenant_resume(tenant=partner.tenant)

    assert list(SyncJob.objects.values_list("operation", flat=True)) == ["meeting.processed"]
    log = page_text(signed_in(partner.tenant).get("/sync/"))
    assert len(row_ids(log)) == 1
    assert "not in Salesforce yet" not in log and "Highlight changed" not in log.split("<table")[1]
    if customers == "one":
        (note,) = sf.records("ContentNote")
        content = sf.note_content(note["Id"]) or b""
        for text in (b"Budget is approved", b"Needs SSO", b"Starts in Q3"):
            assert text in content


@pytest.mark.django_db(transaction=True)
def test_a_highlight_edited_after_the_meetings_note_was_written_still_updates_it(
    partner: Partner, sf: OrgHandle
) -> None:
    two_customers(sf)
    meeting_push(partner, highlights=["Budget is approved"])
    highlights_post(partner, ["Budget is approved for 2027"])

    (note,) = sf.records("ContentNote")
    assert b"Budget is approved for 2027" in (sf.note_content(note["Id"]) or b"")
    assert SyncJob.objects.filter(operation="highlight.sync", state="succeeded").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_meeting_renamed_before_its_sync_runs_makes_one_row_and_claims_no_change(
    partner: Partner, sf: OrgHandle
) -> None:
    two_customers(sf)
    paused(partner)
    meeting_push(partner)
    renamed = partner.client.patch(
        "/api/v1/meetings/m-1/", {"title": "Discovery with Initech, part 2"}, format="json"
    )
    assert renamed.status_code == 200

    sync_tenant_resume(tenant=partner.tenant)

    assert list(SyncJob.objects.values_list("operation", flat=True)) == ["meeting.processed"]
    assert [e["Subject"] for e in sf.records("Event")] == ["Discovery with Initech, part 2"]
    log = page_text(signed_in(partner.tenant).get("/sync/"))
    assert "title and time" not in log


@pytest.mark.django_db(transaction=True)
def test_a_meeting_renamed_before_anything_of_it_was_synced_queues_nothing(
    partner: Partner, sf: OrgHandle
) -> None:
    meeting_push(partner, processed=False)

    meeting = Meeting.objects.get()
    meeting_services.meeting_update(meeting=meeting, title="Renamed before processing")

    assert not SyncJob.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_meeting_update_with_nothing_to_write_says_so(partner: Partner, sf: OrgHandle) -> None:
    """Its highlight went to an Account made for it, then was deleted with its Note, and
    the tenant now sends highlights as Notes only (its Events are left as they are):
    renaming the meeting has nothing to write, and the job says so rather than claim
    that Salesforce shows the new title."""
    meeting_push(partner, highlights=["Budget is approved"], processed=False)
    meeting = Meeting.objects.get()
    actions.highlights_send(
        meeting=meeting, highlight_ids=["h1"], create={"account_name": "Initech"}
    )
    meeting_services.highlight_delete(highlight=Highlight.objects.get())
    integration_settings_update(
        tenant=partner.tenant,
        highlights_destination=IntegrationSettings.Destination.NOTES_ONLY,
    )
    assert SyncJob.objects.exclude(state="succeeded").count() == 0

    meeting_services.meeting_update(meeting=meeting, title="Renamed")

    job = SyncJob.objects.filter(operation=Operation.MEETING_SYNC).latest("id")
    assert job.state == SyncJob.State.SUCCEEDED
    assert job.reason.startswith("Nothing to change:")
    assert "shows its current title" not in job.reason
