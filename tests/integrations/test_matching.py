"""The matching rules as pure functions (SPEC 3, 3.1, 3.2, 3.5)."""

from __future__ import annotations

from urllib.parse import quote_plus

from hypothesis import given
from hypothesis import strategies as st

from integrations.salesforce.matching import (
    Directory,
    Opportunity,
    Person,
    auto_match,
    external_emails,
    manual_match,
    task_owner,
)
from integrations.salesforce.soql import MAX_QUERY_URL_BYTES, in_list_queries

ORDER = ["Account", "Opportunity", "Lead", "Contact"]


def contact(cid: str, email: str, account: str = "", name: str = "") -> Person:
    return Person("Contact", cid, email, name or cid, account_id=account, account_name=account)


def directory(*people: Person, opportunities: dict | None = None) -> Directory:
    d = Directory(opportunities=opportunities or {})
    for p in people:
        (d.contacts if p.sobject == "Contact" else d.leads).setdefault(p.email, []).append(p)
    return d


def test_external_emails_leave_out_the_tenants_domains_and_subdomains() -> None:
    emails = [" Bob@Initech.example ", "ana@acme.test", "zed@eu.acme.test", "x@notacme.test", ""]

    assert external_emails(emails, ["acme.test"]) == ["bob@initech.example", "x@notacme.test"]


def test_manual_match_one_account_is_offered() -> None:
    d = directory(contact("c1", "a@x.example", "A1"), contact("c2", "b@x.example", "A1"))

    found = manual_match(d, ["a@x.example", "b@x.example", "new@x.example"])

    assert found.situation == "match" and found.offer.id == "A1"
    assert found.unmatched_emails == ["new@x.example"]


def test_manual_match_open_opportunity_is_offered_before_the_account() -> None:
    d = directory(
        contact("c1", "a@x.example", "A1"),
        opportunities={
            "c1": [
                Opportunity("O-closed", "Old", "A1", True),
                Opportunity("O-open", "New", "A1", False),
            ]
        },
    )

    found = manual_match(d, ["a@x.example"])

    assert found.situation == "match" and found.offer.id == "O-open"
    assert [c.id for c in found.candidates][:2] == ["O-open", "O-closed"]


def test_manual_match_contacts_without_organisation() -> None:
    found = manual_match(directory(contact("c1", "a@x.example")), ["a@x.example"])

    assert found.situation == "no_organisation" and [c.id for c in found.contacts] == ["c1"]


def test_manual_match_two_accounts_asks() -> None:
    d = directory(contact("c1", "a@x.example", "A1"), contact("c2", "b@y.example", "A2"))

    found = manual_match(d, ["a@x.example", "b@y.example"])

    assert found.situation == "several" and {c.id for c in found.candidates} == {"A1", "A2"}


def test_manual_match_nobody() -> None:
    assert manual_match(Directory(), ["a@x.example"]).situation == "no_match"


def test_auto_match_follows_the_order_and_stops_at_an_ambiguous_level() -> None:
    lead = Person("Lead", "L1", "l@z.example", "Lead")
    d = directory(contact("c1", "a@x.example", "A1"), contact("c2", "b@y.example", "A2"), lead)

    ambiguous = auto_match(d, ["a@x.example", "b@y.example", "l@z.example"], ORDER)
    lead_first = auto_match(
        d,
        ["a@x.example", "b@y.example", "l@z.example"],
        ["Lead", "Account", "Opportunity", "Contact"],
    )

    assert ambiguous.target is None and ambiguous.level == "Account"
    assert {c.id for c in ambiguous.candidates} == {"A1", "A2"}
    assert lead_first.target.id == "L1"


def test_auto_match_nothing() -> None:
    found = auto_match(Directory(), ["a@x.example"], ORDER)

    assert found.target is None and not found.ambiguous


def test_task_owner_rules() -> None:
    lead = Person("Lead", "L1", "l@z.example", owner_id="U-owner")
    contact_person = contact("c1", "a@x.example")

    assert task_owner(
        person=lead,
        logging_user_id="U-me",
        installer_user_id="U-inst",
        participant_user_ids=["U-owner"],
    ) == ("U-owner", False)
    assert task_owner(
        person=lead, logging_user_id="U-me", installer_user_id="U-inst", participant_user_ids=[]
    ) == ("U-me", False)
    assert task_owner(
        person=contact_person,
        logging_user_id="",
        installer_user_id="U-inst",
        participant_user_ids=[],
    ) == ("U-inst", True)


# One @ per address, so counting them counts the addresses a query carries.
emails = st.emails().map(str.lower).filter(lambda e: e.count("@") == 1)


@given(st.lists(emails, min_size=1, max_size=1500))
def test_in_lists_carry_every_address_once_and_fit_in_a_url(addresses: list[str]) -> None:
    template = "SELECT Id FROM Contact WHERE Email IN {values}"

    queries = list(in_list_queries(template, addresses))

    carried = 0
    for soql in queries:
        assert len(quote_plus(soql)) < MAX_QUERY_URL_BYTES
        carried += soql.count("@")
    assert carried == len(set(addresses))


def test_a_long_list_is_split_into_several_queries() -> None:
    addresses = [f"person.number.{i}@a-rather-long-company-name.example" for i in range(2000)]

    queries = list(in_list_queries("SELECT Id FROM Contact WHERE Email IN {values}", addresses))

    assert len(queries) > 1
    assert sum(q.count("@") for q in queries) == 2000


def test_an_apostrophe_is_escaped_and_cannot_change_the_query() -> None:
    (soql,) = in_list_queries(
        "SELECT Id FROM Contact WHERE Email IN {values}", ["o'brien@x.example", "x' OR Name != '"]
    )

    assert soql == (
        "SELECT Id FROM Contact WHERE Email IN ('o\\'brien@x.example','x\\' OR Name != \\'')"
    )


def test_a_15_character_id_is_read_as_its_18_character_form() -> None:
    from integrations.services.choices import salesforce_id_18

    assert salesforce_id_18("001D000000IqhSL") == "001D000000IqhSLIAZ"
    assert salesforce_id_18("001D000000IqhSLIAZ") == "001D000000IqhSLIAZ"
