"""Behaviour checked against Salesforce's documentation (REST API Developer Guide, Object
Reference, identity service), each test naming the documented rule it follows."""

from __future__ import annotations

import pytest
from simple_salesforce import Salesforce
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


@pytest.mark.parametrize(("code", "status", "exception"), [
    ("SERVER_UNAVAILABLE", 503, SalesforceGeneralError),
    ("UNKNOWN_EXCEPTION", 500, SalesforceGeneralError),
    ("REQUEST_LIMIT_EXCEEDED", 403, SalesforceRefusedRequest),
    ("INVALID_SESSION_ID", 401, SalesforceExpiredSession),
])
def test_fail_next_uses_the_status_of_the_error_code(sf: Salesforce, salesforce: OrgHandle,
                                                     code: str, status: int,
                                                     exception: type[Exception]) -> None:
    salesforce.faults.fail_next(1, error_code=code)
    with pytest.raises(exception) as exc:
        sf.Account.create({"Name": "A"})
    assert exc.value.status == status
    assert exc.value.content == [{"message": exc.value.content[0]["message"],
                                  "errorCode": code}]


def test_unable_to_lock_row_fault_is_a_dml_error_with_fields(sf: Salesforce,
                                                             salesforce: OrgHandle) -> None:
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


def test_fault_status_inside_a_composite_subrequest(sf: Salesforce,
                                                    salesforce: OrgHandle) -> None:
    salesforce.faults.fail_next(1, method="POST", path=r"/sobjects/Task$",
                                error_code="SERVER_UNAVAILABLE")
    result = sf.restful("composite", method="POST", json={"compositeRequest": [
        {"method": "POST", "url": "/services/data/v59.0/sobjects/Task", "referenceId": "t",
         "body": {"Subject": "x"}}]})
    assert result["compositeResponse"][0]["httpStatusCode"] == 503
