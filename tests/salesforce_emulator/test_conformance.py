"""Behaviour checked against Salesforce's documentation (REST API Developer Guide, Object
Reference, identity service), each test naming the documented rule it follows."""

from __future__ import annotations

import pytest
import requests
from simple_salesforce import Salesforce, format_soql
from simple_salesforce.exceptions import (
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceMalformedRequest,
    SalesforceRefusedRequest,
)

from salesforce_emulator.testing import OrgHandle

pytestmark = pytest.mark.emulator


# ----- Faults answer with the status Salesforce uses for their error code ----------------
# "Status Codes and Error Responses": 401 for an expired or invalid session, 403 with
# REQUEST_LIMIT_EXCEEDED, 500 for an internal error, 503 when the server is unavailable.


@pytest.mark.parametrize(
    ("code", "status", "exception"),
    [
        ("SERVER_UNAVAILABLE", 503, SalesforceGeneralError),
        ("UNKNOWN_EXCEPTION", 500, SalesforceGeneralError),
        ("REQUEST_LIMIT_EXCEEDED", 403, SalesforceRefusedRequest),
        ("INVALID_SESSION_ID", 401, SalesforceExpiredSession),
    ],
)
def test_fail_next_uses_the_status_of_the_error_code(
    sf: Salesforce, salesforce: OrgHandle, code: str, status: int, exception: type[Exception]
) -> None:
    salesforce.faults.fail_next(1, error_code=code)
    with pytest.raises(exception) as exc:
        sf.Account.create({"Name": "A"})
    assert exc.value.status == status
    assert exc.value.content == [{"message": exc.value.content[0]["message"], "errorCode": code}]


def test_unable_to_lock_row_fault_is_a_dml_error_with_fields(
    sf: Salesforce, salesforce: OrgHandle
) -> None:
    salesforce.faults.fail_next(1, error_code="UNABLE_TO_LOCK_ROW")
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Account.create({"Name": "A"})
    assert exc.value.status == 400
    assert exc.value.content[0]["errorCode"] == "UNABLE_TO_LOCK_ROW"
    assert exc.value.content[0]["fields"] == []


def test_an_explicit_fault_status_still_wins(sf: Salesforce, salesforce: OrgHandle) -> None:
    salesforce.faults.fail_next(1, error_code="SERVER_UNAVAILABLE", status=500)
    with pytest.raises(SalesforceGeneralError) as exc:
        sf.Account.create({"Name": "A"})
    assert exc.value.status == 500


def test_fault_status_inside_a_composite_subrequest(sf: Salesforce, salesforce: OrgHandle) -> None:
    salesforce.faults.fail_next(
        1, method="POST", path=r"/sobjects/Task$", error_code="SERVER_UNAVAILABLE"
    )
    result = sf.restful(
        "composite",
        method="POST",
        json={
            "compositeRequest": [
                {
                    "method": "POST",
                    "url": "/services/data/v59.0/sobjects/Task",
                    "referenceId": "t",
                    "body": {"Subject": "x"},
                }
            ]
        },
    )
    assert result["compositeResponse"][0]["httpStatusCode"] == 503


# ----- Event: DurationInMinutes and EndDateTime -------------------------------------------
# Object Reference, Event.EndDateTime: "a value must be supplied for either
# DurationInMinutes or EndDateTime. Supplying values in both fields is allowed if the
# values add up to the same amount of time."


def _event(salesforce: OrgHandle) -> str:
    return salesforce.insert(
        "Event",
        Subject="Meeting",
        StartDateTime="2026-02-03T10:00:00Z",
        EndDateTime="2026-02-03T11:00:00Z",
    )


def test_updating_the_duration_moves_the_end(sf: Salesforce, salesforce: OrgHandle) -> None:
    event_id = _event(salesforce)
    sf.Event.update(event_id, {"DurationInMinutes": 90})
    event = sf.Event.get(event_id)
    assert event["DurationInMinutes"] == 90
    assert event["EndDateTime"] == "2026-02-03T11:30:00.000+0000"


def test_updating_the_end_changes_the_duration(sf: Salesforce, salesforce: OrgHandle) -> None:
    event_id = _event(salesforce)
    sf.Event.update(event_id, {"EndDateTime": "2026-02-03T10:45:00Z"})
    assert sf.Event.get(event_id)["DurationInMinutes"] == 45


def test_updating_the_activity_date_time_moves_the_start(
    sf: Salesforce, salesforce: OrgHandle
) -> None:
    event_id = _event(salesforce)
    sf.Event.update(event_id, {"ActivityDateTime": "2026-02-03T09:00:00Z"})
    event = sf.Event.get(event_id)
    assert event["StartDateTime"] == "2026-02-03T09:00:00.000+0000"


def test_duration_and_end_that_agree_are_accepted(sf: Salesforce) -> None:
    event_id = sf.Event.create(
        {
            "Subject": "M",
            "StartDateTime": "2026-02-03T10:00:00Z",
            "EndDateTime": "2026-02-03T10:30:00Z",
            "DurationInMinutes": 30,
        }
    )["id"]
    assert sf.Event.get(event_id)["DurationInMinutes"] == 30


def test_duration_and_end_that_disagree_are_refused(sf: Salesforce, salesforce: OrgHandle) -> None:
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Event.create(
            {
                "Subject": "M",
                "StartDateTime": "2026-02-03T10:00:00Z",
                "EndDateTime": "2026-02-03T10:30:00Z",
                "DurationInMinutes": 60,
            }
        )
    assert exc.value.content[0]["errorCode"] == "FIELD_INTEGRITY_EXCEPTION"
    assert salesforce.records("Event") == []


def test_all_day_event_takes_its_length_from_the_duration(sf: Salesforce) -> None:
    event_id = sf.Event.create(
        {
            "Subject": "Offsite",
            "IsAllDayEvent": True,
            "ActivityDate": "2026-02-03",
            "DurationInMinutes": 2880,
        }
    )["id"]
    event = sf.Event.get(event_id)
    assert event["DurationInMinutes"] == 2880
    assert event["EndDateTime"].startswith("2026-02-04")


# ----- Identity service ---------------------------------------------------------------
# "Identity URLs": without a version parameter, "the returned API URLs contain the literal
# value {version} in place of the version number".


def test_identity_urls_carry_the_version_placeholder(
    salesforce: OrgHandle, http: requests.Session
) -> None:
    url = f"{salesforce.instance_url}/id/{salesforce.id}/{salesforce.admin_user_id}"
    auth = {"Authorization": f"Bearer {salesforce.access_token}"}
    urls = http.get(url, headers=auth).json()["urls"]
    assert urls["rest"] == f"{salesforce.instance_url}/services/data/v{{version}}/"
    assert urls["enterprise"].endswith("/services/Soap/c/{version}/" + salesforce.id)
    pinned = http.get(url, params={"version": "59.0"}, headers=auth).json()["urls"]
    assert pinned["sobjects"] == f"{salesforce.instance_url}/services/data/v59.0/sobjects/"
    latest = http.get(url, params={"version": "latest"}, headers=auth).json()["urls"]
    assert "{version}" not in latest["query"]


# ----- ContentDocumentLink query restriction ----------------------------------------------
# Object Reference, ContentDocumentLink: without Query All Files, a query needs a filter "on
# id, LinkedEntityId, and documentID fields".


def test_content_document_link_may_be_queried_by_its_id(
    sf: Salesforce, salesforce: OrgHandle
) -> None:
    account = salesforce.insert("Account", Name="A")
    note = salesforce.insert("ContentNote", Title="N", Content="aGk=")
    link = salesforce.insert(
        "ContentDocumentLink", ContentDocumentId=note, LinkedEntityId=account, ShareType="V"
    )
    result = sf.query(
        format_soql("SELECT Id, LinkedEntityId FROM ContentDocumentLink WHERE Id = {}", link)
    )
    assert [r["LinkedEntityId"] for r in result["records"]] == [account]


def test_content_document_link_filter_on_a_parent_id_is_not_enough(sf: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.query(
            "SELECT Id FROM ContentDocumentLink WHERE ContentDocument.Id = '069000000000000AAA'"
        )
    assert exc.value.content[0]["errorCode"] == "MALFORMED_QUERY"
