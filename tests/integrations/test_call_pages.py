"""The calls pages: the list (search, filters, pages, each call's state in Salesforce in
words, "Log to Salesforce") and a call's page (who took part and what each matched;
logging it, choosing among several matching records or creating a Lead; the state
polled while a job is at work). Salesforce is the emulator."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from integrations.enums import Operation
from integrations.models import MatchChoice, SyncJob
from meetings.models import Activity
from salesforce_emulator.testing import OrgHandle
from tenants.models import Membership, Tenant
from tests.conftest import Partner
from tests.factories import (
    ActivityFactory,
    ActivityParticipantFactory,
    MembershipFactory,
    SalesforceConnectionFactory,
    SyncJobFactory,
    SyncMappingFactory,
    TenantFactory,
    UserFactory,
)
from tests.sync.conftest import last_job
from tests.sync.conftest import sf as sf  # the emulator-connected tenant fixture

PROSPECT = "pat@prospect.example"


def signed_in(tenant: Tenant, role: str = Membership.Role.MEMBER) -> Client:
    user = UserFactory()
    MembershipFactory(tenant=tenant, user=user, role=role)
    client = Client()
    client.force_login(user)
    return client


def page_text(response: Any) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def call_with(tenant: Tenant, *emails: str, **fields: Any) -> Activity:
    call = ActivityFactory(tenant=tenant, **fields)
    ActivityParticipantFactory(activity=call, email="agent@acme.test")
    for email in emails:
        ActivityParticipantFactory(activity=call, email=email)
    return call


def job_about(call: Activity, state: str, **fields: Any) -> SyncJob:
    return SyncJobFactory(
        local_object=call, operation=Operation.ACTIVITY_SYNC, state=state, **fields
    )


def candidate(email: str, sobject: str, record_id: str, name: str) -> dict[str, str]:
    return {"email": email, "object": sobject, "id": record_id, "name": name}


def rows_of(html: str) -> list[str]:
    body = html[html.index("<tbody>") : html.index("</tbody>")]
    return body.split("<tr>")[1:]


# --- the list ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_calls_list_says_where_each_call_stands_in_words(tenant: Tenant) -> None:
    logged = call_with(tenant, "ann@customer.example", external_id="c-logged")
    SyncMappingFactory(
        tenant=tenant,
        local_object=logged.participants.get(email="ann@customer.example"),
        purpose="activity_task",
        salesforce_object="Task",
        state="confirmed",
    )
    job_about(logged, "succeeded", reason="Logged as 1 Task(s).")
    asked = call_with(tenant, "bob@customer.example", external_id="c-asked")
    job_about(
        asked,
        "skipped",
        reason="Activities are logged on request for this tenant; ask to log this one, or "
        "turn on automatic logging.",
    )
    choosing = call_with(tenant, "cy@customer.example", external_id="c-choose")
    job_about(choosing, "needs_review", reason="Several Salesforce records match cy.")
    failed = call_with(tenant, "di@customer.example", external_id="c-failed")
    job_about(
        failed,
        "failed",
        reason="FIELD_CUSTOM_VALIDATION_EXCEPTION: Subject is too vague",
        last_error_code="FIELD_CUSTOM_VALIDATION_EXCEPTION",
    )
    call_with(tenant, external_id="c-internal")  # only the agent

    html = page_text(signed_in(tenant).get("/calls/"))

    rows = {row.split('href="/calls/')[1].split("/")[0]: row for row in rows_of(html)}
    assert "Logged</span>" in rows["c-logged"] and "1 Task in Salesforce." in rows["c-logged"]
    assert "Not logged</span>" in rows["c-asked"] and "ask to log this one" in rows["c-asked"]
    assert 'action="/calls/c-asked/log/"' in rows["c-asked"]
    assert "Needs your choice</span>" in rows["c-choose"]
    assert "Choose the record" in rows["c-choose"]
    assert "Failed</span>" in rows["c-failed"] and "Subject is too vague" in rows["c-failed"]
    # Only people of the tenant: nobody in Salesforce to log it to, so no button.
    assert "Only your team" in rows["c-internal"] and "/log/" not in rows["c-internal"]
    assert "log/" not in rows["c-logged"]
    for identifier in ("needs_review</", "activity.sync", "activity_task"):
        assert identifier not in html


@pytest.mark.django_db
def test_calls_are_found_by_a_participants_email_or_phone_or_by_their_id(tenant: Tenant) -> None:
    call_with(tenant, "ann@initech.example", external_id="c-ann")
    by_phone = call_with(tenant, external_id="c-phone")
    ActivityParticipantFactory(activity=by_phone, email="", phone="+1 555 0199")
    call_with(tenant, "bob@globex.example", external_id="zz-42")
    call_with(TenantFactory(), "ann@initech.example", external_id="c-theirs")
    client = signed_in(tenant)

    def found(query: str) -> set[str]:
        html = page_text(client.get("/calls/", {"q": query}))
        return {row.split('href="/calls/')[1].split("/")[0] for row in rows_of(html)}

    assert found("INITECH") == {"c-ann"}
    assert found("555 0199") == {"c-phone"}
    assert found("zz-4") == {"zz-42"}
    assert "No call matches these filters." in page_text(client.get("/calls/", {"q": "nobody"}))


@pytest.mark.django_db
def test_calls_are_filtered_by_kind_direction_state_and_day(tenant: Tenant) -> None:
    day = timezone.now().replace(microsecond=0) - dt.timedelta(days=10)
    call_with(tenant, "a@x.example", external_id="inbound", direction="inbound", started_at=day)
    outbound = call_with(tenant, "b@x.example", external_id="outbound")
    job_about(outbound, "needs_review")
    call_with(tenant, "c@x.example", external_id="conf", kind="conference", direction="")
    client = signed_in(tenant)

    def found(**query: str) -> set[str]:
        html = page_text(client.get("/calls/", query))
        if "<tbody>" not in html:
            return set()
        return {row.split('href="/calls/')[1].split("/")[0] for row in rows_of(html)}

    assert found(kind="conference") == {"conf"}
    assert found(direction="inbound") == {"inbound"}
    assert found(state="needs_choice") == {"outbound"}
    assert found(state="not_logged") == {"inbound", "conf"}
    assert found(until=str((day + dt.timedelta(days=1)).date())) == {"inbound"}
    assert found(since=str(timezone.now().date())) == {"outbound", "conf"}


@pytest.mark.django_db
def test_times_and_days_are_the_tenants_own(tenant: Tenant) -> None:
    tenant.timezone = "Europe/Berlin"
    tenant.save()
    late = dt.datetime(2026, 11, 20, 23, 30, tzinfo=dt.UTC)  # already the 21st in Berlin
    call_with(tenant, "a@x.example", external_id="late", started_at=late)
    client = signed_in(tenant)

    html = page_text(client.get("/calls/"))
    on_the_21st = page_text(client.get("/calls/", {"since": "2026-11-21"}))

    assert "21 Nov 2026, 00:30 CET" in html
    assert "/calls/late/" in on_the_21st


@pytest.mark.django_db
def test_the_calls_list_pages_and_keeps_its_filters(tenant: Tenant) -> None:
    start = timezone.now().replace(microsecond=0)
    for n in range(30):
        call_with(
            tenant,
            f"p{n}@x.example",
            external_id=f"c{n:02}",
            started_at=start - dt.timedelta(minutes=n),
        )
    client = signed_in(tenant)

    first = page_text(client.get("/calls/", {"kind": "call"}))
    second = page_text(client.get("/calls/", {"kind": "call", "page": 2}))

    assert "Page 1 of 2" in first and 'href="?kind=call&amp;page=2"' in first
    assert "/calls/c00/" in first and "/calls/c29/" not in first
    assert "/calls/c29/" in second and "Page 2 of 2" in second


@pytest.mark.django_db
def test_the_calls_list_reads_the_same_number_of_queries_for_more_calls(tenant: Tenant) -> None:
    client = signed_in(tenant)

    def queries() -> int:
        with CaptureQueriesContext(connection) as done:
            page_text(client.get("/calls/"))
        return len(done)

    for n in range(2):
        job_about(call_with(tenant, f"a{n}@x.example"), "skipped", reason="On request.")
    few = queries()
    for n in range(8):
        call = call_with(tenant, f"b{n}@x.example", f"c{n}@x.example")
        job_about(call, "failed", reason="Refused.")
    many = queries()

    assert many == few


@pytest.mark.django_db
def test_another_tenants_call_is_not_found(tenant: Tenant) -> None:
    call_with(TenantFactory(), "ann@x.example", external_id="theirs")
    client = signed_in(tenant)

    assert client.get("/calls/theirs/").status_code == 404
    assert client.post("/calls/theirs/log/").status_code == 404
    assert not SyncJob.objects.filter(operation=Operation.ACTIVITY_SYNC).exists()


# --- a call's page ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_call_page_shows_who_took_part_and_what_each_matched(tenant: Tenant) -> None:
    SalesforceConnectionFactory(tenant=tenant, instance_url="https://acme.my.salesforce.test/")
    call = call_with(tenant, "ann@customer.example", external_id="c-1", subject="Pricing")
    ActivityParticipantFactory(activity=call, email="", phone="+1 555 0100", name="Caller")
    ActivityParticipantFactory(activity=call, email="new@elsewhere.example")
    SyncMappingFactory(
        tenant=tenant,
        local_object=call.participants.get(email="ann@customer.example"),
        purpose="activity_task",
        salesforce_object="Task",
        salesforce_id="00T000000000001AAA",
        state="confirmed",
        parent_object="Contact",
        parent_id="003000000000001AAA",
        parent_name="Ann Archer",
    )

    html = page_text(signed_in(tenant).get("/calls/c-1/"))

    assert "Outbound call: Pricing" in html
    assert 'href="https://acme.my.salesforce.test/00T000000000001AAA"' in html
    assert 'href="https://acme.my.salesforce.test/003000000000001AAA"' in html
    assert "Ann Archer" in html and "(your team)" in html
    assert "Known by phone only" in html
    # Nobody asked about Ann again: she has her Task; the new address may get a Lead.
    assert "new@elsewhere.example</legend>" in html
    assert "ann@customer.example</legend>" not in html


def _two_contacts(sf: OrgHandle) -> tuple[str, str]:
    """Two Contacts with the prospect's address, at two Accounts with two owners."""
    owner = sf.insert(
        "User", Username="olga.sf", Email="olga@acme.test", LastName="Oakley", Alias="olga"
    )
    initech = sf.insert("Account", Name="Initech")
    globex = sf.insert("Account", Name="Globex")
    first = sf.insert(
        "Contact", FirstName="Pat", LastName="Initech", Email=PROSPECT, AccountId=initech
    )
    second = sf.insert(
        "Contact",
        FirstName="Pat",
        LastName="Globex",
        Email=PROSPECT,
        AccountId=globex,
        OwnerId=owner,
    )
    return first, second


def _post_call(partner: Partner, external_id: str = "call-1") -> None:
    answer = partner.client.post(
        "/api/v1/activities/",
        {
            "external_id": external_id,
            "kind": "call",
            "direction": "outbound",
            "started_at": "2026-11-20T09:00:00Z",
            "duration_seconds": 420,
            "subject": "Pricing",
            "logged_by_email": "agent@acme.test",
            "logged_by_name": "Agent Smith",
            "participants": [{"email": "agent@acme.test"}, {"email": PROSPECT, "name": "Pat"}],
        },
        format="json",
    )
    assert answer.status_code in (200, 201), answer.json()


@pytest.mark.django_db(transaction=True)
def test_logging_from_the_list_makes_the_task_in_salesforce(
    partner: Partner, sf: OrgHandle
) -> None:
    contact = sf.insert("Contact", LastName="Prospect", Email=PROSPECT)
    agent = sf.insert(
        "User", Username="agent.sf", Email="agent@acme.test", LastName="Agent", Alias="agent"
    )
    _post_call(partner)
    client = signed_in(partner.tenant)
    assert "ask to log this one" in page_text(client.get("/calls/"))

    page = client.post("/calls/call-1/log/", {"next": "/calls/?kind=call"}, follow=True)

    assert page.redirect_chain[-1][0] == "/calls/?kind=call"
    [task] = sf.records("Task")
    assert (task["WhoId"], task["OwnerId"], task["CallType"]) == (contact, agent, "Outbound")
    html = page_text(page)
    assert "Logging asked for: Call with" in html and "1 Task in Salesforce." in html


@pytest.mark.django_db(transaction=True)
def test_a_call_matching_two_contacts_is_logged_to_the_one_chosen_by_its_row(
    partner: Partner, sf: OrgHandle
) -> None:
    _, second = _two_contacts(sf)
    _post_call(partner)
    client = signed_in(partner.tenant)
    client.post("/calls/call-1/log/")
    review = last_job(Operation.ACTIVITY_SYNC)
    assert review.state == SyncJob.State.NEEDS_REVIEW and sf.records("Task") == []

    html = page_text(client.get("/calls/call-1/"))
    # Each record as a person tells them apart: name, Account, owner, a link to it.
    for text in ("Pat Initech", "Pat Globex", ">Initech<", ">Globex<", "Oakley"):
        assert text in html
    assert f'href="{sf.instance_url}/{second}"' in html
    assert f'value="Contact:{second}"' in html

    page = client.post(
        "/calls/call-1/log/", {"from_page": "1", "choice_0": f"Contact:{second}"}, follow=True
    )

    [task] = sf.records("Task")
    assert task["WhoId"] == second and task["OwnerId"] == sf.admin_user_id
    review.refresh_from_db()
    assert review.state == SyncJob.State.SUCCEEDED  # the same job, answered: none left waiting
    assert MatchChoice.objects.get(email=PROSPECT).salesforce_id == second
    assert "1 Task in Salesforce." in page_text(page)


@pytest.mark.django_db(transaction=True)
def test_creating_a_lead_for_someone_logs_the_call_to_that_lead(
    partner: Partner, sf: OrgHandle
) -> None:
    _post_call(partner)

    signed_in(partner.tenant).post(
        "/calls/call-1/log/",
        {"from_page": "1", "choice_0": "create_lead", "company_0": "Prospect Partners"},
    )

    [lead] = sf.records("Lead")
    [task] = sf.records("Task")
    assert (lead["Email"], lead["Company"]) == (PROSPECT, "Prospect Partners")
    assert task["WhoId"] == lead["Id"]


@pytest.mark.django_db
def test_a_refused_choice_keeps_what_was_chosen_and_typed(tenant: Tenant) -> None:
    call = call_with(tenant, "bob@x.example", "cy@x.example", external_id="c-1")
    review = job_about(
        call,
        "needs_review",
        candidates=[
            {
                "email": "bob@x.example",
                "object": "Contact",
                "id": "003000000000001AAA",
                "name": "Bob A",
            },
            {
                "email": "bob@x.example",
                "object": "Lead",
                "id": "00Q000000000001AAA",
                "name": "Bob B",
            },
            {
                "email": "cy@x.example",
                "object": "Contact",
                "id": "003000000000002AAA",
                "name": "Cy A",
            },
            {
                "email": "cy@x.example",
                "object": "Contact",
                "id": "003000000000003AAA",
                "name": "Cy B",
            },
        ],
    )

    page = signed_in(tenant).post(
        "/calls/c-1/log/",
        {"from_page": "1", "choice_0": "create_lead", "company_0": "Bob's Bikes"},
    )

    html = page_text(page)
    assert "Choose which record cy@x.example is, or create a Lead." in html
    assert 'value="Bob&#x27;s Bikes"' in html
    assert 'value="create_lead" checked' in html
    review.refresh_from_db()
    assert review.state == SyncJob.State.NEEDS_REVIEW and review.params == {}


@pytest.mark.django_db
def test_a_failed_call_is_tried_again_from_its_page(tenant: Tenant) -> None:
    call = call_with(tenant, "bob@x.example", external_id="c-1")
    failed = job_about(
        call,
        "failed",
        attempt_count=1,
        reason="FIELD_CUSTOM_VALIDATION_EXCEPTION: Subject is too vague",
        last_error_code="FIELD_CUSTOM_VALIDATION_EXCEPTION",
    )
    client = signed_in(tenant)

    html = page_text(client.get("/calls/c-1/"))
    client.post("/calls/c-1/log/", {"from_page": "1", "choice_0": "by_email"})

    assert "Subject is too vague" in html and ">Try again</button>" in html
    failed.refresh_from_db()
    assert failed.state == SyncJob.State.PENDING and failed.reason == "Retried by hand."
    assert SyncJob.objects.count() == 1  # the same job again, not a second one


@pytest.mark.django_db
def test_the_state_is_polled_while_a_job_is_at_work_and_no_longer_after(tenant: Tenant) -> None:
    call = call_with(tenant, "bob@x.example", external_id="c-1")
    job = job_about(call, "pending")
    client = signed_in(tenant)

    page = page_text(client.get("/calls/c-1/"))
    while_pending = page_text(client.get("/calls/c-1/state/", HTTP_HX_REQUEST="true"))
    SyncJob.objects.filter(pk=job.pk).update(state=SyncJob.State.SKIPPED, reason="No match.")
    after = page_text(client.get("/calls/c-1/state/", HTTP_HX_REQUEST="true"))

    assert 'hx-get="/calls/c-1/state/"' in page and 'hx-trigger="every 2s"' in page
    assert "Being logged" in while_pending and "hx-trigger" in while_pending
    assert "<html" not in while_pending  # the fragment alone
    assert "No match." in after and "hx-trigger" not in after
    assert 'action="/calls/c-1/log/"' in after and 'action="/calls/c-1/log/"' not in page


@pytest.mark.django_db
def test_ops_viewing_as_the_tenant_cannot_log_a_call(tenant: Tenant) -> None:
    call_with(tenant, "bob@x.example", external_id="c-1")
    ops = UserFactory(is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(ops)
    session = client.session
    session["ops_view_as_tenant"] = tenant.pk
    session.save()

    assert client.get("/calls/c-1/").status_code == 200
    assert client.post("/calls/c-1/log/").status_code == 403
    assert not SyncJob.objects.exists()
