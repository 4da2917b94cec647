"""The meetings list (search, filters, pages, each meeting's state in Salesforce in
words) and a meeting's page: attendees with what each matched, each highlight's state,
the match preview and the record search asked for (never spent on a page load), a
refused send shown again as it was typed, and states that update by themselves."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from integrations.enums import Operation, Purpose
from integrations.models import SyncJob, SyncMapping
from integrations.services.settings import integration_settings_update
from meetings.models import Meeting
from salesforce_emulator.testing import OrgHandle
from tenants.models import Membership, Tenant
from tests.conftest import Partner
from tests.factories import (
    AttendeeFactory,
    HighlightFactory,
    MeetingFactory,
    MembershipFactory,
    SalesforceConnectionFactory,
    SyncJobFactory,
    SyncMappingFactory,
    UserFactory,
)
from tests.sync.conftest import meeting_push
from tests.sync.conftest import sf as sf  # the emulator-connected tenant fixture

# A form or button of the portal itself: only these ask Salesforce.
FROM_THE_PAGE = {"HTTP_SEC_FETCH_SITE": "same-origin"}

ACCOUNT_A = "001000000000001AAA"
HTMX = {"HTTP_HX_REQUEST": "true"}


def signed_in(tenant: Tenant) -> Client:
    user = UserFactory()
    MembershipFactory(tenant=tenant, user=user, role=Membership.Role.MEMBER)
    client = Client()
    client.force_login(user)
    return client


def page_text(response) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def rows_of(html: str) -> list[str]:
    """The table rows of the page's meetings list, as text without tags."""
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in html else ""
    return [" ".join(re.sub(r"<[^>]+>", " ", row).split()) for row in body.split("<tr>")[1:]]


def checked_radio(html: str) -> list[str]:
    """The values of the radio buttons that are checked."""
    return re.findall(r'<input type="radio" name="record"[^>]*value="([^"]*)"[^>]*\bchecked', html)


def at(day: int, hour: int = 15) -> datetime:
    return datetime(2026, 11, day, hour, 0, tzinfo=UTC)


def meeting_on(tenant: Tenant, external_id: str, title: str, day: int = 20) -> Meeting:
    start = at(day)
    return MeetingFactory(
        tenant=tenant,
        external_id=external_id,
        title=title,
        start=start,
        end=start + timedelta(hours=1),
    )


# --- the list ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_list_finds_a_meeting_by_title_meeting_id_or_attendee_email(tenant: Tenant) -> None:
    initech = meeting_on(tenant, "m-initech", "Discovery with Initech")
    AttendeeFactory(meeting=initech, email="bob@initech.example")
    AttendeeFactory(meeting=initech, email="bob.two@initech.example")
    meeting_on(tenant, "m-globex", "Pricing call")
    client = signed_in(tenant)

    by_title = rows_of(page_text(client.get("/meetings/", {"q": "discovery"})))
    by_id = rows_of(page_text(client.get("/meetings/", {"q": "m-glob"})))
    by_email = rows_of(page_text(client.get("/meetings/", {"q": "initech.example"})))
    nothing = page_text(client.get("/meetings/", {"q": "umbrella"}))

    assert len(by_title) == 1 and "Discovery with Initech" in by_title[0]
    assert len(by_id) == 1 and "Pricing call" in by_id[0]
    assert len(by_email) == 1 and "Discovery with Initech" in by_email[0]  # once, two matches
    assert "No meeting matches these filters." in nothing


@pytest.mark.django_db
def test_each_row_says_the_meetings_state_in_salesforce_in_words_and_filters_by_it(
    tenant: Tenant,
) -> None:
    meeting_on(tenant, "m-new", "Nothing sent yet")
    sent = meeting_on(tenant, "m-sent", "Its highlight is a Note")
    SyncMappingFactory(
        local_object=HighlightFactory(meeting=sent), state=SyncMapping.State.CONFIRMED
    )
    failed = meeting_on(tenant, "m-failed", "Auto-sync failed")
    SyncJobFactory(local_object=failed, operation=Operation.MEETING_PROCESSED, state="failed")
    review = meeting_on(tenant, "m-review", "Two Accounts match")
    SyncJobFactory(local_object=review, operation=Operation.MEETING_PROCESSED, state="needs_review")
    sending = meeting_on(tenant, "m-sending", "Being sent")
    SyncJobFactory(local_object=HighlightFactory(meeting=sending), state="pending")
    # A failure someone dismissed is no longer the meeting's state.
    dismissed = meeting_on(tenant, "m-dismissed", "Failure dismissed")
    SyncJobFactory(local_object=dismissed, operation=Operation.MEETING_SYNC, state="dismissed")
    client = signed_in(tenant)

    every = {row.split(" · ")[0]: row for row in rows_of(page_text(client.get("/meetings/")))}
    only_failed = rows_of(page_text(client.get("/meetings/", {"state": "failed"})))
    not_sent = rows_of(page_text(client.get("/meetings/", {"state": "not_sent"})))

    words = {
        "Nothing sent yet": "Not sent",
        "Its highlight is a Note": "Sent",
        "Auto-sync failed": "Failed",
        "Two Accounts match": "Needs review",
        "Being sent": "Sending",
        "Failure dismissed": "Not sent",
    }
    for title, word in words.items():
        row = next(r for r in every.values() if title in r)
        assert f" {word} " in f" {row} ", (title, row)
    assert len(only_failed) == 1 and "Auto-sync failed" in only_failed[0]
    assert sorted("Nothing sent yet" in r or "Failure dismissed" in r for r in not_sent) == [
        True,
        True,
    ]


@pytest.mark.django_db
def test_the_list_filters_by_the_day_the_meeting_started_in_the_tenants_timezone(
    tenant: Tenant,
) -> None:
    tenant.timezone = "America/New_York"
    tenant.save()
    early = MeetingFactory(
        tenant=tenant, title="Late on the 19th in New York", start=at(20, 2), end=at(20, 3)
    )
    meeting_on(tenant, "m-21", "On the 21st", day=21)
    meeting_on(tenant, "m-25", "On the 25th", day=25)
    client = signed_in(tenant)

    html = page_text(
        client.get("/meetings/", {"start_from": "2026-11-19", "start_to": "2026-11-21"})
    )

    rows = rows_of(html)
    assert [r for r in rows if early.title in r] and [r for r in rows if "On the 21st" in r]
    assert not [r for r in rows if "On the 25th" in r]
    assert "19 Nov 2026, 21:00 EST" in html  # the time in the tenant's zone, with its name


@pytest.mark.django_db
def test_the_list_shows_25_meetings_a_page_and_its_page_links_keep_the_search(
    tenant: Tenant,
) -> None:
    for day in range(30):
        start = at(1) + timedelta(days=day)
        MeetingFactory(tenant=tenant, title=f"Demo {day}", start=start, end=start)
    meeting_on(tenant, "m-other", "Pricing call")
    client = signed_in(tenant)

    first = page_text(client.get("/meetings/", {"q": "demo"}))
    second = page_text(client.get("/meetings/", {"q": "demo", "page": 2}))

    assert len(rows_of(first)) == 25 and len(rows_of(second)) == 5
    assert "30 meetings" in first and "Page 1 of 2" in first
    assert 'href="?q=demo&amp;page=2"' in first
    assert "Demo 29" in rows_of(first)[0]  # newest first


@pytest.mark.django_db
def test_the_lists_queries_do_not_grow_with_its_rows(tenant: Tenant) -> None:
    def queries_for_page() -> int:
        client = signed_in(tenant)
        with CaptureQueriesContext(connection) as queries:
            page_text(client.get("/meetings/"))
        return len(queries)

    def meeting_with_history(n: int) -> None:
        meeting = meeting_on(tenant, f"m-{n}", f"Meeting {n}")
        AttendeeFactory(meeting=meeting, email=f"p{n}@customer.example")
        highlight = HighlightFactory(meeting=meeting)
        SyncJobFactory(local_object=highlight, state="failed")
        SyncMappingFactory(local_object=highlight, state=SyncMapping.State.CONFIRMED)

    for n in range(2):
        meeting_with_history(n)
    few = queries_for_page()
    for n in range(2, 20):
        meeting_with_history(n)
    many = queries_for_page()

    assert many == few


@pytest.mark.django_db
def test_each_row_links_to_the_meeting_to_send_its_highlights(tenant: Tenant) -> None:
    meeting = meeting_on(tenant, "m-1", "Discovery with Initech")
    HighlightFactory(meeting=meeting)
    meeting_on(tenant, "m-2", "No highlights yet")

    html = page_text(signed_in(tenant).get("/meetings/"))

    assert 'href="/meetings/m-1/">Discovery with Initech</a>' in html
    assert html.count(">Send highlights</a>") == 1
    assert 'href="/meetings/m-1/#highlights"' in html


# --- the meeting page, from the portal's own data ----------------------------------------------


@pytest.mark.django_db
def test_each_highlight_says_its_state_in_words_with_its_note_or_why_not(tenant: Tenant) -> None:
    SalesforceConnectionFactory(tenant=tenant, instance_url="https://acme.my.salesforce.test/")
    meeting = meeting_on(tenant, "m-1", "Discovery with Initech")
    sent = HighlightFactory(meeting=meeting, external_id="h1", text="Budget is approved")
    SyncMappingFactory(
        local_object=sent,
        salesforce_id="069000000000001AAA",
        state=SyncMapping.State.CONFIRMED,
        parent_object="Account",
        parent_id=ACCOUNT_A,
        parent_name="Initech",
    )
    failed = HighlightFactory(meeting=meeting, external_id="h2", text="Needs SSO")
    SyncJobFactory(
        local_object=meeting,
        operation=Operation.HIGHLIGHTS_SEND,
        params={"highlights": ["h2"], "target": {"object": "Account", "id": ACCOUNT_A}},
        state="failed",
        reason="The Account was deleted in Salesforce.",
    )
    HighlightFactory(meeting=meeting, external_id="h3", text="Call back in May")
    client = signed_in(tenant)

    html = page_text(client.get("/meetings/m-1/"))

    states = {
        h.text: " ".join(
            re.sub(
                r"<[^>]+>", " ", html.split(f'id="highlight-state-{h.pk}"')[1].split("</div>")[0]
            ).split()
        )
        for h in meeting.highlights.all()
    }
    assert states["Budget is approved"].startswith("> Sent as a Note on Account Initech")
    assert 'href="https://acme.my.salesforce.test/069000000000001AAA"' in html
    assert states["Needs SSO"].startswith("> Failed The Account was deleted in Salesforce.")
    assert states["Call back in May"] == "> Not sent"
    assert failed.pk


@pytest.mark.django_db
def test_highlights_carried_by_the_auto_sync_note_say_so(tenant: Tenant) -> None:
    meeting = meeting_on(tenant, "m-1", "Discovery with Initech")
    highlight = HighlightFactory(meeting=meeting, external_id="h1")
    SyncJobFactory(local_object=meeting, operation=Operation.MEETING_PROCESSED, state="succeeded")
    SyncMappingFactory(
        local_object=meeting, purpose=Purpose.MEETING_NOTE, state=SyncMapping.State.CONFIRMED
    )
    SyncMappingFactory(
        local_object=meeting,
        purpose=Purpose.MEETING_NOTE_LINK,
        salesforce_object="ContentDocumentLink",
        state=SyncMapping.State.CONFIRMED,
    )

    html = page_text(signed_in(tenant).get("/meetings/m-1/"))

    state = html.split(f'id="highlight-state-{highlight.pk}"')[1].split("</div>")[0]
    assert "Sent" in state and "in the meeting's Note" in state
    # Product words, not the developers' identifiers.
    assert "meeting_note_link" not in html and "link to its record" not in html
    assert "meeting.processed" not in html and "Meeting auto-sync" in html


@pytest.mark.django_db
def test_a_bulk_edit_shows_every_highlight_of_the_meeting_note_as_sending(
    tenant: Tenant,
) -> None:
    """A bulk edit queues one job for the meeting's Note (it is rewritten whole): each
    highlight it carries is on its way, not only the one the job is filed under."""
    meeting = meeting_on(tenant, "m-1", "Discovery with Initech")
    highlights = [HighlightFactory(meeting=meeting, external_id=f"h{i}") for i in range(3)]
    sent_alone = HighlightFactory(meeting=meeting, external_id="h-own")
    SyncJobFactory(local_object=meeting, operation=Operation.MEETING_PROCESSED, state="succeeded")
    SyncMappingFactory(
        local_object=meeting, purpose=Purpose.MEETING_NOTE, state=SyncMapping.State.CONFIRMED
    )
    SyncMappingFactory(
        local_object=sent_alone,
        purpose=Purpose.HIGHLIGHT_NOTE,
        state=SyncMapping.State.CONFIRMED,
    )
    SyncJobFactory(local_object=highlights[0], operation=Operation.HIGHLIGHT_SYNC, state="pending")

    html = page_text(signed_in(tenant).get("/meetings/m-1/"))

    def state_of(pk: int) -> str:
        return html.split(f'id="highlight-state-{pk}"')[1].split("</div>")[0]

    assert all("Sending" in state_of(h.pk) for h in highlights)
    # A highlight with a Note of its own is not carried by the meeting's Note.
    assert "Sending" not in state_of(sent_alone.pk) and "Sent" in state_of(sent_alone.pk)


@pytest.mark.django_db
def test_the_page_shows_attendees_inside_and_outside_before_any_lookup(tenant: Tenant) -> None:
    meeting = meeting_on(tenant, "m-1", "Discovery with Initech")
    AttendeeFactory(meeting=meeting, email="ana@acme.test", name="Ana")
    AttendeeFactory(meeting=meeting, email="bob@initech.example", name="Bob")

    html = page_text(signed_in(tenant).get("/meetings/m-1/"))

    attendees = html.split('id="attendees"')[1].split("</section>")[0]
    rows = rows_of(attendees)
    assert "Ana ana@acme.test Your team Not looked up yet" in rows[0]
    assert "Bob bob@initech.example Outside Not looked up yet" in rows[1]


@pytest.mark.django_db
def test_times_on_the_meeting_page_are_in_the_tenants_timezone(tenant: Tenant) -> None:
    tenant.timezone = "Europe/Berlin"
    tenant.save()
    meeting_on(tenant, "m-1", "Discovery with Initech")

    html = page_text(signed_in(tenant).get("/meetings/m-1/"))

    assert "20 Nov 2026, 16:00 CET to 17:00" in html


# --- against the emulator: what spends an API call, and what does not ---------------------------


@pytest.fixture
def manual(partner: Partner, sf: OrgHandle) -> OrgHandle:
    """The connected org with auto-sync off: only what a member sends is sent."""
    integration_settings_update(tenant=partner.tenant, auto_sync=False)
    return sf


@pytest.mark.django_db(transaction=True)
def test_a_plain_load_of_the_meeting_page_spends_no_salesforce_api_call(
    partner: Partner, manual: OrgHandle
) -> None:
    account = manual.insert("Account", Name="Initech")
    manual.insert("Contact", LastName="Bob", Email="bob@initech.example", AccountId=account)
    meeting_push(partner, processed=False)
    client = signed_in(partner.tenant)
    calls, requests = manual.api_calls, len(manual.request_log)

    page = page_text(client.get("/meetings/m-1/"))
    states = page_text(client.get("/meetings/m-1/highlights/", **HTMX))
    listed = page_text(client.get("/meetings/"))

    assert (manual.api_calls, len(manual.request_log)) == (calls, requests)
    assert "Find the matching records" in page and "Discovery with Initech" in listed
    assert "Not sent" in states
    # Asking is what spends one.
    found = page_text(client.get("/meetings/m-1/matches/", **HTMX))
    assert manual.api_calls == calls + 1
    assert f'value="Account:{account}:Initech" checked' in found


@pytest.mark.django_db(transaction=True)
def test_finding_the_matching_records_shows_what_each_attendee_is_in_place(
    partner: Partner, manual: OrgHandle
) -> None:
    account = manual.insert("Account", Name="Initech")
    bob = manual.insert(
        "Contact", LastName="Bob Smith", Email="bob@initech.example", AccountId=account
    )
    lead = manual.insert(
        "Lead", LastName="Carol", Company="Initrode", Email="carol@initrode.example"
    )
    user = manual.insert(
        "User", Username="ana.sf", Email="ana@acme.test", LastName="Ana", Alias="ana"
    )
    meeting_push(
        partner,
        attendees=[
            "ana@acme.test",
            "bob@initech.example",
            "carol@initrode.example",
            "dan@x.example",
        ],
        processed=False,
    )
    client = signed_in(partner.tenant)
    base = manual.instance_url.rstrip("/")

    fragment = page_text(client.get("/meetings/m-1/matches/", **HTMX))

    assert "The Contacts belong to one record" in fragment
    assert "<html" not in fragment  # a fragment, shown in place
    assert (
        '<section id="attendees" class="card" aria-labelledby="attendees-title" hx-swap-oob="true">'
        in fragment
    )
    attendees = fragment.split('id="attendees"')[1]
    rows = {email: row for row in rows_of(attendees) for email in row.split() if "@" in email}
    assert "Contact Bob Smith" in rows["bob@initech.example"]
    assert f'href="{base}/{bob}"' in attendees
    assert "Lead Carol" in rows["carol@initrode.example"] and f'href="{base}/{lead}"' in attendees
    assert "User" in rows["ana@acme.test"] and f'href="{base}/{user}"' in attendees
    assert "Not in Salesforce" in rows["dan@x.example"]


@pytest.mark.django_db(transaction=True)
def test_without_htmx_finding_the_matches_loads_the_page_with_them(
    partner: Partner, manual: OrgHandle
) -> None:
    account = manual.insert("Account", Name="Initech")
    manual.insert("Contact", LastName="Bob", Email="bob@initech.example", AccountId=account)
    meeting_push(partner, processed=False)

    html = page_text(
        signed_in(partner.tenant).get("/meetings/m-1/", {"preview": 1}, **FROM_THE_PAGE)
    )

    assert "<html" in html and "The Contacts belong to one record" in html
    assert checked_radio(html) == [f"Account:{account}:Initech"]
    attendees = rows_of(html.split('id="attendees"')[1].split("</section>")[0])
    assert "bob@initech.example Outside Contact Bob" in attendees[1]


@pytest.mark.django_db(transaction=True)
def test_a_link_from_elsewhere_spends_none_of_the_tenants_salesforce_calls(
    partner: Partner, manual: OrgHandle
) -> None:
    """A preview or a search asked by a link in an email, a chat or another site (the
    browser says so, or says nothing) opens the page and asks Salesforce nothing."""
    account = manual.insert("Account", Name="Initech")
    manual.insert("Contact", LastName="Bob", Email="bob@initech.example", AccountId=account)
    meeting_push(partner, processed=False)
    client = signed_in(partner.tenant)
    calls = manual.api_calls

    answers = [
        client.get("/meetings/m-1/", {"preview": 1}),
        client.get("/meetings/m-1/", {"preview": 1}, HTTP_SEC_FETCH_SITE="cross-site"),
        client.get("/meetings/m-1/matches/", HTTP_SEC_FETCH_SITE="none"),
        client.get("/meetings/m-1/records/", {"q": "Initech"}),
    ]

    assert [a.status_code for a in answers] == [200] * 4
    assert manual.api_calls == calls
    assert "Salesforce is asked from this page only" in page_text(answers[2])
    # The page's own button does ask.
    client.get("/meetings/m-1/matches/", **HTMX)
    assert manual.api_calls > calls


@pytest.mark.django_db(transaction=True)
def test_the_record_search_lists_accounts_and_opportunities_by_part_of_their_name(
    partner: Partner, manual: OrgHandle
) -> None:
    account = manual.insert("Account", Name="O'Brien & Sons")
    opportunity = manual.insert(
        "Opportunity",
        Name="O'Brien renewal",
        StageName="Prospecting",
        CloseDate="2026-12-01",
        AccountId=account,
    )
    manual.insert("Account", Name="Initech")
    manual.insert("Lead", LastName="O'Brien", Company="Someone")  # not a place for Notes
    meeting_push(partner, processed=False)
    client = signed_in(partner.tenant)
    calls = manual.api_calls

    fragment = page_text(client.get("/meetings/m-1/records/", {"q": "o'bri"}, **HTMX))

    assert manual.api_calls == calls + 1
    values = re.findall(r'name="record"[^>]*value="([^"]*)"', fragment)
    assert values == [
        f"Account:{account}:O&#x27;Brien &amp; Sons",
        f"Opportunity:{opportunity}:O&#x27;Brien renewal",
    ]
    assert "Initech" not in fragment and "Lead" not in fragment


@pytest.mark.django_db(transaction=True)
def test_the_record_search_waits_for_two_letters_without_asking_salesforce(
    partner: Partner, manual: OrgHandle
) -> None:
    meeting_push(partner, processed=False)
    client = signed_in(partner.tenant)
    calls = manual.api_calls

    one = page_text(client.get("/meetings/m-1/records/", {"q": "o"}, **HTMX))
    empty = page_text(client.get("/meetings/m-1/records/", {"q": ""}, **HTMX))

    assert "Type at least 2 characters" in one
    assert 'name="record"' not in one and empty.strip() == ""
    assert manual.api_calls == calls


# --- the send form -----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_refused_send_is_shown_again_without_asking_salesforce(
    partner: Partner, manual: OrgHandle
) -> None:
    account = manual.insert("Account", Name="Initech")
    manual.insert("Contact", LastName="Bob", Email="bob@initech.example", AccountId=account)
    meeting_push(partner, processed=False)
    client = signed_in(partner.tenant)
    calls = manual.api_calls

    answer = client.post(
        "/meetings/m-1/send/",
        {
            "highlights": ["h1"],
            "situation": "match",
            "offered": [f"Account:{account}:Initech"],
            "record": "other",
            "other_object": "Account",
            "other_id": "nope",
        },
        follow=True,
    )

    html = page_text(answer)
    assert manual.api_calls == calls
    assert 'value="nope"' in html and checked_radio(html) == ["other"]
    assert not SyncJob.objects.exists()


@pytest.mark.django_db
def test_a_refused_id_keeps_what_was_typed_and_never_checks_the_suggestion(
    tenant: Tenant,
) -> None:
    meeting = meeting_on(tenant, "m-1", "Discovery with Initech")
    HighlightFactory(meeting=meeting, external_id="h1")
    HighlightFactory(meeting=meeting, external_id="h2")
    suggested = f"Account:{ACCOUNT_A}:Initech"

    response = signed_in(tenant).post(
        "/meetings/m-1/send/",
        {
            "highlights": ["h2"],
            "situation": "match",
            "offered": [suggested],
            "record": "other",
            "other_object": "Opportunity",
            "other_id": "006BAD",
        },
    )

    html = page_text(response)
    assert checked_radio(html) == ["other"]
    assert f'value="{suggested}"' in html  # still offered, not chosen
    id_field = html.split('id="id_other_id"')[1].split("</ul>")[0]
    assert 'value="006BAD"' in id_field and "15 or 18 character Salesforce Id" in id_field
    assert '<option value="Opportunity" selected>' in html
    assert re.search(r'value="h2"[^>]*checked', html) and not re.search(
        r'value="h1"[^>]*checked', html
    )
    assert "The Contacts belong to one record" in html  # the preview's finding, not asked again
    assert not SyncJob.objects.exists()


@pytest.mark.django_db
def test_another_record_without_its_id_is_asked_for_next_to_the_id_field(tenant: Tenant) -> None:
    meeting = meeting_on(tenant, "m-1", "Discovery with Initech")
    HighlightFactory(meeting=meeting, external_id="h1")

    html = page_text(
        signed_in(tenant).post(
            "/meetings/m-1/send/",
            {"highlights": ["h1"], "record": "other", "other_object": "Account", "other_id": ""},
        )
    )

    assert "Paste the Salesforce Id of the record." in html.split('id="id_other_id"')[1]
    assert checked_radio(html) == ["other"]
    assert not SyncJob.objects.exists()


@pytest.mark.django_db
def test_a_refused_create_keeps_the_names_typed(tenant: Tenant) -> None:
    meeting = meeting_on(tenant, "m-1", "Discovery with Initech")
    HighlightFactory(meeting=meeting, external_id="h1")

    html = page_text(
        signed_in(tenant).post(
            "/meetings/m-1/send/",
            {
                "highlights": ["h1"],
                "situation": "no_match",
                "record": "create",
                "account_name": "  ",
                "opportunity_name": "Initech SSO",
            },
        )
    )

    assert checked_radio(html) == ["create"]
    assert "An Account needs a name." in html.split('id="id_account_name"')[1].split("</ul>")[0]
    assert 'value="Initech SSO"' in html
    assert not SyncJob.objects.exists()


@pytest.mark.django_db
def test_a_record_found_by_name_and_refused_stays_chosen(tenant: Tenant) -> None:
    meeting = meeting_on(tenant, "m-1", "Discovery with Initech")
    HighlightFactory(meeting=meeting, external_id="h1")
    found = f"Opportunity:{ACCOUNT_A}:Initech SSO"

    html = page_text(
        signed_in(tenant).post("/meetings/m-1/send/", {"highlights": [], "record": found})
    )

    assert "Choose at least one highlight." in html
    assert checked_radio(html) == [found]


@pytest.mark.django_db
def test_sending_comes_back_to_the_meeting_whose_states_then_update_by_themselves(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    meeting = meeting_on(tenant, "m-1", "Discovery with Initech")
    h1 = HighlightFactory(meeting=meeting, external_id="h1")
    h2 = HighlightFactory(meeting=meeting, external_id="h2")
    # No worker takes the job yet: it stays pending, as it would for a moment.
    monkeypatch.setattr("integrations.outbox.enqueue.job_dispatch", lambda job_id: None)
    client = signed_in(tenant)

    sent = client.post(
        "/meetings/m-1/send/",
        {"highlights": ["h1", "h2"], "record": f"Account:{ACCOUNT_A}:Initech"},
        follow=True,
    )

    assert sent.redirect_chain[-1][0] == "/meetings/m-1/#highlights"
    html = page_text(sent)
    assert "Sending 2 highlights to Salesforce." in html
    assert 'hx-trigger="every 2s"' in html
    polled = page_text(client.get("/meetings/m-1/highlights/", **HTMX))
    assert 'hx-trigger="every 2s"' in polled
    for highlight in (h1, h2):
        assert f'id="highlight-state-{highlight.pk}" hx-swap-oob="true"' in polled
    assert polled.count(">Sending<") == 2

    job = SyncJob.objects.get(operation=Operation.HIGHLIGHTS_SEND)
    assert job.params["target"]["id"] == ACCOUNT_A and job.requested_by is not None
    SyncJob.objects.filter(pk=job.pk).update(state=SyncJob.State.SUCCEEDED)
    for highlight in (h1, h2):
        SyncMappingFactory(local_object=highlight, state=SyncMapping.State.CONFIRMED)

    done = page_text(client.get("/meetings/m-1/highlights/", **HTMX))
    assert done.count(">Sent<") == 2 and "Sending" not in done
    assert "hx-trigger" not in done  # the poller stops


@pytest.mark.django_db
def test_another_tenants_meeting_pages_are_not_found(
    tenant: Tenant, other_partner: Partner
) -> None:
    theirs = meeting_on(other_partner.tenant, "theirs", "Theirs")
    HighlightFactory(meeting=theirs, external_id="h1")
    client = signed_in(tenant)

    answers = [
        client.get("/meetings/theirs/"),
        client.get("/meetings/theirs/matches/", **HTMX),
        client.get("/meetings/theirs/records/", {"q": "Initech"}, **HTMX),
        client.get("/meetings/theirs/highlights/", **HTMX),
        client.post("/meetings/theirs/send/", {"highlights": ["h1"], "record": "create"}),
    ]
    listed = page_text(client.get("/meetings/"))

    assert [a.status_code for a in answers] == [404] * len(answers)
    assert "Theirs" not in listed
    assert not SyncJob.objects.exists()
