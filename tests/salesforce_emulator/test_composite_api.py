from __future__ import annotations

import pytest
import requests
from simple_salesforce import Salesforce

from salesforce_emulator.testing import OrgHandle

pytestmark = pytest.mark.emulator

V = "/services/data/v59.0"


def test_composite_later_subrequest_references_an_earlier_one(
    sf: Salesforce, salesforce: OrgHandle
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
                    "referenceId": "acct",
                    "body": {"Name": "Acme"},
                },
                {
                    "method": "GET",
                    "url": f"{V}/sobjects/Account/@{{acct.id}}?fields=Name",
                    "referenceId": "acctRead",
                },
                {
                    "method": "POST",
                    "url": f"{V}/sobjects/Contact",
                    "referenceId": "contact",
                    "body": {
                        "LastName": "Doe",
                        "AccountId": "@{acct.id}",
                        "Description": "of @{acctRead.Name}",
                    },
                },
            ],
        },
    )
    first, read, contact = result["compositeResponse"]
    assert first["httpStatusCode"] == 201 and first["referenceId"] == "acct"
    assert first["httpHeaders"]["Location"] == f"{V}/sobjects/Account/{first['body']['id']}"
    assert read["body"]["Name"] == "Acme"
    row = salesforce.get(contact["body"]["id"])
    assert row["AccountId"] == first["body"]["id"] and row["Description"] == "of Acme"
    assert salesforce.api_calls == 1


def test_composite_all_or_none_rolls_back_and_halts_the_others(
    sf: Salesforce, salesforce: OrgHandle
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
                    "referenceId": "a",
                    "body": {"Name": "Acme"},
                },
                {
                    "method": "POST",
                    "url": f"{V}/sobjects/Contact",
                    "referenceId": "c",
                    "body": {"FirstName": "No last name"},
                },
                {
                    "method": "POST",
                    "url": f"{V}/sobjects/Account",
                    "referenceId": "b",
                    "body": {"Name": "Later"},
                },
            ],
        },
    )
    a, c, b = result["compositeResponse"]
    assert c["httpStatusCode"] == 400
    assert c["body"][0]["errorCode"] == "REQUIRED_FIELD_MISSING"
    for halted in (a, b):
        assert halted["httpStatusCode"] == 400
        assert halted["body"][0]["errorCode"] == "PROCESSING_HALTED"
    assert salesforce.records("Account") == []


def test_composite_without_all_or_none_halts_only_dependent_subrequests(
    sf: Salesforce, salesforce: OrgHandle
) -> None:
    result = sf.restful(
        "composite",
        method="POST",
        json={
            "allOrNone": False,
            "compositeRequest": [
                {
                    "method": "POST",
                    "url": f"{V}/sobjects/Account",
                    "referenceId": "bad",
                    "body": {},
                },
                {
                    "method": "POST",
                    "url": f"{V}/sobjects/Contact",
                    "referenceId": "dep",
                    "body": {"LastName": "D", "AccountId": "@{bad.id}"},
                },
                {
                    "method": "POST",
                    "url": f"{V}/sobjects/Account",
                    "referenceId": "ok",
                    "body": {"Name": "Fine"},
                },
            ],
        },
    )
    bad, dep, ok = result["compositeResponse"]
    assert bad["httpStatusCode"] == 400
    assert dep["body"][0]["errorCode"] == "PROCESSING_HALTED"
    assert ok["httpStatusCode"] == 201
    assert [r["Name"] for r in salesforce.records("Account")] == ["Fine"]


def test_composite_refuses_more_than_25_subrequests(
    api: str, auth: dict, http: requests.Session
) -> None:
    subrequests = [
        {"method": "GET", "url": f"{V}/limits", "referenceId": f"r{i}"} for i in range(26)
    ]
    response = http.post(f"{api}/composite", json={"compositeRequest": subrequests}, headers=auth)
    assert response.status_code == 400


def test_collection_insert_of_mixed_types_counts_as_one_call(
    sf: Salesforce, salesforce: OrgHandle
) -> None:
    results = sf.restful(
        "composite/sobjects",
        method="POST",
        json={
            "records": [
                {"attributes": {"type": "Account"}, "Name": "A"},
                {"attributes": {"type": "Contact"}, "LastName": "C"},
            ]
        },
    )
    assert [r["success"] for r in results] == [True, True]
    assert results[0]["id"].startswith("001") and results[1]["id"].startswith("003")
    assert salesforce.api_calls == 1


def test_collection_partial_success_without_all_or_none(sf: Salesforce) -> None:
    results = sf.restful(
        "composite/sobjects",
        method="POST",
        json={
            "records": [
                {"attributes": {"type": "Account"}, "Name": "A"},
                {"attributes": {"type": "Account"}},
            ]
        },
    )
    assert results[0]["success"] is True
    assert results[1] == {
        "success": False,
        "errors": [
            {
                "statusCode": "REQUIRED_FIELD_MISSING",
                "message": "Required fields are missing: [Name]",
                "fields": ["Name"],
            }
        ],
    }


def test_collection_all_or_none_rolls_back_every_record(
    sf: Salesforce, salesforce: OrgHandle
) -> None:
    results = sf.restful(
        "composite/sobjects",
        method="POST",
        json={
            "allOrNone": True,
            "records": [
                {"attributes": {"type": "Account"}, "Name": "A"},
                {"attributes": {"type": "Account"}},
            ],
        },
    )
    assert results[0]["success"] is False
    assert results[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert results[1]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    assert salesforce.records("Account") == []


def test_collection_update_and_delete(sf: Salesforce, salesforce: OrgHandle) -> None:
    a = salesforce.insert("Account", Name="A")
    b = salesforce.insert("Account", Name="B")
    updated = sf.restful(
        "composite/sobjects",
        method="PATCH",
        json={
            "records": [
                {"attributes": {"type": "Account"}, "id": a, "Name": "A2"},
                {"attributes": {"type": "Account"}, "id": b, "Name": "B2"},
            ]
        },
    )
    assert [r["id"] for r in updated] == [a, b]
    assert salesforce.get(a)["Name"] == "A2"
    deleted = sf.restful(
        "composite/sobjects", method="DELETE", params={"ids": f"{a},{b}", "allOrNone": "false"}
    )
    assert [r["success"] for r in deleted] == [True, True]
    assert salesforce.records("Account") == []


def test_collection_delete_all_or_none_rolls_back(sf: Salesforce, salesforce: OrgHandle) -> None:
    a = salesforce.insert("Account", Name="A")
    results = sf.restful(
        "composite/sobjects",
        method="DELETE",
        params={"ids": f"{a},001000000000000AAA", "allOrNone": "true"},
    )
    assert results[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert salesforce.get(a)["IsDeleted"] is False


def test_collection_retrieve_returns_records_in_order_with_null_for_missing(
    sf: Salesforce, salesforce: OrgHandle
) -> None:
    a = salesforce.insert("Account", Name="A")
    results = sf.restful(
        "composite/sobjects/Account", params={"ids": f"{a},001000000000000AAA", "fields": "Id,Name"}
    )
    assert results[0]["Name"] == "A" and results[1] is None


def test_collection_refuses_more_than_200_records(
    api: str, auth: dict, http: requests.Session
) -> None:
    records = [{"attributes": {"type": "Account"}, "Name": f"A{i}"} for i in range(201)]
    response = http.post(f"{api}/composite/sobjects", json={"records": records}, headers=auth)
    assert response.status_code == 400
    assert response.json()[0]["errorCode"] == "EXCEEDED_ID_LIMIT"


def test_composite_all_or_none_applies_to_a_nested_collection(
    sf: Salesforce, salesforce: OrgHandle
) -> None:
    result = sf.restful(
        "composite",
        method="POST",
        json={
            "allOrNone": True,
            "compositeRequest": [
                {
                    "method": "POST",
                    "url": f"{V}/composite/sobjects",
                    "referenceId": "batch",
                    "body": {
                        "allOrNone": False,
                        "records": [
                            {"attributes": {"type": "Account"}, "Name": "A"},
                            {"attributes": {"type": "Account"}},
                        ],
                    },
                }
            ],
        },
    )
    body = result["compositeResponse"][0]["body"]
    assert body[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert salesforce.records("Account") == []
