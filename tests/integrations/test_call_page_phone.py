"""A call's page for someone known only by phone: their number shown as a person reads
it, the records it matches to choose from (or a Lead to create), the choice remembered
for that number and shown as such on the next call from it, and answers the page did not
offer refused in words. Salesforce is the emulator."""

from __future__ import annotations

import pytest
from django.test import Client

from integrations.enums import Operation
from integrations.models import MatchChoice, SyncJob
from integrations.services.settings import integration_settings_update
from salesforce_emulator.testing import OrgHandle
from tenants.models import Tenant
from tests.conftest import Partner
from tests.factories import (
    ActivityFactory,
    ActivityParticipantFactory,
    SyncJobFactory,
)
from tests.integrations.test_call_pages import page_text, signed_in
from tests.sync.conftest import last_job
from tests.sync.conftest import sf as sf  # the emulator-connected tenant fixture
from tests.sync.test_phone_matching import call_post as phone_call_post

NUMBER = "+14155550100"
SHOWN = "+1 415-555-0100"


def call_post(partner: Partner, phone: str, external_id: str) -> None:
    """A call from someone known only by phone, as the partner product sends it."""
    phone_call_post(partner, phone, external_id, logged_by_name="Agent Smith")


def two_contacts_with_one_number(sf: OrgHandle) -> tuple[str, str]:
    """Two Contacts that share "(415) 555-0100", at two Accounts."""
    sf.insert("User", Username="agent.sf", Email="agent@acme.test", LastName="Smith", Alias="ag")
    initech = sf.insert("Account", Name="Initech")
    globex = sf.insert("Account", Name="Globex")
    first = sf.insert(
        "Contact", FirstName="Pat", LastName="Quinn", Phone="(415) 555-0100", AccountId=initech
    )
    second = sf.insert(
        "Contact", FirstName="Sam", LastName="Quinn", Phone="(415) 555-0100", AccountId=globex
    )
    return first, second


def asked_to_choose(partner: Partner, client: Client, external_id: str = "call-1") -> SyncJob:
    """The call logged from its page, as a member asks for it: the number matches two
    Contacts, so the job waits for a choice."""
    call_post(partner, "+1 415-555-0100", external_id)
    html = page_text(client.get(f"/calls/{external_id}/"))
    assert "Find their Contact or Lead by phone number" in html
    client.post(f"/calls/{external_id}/log/", {"from_page": "1", "choice_0": "by_email"})
    review = last_job(Operation.ACTIVITY_SYNC)
    assert review.state == SyncJob.State.NEEDS_REVIEW, review.reason
    return review


@pytest.mark.django_db(transaction=True)
def test_a_number_matching_two_contacts_is_logged_to_the_one_chosen_and_remembered(
    partner: Partner, sf: OrgHandle
) -> None:
    _, second = two_contacts_with_one_number(sf)
    client = signed_in(partner.tenant)
    review = asked_to_choose(partner, client)

    html = page_text(client.get("/calls/call-1/"))

    # The number as a person reads it, and each record by its name and Account.
    assert SHOWN in html and "2 records match this number" in html
    # Raw E.164 only where the form names whom the answer is for, never in words.
    assert html.count(NUMBER) == 1
    for text in ("Pat Quinn", "Sam Quinn", ">Initech<", ">Globex<"):
        assert text in html
    assert f'value="Contact:{second}"' in html
    assert f'name="person_0" value="{NUMBER}"' in html
    assert "Create a Lead and log it there" in html

    page = client.post(
        "/calls/call-1/log/",
        {"from_page": "1", "person_0": NUMBER, "choice_0": f"Contact:{second}"},
        follow=True,
    )

    [task] = sf.records("Task")
    assert task["WhoId"] == second
    review.refresh_from_db()
    assert review.state == SyncJob.State.SUCCEEDED
    assert MatchChoice.objects.get(tenant=partner.tenant, phone=NUMBER).salesforce_id == second
    assert "1 Task in Salesforce." in page_text(page)


@pytest.mark.django_db(transaction=True)
def test_a_second_call_from_the_number_shows_the_choice_and_logs_to_it_directly(
    partner: Partner, sf: OrgHandle
) -> None:
    _, second = two_contacts_with_one_number(sf)
    client = signed_in(partner.tenant)
    asked_to_choose(partner, client)
    client.post("/calls/call-1/log/", {"from_page": "1", "choice_0": f"Contact:{second}"})

    # The same number written as a national one.
    call_post(partner, "(415) 555-0100", "call-2")
    html = page_text(client.get("/calls/call-2/"))

    assert SHOWN in html
    assert "(chosen before for this number)" in html and f"/{second}" in html
    assert "The record chosen before for this number" in html

    client.post("/calls/call-2/log/", {"from_page": "1", "choice_0": "by_email"})

    job = last_job(Operation.ACTIVITY_SYNC)
    assert job.state == SyncJob.State.SUCCEEDED, job.reason
    assert [t["WhoId"] for t in sf.records("Task")] == [second, second]
    assert "1 Task in Salesforce." in page_text(client.get("/calls/call-2/"))


@pytest.mark.django_db(transaction=True)
def test_a_lead_is_created_for_a_number_that_matches_two_contacts_when_asked(
    partner: Partner, sf: OrgHandle
) -> None:
    two_contacts_with_one_number(sf)
    client = signed_in(partner.tenant)
    asked_to_choose(partner, client)

    client.post(
        "/calls/call-1/log/",
        {"from_page": "1", "person_0": NUMBER, "choice_0": "create_lead", "company_0": "Quinn Co"},
    )

    [lead] = sf.records("Lead")
    [task] = sf.records("Task")
    assert (lead["Phone"], lead["Company"]) == ("+1 415-555-0100", "Quinn Co")
    assert task["WhoId"] == lead["Id"]


@pytest.mark.django_db(transaction=True)
def test_a_record_not_offered_for_the_number_is_refused_in_words(
    partner: Partner, sf: OrgHandle
) -> None:
    two_contacts_with_one_number(sf)
    elsewhere = sf.insert("Contact", LastName="Elsewhere", Phone="(212) 555-0123")
    client = signed_in(partner.tenant)
    review = asked_to_choose(partner, client)

    html = page_text(
        client.post(
            "/calls/call-1/log/",
            {"from_page": "1", "person_0": NUMBER, "choice_0": f"Contact:{elsewhere}"},
        )
    )

    assert (
        f"The record chosen for {SHOWN} is not one of those offered for them: choose one of "
        "the records listed, or create a Lead." in html
    )
    review.refresh_from_db()
    assert review.state == SyncJob.State.NEEDS_REVIEW and not review.params.get("choices")
    assert sf.records("Task") == [] and not MatchChoice.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_an_answer_for_a_number_the_call_does_not_ask_about_is_refused_in_words(
    partner: Partner, sf: OrgHandle
) -> None:
    first, _ = two_contacts_with_one_number(sf)
    client = signed_in(partner.tenant)
    review = asked_to_choose(partner, client)

    html = page_text(
        client.post(
            "/calls/call-1/log/",
            {"from_page": "1", "person_0": "+14155550199", "choice_0": f"Contact:{first}"},
        )
    )

    assert (
        "The answer for +1 415-555-0199 is refused: this call does not ask about them. "
        "Reload the page and choose again." in html
    )
    review.refresh_from_db()
    assert review.state == SyncJob.State.NEEDS_REVIEW
    assert sf.records("Task") == [] and not MatchChoice.objects.exists()


@pytest.mark.django_db
def test_the_tenants_own_number_is_its_team_and_is_not_asked_about(tenant: Tenant) -> None:
    integration_settings_update(tenant=tenant, internal_phone_numbers=["(415) 555-0199"])
    call = ActivityFactory(tenant=tenant, external_id="c-1")
    ActivityParticipantFactory(activity=call, email="", phone="415 555 0199", name="Front desk")
    ActivityParticipantFactory(activity=call, email="", phone="+1 415-555-0100", name="")
    candidates = [
        {"email": NUMBER, "object": "Contact", "id": f"00300000000000{n}AAA", "name": name}
        for n, name in ((1, "Pat Quinn"), (2, "Sam Quinn"))
    ]
    SyncJobFactory(
        local_object=call,
        operation=Operation.ACTIVITY_SYNC,
        state="needs_review",
        candidates=candidates,
    )

    html = page_text(signed_in(tenant).get("/calls/c-1/"))

    assert "Front desk" in html and "+1 415-555-0199" in html
    assert "Your team: gets no Task" in html
    # One person to choose for: the caller, under their number.
    assert html.count("<fieldset") == 1 and f"<legend>{SHOWN}</legend>" in html
    assert 'name="person_1"' not in html


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("key", "record", "words"),
    [
        # The number as people write it is not how the job names the caller.
        ("+1 415 555 0100", "first", "The answer for +1 415 555 0100 is refused"),
        # A well-formed number the call never asked about.
        ("+14155550199", "first", "The answer for +1 415-555-0199 is refused"),
        # A record that was not offered for this number.
        (NUMBER, "other", "The record chosen for +1 415-555-0100 is not one of those offered"),
    ],
)
def test_an_api_answer_the_job_did_not_ask_for_is_refused_in_words(
    partner: Partner, sf: OrgHandle, key: str, record: str, words: str
) -> None:
    first, _ = two_contacts_with_one_number(sf)
    other = sf.insert("Contact", LastName="Elsewhere", Phone="(212) 555-0100")
    review = asked_to_choose(partner, signed_in(partner.tenant))
    chosen = {"first": first, "other": other}[record]

    answer = partner.client.post(
        f"/api/v1/sync-jobs/{review.pk}/resolve/",
        {"choices": {key: {"object": "Contact", "id": chosen}}},
        format="json",
    )

    assert answer.status_code == 400
    assert words in str(answer.json())
    assert not MatchChoice.objects.exists()
    review.refresh_from_db()
    assert review.state == SyncJob.State.NEEDS_REVIEW
    assert sf.records("Task") == []


@pytest.mark.django_db(transaction=True)
def test_the_api_answer_for_the_number_logs_the_call_and_is_remembered(
    partner: Partner, sf: OrgHandle
) -> None:
    first, _ = two_contacts_with_one_number(sf)
    review = asked_to_choose(partner, signed_in(partner.tenant))

    answer = partner.client.post(
        f"/api/v1/sync-jobs/{review.pk}/resolve/",
        {"choices": {NUMBER: {"object": "Contact", "id": first[:15]}}},
        format="json",
    )

    assert answer.status_code == 202, answer.json()
    assert [t["WhoId"] for t in sf.records("Task")] == [first]
    assert MatchChoice.objects.get(phone=NUMBER).salesforce_id == first


@pytest.mark.django_db(transaction=True)
def test_a_lead_can_be_asked_for_a_phone_only_caller_when_logging_through_the_api(
    partner: Partner, sf: OrgHandle
) -> None:
    sf.insert("User", Username="agent.sf", Email="agent@acme.test", LastName="Smith", Alias="ag")
    call_post(partner, "(415) 555-0177", "call-7")

    answer = partner.client.post(
        "/api/v1/activities/call-7/log/",
        {"choices": {"+14155550177": {"object": "create_lead", "company": "Hooli"}}},
        format="json",
    )

    assert answer.status_code in (200, 202), answer.json()
    [lead] = sf.records("Lead")
    assert (lead["Phone"], lead["Company"]) == ("(415) 555-0177", "Hooli")
    assert [t["WhoId"] for t in sf.records("Task")] == [lead["Id"]]
    # Naming someone who did not take part is refused in words.
    refused = partner.client.post(
        "/api/v1/activities/call-7/log/",
        {"choices": {"+14155550178": {"object": "create_lead"}}},
        format="json",
    )
    assert refused.status_code == 400
    assert "+1 415-555-0178 is not one of this activity's outside participants" in str(
        refused.json()
    )
