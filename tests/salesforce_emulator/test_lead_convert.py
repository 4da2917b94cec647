from __future__ import annotations

from datetime import date

import pytest
import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest

from salesforce_emulator.errors import ApiError
from salesforce_emulator.testing import OrgHandle

pytestmark = pytest.mark.emulator


@pytest.fixture
def lead(salesforce: OrgHandle) -> str:
    return salesforce.insert(
        "Lead",
        FirstName="Grace",
        LastName="Hopper",
        Company="Navy Labs",
        Email="grace@navy.example",
        Phone="(415) 555-0100",
        MobilePhone="(415) 555-0199",
        Title="Rear Admiral",
        LeadSource="Web",
    )


def test_conversion_creates_account_contact_and_opportunity_from_the_lead(
    sf: Salesforce, salesforce: OrgHandle, lead: str
) -> None:
    result = salesforce.convert_lead(lead)
    assert result["leadId"] == lead
    account = salesforce.get(result["accountId"] or "")
    contact = salesforce.get(result["contactId"] or "")
    opportunity = salesforce.get(result["opportunityId"] or "")
    assert account is not None and contact is not None and opportunity is not None
    assert account["Name"] == "Navy Labs" and account["Phone"] == "(415) 555-0100"
    assert (contact["FirstName"], contact["LastName"], contact["Email"]) == (
        "Grace",
        "Hopper",
        "grace@navy.example",
    )
    assert contact["MobilePhone"] == "(415) 555-0199" and contact["Title"] == "Rear Admiral"
    assert contact["AccountId"] == account["Id"] and contact["LeadSource"] == "Web"
    assert opportunity["Name"] == "Navy Labs" and opportunity["AccountId"] == account["Id"]
    assert opportunity["StageName"] == "Prospecting"
    # The converted fields are queryable.
    soql = (
        "SELECT IsConverted, ConvertedAccountId, ConvertedContactId, ConvertedOpportunityId, "
        "ConvertedDate, Status, ConvertedContact.Email FROM Lead WHERE Id = '{}'"
    )
    rows = sf.query(soql.format(lead))["records"]
    assert rows[0]["IsConverted"] is True
    assert rows[0]["ConvertedAccountId"] == account["Id"]
    assert rows[0]["ConvertedContactId"] == contact["Id"]
    assert rows[0]["ConvertedOpportunityId"] == opportunity["Id"]
    assert rows[0]["ConvertedDate"] == date.today().isoformat()
    assert rows[0]["Status"] == "Closed - Converted"
    assert rows[0]["ConvertedContact"]["Email"] == "grace@navy.example"
    converted = sf.query("SELECT Id FROM Lead WHERE IsConverted = true")["records"]
    assert [r["Id"] for r in converted] == [lead]
    # Seeding is not an API use.
    assert salesforce.api_calls == 2


def test_conversion_into_existing_records_without_opportunity(
    salesforce: OrgHandle, lead: str
) -> None:
    account = salesforce.insert("Account", Name="Existing Co", Phone="(650) 555-0000")
    contact = salesforce.insert("Contact", LastName="Hopper", AccountId=account)
    result = salesforce.convert_lead(
        lead, account_id=account, contact_id=contact, create_opportunity=False
    )
    assert result == {
        "leadId": lead,
        "accountId": account,
        "contactId": contact,
        "opportunityId": None,
    }
    assert salesforce.records("Opportunity") == []
    # Only empty fields of the targets are filled.
    kept = salesforce.get(account)
    assert kept is not None and kept["Name"] == "Existing Co" and kept["Phone"] == "(650) 555-0000"
    merged = salesforce.get(contact)
    assert merged is not None and merged["Email"] == "grace@navy.example"
    assert merged["LastName"] == "Hopper"
    assert len(salesforce.records("Contact")) == 1


def test_a_converted_lead_cannot_be_updated_through_the_api(
    sf: Salesforce, salesforce: OrgHandle, lead: str
) -> None:
    salesforce.convert_lead(lead)
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Lead.update(lead, {"Title": "Admiral"})
    assert exc.value.content == [
        {
            "message": "cannot reference converted lead",
            "errorCode": "CANNOT_UPDATE_CONVERTED_LEAD",
            "fields": [],
        }
    ]
    row = salesforce.get(lead)
    assert row is not None and row["Title"] == "Rear Admiral"
    # In an sObject Collections update the record fails alone.
    other = salesforce.insert("Lead", LastName="Other", Company="Co")
    results = sf.restful(
        "composite/sobjects",
        method="PATCH",
        json={
            "records": [
                {"attributes": {"type": "Lead"}, "Id": lead, "Title": "x"},
                {"attributes": {"type": "Lead"}, "Id": other, "Title": "y"},
            ]
        },
    )
    assert results[0]["success"] is False
    assert results[0]["errors"][0]["statusCode"] == "CANNOT_UPDATE_CONVERTED_LEAD"
    assert results[1]["success"] is True


def test_a_converted_lead_cannot_be_pointed_at_by_a_new_activity_or_file(
    sf: Salesforce, salesforce: OrgHandle, lead: str
) -> None:
    salesforce.convert_lead(lead)

    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Task.create({"Subject": "Call", "WhoId": lead})

    assert exc.value.content == [
        {
            "message": "cannot reference converted lead",
            "errorCode": "CANNOT_UPDATE_CONVERTED_LEAD",
            "fields": ["WhoId"],
        }
    ]
    note = sf.ContentNote.create({"Title": "N", "Content": "PHA+eDwvcD4="})["id"]
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.ContentDocumentLink.create({"ContentDocumentId": note, "LinkedEntityId": lead})
    assert exc.value.content[0]["errorCode"] == "CANNOT_UPDATE_CONVERTED_LEAD"


def test_a_lead_is_converted_once_and_only_to_a_converted_status(
    salesforce: OrgHandle, lead: str
) -> None:
    with pytest.raises(ApiError) as bad_status:
        salesforce.convert_lead(lead, converted_status="Working - Contacted")
    assert bad_status.value.error_code == "INVALID_STATUS"
    assert salesforce.records("Account") == [] and salesforce.records("Contact") == []
    salesforce.convert_lead(lead)
    with pytest.raises(ApiError) as again:
        salesforce.convert_lead(lead)
    assert again.value.error_code == "CANNOT_UPDATE_CONVERTED_LEAD"
    assert len(salesforce.records("Account")) == 1


def test_the_contact_to_merge_into_must_belong_to_the_account(
    salesforce: OrgHandle, lead: str
) -> None:
    contact = salesforce.insert("Contact", LastName="Loose")
    with pytest.raises(ApiError) as exc:
        salesforce.convert_lead(lead, contact_id=contact)
    assert exc.value.error_code == "INVALID_CROSS_REFERENCE_KEY"
    # Nothing of the failed conversion stays.
    assert salesforce.records("Account") == []
    row = salesforce.get(lead)
    assert row is not None and row["IsConverted"] is False


def test_the_leads_activities_move_to_the_contact(salesforce: OrgHandle, lead: str) -> None:
    task = salesforce.insert("Task", Subject="Call", WhoId=lead)
    result = salesforce.convert_lead(lead)
    moved = salesforce.get(task)
    assert moved is not None
    assert moved["WhoId"] == result["contactId"]
    assert moved["WhatId"] == result["opportunityId"]
    assert moved["AccountId"] == result["accountId"]
    relations = {r["RelationId"] for r in salesforce.records("TaskRelation")}
    assert relations == {result["contactId"], result["opportunityId"]}


def test_conversion_through_the_control_api(
    http: requests.Session, salesforce: OrgHandle, lead: str
) -> None:
    base = salesforce.instance_url
    answer = http.post(
        f"{base}/_emulator/orgs/{salesforce.id}/convert-lead",
        json={"lead_id": lead, "create_opportunity": False},
    )
    assert answer.status_code == 200
    body = answer.json()
    assert body["leadId"] == lead and body["opportunityId"] is None
    refused = http.post(
        f"{base}/_emulator/orgs/{salesforce.id}/convert-lead", json={"lead_id": lead}
    )
    assert refused.status_code == 400
    assert refused.json()[0]["errorCode"] == "CANNOT_UPDATE_CONVERTED_LEAD"
