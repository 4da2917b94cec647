"""Documented limits and rules a client can trip over."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest

from salesforce_emulator.testing import OrgHandle

pytestmark = pytest.mark.emulator

V = "/services/data/v59.0"


def _query(ref: str) -> dict[str, Any]:
    return {"method": "GET", "url": f"{V}/query?q=SELECT+Id+FROM+Account", "referenceId": ref}


def _collection(ref: str) -> dict[str, Any]:
    return {
        "method": "POST",
        "url": f"{V}/composite/sobjects",
        "referenceId": ref,
        "body": {"records": [{"attributes": {"type": "Account"}, "Name": ref}]},
    }


# ----- Composite: at most 5 query or sObject Collections subrequests ----------------------


def test_composite_allows_five_query_or_collection_subrequests(
    sf: Salesforce, salesforce: OrgHandle
) -> None:
    subrequests = [_query("q1"), _query("q2"), _query("q3"), _collection("c1"), _collection("c2")]
    subrequests += [
        {"method": "POST", "url": f"{V}/sobjects/Contact", "referenceId": f"s{i}", "body": {}}
        for i in range(3)
    ]
    result = sf.restful("composite", method="POST", json={"compositeRequest": subrequests})
    statuses = [r["httpStatusCode"] for r in result["compositeResponse"]]
    assert statuses[:5] == [200] * 5
    assert sorted(a["Name"] for a in salesforce.records("Account")) == ["c1", "c2"]


@pytest.mark.parametrize(
    "subrequests",
    [
        [_query(f"q{i}") for i in range(6)],
        [
            _query("q1"),
            _query("q2"),
            _query("q3"),
            _collection("c1"),
            _collection("c2"),
            {**_query("more"), "url": f"{V}/queryAll?q=SELECT+Id+FROM+Account"},
        ],
    ],
    ids=["six-queries", "five-plus-queryAll"],
)
def test_composite_refuses_a_sixth_query_or_collection_subrequest(
    http: requests.Session,
    api: str,
    auth: dict[str, str],
    salesforce: OrgHandle,
    subrequests: list[dict[str, Any]],
) -> None:
    response = http.post(f"{api}/composite", json={"compositeRequest": subrequests}, headers=auth)
    assert response.status_code == 400
    assert response.json()[0]["errorCode"] == "LIMIT_EXCEEDED"
    # Refused as a whole: nothing written, one API call.
    assert salesforce.records("Account") == []
    assert salesforce.api_calls == 1


# ----- sObject Collections: 200 records, 10 chunks --------------------------------------


def test_collection_update_refuses_more_than_200_records(
    http: requests.Session, api: str, auth: dict[str, str], salesforce: OrgHandle
) -> None:
    account = salesforce.insert("Account", Name="A")
    records = [{"attributes": {"type": "Account"}, "Id": account, "Name": "B"}] * 201
    response = http.patch(f"{api}/composite/sobjects", json={"records": records}, headers=auth)
    assert response.status_code == 400
    assert response.json()[0]["errorCode"] == "EXCEEDED_ID_LIMIT"
    row = salesforce.get(account)
    assert row is not None and row["Name"] == "A"


def _alternating(n: int) -> list[dict[str, Any]]:
    return [
        {"attributes": {"type": "Account"}, "Name": f"A{i}"}
        if i % 2 == 0
        else {"attributes": {"type": "Contact"}, "LastName": f"C{i}"}
        for i in range(n)
    ]


def test_collection_refuses_more_than_ten_chunks_of_types(
    http: requests.Session, api: str, auth: dict[str, str], salesforce: OrgHandle
) -> None:
    # Account, Contact, Account, ... eleven times: eleven chunks although two types.
    response = http.post(
        f"{api}/composite/sobjects", json={"records": _alternating(11)}, headers=auth
    )
    assert response.status_code == 400
    assert response.json()[0]["errorCode"] == "INVALID_BATCH_REQUEST"
    assert "10 chunks" in response.json()[0]["message"]
    assert salesforce.records("Account") == [] and salesforce.records("Contact") == []


def test_collection_accepts_ten_chunks_and_the_same_records_sorted(
    sf: Salesforce, salesforce: OrgHandle
) -> None:
    ten = sf.restful("composite/sobjects", method="POST", json={"records": _alternating(10)})
    assert all(r["success"] for r in ten)
    eleven = sorted(_alternating(11), key=lambda r: r["attributes"]["type"])
    two_chunks = sf.restful("composite/sobjects", method="POST", json={"records": eleven})
    assert all(r["success"] for r in two_chunks)
    assert len(salesforce.records("Account")) == 11


# ----- Activities on leads --------------------------------------------------------------


@pytest.mark.parametrize("sobject", ["Task", "Event"])
def test_an_activity_of_a_lead_cannot_have_a_related_to(
    sf: Salesforce, salesforce: OrgHandle, sobject: str
) -> None:
    lead = salesforce.insert("Lead", LastName="Hopper", Company="Navy")
    account = salesforce.insert("Account", Name="Acme")
    timing = (
        {"StartDateTime": "2026-01-05T10:00:00Z", "DurationInMinutes": 30}
        if sobject == "Event"
        else {}
    )
    with pytest.raises(SalesforceMalformedRequest) as exc:
        getattr(sf, sobject).create({"Subject": "Call", "WhoId": lead, "WhatId": account, **timing})
    error = exc.value.content[0]
    assert error["errorCode"] == "FIELD_INTEGRITY_EXCEPTION"
    assert error["fields"] == ["WhoId", "WhatId"]
    assert salesforce.records(sobject) == []
    # Alone, either is fine; adding the other later is refused too.
    created = getattr(sf, sobject).create({"Subject": "Call", "WhoId": lead, **timing})
    with pytest.raises(SalesforceMalformedRequest) as later:
        getattr(sf, sobject).update(created["id"], {"WhatId": account})
    assert later.value.content[0]["errorCode"] == "FIELD_INTEGRITY_EXCEPTION"
    contact = salesforce.insert("Contact", LastName="Ada")
    getattr(sf, sobject).create({"Subject": "Call", "WhoId": contact, "WhatId": account, **timing})


def test_a_task_is_related_to_one_lead_or_to_contacts_not_both(
    sf: Salesforce, salesforce: OrgHandle
) -> None:
    lead = salesforce.insert("Lead", LastName="Hopper", Company="Navy")
    other_lead = salesforce.insert("Lead", LastName="Other", Company="Navy")
    contact = salesforce.insert("Contact", LastName="Ada")
    account = salesforce.insert("Account", Name="Acme")
    lead_task = sf.Task.create({"Subject": "Call", "WhoId": lead})["id"]
    for relation in (other_lead, contact, account):
        with pytest.raises(SalesforceMalformedRequest) as exc:
            sf.TaskRelation.create({"TaskId": lead_task, "RelationId": relation})
        assert exc.value.content[0]["errorCode"] == "FIELD_INTEGRITY_EXCEPTION"
    contact_task = sf.Task.create({"Subject": "Call", "WhoId": contact})["id"]
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.TaskRelation.create({"TaskId": contact_task, "RelationId": lead})
    assert exc.value.content[0]["errorCode"] == "FIELD_INTEGRITY_EXCEPTION"
    # More contacts and a What beside contacts are fine.
    second = salesforce.insert("Contact", LastName="Babbage")
    sf.TaskRelation.create({"TaskId": contact_task, "RelationId": second})
    sf.TaskRelation.create({"TaskId": contact_task, "RelationId": account})


def test_a_lead_may_be_invited_to_an_event_of_contacts(
    sf: Salesforce, salesforce: OrgHandle
) -> None:
    lead = salesforce.insert("Lead", LastName="Hopper", Company="Navy")
    contact = salesforce.insert("Contact", LastName="Ada")
    event = sf.Event.create(
        {
            "Subject": "Meet",
            "WhoId": contact,
            "StartDateTime": "2026-01-05T10:00:00Z",
            "DurationInMinutes": 30,
        }
    )["id"]
    # An invitee is not a Who of the event.
    sf.EventRelation.create({"EventId": event, "RelationId": lead, "IsInvitee": True})
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.EventRelation.create(
            {
                "EventId": event,
                "RelationId": salesforce.insert("Lead", LastName="B", Company="C"),
                "IsParent": True,
                "IsInvitee": False,
            }
        )
    assert exc.value.content[0]["errorCode"] == "FIELD_INTEGRITY_EXCEPTION"


# ----- Lead defaults ----------------------------------------------------------------------


def test_lead_defaults_and_required_fields(sf: Salesforce) -> None:
    # Object Reference, Lead: Company and LastName are required; Status defaults to the
    # org's default lead status; IsConverted is false and not createable.
    created = sf.Lead.create({"LastName": "Hopper", "Company": "Navy"})
    lead = sf.Lead.get(created["id"])
    assert lead["Status"] == "Open - Not Contacted"
    assert lead["IsConverted"] is False
    assert lead["ConvertedContactId"] is None and lead["ConvertedOpportunityId"] is None
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Lead.create({"LastName": "Hopper"})
    assert exc.value.content[0]["errorCode"] == "REQUIRED_FIELD_MISSING"
    assert exc.value.content[0]["fields"] == ["Company"]
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Lead.create({"Company": "Navy"})
    assert exc.value.content[0]["fields"] == ["LastName"]
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Lead.create({"LastName": "H", "Company": "N", "ConvertedContactId": None})
    assert exc.value.content[0]["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"


def test_an_event_of_a_lead_takes_no_related_to_relation(
    sf: Salesforce, salesforce: OrgHandle
) -> None:
    lead = salesforce.insert("Lead", LastName="Hopper", Company="Navy")
    account = salesforce.insert("Account", Name="Acme")
    event = sf.Event.create(
        {
            "Subject": "Meet",
            "WhoId": lead,
            "StartDateTime": "2026-01-05T10:00:00Z",
            "DurationInMinutes": 30,
        }
    )["id"]
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.EventRelation.create({"EventId": event, "RelationId": account})
    assert exc.value.content[0]["errorCode"] == "FIELD_INTEGRITY_EXCEPTION"
    # A user invited to it is fine.
    sf.EventRelation.create({"EventId": event, "RelationId": salesforce.admin_user_id})
