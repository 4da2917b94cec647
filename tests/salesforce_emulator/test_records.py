from __future__ import annotations

import base64

import pytest
import requests
from simple_salesforce import Salesforce, format_soql
from simple_salesforce.exceptions import (
    SalesforceMalformedRequest,
    SalesforceMoreThanOneRecord,
    SalesforceResourceNotFound,
)

from salesforce_emulator.ids import checksum, to18
from salesforce_emulator.testing import OrgHandle

pytestmark = pytest.mark.emulator


def error_of(exc: pytest.ExceptionInfo) -> dict:
    return exc.value.content[0]


def test_create_answers_201_with_id_success_and_errors(
    sf: Salesforce, api: str, auth: dict, http: requests.Session
) -> None:
    response = http.post(f"{api}/sobjects/Account", json={"Name": "Acme"}, headers=auth)
    assert response.status_code == 201
    body = response.json()
    assert body == {"id": body["id"], "success": True, "errors": []}
    assert body["id"].startswith("001") and len(body["id"]) == 18


def test_ids_carry_the_case_checksum_and_15_character_ids_are_accepted(
    sf: Salesforce, salesforce: OrgHandle
) -> None:
    record_id = sf.Contact.create({"LastName": "Doe"})["id"]
    assert record_id[15:] == checksum(record_id[:15])
    assert to18(record_id[:15]) == record_id
    assert sf.Contact.get(record_id[:15])["Id"] == record_id
    sf.Contact.update(record_id[:15], {"Title": "CTO"})
    assert salesforce.get(record_id)["Title"] == "CTO"


def test_retrieve_returns_attributes_and_all_fields_or_the_requested_ones(
    sf: Salesforce, api: str, auth: dict, http: requests.Session
) -> None:
    record_id = sf.Contact.create({"LastName": "Doe", "FirstName": "Jane"})["id"]
    full = sf.Contact.get(record_id)
    assert full["attributes"] == {
        "type": "Contact",
        "url": f"/services/data/v59.0/sobjects/Contact/{record_id}",
    }
    assert full["Name"] == "Jane Doe" and full["Email"] is None
    some = http.get(
        f"{api}/sobjects/Contact/{record_id}?fields=LastName,Email", headers=auth
    ).json()
    assert set(some) == {"attributes", "LastName", "Email"}


def test_system_fields_are_set_and_owner_defaults_to_the_calling_user(
    sf: Salesforce, salesforce: OrgHandle
) -> None:
    record = sf.Account.get(sf.Account.create({"Name": "Acme"})["id"])
    assert record["OwnerId"] == salesforce.admin_user_id
    assert record["CreatedById"] == record["LastModifiedById"] == salesforce.admin_user_id
    assert record["CreatedDate"].endswith("+0000") and record["IsDeleted"] is False
    assert record["SystemModstamp"] == record["LastModifiedDate"]


def test_update_answers_204_and_delete_answers_204(
    api: str, auth: dict, http: requests.Session, salesforce: OrgHandle
) -> None:
    record_id = salesforce.insert("Account", {"Name": "Acme"})
    updated = http.patch(f"{api}/sobjects/Account/{record_id}", json={"Phone": "1"}, headers=auth)
    assert updated.status_code == 204 and updated.content == b""
    assert http.delete(f"{api}/sobjects/Account/{record_id}", headers=auth).status_code == 204
    assert salesforce.get(record_id)["IsDeleted"] is True


def test_deleted_record_is_not_found_on_retrieve_and_entity_is_deleted_on_update(
    sf: Salesforce,
) -> None:
    record_id = sf.Account.create({"Name": "Acme"})["id"]
    sf.Account.delete(record_id)
    with pytest.raises(SalesforceResourceNotFound) as missing:
        sf.Account.get(record_id)
    assert error_of(missing)["errorCode"] == "NOT_FOUND"
    with pytest.raises(SalesforceResourceNotFound) as gone:
        sf.Account.update(record_id, {"Name": "B"})
    assert error_of(gone)["errorCode"] == "ENTITY_IS_DELETED"


def test_required_field_missing(sf: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Lead.create({"FirstName": "Jo"})
    assert error_of(exc) == {
        "message": "Required fields are missing: [LastName, Company]",
        "errorCode": "REQUIRED_FIELD_MISSING",
        "fields": ["LastName", "Company"],
    }


def test_clearing_a_required_field_on_update_is_refused(sf: Salesforce) -> None:
    record_id = sf.Contact.create({"LastName": "Doe"})["id"]
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Contact.update(record_id, {"LastName": None})
    assert error_of(exc)["errorCode"] == "REQUIRED_FIELD_MISSING"


def test_string_too_long(sf: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Note.create({"Title": "x" * 81, "ParentId": sf.Account.create({"Name": "A"})["id"]})
    assert error_of(exc)["errorCode"] == "STRING_TOO_LONG"
    assert error_of(exc)["fields"] == ["Title"]
    assert "max length=80" in error_of(exc)["message"]


def test_restricted_picklist_refuses_unknown_values(sf: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Task.create({"Subject": "x", "Status": "Done-ish"})
    assert error_of(exc)["errorCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    assert error_of(exc)["fields"] == ["Status"]


def test_picklist_defaults_and_derived_fields(sf: Salesforce) -> None:
    task = sf.Task.get(sf.Task.create({"Subject": "Call"})["id"])
    assert (task["Status"], task["Priority"], task["IsClosed"]) == ("Not Started", "Normal", False)
    lead = sf.Lead.get(sf.Lead.create({"LastName": "L", "Company": "C"})["id"])
    assert lead["Status"] == "Open - Not Contacted" and lead["IsConverted"] is False
    opp = sf.Opportunity.get(
        sf.Opportunity.create({"Name": "O", "StageName": "Closed Won", "CloseDate": "2026-03-01"})[
            "id"
        ]
    )
    assert opp["IsClosed"] is True and opp["IsWon"] is True


def test_completed_task_is_closed(sf: Salesforce) -> None:
    task_id = sf.Task.create({"Subject": "Call", "Status": "Completed"})["id"]
    assert sf.Task.get(task_id)["IsClosed"] is True


def test_reference_to_the_wrong_object_is_an_invalid_cross_reference(sf: Salesforce) -> None:
    contact_id = sf.Contact.create({"LastName": "Doe"})["id"]
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Contact.create({"LastName": "X", "AccountId": contact_id})
    assert error_of(exc)["errorCode"] == "INVALID_CROSS_REFERENCE_KEY"
    assert error_of(exc)["fields"] == ["AccountId"]


def test_reference_to_a_missing_record_is_an_invalid_cross_reference(sf: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Contact.create({"LastName": "X", "AccountId": "001000000000000AAA"})
    assert error_of(exc)["errorCode"] == "INVALID_CROSS_REFERENCE_KEY"


def test_malformed_id_in_a_reference(sf: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Task.create({"Subject": "x", "WhoId": "not-an-id"})
    assert error_of(exc)["errorCode"] == "MALFORMED_ID"


def test_not_createable_field_is_refused(sf: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Lead.create({"LastName": "L", "Company": "C", "IsConverted": True})
    assert error_of(exc)["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"
    assert error_of(exc)["fields"] == ["IsConverted"]


def test_task_subtype_is_createable_but_not_updateable(sf: Salesforce) -> None:
    task_id = sf.Task.create(
        {
            "Subject": "Call",
            "TaskSubtype": "Call",
            "CallType": "Outbound",
            "CallDurationInSeconds": 125,
        }
    )["id"]
    assert sf.Task.get(task_id)["TaskSubtype"] == "Call"
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Task.update(task_id, {"TaskSubtype": "Email"})
    assert error_of(exc)["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"


def test_unknown_field_is_invalid_field(sf: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Contact.create({"LastName": "X", "Shoe_Size__c": 9})
    assert error_of(exc)["errorCode"] == "INVALID_FIELD"


def test_field_names_are_case_insensitive(sf: Salesforce) -> None:
    record_id = sf.Contact.create({"lastname": "Doe", "EMAIL": "a@b.co"})["id"]
    assert sf.Contact.get(record_id)["Email"] == "a@b.co"


def test_unknown_object_is_not_found(sf: Salesforce) -> None:
    with pytest.raises(SalesforceResourceNotFound):
        sf.Widget__c.create({"Name": "x"})


def test_upsert_by_external_id_creates_201_then_updates_200(
    sf: Salesforce, salesforce: OrgHandle, api: str, auth: dict, http: requests.Session
) -> None:
    salesforce.add_field(
        "Account", "Portal_Key__c", type="string", length=255, external_id=True, unique=True
    )
    created = http.patch(
        f"{api}/sobjects/Account/Portal_Key__c/k-1", json={"Name": "A"}, headers=auth
    )
    assert created.status_code == 201
    assert created.json()["created"] is True
    updated = http.patch(
        f"{api}/sobjects/Account/Portal_Key__c/k-1", json={"Name": "B"}, headers=auth
    )
    assert updated.status_code == 200
    assert updated.json() == {
        "id": created.json()["id"],
        "success": True,
        "errors": [],
        "created": False,
    }
    assert sf.Account.get_by_custom_id("Portal_Key__c", "k-1")["Name"] == "B"


def test_upsert_with_several_matches_answers_300(sf: Salesforce, salesforce: OrgHandle) -> None:
    salesforce.add_field("Contact", "Ext__c", external_id=True)
    salesforce.insert("Contact", LastName="A", Ext__c="dup")
    salesforce.insert("Contact", LastName="B", Ext__c="dup")
    with pytest.raises(SalesforceMoreThanOneRecord) as exc:
        sf.Contact.upsert("Ext__c/dup", {"LastName": "C"})
    assert len(exc.value.content) == 2
    assert exc.value.content[0].startswith("/services/data/v59.0/sobjects/Contact/003")


def test_unique_field_refuses_a_duplicate_value(sf: Salesforce, salesforce: OrgHandle) -> None:
    salesforce.add_field("Account", "Portal_Key__c", external_id=True, unique=True)
    sf.Account.create({"Name": "A", "Portal_Key__c": "K"})
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Account.create({"Name": "B", "Portal_Key__c": "k"})
    assert error_of(exc)["errorCode"] == "DUPLICATE_VALUE"


def test_upsert_on_a_field_that_is_not_an_external_id_is_not_found(sf: Salesforce) -> None:
    with pytest.raises(SalesforceResourceNotFound):
        sf.Contact.upsert("Email/a@b.co", {"LastName": "X"})


def test_describe_reports_fields_with_their_rules(sf: Salesforce) -> None:
    fields = {f["name"]: f for f in sf.Task.describe()["fields"]}
    status = fields["Status"]
    assert status["type"] == "picklist" and status["restrictedPicklist"] is True
    assert {
        "active": True,
        "defaultValue": True,
        "label": "Not Started",
        "validFor": None,
        "value": "Not Started",
    } in status["picklistValues"]
    assert fields["WhoId"]["referenceTo"] == ["Contact", "Lead"]
    assert fields["WhoId"]["relationshipName"] == "Who"
    assert fields["Description"]["length"] == 32000
    assert fields["TaskSubtype"]["createable"] and not fields["TaskSubtype"]["updateable"]
    assert fields["IsClosed"]["createable"] is False


def test_global_describe_lists_objects_with_key_prefixes(sf: Salesforce) -> None:
    prefixes = {o["name"]: o["keyPrefix"] for o in sf.describe()["sobjects"]}
    assert prefixes["Account"] == "001" and prefixes["Lead"] == "00Q"
    assert prefixes["EventRelation"] == "0RE" and prefixes["ContentDocumentLink"] == "06A"


def test_versions_are_listed_without_a_session(
    salesforce: OrgHandle, http: requests.Session
) -> None:
    versions = http.get(f"{salesforce.instance_url}/services/data/").json()
    assert {"label": "Winter '21", "url": "/services/data/v50.0", "version": "50.0"} in versions
    assert versions[-1]["version"] == "64.0"


def test_unsupported_version_is_not_found(
    salesforce: OrgHandle, auth: dict, http: requests.Session
) -> None:
    response = http.get(f"{salesforce.instance_url}/services/data/v40.0/sobjects", headers=auth)
    assert response.status_code == 404


def test_url_longer_than_16384_bytes_is_refused_with_414(
    api: str, auth: dict, http: requests.Session
) -> None:
    response = http.get(f"{api}/query?q=" + "x" * 16_400, headers=auth)
    assert response.status_code == 414


def test_every_response_carries_the_api_usage_header(
    api: str, auth: dict, http: requests.Session
) -> None:
    http.get(f"{api}/sobjects", headers=auth)
    response = http.get(f"{api}/limits", headers=auth)
    assert response.headers["Sforce-Limit-Info"] == "api-usage=2/100000"
    assert response.json()["DailyApiRequests"] == {"Max": 100000, "Remaining": 99998}


def test_event_derives_duration_and_refuses_end_before_start(sf: Salesforce) -> None:
    event_id = sf.Event.create(
        {
            "Subject": "Meeting",
            "StartDateTime": "2026-02-03T10:00:00Z",
            "EndDateTime": "2026-02-03T11:30:00.000+0000",
        }
    )["id"]
    event = sf.Event.get(event_id)
    assert event["DurationInMinutes"] == 90 and event["ActivityDate"] == "2026-02-03"
    assert event["ActivityDateTime"] == "2026-02-03T10:00:00.000+0000"
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Event.create(
            {
                "Subject": "M",
                "StartDateTime": "2026-02-03T10:00:00Z",
                "EndDateTime": "2026-02-03T09:00:00Z",
            }
        )
    assert error_of(exc)["errorCode"] == "FIELD_INTEGRITY_EXCEPTION"


def test_event_without_end_or_duration_is_missing_a_required_field(sf: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Event.create({"Subject": "M", "StartDateTime": "2026-02-03T10:00:00Z"})
    assert error_of(exc)["errorCode"] == "REQUIRED_FIELD_MISSING"


def test_contact_as_non_invitee_event_relation_needs_shared_activities(
    salesforce_server, http: requests.Session
) -> None:
    for shared in (True, False):
        org = salesforce_server.create_org("Org", shared_activities=shared)
        sf = Salesforce(instance_url=org.instance_url, session_id=org.access_token, session=http)
        contact = org.insert("Contact", LastName="C")
        event = org.insert(
            "Event", Subject="M", StartDateTime="2026-01-01T10:00:00Z", DurationInMinutes=30
        )
        relation = {"EventId": event, "RelationId": contact, "IsParent": True, "IsInvitee": False}
        if shared:
            assert sf.EventRelation.create(relation)["success"]
        else:
            with pytest.raises(SalesforceMalformedRequest):
                sf.EventRelation.create(relation)


def test_shared_activities_relate_the_who_of_an_activity(
    sf: Salesforce, salesforce: OrgHandle
) -> None:
    contact = salesforce.insert("Contact", LastName="C")
    task = sf.Task.create({"Subject": "Call", "WhoId": contact})["id"]
    relations = [r for r in salesforce.records("TaskRelation") if r["TaskId"] == task]
    assert [(r["RelationId"], r["IsWhat"]) for r in relations] == [(contact, False)]


def test_content_note_creates_its_document_and_serves_its_content(
    sf: Salesforce, salesforce: OrgHandle, api: str, auth: dict, http: requests.Session
) -> None:
    html = "<p>Met with <b>Jane</b></p>"
    note_id = sf.ContentNote.create(
        {"Title": "Meeting notes", "Content": base64.b64encode(html.encode()).decode()}
    )["id"]
    note = sf.ContentNote.get(note_id)
    assert note["FileType"] == "SNOTE" and note["TextPreview"] == "Met with Jane"
    assert note["Content"] == f"/services/data/v59.0/sobjects/ContentNote/{note_id}/Content"
    body = http.get(salesforce.instance_url + note["Content"], headers=auth)
    assert body.content.decode() == html
    assert sf.ContentDocument.get(note_id)["Title"] == "Meeting notes"


def test_deleting_a_content_document_deletes_its_links(
    sf: Salesforce, salesforce: OrgHandle
) -> None:
    account = salesforce.insert("Account", Name="A")
    note = sf.ContentNote.create({"Title": "N", "Content": "aGk="})["id"]
    link = sf.ContentDocumentLink.create(
        {"ContentDocumentId": note, "LinkedEntityId": account, "ShareType": "V"}
    )["id"]
    sf.ContentDocument.delete(note)
    assert salesforce.get(link)["IsDeleted"] is True
    assert [r for r in salesforce.records("ContentNote") if r["Id"] == note] == []


def test_content_document_link_query_needs_a_document_or_entity_filter(
    sf: Salesforce, salesforce: OrgHandle
) -> None:
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.query("SELECT Id FROM ContentDocumentLink")
    assert error_of(exc)["errorCode"] == "MALFORMED_QUERY"
    account = salesforce.insert("Account", Name="A")
    result = sf.query(
        format_soql("SELECT Id FROM ContentDocumentLink WHERE LinkedEntityId = {}", account)
    )
    assert result["totalSize"] == 0


def test_duplicate_rule_detects_a_second_lead_with_the_same_email(
    sf: Salesforce, salesforce: OrgHandle
) -> None:
    salesforce.duplicate_rule("Lead", enabled=True)
    sf.Lead.create({"LastName": "A", "Company": "C", "Email": "jo@x.com"})
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Lead.create({"LastName": "B", "Company": "C", "Email": "JO@x.com"})
    assert error_of(exc)["errorCode"] == "DUPLICATES_DETECTED"
    # Salesforce's REST answer spells the key "duplicateResut" (see test_duplicates.py).
    assert error_of(exc)["duplicateResut"]["matchResults"][0]["size"] == 1


def test_validation_rule_answers_field_custom_validation_exception(
    sf: Salesforce, salesforce: OrgHandle
) -> None:
    salesforce.validation_rule(
        "Task",
        message="Subject is mandatory",
        field="Subject",
        when=lambda row: not row.get("Subject"),
    )
    sf.Task.create({"Subject": "ok"})
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Task.create({"Description": "no subject"})
    assert error_of(exc) == {
        "message": "Subject is mandatory",
        "errorCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION",
        "fields": ["Subject"],
    }


def test_locked_record_answers_unable_to_lock_row(sf: Salesforce, salesforce: OrgHandle) -> None:
    account = salesforce.insert("Account", Name="A")
    salesforce.lock_record(account)
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Account.update(account, {"Name": "B"})
    assert error_of(exc)["errorCode"] == "UNABLE_TO_LOCK_ROW"
    with pytest.raises(SalesforceMalformedRequest):
        sf.Task.create({"Subject": "x", "WhatId": account})
