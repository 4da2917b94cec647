from __future__ import annotations

import time

import pytest
import requests
from simple_salesforce import Salesforce, format_soql
from simple_salesforce.exceptions import SalesforceMalformedRequest

from salesforce_emulator.testing import OrgHandle

pytestmark = pytest.mark.emulator


def test_email_with_an_apostrophe_is_found_through_format_soql(
    sf: Salesforce, salesforce: OrgHandle
) -> None:
    contact = salesforce.insert("Contact", LastName="O'Brien", Email="o'brien@x.com")
    soql = format_soql("SELECT Id FROM Contact WHERE Email = {}", "o'brien@x.com")
    assert [r["Id"] for r in sf.query(soql)["records"]] == [contact]


def test_email_comparison_ignores_case(sf: Salesforce, salesforce: OrgHandle) -> None:
    contact = salesforce.insert("Contact", LastName="John", Email="john@x.com")
    result = sf.query("SELECT Id, Email FROM Contact WHERE Email = 'JOHN@X.COM'")
    assert [r["Id"] for r in result["records"]] == [contact]
    assert result["records"][0]["Email"] == "john@x.com"


def test_query_all_pages_through_5000_records(sf: Salesforce, salesforce: OrgHandle) -> None:
    started = time.perf_counter()
    salesforce.insert_many(
        "Contact", [{"LastName": f"C{i}", "Email": f"c{i}@x.com"} for i in range(5000)]
    )
    assert time.perf_counter() - started < 5
    first = sf.query("SELECT Id FROM Contact")
    assert first["done"] is False and first["totalSize"] == 5000
    assert len(first["records"]) == 2000
    assert first["nextRecordsUrl"].startswith("/services/data/v59.0/query/01g")
    assert first["nextRecordsUrl"].endswith("-2000")
    result = sf.query_all("SELECT Id, Email FROM Contact")
    assert len({r["Id"] for r in result["records"]}) == 5000
    assert salesforce.api_calls == 1 + 3


def test_batch_size_is_configurable_per_org(sf: Salesforce, salesforce: OrgHandle) -> None:
    salesforce.set_query_batch_size(200)
    salesforce.insert_many("Account", [{"Name": f"A{i}"} for i in range(450)])
    first = sf.query("SELECT Id FROM Account")
    assert len(first["records"]) == 200
    assert len(sf.query_all("SELECT Id FROM Account")["records"]) == 450


def test_query_more_continues_with_the_locator(sf: Salesforce, salesforce: OrgHandle) -> None:
    salesforce.set_query_batch_size(200)
    salesforce.insert_many("Account", [{"Name": f"A{i}"} for i in range(250)])
    first = sf.query("SELECT Id FROM Account")
    locator = first["nextRecordsUrl"].rsplit("/", 1)[1]
    rest = sf.query_more(locator)
    assert rest["done"] is True and len(rest["records"]) == 50
    assert "nextRecordsUrl" not in rest


def test_unknown_query_locator_is_refused(api: str, auth: dict, http: requests.Session) -> None:
    response = http.get(f"{api}/query/01gXXXXXXXXXXXXXXX-2000", headers=auth)
    assert response.status_code == 400
    assert response.json()[0]["errorCode"] == "INVALID_QUERY_LOCATOR"


def test_query_all_includes_deleted_records(sf: Salesforce, salesforce: OrgHandle) -> None:
    account = salesforce.insert("Account", Name="Gone")
    sf.Account.delete(account)
    assert sf.query("SELECT Id FROM Account")["totalSize"] == 0
    everything = sf.query("SELECT Id, IsDeleted FROM Account", include_deleted=True)
    assert everything["records"][0]["IsDeleted"] is True


def test_soql_errors_keep_their_error_code(sf: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.query("SELECT Shoe__c FROM Contact")
    assert exc.value.content[0]["errorCode"] == "INVALID_FIELD"
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.query("SELECT Id FROM Widget")
    assert exc.value.content[0]["errorCode"] == "INVALID_TYPE"


def test_count_query_answers_total_size_without_records(
    sf: Salesforce, salesforce: OrgHandle
) -> None:
    salesforce.insert_many("Account", [{"Name": "A"}, {"Name": "B"}])
    result = sf.query("SELECT COUNT() FROM Account")
    assert result["totalSize"] == 2 and result["records"] == []
