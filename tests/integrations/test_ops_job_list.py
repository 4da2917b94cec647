"""Ops find sync jobs in the admin by what they have in hand (an external id, an email,
a Salesforce Id), read the list in words, and read a job's page: the records it could
link to, the records it made, and what to do about its last error."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from integrations.models import SyncJob
from meetings.models import Activity, Highlight, Meeting
from salesforce_emulator.testing import OrgHandle
from scheduler.models import Booking
from tenants.models import Tenant
from tests.conftest import Partner
from tests.factories import (
    ActivityParticipantFactory,
    AttendeeFactory,
    BookingFactory,
    HighlightFactory,
    MeetingFactory,
    SalesforceConnectionFactory,
    SyncJobFactory,
    SyncMappingFactory,
    UserFactory,
)
from tests.sync.conftest import last_job, meeting_push
from tests.sync.conftest import sf as sf  # the emulator-connected tenant fixture

JOBS = reverse("admin:integrations_syncjob_changelist")


def job_page(job: SyncJob) -> str:
    return reverse("admin:integrations_syncjob_change", args=[job.pk])


@pytest.fixture
def ops(db: None) -> Client:
    client = Client()
    client.force_login(UserFactory(username="ops", is_staff=True, is_superuser=True))
    return client


def found(ops: Client, query: dict[str, str]) -> set[int]:
    page = ops.get(JOBS, query)
    assert page.status_code == 200
    return {job.pk for job in page.context["cl"].result_list}


@pytest.fixture
def q3_review(tenant: Tenant) -> Meeting:
    meeting = MeetingFactory(tenant=tenant, external_id="m-123", title="Q3 review with Initech")
    AttendeeFactory(meeting=meeting, email="bob@initech.example")
    return meeting


def meeting_job(meeting: Meeting, **fields: object) -> SyncJob:
    return SyncJobFactory(local_object=meeting, operation="meeting.processed", **fields)


def activity_job(tenant: Tenant, email: str) -> SyncJob:
    participant = ActivityParticipantFactory(activity__tenant=tenant, email=email)
    ActivityParticipantFactory(activity=participant.activity, email="agent@acme.test")
    return SyncJobFactory(local_object=participant.activity, operation="activity.sync")


def booking_job(tenant: Tenant, guest: str) -> SyncJob:
    booking = BookingFactory(tenant=tenant, guest_email=guest, title="Intro call")
    return SyncJobFactory(local_object=booking, operation="booking.sync")


# --- search ---------------------------------------------------------------------------


def test_ops_find_a_meetings_jobs_by_its_external_id(
    ops: Client, tenant: Tenant, q3_review: Meeting
) -> None:
    wanted = meeting_job(q3_review)
    meeting_job(MeetingFactory(tenant=tenant, external_id="m-999"))

    assert found(ops, {"q": "M-123"}) == {wanted.pk}


def test_ops_find_a_highlights_job_by_its_meetings_external_id(
    ops: Client, tenant: Tenant, q3_review: Meeting
) -> None:
    highlight_job = SyncJobFactory(local_object=HighlightFactory(meeting=q3_review))
    SyncJobFactory(local_object=HighlightFactory(meeting__tenant=tenant))

    assert found(ops, {"q": "m-123"}) == {highlight_job.pk}


def test_ops_find_a_meetings_jobs_by_an_attendees_email(
    ops: Client, tenant: Tenant, q3_review: Meeting
) -> None:
    wanted = meeting_job(q3_review)
    highlight_job = SyncJobFactory(local_object=HighlightFactory(meeting=q3_review))
    meeting_job(MeetingFactory(tenant=tenant))

    assert found(ops, {"q": "bob@initech.example"}) == {wanted.pk, highlight_job.pk}


def test_ops_find_an_activitys_jobs_by_a_participants_email(ops: Client, tenant: Tenant) -> None:
    wanted = activity_job(tenant, "carol@umbrella.example")
    activity_job(tenant, "dave@vandelay.example")

    assert found(ops, {"q": "carol@umbrella.example"}) == {wanted.pk}


def test_ops_find_a_bookings_jobs_by_the_guests_email(ops: Client, tenant: Tenant) -> None:
    wanted = booking_job(tenant, "ann@initrode.example")
    booking_job(tenant, "zed@initrode-other.example")

    assert found(ops, {"q": "ann@initrode.example"}) == {wanted.pk}


def test_ops_find_jobs_by_the_salesforce_id_of_a_record_they_made(
    ops: Client, tenant: Tenant, q3_review: Meeting
) -> None:
    highlight = HighlightFactory(meeting=q3_review)
    SyncMappingFactory(local_object=highlight, salesforce_id="069000000000777AAA")
    highlight_job = SyncJobFactory(local_object=highlight)
    send = SyncJobFactory(local_object=q3_review, operation="highlights.send")
    SyncJobFactory(local_object=HighlightFactory(meeting__tenant=tenant))

    # The highlight's own job, and the meeting's job that wrote the highlight's Note; the
    # 15-character Id people copy from Salesforce's pages finds the same.
    assert found(ops, {"q": "069000000000777AAA"}) == {highlight_job.pk, send.pk}
    assert found(ops, {"q": "069000000000777"}) == {highlight_job.pk, send.pk}


def test_a_15_character_id_finds_its_record_only_not_one_differing_in_case(
    ops: Client, tenant: Tenant
) -> None:
    lower = meeting_job(
        MeetingFactory(tenant=tenant),
        candidates=[{"object": "Contact", "id": "003000000000abcAAA", "name": "Ann"}],
    )
    upper = meeting_job(
        MeetingFactory(tenant=tenant),
        candidates=[{"object": "Contact", "id": "003000000000ABCAA2", "name": "Bob"}],
    )

    assert found(ops, {"q": "003000000000abc"}) == {lower.pk}
    assert found(ops, {"q": "003000000000ABC"}) == {upper.pk}
    # The 18-character form is the same record in any case.
    assert found(ops, {"q": "003000000000abcaa2"}) == {upper.pk}


def test_searching_odd_numbers_finds_nothing_and_never_fails(
    ops: Client, q3_review: Meeting
) -> None:
    meeting_job(q3_review)

    assert found(ops, {"q": "²"}) == set()
    assert found(ops, {"q": "9" * 30}) == set()


def test_ops_find_jobs_by_a_candidate_or_a_chosen_records_id(
    ops: Client, tenant: Tenant, q3_review: Meeting
) -> None:
    waiting = meeting_job(
        q3_review, candidates=[{"object": "Account", "id": "001000000000042AAA", "name": "X"}]
    )
    chosen = meeting_job(
        MeetingFactory(tenant=tenant),
        params={"target": {"object": "Account", "id": "001000000000042AAA", "name": "X"}},
    )
    meeting_job(MeetingFactory(tenant=tenant))

    assert found(ops, {"q": "001000000000042AAA"}) == {waiting.pk, chosen.pk}


def test_ops_find_a_job_by_its_number(ops: Client, q3_review: Meeting) -> None:
    jobs = [meeting_job(q3_review) for _ in range(3)]

    assert found(ops, {"q": str(jobs[1].pk)}) == {jobs[1].pk}


# --- filters and columns --------------------------------------------------------------


def test_ops_filter_jobs_by_salesforce_error_code(
    ops: Client, tenant: Tenant, q3_review: Meeting
) -> None:
    refused = meeting_job(q3_review, state="failed", last_error_code="STRING_TOO_LONG")
    locked = meeting_job(q3_review, state="pending", last_error_code="UNABLE_TO_LOCK_ROW")
    fine = meeting_job(q3_review, state="succeeded")

    page = ops.get(JOBS)
    assert "STRING_TOO_LONG" in page.content.decode()  # offered as a filter
    assert found(ops, {"error": "STRING_TOO_LONG"}) == {refused.pk}
    assert found(ops, {"error": "UNABLE_TO_LOCK_ROW"}) == {locked.pk}
    assert found(ops, {"error": "none"}) == {fine.pk}


def test_the_list_names_each_jobs_object_in_words(
    ops: Client, tenant: Tenant, q3_review: Meeting
) -> None:
    meeting_job(q3_review, state="failed")
    SyncJobFactory(local_object=HighlightFactory(meeting=q3_review, external_id="h2"))
    activity_job(tenant, "carol@umbrella.example")
    booking_job(tenant, "ann@initrode.example")

    page = ops.get(JOBS).content.decode()
    rows = page.index('id="result_list"')
    text = page[rows : page.index("</table>", rows)]  # the rows, not the filters

    assert "Meeting “Q3 review with Initech” (m-123)" in text
    assert "Highlight h2 of “Q3 review with Initech” (m-123)" in text
    assert "Call with carol@umbrella.example" in text  # the agent is internal: not named
    assert "Booking “Intro call” with ann@initrode.example" in text
    assert "Meeting auto-sync" in text  # the operation's label, not meeting.processed
    assert 'class="job-state job-state-failed"' in text and ">Failed<" in text
    assert "meeting.processed" not in text and f"meeting {q3_review.pk}" not in text


def mixed_jobs(tenant: Tenant, count: int) -> None:
    """`count` jobs about meetings, highlights, activities and bookings in turn."""
    makers = [
        lambda n: meeting_job(AttendeeFactory(meeting__tenant=tenant).meeting),
        lambda n: SyncJobFactory(local_object=HighlightFactory(meeting__tenant=tenant)),
        lambda n: activity_job(tenant, f"p{n}@umbrella.example"),
        lambda n: booking_job(tenant, f"g{n}@initrode.example"),
    ]
    for index in range(count):
        makers[index % len(makers)](index)


def list_queries(ops: Client) -> int:
    with CaptureQueriesContext(connection) as queries:
        page = ops.get(JOBS)
    assert page.status_code == 200
    return len(queries)


def test_the_lists_queries_do_not_grow_with_its_rows(ops: Client, tenant: Tenant) -> None:
    mixed_jobs(tenant, 4)  # one of each kind: each kind costs its own query
    few = list_queries(ops)
    mixed_jobs(tenant, 26)
    many = list_queries(ops)

    kinds = {job.content_type.model_class() for job in SyncJob.objects.all()}
    assert SyncJob.objects.count() == 30
    assert kinds == {Meeting, Highlight, Activity, Booking}
    assert many == few


# --- the job page ---------------------------------------------------------------------


def test_the_job_page_shows_candidates_a_person_can_tell_apart(
    ops: Client, tenant: Tenant, q3_review: Meeting
) -> None:
    SalesforceConnectionFactory(tenant=tenant, instance_url="https://acme.my.salesforce.test")
    job = meeting_job(
        q3_review,
        state="needs_review",
        reason="Several Account records match the attendees; choose one.",
        candidates=[
            {
                "object": "Account",
                "id": "001000000000001AAA",
                "name": "Initech",
                "email": "bob@initech.example",
                "account": "Initech",
                "owner": "Peggy Olson",
            },
            # A job from before candidates carried email, Account and owner.
            {"object": "Account", "id": "001000000000002AAA", "name": "Initech Europe"},
        ],
    )

    text = ops.get(job_page(job)).content.decode()

    assert "Records it could link to" in text
    for shown in ("Initech Europe", "bob@initech.example", "Peggy Olson"):
        assert shown in text
    assert 'href="https://acme.my.salesforce.test/001000000000001AAA"' in text
    assert 'href="https://acme.my.salesforce.test/001000000000002AAA"' in text
    assert "Several Account records match the attendees" in text
    assert 'name="_save"' not in text and "deletelink" not in text


def test_the_job_page_shows_the_records_it_made_with_links(
    ops: Client, tenant: Tenant, q3_review: Meeting
) -> None:
    SalesforceConnectionFactory(tenant=tenant, instance_url="https://acme.my.salesforce.test")
    highlight = HighlightFactory(meeting=q3_review, external_id="h1")
    SyncMappingFactory(
        local_object=highlight, salesforce_id="069000000000001AAA", state="confirmed"
    )
    job = SyncJobFactory(local_object=highlight, state="succeeded")

    text = ops.get(job_page(job)).content.decode()

    assert "Highlight Note" in text and "In Salesforce" in text
    assert 'href="https://acme.my.salesforce.test/069000000000001AAA"' in text
    assert reverse("admin:meetings_highlight_change", args=[highlight.pk]) in text


def test_a_dismissed_job_shows_who_dismissed_it_and_why(ops: Client, q3_review: Meeting) -> None:
    lead = UserFactory(username="lead.ops", first_name="Lena", last_name="Lead")
    job = meeting_job(
        q3_review,
        state="dismissed",
        dismissed_by=lead,
        reason="A test meeting; not for Salesforce.",
    )

    text = ops.get(job_page(job)).content.decode()

    assert "Dismissed by" in text and "Lena Lead" in text
    assert "A test meeting; not for Salesforce." in text
    assert 'class="job-state job-state-dismissed"' in text


def test_the_job_page_says_what_was_asked_in_words(
    ops: Client, tenant: Tenant, q3_review: Meeting
) -> None:
    member = UserFactory(username="ana", first_name="Ana", last_name="Member")
    job = SyncJobFactory(
        local_object=q3_review,
        operation="highlights.send",
        requested_by=member,
        params={
            "highlights": ["h1", "h2"],
            "create": {"account_name": "Initech", "opportunity_name": "Initech renewal"},
        },
    )

    text = ops.get(job_page(job)).content.decode()

    assert "Highlights sent by hand" in text and "Ana Member" in text
    assert "Account “Initech” and Opportunity “Initech renewal”" in text
    assert "h1, h2" in text and "account_name" not in text
    assert reverse("admin:meetings_meeting_change", args=[q3_review.pk]) in text


def test_someone_who_may_only_view_jobs_reads_the_page_and_cannot_act(
    q3_review: Meeting,
) -> None:
    reader = UserFactory(username="reader", is_staff=True)
    reader.user_permissions.add(Permission.objects.get(codename="view_syncjob"))
    client = Client()
    client.force_login(reader)
    job = meeting_job(q3_review, state="failed", last_error_code="STRING_TOO_LONG")

    page = client.get(job_page(job))

    text = page.content.decode()
    assert page.status_code == 200
    assert "longer than the Salesforce field allows" in text
    assert "needs the “operate syncs” permission" in text
    assert 'name="_save"' not in text and "/retry/" not in text


# --- against the emulator ---------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_failed_job_page_explains_a_validation_rule(
    partner: Partner, sf: OrgHandle, ops: Client
) -> None:
    account = sf.insert("Account", Name="Initech")
    sf.insert("Contact", LastName="Bob", Email="bob@initech.example", AccountId=account)
    sf.validation_rule("Event", "Events need a location", field="Location")
    meeting_push(partner)
    job = last_job("meeting.processed")
    assert job.state == "failed"

    text = ops.get(job_page(job)).content.decode()

    assert "Salesforce refused it: Events need a location" in text
    assert "Ask your Salesforce admin, or choose another record." in text
    assert "FIELD_CUSTOM_VALIDATION_EXCEPTION" in text


@pytest.mark.django_db(transaction=True)
def test_auto_sync_candidates_carry_email_account_and_owner(
    partner: Partner, sf: OrgHandle, ops: Client
) -> None:
    peggy = sf.insert(
        "User",
        Username="peggy.sf",
        Email="peggy@acme.test",
        FirstName="Peggy",
        LastName="Olson",
        Alias="peggy",
    )
    initech = sf.insert("Account", Name="Initech", OwnerId=peggy)
    globex = sf.insert("Account", Name="Globex")
    sf.insert("Contact", LastName="Bob", Email="bob@initech.example", AccountId=initech)
    sf.insert("Contact", LastName="Hank", Email="hank@globex.example", AccountId=globex)
    meeting_push(partner, attendees=["bob@initech.example", "hank@globex.example"], processed=False)
    before = sf.api_calls

    partner.client.post("/api/v1/meetings/m-1/processed/")

    job = last_job("meeting.processed")
    assert job.state == "needs_review"
    assert sf.api_calls - before == 1  # the one lookup round brought it all
    by_id = {c["id"]: c for c in job.candidates}
    assert by_id[initech] == {
        "object": "Account",
        "id": initech,
        "name": "Initech",
        "email": "bob@initech.example",
        "account": "Initech",
        "owner": "Peggy Olson",
    }
    assert by_id[globex]["email"] == "hank@globex.example"
    assert by_id[globex]["owner"]  # the admin user who made it
    text = ops.get(job_page(job)).content.decode()
    assert "Peggy Olson" in text and f"{sf.instance_url}/{initech}" in text
