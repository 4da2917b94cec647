"""Answers that say a record already exists, in the shapes Salesforce's REST API gives.

A duplicate rule's DUPLICATES_DETECTED names the records it matched; the portal reads
their Ids to offer the existing record instead of a new one. Real orgs answer a request
(and so a composite subrequest, whose body is that same answer) with the matches under
``duplicateResut`` -- Salesforce's misspelling -- and no ``fields``; an sObject
Collections result carries only ``statusCode``, ``message`` and ``fields`` (REST API
Developer Guide, sObject Collections create). A second link between the same document
and record is a DUPLICATE_VALUE on LinkedEntityId.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest

from salesforce_emulator.testing import OrgHandle

pytestmark = pytest.mark.emulator

V = "/services/data/v59.0"
DUPLICATE_MESSAGE = "Use one of these records?"


def _matched_ids(error: dict[str, Any]) -> list[str]:
    """The Ids a client reads from a DUPLICATES_DETECTED error, the way real answers
    carry them."""
    return [
        match["record"]["Id"]
        for result in error["duplicateResut"]["matchResults"]
        for match in result["matchRecords"]
    ]


@pytest.fixture
def existing_contact(salesforce: OrgHandle) -> str:
    salesforce.duplicate_rule("Contact")
    return salesforce.insert("Contact", LastName="Doe", Email="jane.doe@acme.example")


def test_a_create_blocked_by_a_duplicate_rule_names_the_matched_records(
    api: str, auth: dict[str, str], http: requests.Session, existing_contact: str
) -> None:
    response = http.post(
        f"{api}/sobjects/Contact",
        json={"LastName": "Doe", "Email": "Jane.Doe@acme.example"},
        headers=auth,
    )

    assert response.status_code == 400
    [error] = response.json()
    assert set(error) == {"duplicateResut", "errorCode", "message"}
    assert error["errorCode"] == "DUPLICATES_DETECTED"
    assert error["message"] == DUPLICATE_MESSAGE
    assert _matched_ids(error) == [existing_contact]
    result = error["duplicateResut"]
    assert result["allowSave"] is False
    assert result["duplicateRuleEntityType"] == "Contact"
    assert result["errorMessage"] == DUPLICATE_MESSAGE
    [match_result] = result["matchResults"]
    assert match_result["entityType"] == "Contact"
    assert match_result["size"] == 1
    assert match_result["success"] is True
    [match] = match_result["matchRecords"]
    assert match["record"]["attributes"] == {
        "type": "Contact",
        "url": f"{V}/sobjects/Contact/{existing_contact}",
    }


def test_simple_salesforce_hands_the_matches_over_with_the_error(
    sf: Salesforce, existing_contact: str
) -> None:
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Contact.create({"LastName": "Doe", "Email": "jane.doe@acme.example"})

    assert exc.value.content[0]["errorCode"] == "DUPLICATES_DETECTED"
    assert _matched_ids(exc.value.content[0]) == [existing_contact]


def test_an_update_into_a_duplicate_is_refused_the_same_way(
    sf: Salesforce, salesforce: OrgHandle, existing_contact: str
) -> None:
    other = salesforce.insert("Contact", LastName="Roe", Email="roe@acme.example")

    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Contact.update(other, {"Email": "jane.doe@acme.example"})

    assert _matched_ids(exc.value.content[0]) == [existing_contact]
    assert salesforce.get(other)["Email"] == "roe@acme.example"


def test_every_matched_record_is_named(
    api: str, auth: dict[str, str], http: requests.Session, salesforce: OrgHandle
) -> None:
    first = salesforce.insert("Lead", LastName="A", Company="C", Email="jo@x.example")
    second = salesforce.insert("Lead", LastName="B", Company="C", Email="JO@x.example")
    salesforce.duplicate_rule("Lead")

    response = http.post(
        f"{api}/sobjects/Lead",
        json={"LastName": "C", "Company": "C", "Email": "jo@x.example"},
        headers=auth,
    )

    [error] = response.json()
    assert sorted(_matched_ids(error)) == sorted([first, second])
    assert error["duplicateResut"]["matchResults"][0]["size"] == 2


def test_a_composite_subrequest_body_is_the_same_answer(
    sf: Salesforce, salesforce: OrgHandle, existing_contact: str
) -> None:
    result = sf.restful(
        "composite",
        method="POST",
        json={
            "allOrNone": True,
            "compositeRequest": [
                {
                    "method": "POST",
                    "url": f"{V}/sobjects/Account",
                    "referenceId": "account",
                    "body": {"Name": "Acme"},
                },
                {
                    "method": "POST",
                    "url": f"{V}/sobjects/Contact",
                    "referenceId": "contact",
                    "body": {
                        "LastName": "Doe",
                        "Email": "jane.doe@acme.example",
                        "AccountId": "@{account.id}",
                    },
                },
            ],
        },
    )

    account, contact = result["compositeResponse"]
    assert contact["httpStatusCode"] == 400
    assert contact["referenceId"] == "contact"
    [error] = contact["body"]
    assert set(error) == {"duplicateResut", "errorCode", "message"}
    assert error["errorCode"] == "DUPLICATES_DETECTED"
    assert _matched_ids(error) == [existing_contact]
    # allOrNone: the Account made before is rolled back.
    assert account["body"][0]["errorCode"] == "PROCESSING_HALTED"
    assert salesforce.records("Account") == []


def test_a_collection_result_carries_a_plain_save_error(
    sf: Salesforce, salesforce: OrgHandle, existing_contact: str
) -> None:
    results = sf.restful(
        "composite/sobjects",
        method="POST",
        json={
            "records": [
                {
                    "attributes": {"type": "Contact"},
                    "LastName": "Doe",
                    "Email": "jane.doe@acme.example",
                },
                {"attributes": {"type": "Contact"}, "LastName": "New", "Email": "new@acme.example"},
            ]
        },
    )

    assert results[0] == {
        "success": False,
        "errors": [
            {"statusCode": "DUPLICATES_DETECTED", "message": DUPLICATE_MESSAGE, "fields": []}
        ],
    }
    assert results[1]["success"] is True
    assert len(salesforce.records("Contact")) == 2


def test_the_duplicate_rule_header_lets_the_duplicate_in(
    sf: Salesforce, salesforce: OrgHandle, existing_contact: str
) -> None:
    created = sf.Contact.create(
        {"LastName": "Doe", "Email": "jane.doe@acme.example"},
        headers={"Sforce-Duplicate-Rule-Header": "allowSave=true"},
    )

    assert created["success"] is True
    assert len(salesforce.records("Contact")) == 2


def test_the_duplicate_rule_header_of_a_subrequest_counts_whatever_its_case(
    sf: Salesforce, salesforce: OrgHandle, existing_contact: str
) -> None:
    result = sf.restful(
        "composite",
        method="POST",
        json={
            "compositeRequest": [
                {
                    "method": "POST",
                    "url": f"{V}/sobjects/Contact",
                    "referenceId": "contact",
                    "httpHeaders": {"sforce-duplicate-rule-header": "allowSave=true"},
                    "body": {"LastName": "Doe", "Email": "jane.doe@acme.example"},
                }
            ]
        },
    )

    assert result["compositeResponse"][0]["httpStatusCode"] == 201
    assert len(salesforce.records("Contact")) == 2


# ----- A link that already exists ---------------------------------------------------------


def _note_and_account(salesforce: OrgHandle) -> tuple[str, str]:
    note = salesforce.insert("ContentNote", Title="Call notes", Content="aGk=")
    account = salesforce.insert("Account", Name="Acme")
    return note, account


def test_linking_a_document_to_a_record_twice_answers_duplicate_value(
    api: str, auth: dict[str, str], http: requests.Session, salesforce: OrgHandle
) -> None:
    note, account = _note_and_account(salesforce)
    link = {"ContentDocumentId": note, "LinkedEntityId": account, "ShareType": "V"}
    assert http.post(f"{api}/sobjects/ContentDocumentLink", json=link, headers=auth).ok

    response = http.post(f"{api}/sobjects/ContentDocumentLink", json=link, headers=auth)

    assert response.status_code == 400
    assert response.json() == [
        {
            "message": f"Document with ID: {note} is already linked with the entity with "
            f"ID: {account}",
            "errorCode": "DUPLICATE_VALUE",
            "fields": ["LinkedEntityId"],
        }
    ]
    assert len(salesforce.records("ContentDocumentLink")) == 1


def test_a_deleted_link_does_not_count_as_existing(sf: Salesforce, salesforce: OrgHandle) -> None:
    note, account = _note_and_account(salesforce)
    link = {"ContentDocumentId": note, "LinkedEntityId": account, "ShareType": "V"}
    first = sf.ContentDocumentLink.create(link)["id"]
    sf.ContentDocumentLink.delete(first)

    assert sf.ContentDocumentLink.create(link)["success"] is True


def test_a_link_that_exists_fails_only_its_own_collection_record(
    sf: Salesforce, salesforce: OrgHandle
) -> None:
    note, account = _note_and_account(salesforce)
    other = salesforce.insert("Account", Name="Other")
    salesforce.insert(
        "ContentDocumentLink", ContentDocumentId=note, LinkedEntityId=account, ShareType="V"
    )

    results = sf.restful(
        "composite/sobjects",
        method="POST",
        json={
            "records": [
                {
                    "attributes": {"type": "ContentDocumentLink"},
                    "ContentDocumentId": note,
                    "LinkedEntityId": account,
                    "ShareType": "V",
                },
                {
                    "attributes": {"type": "ContentDocumentLink"},
                    "ContentDocumentId": note,
                    "LinkedEntityId": other,
                    "ShareType": "V",
                },
            ]
        },
    )

    assert results[0] == {
        "success": False,
        "errors": [
            {
                "statusCode": "DUPLICATE_VALUE",
                "message": f"Document with ID: {note} is already linked with the entity "
                f"with ID: {account}",
                "fields": ["LinkedEntityId"],
            }
        ],
    }
    assert results[1]["success"] is True
