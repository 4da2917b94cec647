from __future__ import annotations

import time

import pytest
import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceMalformedRequest,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)

from salesforce_emulator.testing import OrgHandle

pytestmark = pytest.mark.emulator


def test_400_maps_to_malformed_request(sf: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest):
        sf.Account.create({})


def test_401_invalid_session_maps_to_expired_session(sf: Salesforce, salesforce: OrgHandle) -> None:
    salesforce.expire_sessions()
    with pytest.raises(SalesforceExpiredSession) as exc:
        sf.Account.create({"Name": "A"})
    assert exc.value.content == [
        {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
    ]


def test_unknown_token_is_an_invalid_session(api: str, http: requests.Session) -> None:
    response = http.get(f"{api}/limits", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    assert response.json()[0]["errorCode"] == "INVALID_SESSION_ID"


def test_token_of_one_org_never_reads_another_org(
    salesforce_server, http: requests.Session
) -> None:
    one = salesforce_server.create_org("One")
    two = salesforce_server.create_org("Two")
    secret = one.insert("Account", Name="Only in one")
    sf_two = Salesforce(instance_url=two.instance_url, session_id=two.access_token, session=http)
    with pytest.raises(SalesforceResourceNotFound):
        sf_two.Account.get(secret)


def test_403_request_limit_exceeded_maps_to_refused_request(
    sf: Salesforce, salesforce: OrgHandle
) -> None:
    salesforce.exhaust_api_limit()
    with pytest.raises(SalesforceRefusedRequest) as exc:
        sf.Account.create({"Name": "A"})
    assert exc.value.content == [
        {"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}
    ]


def test_api_limit_is_reached_after_max_calls(sf: Salesforce, salesforce: OrgHandle) -> None:
    salesforce.set_api_limit(2)
    sf.limits()
    sf.limits()
    with pytest.raises(SalesforceRefusedRequest):
        sf.limits()
    assert salesforce.api_calls == 2


def test_404_maps_to_resource_not_found(sf: Salesforce) -> None:
    with pytest.raises(SalesforceResourceNotFound) as exc:
        sf.Account.get("001000000000000AAA")
    assert exc.value.content == [
        {"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}
    ]


def test_500_and_503_map_to_general_error(sf: Salesforce, salesforce: OrgHandle) -> None:
    salesforce.faults.fail_next(1, error_code="SERVER_UNAVAILABLE", status=503)
    with pytest.raises(SalesforceGeneralError) as exc:
        sf.Account.create({"Name": "A"})
    assert exc.value.status == 503
    assert exc.value.content[0]["errorCode"] == "SERVER_UNAVAILABLE"
    salesforce.faults.fail_next(1, error_code="UNKNOWN_EXCEPTION", status=500)
    with pytest.raises(SalesforceGeneralError):
        sf.Account.create({"Name": "A"})


def test_fail_next_fails_only_matching_requests_then_recovers(
    sf: Salesforce, salesforce: OrgHandle
) -> None:
    salesforce.faults.fail_next(
        2, method="POST", path=r"/sobjects/Task", error_code="UNABLE_TO_LOCK_ROW"
    )
    sf.Account.create({"Name": "unaffected"})
    for _ in range(2):
        with pytest.raises(SalesforceMalformedRequest) as exc:
            sf.Task.create({"Subject": "x"})
        assert exc.value.content[0]["errorCode"] == "UNABLE_TO_LOCK_ROW"
    assert sf.Task.create({"Subject": "x"})["success"]
    assert len(salesforce.records("Task")) == 1


def test_fault_on_a_composite_subrequest(sf: Salesforce, salesforce: OrgHandle) -> None:
    salesforce.faults.fail_next(
        1, method="POST", path=r"/sobjects/Task$", error_code="UNABLE_TO_LOCK_ROW"
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
    assert result["compositeResponse"][0]["body"][0]["errorCode"] == "UNABLE_TO_LOCK_ROW"


def test_latency_delays_every_request_of_the_org(sf: Salesforce, salesforce: OrgHandle) -> None:
    salesforce.faults.latency(150)
    started = time.perf_counter()
    sf.limits()
    assert time.perf_counter() - started >= 0.15


def test_drop_after_commit_applies_the_write_but_never_answers(
    sf: Salesforce, salesforce: OrgHandle
) -> None:
    salesforce.faults.drop_after_commit(1, method="POST", path=r"/sobjects/Account")
    with pytest.raises(requests.exceptions.ConnectionError):
        sf.Account.create({"Name": "Written"})
    assert [r["Name"] for r in salesforce.records("Account")] == ["Written"]
    assert sf.Account.create({"Name": "Next"})["success"]


def test_a_fault_may_let_some_matching_requests_through_first(
    sf: Salesforce, salesforce: OrgHandle
) -> None:
    salesforce.faults.fail_next(1, method="POST", path=r"/sobjects/Task", after=2)
    salesforce.faults.drop_after_commit(1, method="POST", path=r"/sobjects/Account", after=1)

    assert sf.Task.create({"Subject": "first"})["success"]
    assert sf.Task.create({"Subject": "second"})["success"]
    with pytest.raises(SalesforceMalformedRequest):
        sf.Task.create({"Subject": "third"})
    assert sf.Task.create({"Subject": "fourth"})["success"]
    assert sf.Account.create({"Name": "answered"})["success"]
    with pytest.raises(requests.exceptions.ConnectionError):
        sf.Account.create({"Name": "written, not answered"})
    assert sorted(r["Subject"] for r in salesforce.records("Task")) == ["first", "fourth", "second"]
    assert len(salesforce.records("Account")) == 2


def test_request_log_records_each_call_and_counts_api_calls(
    sf: Salesforce, salesforce: OrgHandle
) -> None:
    sf.Account.create({"Name": "A"})
    sf.query("SELECT Id FROM Account")
    sf.restful(
        "composite/sobjects",
        method="POST",
        json={"records": [{"attributes": {"type": "Account"}, "Name": f"A{i}"} for i in range(3)]},
    )
    log = salesforce.request_log
    assert [(e.method, e.status, e.api_calls) for e in log] == [
        ("POST", 201, 1),
        ("GET", 200, 1),
        ("POST", 200, 1),
    ]
    assert log[1].path == "/services/data/v59.0/query/"
    assert "q=SELECT" in log[1].query
    assert all(e.duration_ms >= 0 and e.started_at for e in log)
    assert salesforce.api_calls == 3


def test_expired_session_is_logged_without_counting_a_call(
    sf: Salesforce, salesforce: OrgHandle
) -> None:
    salesforce.expire_sessions()
    with pytest.raises(SalesforceExpiredSession):
        sf.limits()
    assert [(e.status, e.api_calls) for e in salesforce.request_log] == [(401, 0)]
    assert salesforce.api_calls == 0
