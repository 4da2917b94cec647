"""The match order's optional Domain step: an external attendee who is not yet a Contact
links to the Account whose Website is on the attendee's company domain. Free-mail and
consumer domains, the tenant's own additions to them and its internal domains never
count; several Accounts for one domain wait for a person."""

from __future__ import annotations

import pytest

from integrations.models import SyncJob
from integrations.outbox import dispatch
from integrations.services.jobs import sync_job_resolve
from integrations.services.settings import integration_settings_update
from integrations.sync.runner import sync_jobs_run
from salesforce_emulator.testing import OrgHandle
from tests.conftest import Partner
from tests.sync.conftest import last_job, meeting_push

pytestmark = pytest.mark.django_db(transaction=True)

WITH_DOMAIN = ["Account", "Opportunity", "Lead", "Contact", "Domain"]


def links_to(sf: OrgHandle, record_id: str) -> list[dict]:
    return [r for r in sf.records("ContentDocumentLink") if r["LinkedEntityId"] == record_id]


def domain_step_on(partner: Partner, **more: object) -> None:
    integration_settings_update(tenant=partner.tenant, auto_sync_match_order=WITH_DOMAIN, **more)


def test_a_new_person_at_a_known_company_links_to_its_account(
    partner: Partner, sf: OrgHandle
) -> None:
    domain_step_on(partner)
    initech = sf.insert("Account", Name="Initech", Website="https://www.initech.example/")
    # LIKE finds this one too; it is another company's website.
    other = sf.insert("Account", Name="Not Initech", Website="http://notinitech.example")

    meeting_push(partner, attendees=["ana@acme.test", "new.person@initech.example"])

    job = last_job("meeting.processed")
    assert job.state == "succeeded", job.reason
    assert job.reason.startswith(
        "Linked to Account Initech: the attendee new.person@initech.example's domain "
        "initech.example is the website of Account Initech (https://www.initech.example/)"
    )
    assert len(links_to(sf, initech)) == 1 and links_to(sf, other) == []
    [event] = sf.records("Event")
    assert event["WhatId"] == initech and not event.get("WhoId")  # no Contact to name


def test_an_attendee_on_a_subdomain_links_to_the_companys_account(
    partner: Partner, sf: OrgHandle
) -> None:
    domain_step_on(partner)
    initech = sf.insert("Account", Name="Initech", Website="initech.example/about")

    meeting_push(partner, attendees=["new.person@mail.initech.example"])

    job = last_job("meeting.processed")
    assert job.state == "succeeded", job.reason
    assert "mail.initech.example is under initech.example" in job.reason
    assert sf.records("Event")[0]["WhatId"] == initech


def test_a_free_mail_address_never_links_to_an_account(partner: Partner, sf: OrgHandle) -> None:
    domain_step_on(partner)
    sf.insert("Account", Name="Google", Website="https://gmail.com")
    sf.insert("Account", Name="Yahoo UK", Website="www.yahoo.co.uk")

    meeting_push(partner, attendees=["someone@gmail.com", "other@yahoo.co.uk"])

    job = last_job("meeting.processed")
    assert job.state == "skipped", job.reason
    assert "no Account's website is on their company domains" in job.reason
    assert sf.records("ContentNote") == [] and sf.records("Event") == []


def test_a_domain_the_tenant_calls_free_mail_never_links(partner: Partner, sf: OrgHandle) -> None:
    domain_step_on(partner, free_mail_domains_extra=["@Freelancers.Example"])
    sf.insert("Account", Name="Freelancers Inc", Website="https://freelancers.example")

    meeting_push(partner, attendees=["someone@freelancers.example"])

    assert last_job("meeting.processed").state == "skipped"
    assert sf.records("ContentNote") == []


def test_the_tenants_own_domain_never_links(partner: Partner, sf: OrgHandle) -> None:
    domain_step_on(partner)
    sf.insert("Account", Name="Acme itself", Website="https://acme.test")

    meeting_push(partner, attendees=["ana@acme.test", "zed@eu.acme.test"])

    job = last_job("meeting.processed")
    assert job.state == "skipped" and "outside the tenant" in job.reason


def test_two_accounts_with_one_domain_wait_for_a_person(partner: Partner, sf: OrgHandle) -> None:
    domain_step_on(partner)
    first = sf.insert("Account", Name="Initech", Website="https://www.initech.example/")
    second = sf.insert("Account", Name="Initech Holdings", Website="initech.example")

    meeting_push(partner, attendees=["new.person@initech.example"])

    job = last_job("meeting.processed")
    assert job.state == "needs_review", job.reason
    assert {c["id"] for c in job.candidates} == {first, second}
    assert {c["object"] for c in job.candidates} == {"Account"}
    assert "Several Accounts" in job.reason and "initech.example" in job.reason
    assert sf.records("ContentNote") == [] and sf.records("Event") == []

    sync_job_resolve(job=job, choice={"object": "Account", "id": second})

    job.refresh_from_db()
    assert job.state == "succeeded", job.reason
    assert len(links_to(sf, second)) == 1 and links_to(sf, first) == []


def test_a_contact_still_wins_over_the_domain_step(partner: Partner, sf: OrgHandle) -> None:
    domain_step_on(partner)
    initech = sf.insert("Account", Name="Initech", Website="https://www.initech.example/")
    globex = sf.insert("Account", Name="Globex", Website="https://globex.example")
    bob = sf.insert("Contact", LastName="Bob", Email="bob@globex.example", AccountId=globex)

    meeting_push(partner, attendees=["bob@globex.example", "new.person@initech.example"])

    job = last_job("meeting.processed")
    assert job.state == "succeeded", job.reason
    assert len(links_to(sf, globex)) == 1 and links_to(sf, initech) == []
    assert sf.records("Event")[0]["WhoId"] == bob


def test_without_the_step_a_new_person_is_skipped_at_the_same_cost(
    partner: Partner, sf: OrgHandle
) -> None:
    sf.insert("Account", Name="Initech", Website="https://www.initech.example/")
    meeting_push(partner, attendees=["new.person@initech.example"], processed=False)
    before = sf.api_calls

    partner.client.post("/api/v1/meetings/m-1/processed/")

    job = last_job("meeting.processed")
    assert job.state == "skipped" and "never creates" in job.reason
    assert "website" not in job.reason
    assert sf.api_calls - before == 1  # the lookup round alone, as before
    assert sf.records("ContentNote") == []


def test_one_auto_synced_meeting_with_the_step_still_costs_two_api_calls(
    partner: Partner, sf: OrgHandle
) -> None:
    domain_step_on(partner)
    initech = sf.insert("Account", Name="Initech", Website="https://www.initech.example/")
    meeting_push(partner, attendees=["new.person@initech.example"], processed=False)
    before = sf.api_calls

    partner.client.post("/api/v1/meetings/m-1/processed/")

    assert last_job("meeting.processed").state == "succeeded"
    assert len(links_to(sf, initech)) == 1
    assert sf.api_calls - before == 2  # one lookup round, one composite write


def test_a_batch_of_meetings_looks_up_every_domain_in_one_round(
    partner: Partner, sf: OrgHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    domain_step_on(partner)
    companies = ["initech", "globex", "umbrella", "hooli", "vandelay", "wonka"]
    accounts = {
        name: sf.insert("Account", Name=name.title(), Website=f"https://www.{name}.example/")
        for name in companies
    }
    sf.insert("Contact", LastName="Bob", Email="bob@initech.example", AccountId=accounts["initech"])
    for index, name in enumerate(companies):
        meeting_push(
            partner, f"m-{index}", attendees=[f"new.person@{name}.example"], processed=False
        )
    sent: list[int] = []
    monkeypatch.setattr(dispatch, "async_task", lambda task, job_id, **_: sent.append(job_id))
    for index in range(len(companies)):
        answer = partner.client.post(f"/api/v1/meetings/m-{index}/processed/")
        assert answer.status_code in (200, 202)
    monkeypatch.undo()
    before = sf.api_calls
    lookups_before = len(sf.request_log)

    sync_jobs_run(job_id=sent[0])  # takes the other meetings' jobs along

    jobs = SyncJob.objects.filter(operation="meeting.processed")
    assert {j.state for j in jobs} == {"succeeded"}, [(j.state, j.reason) for j in jobs]
    for name in companies:
        assert len(links_to(sf, accounts[name])) == 1
    requests = sf.request_log[lookups_before:]
    # One Composite holds the Contact, Lead, Opportunity and Account queries of all six
    # meetings; the rest are the batch's writes, as sObject Collections.
    assert [r.path.rsplit("/", 1)[-1] for r in requests if r.method == "GET"] == []
    assert len([r for r in requests if r.path.endswith("/composite")]) == 1
    assert sf.api_calls - before == len(requests) <= 4
