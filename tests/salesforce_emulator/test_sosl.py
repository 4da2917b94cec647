from __future__ import annotations

from typing import Any

import pytest
import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceGeneralError, SalesforceMalformedRequest

from salesforce_emulator.testing import OrgHandle

pytestmark = pytest.mark.emulator

PHONE_RETURNING = (
    "RETURNING Contact(Id, Name, Phone, MobilePhone, AccountId), "
    "Lead(Id, Name, Phone, MobilePhone, Company)"
)


def _ids(result: dict[str, Any]) -> set[str]:
    return {r["Id"] for r in result["searchRecords"]}


@pytest.fixture
def people(salesforce: OrgHandle) -> dict[str, str]:
    account = salesforce.insert("Account", Name="Acme", Phone="(650) 555-0199")
    return {
        "account": account,
        "contact": salesforce.insert(
            "Contact",
            FirstName="Ada",
            LastName="Lovelace",
            Email="ada@example.com",
            Phone="(415) 555-0100",
            AccountId=account,
        ),
        "mobile_contact": salesforce.insert(
            "Contact", LastName="Babbage", MobilePhone="+1 415.555.0101"
        ),
        "lead": salesforce.insert(
            "Lead",
            FirstName="Grace",
            LastName="Hopper",
            Company="Navy",
            Email="grace@navy.example",
            Phone="415-555-0100",
        ),
        "other": salesforce.insert("Contact", LastName="Turing", Phone="+44 20 7946 0958"),
    }


@pytest.mark.parametrize("typed", ["+14155550100", "4155550100", "415-555-0100", "(415) 555 0100"])
def test_phone_search_finds_stored_numbers_whatever_their_format(
    sf: Salesforce, people: dict[str, str], typed: str
) -> None:
    result = sf.search(f'FIND {{"{typed}"}} IN PHONE FIELDS {PHONE_RETURNING}')
    records = result["searchRecords"]
    assert {(r["attributes"]["type"], r["Id"]) for r in records} == {
        ("Contact", people["contact"]),
        ("Lead", people["lead"]),
    }
    contact = next(r for r in records if r["attributes"]["type"] == "Contact")
    assert contact == {
        "attributes": {
            "type": "Contact",
            "url": f"/services/data/v59.0/sobjects/Contact/{people['contact']}",
        },
        "Id": people["contact"],
        "Name": "Ada Lovelace",
        "Phone": "(415) 555-0100",
        "MobilePhone": None,
        "AccountId": people["account"],
    }


def test_phone_search_with_several_numbers_joined_by_or(
    sf: Salesforce, people: dict[str, str]
) -> None:
    result = sf.search(
        f'FIND {{"+14155550100" OR "+14155550101"}} IN PHONE FIELDS {PHONE_RETURNING}'
    )
    assert _ids(result) == {people["contact"], people["lead"], people["mobile_contact"]}


def test_phone_search_does_not_match_other_numbers_or_text(
    sf: Salesforce, people: dict[str, str]
) -> None:
    assert (
        sf.search(f'FIND {{"+14155550199"}} IN PHONE FIELDS {PHONE_RETURNING}')["searchRecords"]
        == []
    )
    # A name is not a phone number: nothing found in phone fields.
    assert sf.search(f"FIND {{Lovelace}} IN PHONE FIELDS {PHONE_RETURNING}")["searchRecords"] == []
    uk = sf.search(f'FIND {{"+442079460958"}} IN PHONE FIELDS {PHONE_RETURNING}')
    assert _ids(uk) == {people["other"]}


def test_email_name_and_all_fields_scopes(sf: Salesforce, people: dict[str, str]) -> None:
    by_email = sf.search("FIND {ada@example.com} IN EMAIL FIELDS RETURNING Contact(Id, Email)")
    assert by_email["searchRecords"] == [
        {
            "attributes": {
                "type": "Contact",
                "url": f"/services/data/v59.0/sobjects/Contact/{people['contact']}",
            },
            "Id": people["contact"],
            "Email": "ada@example.com",
        }
    ]
    # A name is not searched in EMAIL FIELDS, an email not in NAME FIELDS.
    assert sf.search("FIND {Lovelace} IN EMAIL FIELDS RETURNING Contact(Id)")["searchRecords"] == []
    assert (
        sf.search("FIND {ada@example.com} IN NAME FIELDS RETURNING Contact(Id)")["searchRecords"]
        == []
    )
    by_name = sf.search("FIND {grace} IN NAME FIELDS RETURNING Contact(Id), Lead(Id, Name)")
    assert by_name["searchRecords"][0]["Name"] == "Grace Hopper"
    everywhere = sf.search("FIND {navy} RETURNING Lead(Id), Contact(Id)")
    assert _ids(everywhere) == {people["lead"]}
    assert _ids(sf.search("FIND {navy} IN ALL FIELDS RETURNING Lead(Id)")) == {people["lead"]}


def test_wildcards_and_and_not(sf: Salesforce, people: dict[str, str]) -> None:
    assert _ids(sf.search("FIND {Love*} RETURNING Contact(Id)")) == {people["contact"]}
    both = sf.search("FIND {ada AND lovelace} RETURNING Contact(Id)")
    assert _ids(both) == {people["contact"]}
    assert sf.search("FIND {ada AND NOT lovelace} RETURNING Contact(Id)")["searchRecords"] == []


def test_without_a_field_list_only_the_id_comes_back(
    sf: Salesforce, people: dict[str, str]
) -> None:
    result = sf.search("FIND {Hopper} RETURNING Lead")
    assert result["searchRecords"] == [
        {
            "attributes": {
                "type": "Lead",
                "url": f"/services/data/v59.0/sobjects/Lead/{people['lead']}",
            },
            "Id": people["lead"],
        }
    ]
    # No RETURNING: the standard objects, Id alone.
    assert _ids(sf.search('FIND {"415-555-0100"} IN PHONE FIELDS')) == {
        people["contact"],
        people["lead"],
    }


def test_limit_per_object_overall_limit_and_where(
    sf: Salesforce, salesforce: OrgHandle, people: dict[str, str]
) -> None:
    for n in range(3):
        salesforce.insert("Contact", LastName=f"Shared{n}", Phone="(212) 555-0000")
    found = sf.search(
        'FIND {"2125550000"} IN PHONE FIELDS RETURNING Contact(Id, LastName ORDER BY LastName '
        "LIMIT 2)"
    )
    assert [r["LastName"] for r in found["searchRecords"]] == ["Shared0", "Shared1"]
    overall = sf.search(
        'FIND {"2125550000" OR "4155550100"} IN PHONE FIELDS RETURNING Contact(Id), Lead(Id) '
        "LIMIT 3"
    )
    assert len(overall["searchRecords"]) == 3
    where = sf.search(
        'FIND {"4155550100"} IN PHONE FIELDS RETURNING Contact(Id WHERE AccountId != null), '
        "Lead(Id WHERE IsConverted = false)"
    )
    assert _ids(where) == {people["contact"], people["lead"]}
    none = sf.search(
        "FIND {\"4155550100\"} IN PHONE FIELDS RETURNING Contact(Id WHERE LastName = 'Nobody')"
    )
    assert none["searchRecords"] == []


@pytest.mark.parametrize(
    "sosl",
    [
        "FIND Acme",
        "FIND {}",
        "FIND {a}",
        'FIND {"unbalanced}',
        "FIND {acme OR}",
        "FIND {(acme}",
        "FIND {acme} IN EVERY FIELDS",
        "FIND {acme} RETURNING",
        "FIND {acme} RETURNING Contact(Id WHERE)",
        "SELECT Id FROM Contact",
    ],
)
def test_malformed_sosl_is_a_400_malformed_search(
    sf: Salesforce, salesforce: OrgHandle, sosl: str
) -> None:
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.search(sosl)
    assert exc.value.content[0]["errorCode"] == "MALFORMED_SEARCH"
    assert salesforce.api_calls == 1


def test_unknown_object_and_field_are_refused_like_soql(sf: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.search("FIND {acme} RETURNING Widget(Id)")
    assert exc.value.content[0]["errorCode"] == "INVALID_TYPE"
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.search("FIND {acme} RETURNING Account(Id, Nope)")
    assert exc.value.content[0]["errorCode"] == "INVALID_FIELD"


def test_a_search_is_one_api_call_and_meets_injected_faults(
    sf: Salesforce, salesforce: OrgHandle, people: dict[str, str]
) -> None:
    sf.search(f'FIND {{"4155550100"}} IN PHONE FIELDS {PHONE_RETURNING}')
    assert salesforce.api_calls == 1
    salesforce.faults.fail_next(1, path="/search", error_code="SERVER_UNAVAILABLE", status=503)
    with pytest.raises(SalesforceGeneralError) as exc:
        sf.search(f'FIND {{"4155550100"}} IN PHONE FIELDS {PHONE_RETURNING}')
    assert exc.value.status == 503
    assert salesforce.api_calls == 2
    again = sf.search(f'FIND {{"4155550100"}} IN PHONE FIELDS {PHONE_RETURNING}')
    assert _ids(again) == {people["contact"], people["lead"]}


def test_search_is_get_only(http: requests.Session, api: str, auth: dict[str, str]) -> None:
    answer = http.post(f"{api}/search/", params={"q": "FIND {acme}"}, headers=auth)
    assert answer.status_code == 405
    assert answer.json()[0]["errorCode"] == "METHOD_NOT_ALLOWED"
