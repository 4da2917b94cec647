"""Calls with people known only by phone: their numbers are read in E.164 (national ones
in the tenant's default region), looked up in one SOSL search per batch, compared after
normalising what Salesforce stores, and matched by the rules of email addresses."""

from __future__ import annotations

from typing import Any

import pytest

from integrations.models import MatchChoice, SyncJob
from integrations.salesforce.lookups import directory_fetch
from integrations.services.settings import integration_settings_update
from integrations.sync.connection import connection_client
from salesforce_emulator.testing import OrgHandle
from tests.conftest import Partner
from tests.sync.conftest import connection_of, last_job

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def auto_log(partner: Partner, sf: OrgHandle) -> OrgHandle:
    integration_settings_update(tenant=partner.tenant, log_calls_automatically=True)
    sf.insert("User", Username="agent.sf", Email="agent@acme.test", LastName="Agent", Alias="agent")
    return sf


def call_post(partner: Partner, phone: str, external_id: str = "call-1", **more: Any) -> None:
    body = {
        "external_id": external_id,
        "kind": "call",
        "direction": "inbound",
        "started_at": "2026-11-20T09:00:00Z",
        "duration_seconds": 300,
        "subject": "Pricing",
        "notes": "",
        "logged_by_email": "agent@acme.test",
        "participants": [{"email": "agent@acme.test"}, {"phone": phone, "name": "Caller"}],
        **more,
    }
    answer = partner.client.post("/api/v1/activities/", body, format="json")
    assert answer.status_code in (200, 201), answer.json()


def tasks_of(sf: OrgHandle) -> list[str]:
    return [t["WhoId"] for t in sf.records("Task")]


def test_a_caller_known_only_by_phone_gets_a_task_on_the_lead_with_that_number(
    partner: Partner, auto_log: OrgHandle
) -> None:
    lead = auto_log.insert("Lead", LastName="Prospect", Company="P", Phone="(415) 555-0100")
    auto_log.insert("Lead", LastName="Other", Company="O", Phone="(415) 555-0101")

    call_post(partner, "+1 415-555-0100")

    job = last_job("activity.sync")
    assert job.state == "succeeded", job.reason
    tasks = auto_log.records("Task")
    assert [t["WhoId"] for t in tasks] == [lead]
    assert (tasks[0]["TaskSubtype"], tasks[0]["CallType"]) == ("Call", "Inbound")


def test_a_national_number_is_read_in_the_default_region(
    partner: Partner, auto_log: OrgHandle
) -> None:
    contact = auto_log.insert("Contact", LastName="Mobile", MobilePhone="+1 (415) 555-0100")

    call_post(partner, "(415) 555-0100")

    assert tasks_of(auto_log) == [contact], last_job("activity.sync").reason


def test_a_national_number_of_another_country_follows_the_tenants_region(
    partner: Partner, auto_log: OrgHandle
) -> None:
    integration_settings_update(tenant=partner.tenant, phone_default_region="GB")
    london = auto_log.insert("Contact", LastName="London", Phone="+44 20 7946 0958")
    # The same digits read as a US number are somebody else's.
    auto_log.insert("Contact", LastName="Elsewhere", Phone="(207) 946-0958")

    call_post(partner, "020 7946 0958")

    assert tasks_of(auto_log) == [london], last_job("activity.sync").reason


def test_a_number_that_is_no_phone_number_is_not_looked_up_and_the_job_says_so(
    partner: Partner, auto_log: OrgHandle
) -> None:
    before = auto_log.api_calls

    call_post(partner, "12")

    job = last_job("activity.sync")
    assert job.state == "skipped"
    assert "not valid phone numbers" in job.reason and "12" in job.reason
    assert auto_log.records("Task") == []
    assert auto_log.api_calls - before == 1  # the logging user alone was looked up


def test_two_contacts_with_one_number_ask_for_a_choice_that_is_remembered_for_the_number(
    partner: Partner, auto_log: OrgHandle
) -> None:
    first = auto_log.insert("Contact", LastName="First", Phone="(415) 555-0100")
    second = auto_log.insert("Contact", LastName="Second", MobilePhone="415.555.0100")

    call_post(partner, "+1 415 555 0100")

    job = last_job("activity.sync")
    assert job.state == "needs_review"
    assert "Several Salesforce records match +1 415-555-0100." in job.reason
    assert {(c["id"], c["email"]) for c in job.candidates} == {
        (first, "+14155550100"),
        (second, "+14155550100"),
    }
    assert auto_log.records("Task") == []

    answer = partner.client.post(
        f"/api/v1/sync-jobs/{job.pk}/resolve/",
        {"choices": {"+14155550100": {"object": "Contact", "id": second}}},
        format="json",
    )
    assert answer.status_code in (200, 202), answer.json()
    assert last_job("activity.sync").state == "succeeded"
    assert MatchChoice.objects.get(tenant=partner.tenant).phone == "+14155550100"

    # Another call from the number, written another way: no question this time.
    call_post(partner, "(415) 555-0100", external_id="call-2")

    assert last_job("activity.sync").state == "succeeded", last_job("activity.sync").reason
    assert tasks_of(auto_log) == [second, second]


def test_one_of_the_tenants_own_numbers_is_internal_and_never_logged(
    partner: Partner, auto_log: OrgHandle
) -> None:
    integration_settings_update(
        tenant=partner.tenant, internal_phone_numbers=["(415) 555-0199", "+44 20 7946 0000"]
    )
    auto_log.insert("Contact", LastName="Same number", Phone="(415) 555-0199")

    call_post(partner, "+1 415 555 0199")

    job = last_job("activity.sync")
    assert job.state == "skipped" and "Only internal users" in job.reason
    assert auto_log.records("Task") == []


def test_100_phone_only_callers_are_looked_up_in_one_round_of_one_api_call(
    partner: Partner, auto_log: OrgHandle
) -> None:
    leads = {
        f"+1415555{100 + index:04d}": auto_log.insert(
            "Lead", LastName=f"Caller{index}", Company="C", Phone=f"(415) 555-{100 + index:04d}"
        )
        for index in range(100)
    }
    client = connection_client(connection_of(partner))
    before = auto_log.api_calls

    # What one batch of 100 calls asks for: the logging user and the callers' numbers.
    directory = directory_fetch(client, user_emails={"agent@acme.test"}, phones=set(leads))

    assert auto_log.api_calls - before == 1  # one Composite: the User query and the search
    assert {n: [p.id for p in directory.phone_people[n]] for n in leads} == {
        n: [lead] for n, lead in leads.items()
    }


def test_calls_arriving_one_by_one_cost_one_lookup_and_one_write_each(
    partner: Partner, auto_log: OrgHandle
) -> None:
    leads = [
        auto_log.insert(
            "Lead", LastName=f"Caller{index}", Company="C", Phone=f"(415) 555-{100 + index:04d}"
        )
        for index in range(100)
    ]
    before = auto_log.api_calls

    for index in range(100):
        call_post(partner, f"+1 415 555 {100 + index:04d}", external_id=f"call-{index}")

    jobs = SyncJob.objects.filter(operation="activity.sync")
    assert {j.state for j in jobs} == {"succeeded"}, {(j.state, j.reason) for j in jobs}
    assert sorted(tasks_of(auto_log)) == sorted(leads)
    # Each call runs as it arrives (nothing else waits to share its batch): one lookup
    # round (a Composite with the search) and one write each. A backlog of them costs
    # 2 in all (tests/sync/test_call_batches.py).
    assert auto_log.api_calls - before == 200
