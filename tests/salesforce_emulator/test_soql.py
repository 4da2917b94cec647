"""The emulator's SOQL engine against Salesforce's documented rules.

Each test is named after the rule it checks. The catalog here is a small in-memory org
with the standard objects the portal's integrations query.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from itertools import count
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from simple_salesforce import format_soql

from salesforce_emulator.soql import QueryResult, SoqlError, execute
from salesforce_emulator.types import FieldInfo

pytestmark = pytest.mark.emulator

# A Sunday, at noon UTC: TODAY is 2026-03-15.
NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)


def _ref(name: str, to: tuple[str, ...], relationship: str) -> FieldInfo:
    return FieldInfo(name, "reference", reference_to=to, relationship_name=relationship)


_COMMON = [FieldInfo("Id", "id"), FieldInfo("IsDeleted", "boolean")]

SCHEMA: dict[str, tuple[str, list[FieldInfo]]] = {
    # name: (key prefix, fields)
    "User": (
        "005",
        [
            FieldInfo("Name", "string"),
            FieldInfo("Email", "email"),
            FieldInfo("IsActive", "boolean"),
            _ref("ManagerId", ("User",), "Manager"),
        ],
    ),
    "Account": (
        "001",
        [
            FieldInfo("Name", "string"),
            FieldInfo("Industry", "picklist"),
            FieldInfo("AnnualRevenue", "currency"),
            FieldInfo("NumberOfEmployees", "int"),
            _ref("OwnerId", ("User",), "Owner"),
            FieldInfo("CreatedDate", "datetime"),
        ],
    ),
    "Contact": (
        "003",
        [
            FieldInfo("FirstName", "string"),
            FieldInfo("LastName", "string"),
            FieldInfo("Email", "email"),
            FieldInfo("Notes__c", "string"),
            FieldInfo("Birthdate", "date"),
            FieldInfo("HasOptedOutOfEmail", "boolean"),
            FieldInfo("Description", "textarea", filterable=False, sortable=False),
            _ref("AccountId", ("Account",), "Account"),
            _ref("OwnerId", ("User",), "Owner"),
            FieldInfo("CreatedDate", "datetime"),
        ],
    ),
    "Lead": (
        "00Q",
        [
            FieldInfo("LastName", "string"),
            FieldInfo("Email", "email"),
            FieldInfo("Company", "string"),
        ],
    ),
    "Opportunity": (
        "006",
        [
            FieldInfo("Name", "string"),
            FieldInfo("IsClosed", "boolean"),
            FieldInfo("CloseDate", "date"),
            FieldInfo("Amount", "currency"),
            _ref("AccountId", ("Account",), "Account"),
        ],
    ),
    "OpportunityContactRole": (
        "00K",
        [
            _ref("ContactId", ("Contact",), "Contact"),
            _ref("OpportunityId", ("Opportunity",), "Opportunity"),
            FieldInfo("Role", "picklist"),
        ],
    ),
    "Task": (
        "00T",
        [
            FieldInfo("Subject", "string"),
            _ref("WhoId", ("Contact", "Lead"), "Who"),
            _ref("WhatId", ("Account", "Opportunity"), "What"),
            FieldInfo("ActivityDate", "date"),
        ],
    ),
}


class MemoryCatalog:
    """The Catalog protocol over dicts, enough for the engine's tests."""

    def __init__(self) -> None:
        self.fields = {
            name: {f.name.lower(): f for f in [*_COMMON, *fields]}
            for name, (_, fields) in SCHEMA.items()
        }
        self.records: dict[str, list[dict[str, Any]]] = {name: [] for name in SCHEMA}
        self._numbers = count(1)

    def add(self, sobject: str, **values: Any) -> dict[str, Any]:
        prefix = SCHEMA[sobject][0]
        record: dict[str, Any] = {info.name: None for info in self.fields[sobject].values()}
        record.update(Id=f"{prefix}{next(self._numbers):012d}AAA", IsDeleted=False)
        record.update(values)
        self.records[sobject].append(record)
        return record

    def object_name(self, sobject: str) -> str | None:
        return next((name for name in SCHEMA if name.lower() == sobject.lower()), None)

    def object_fields(self, sobject: str) -> Mapping[str, FieldInfo] | None:
        return self.fields.get(sobject)

    def rows(self, sobject: str, *, include_deleted: bool) -> Iterable[Mapping[str, Any]]:
        return [r for r in self.records[sobject] if include_deleted or not r["IsDeleted"]]

    def get_by_id(self, record_id: str) -> tuple[str, Mapping[str, Any]] | None:
        for name, records in self.records.items():
            for record in records:
                if record["Id"][:15] == record_id[:15]:
                    return name, record
        return None


@pytest.fixture
def org() -> MemoryCatalog:
    catalog = MemoryCatalog()
    boss = catalog.add("User", Name="Big Boss", Email="boss@example.com", IsActive=True)
    owner = catalog.add(
        "User", Name="Olive Owner", Email="olive@example.com", IsActive=True, ManagerId=boss["Id"]
    )
    acme = catalog.add(
        "Account",
        Name="Acme",
        Industry="Retail",
        AnnualRevenue=1000.0,
        NumberOfEmployees=10,
        OwnerId=owner["Id"],
        CreatedDate="2026-03-14T23:30:00.000+0000",
    )
    globex = catalog.add(
        "Account",
        Name="globex",
        AnnualRevenue=5000.0,
        NumberOfEmployees=200,
        CreatedDate="2026-03-15T00:30:00.000+0000",
    )
    ada = catalog.add(
        "Contact",
        FirstName="Ada",
        LastName="Lovelace",
        Email="Ada@Example.com",
        AccountId=acme["Id"],
        OwnerId=owner["Id"],
        Birthdate="1815-12-10",
        HasOptedOutOfEmail=False,
        CreatedDate="2026-03-15T08:00:00.000+0000",
    )
    bob = catalog.add(
        "Contact",
        FirstName="Bob",
        LastName="brown",
        Email="bob@example.com",
        AccountId=globex["Id"],
        Birthdate="1990-01-31",
        HasOptedOutOfEmail=True,
        CreatedDate="2026-03-10T08:00:00.000+0000",
    )
    cy = catalog.add("Contact", FirstName="Cy", LastName="Clark", Email=None, Notes__c="50%_off")
    catalog.add("Contact", LastName="Gone", Email="gone@example.com", IsDeleted=True)
    lead = catalog.add("Lead", LastName="Lee", Email="lee@lead.com", Company="LeadCo")
    won = catalog.add(
        "Opportunity", Name="Big deal", IsClosed=True, CloseDate="2026-03-14", AccountId=acme["Id"]
    )
    catalog.add("Opportunity", Name="Open deal", IsClosed=False, CloseDate="2026-03-20")
    catalog.add("OpportunityContactRole", ContactId=ada["Id"], OpportunityId=won["Id"])
    catalog.add("Task", Subject="Call Ada", WhoId=ada["Id"], WhatId=acme["Id"])
    catalog.add("Task", Subject="Call Lee", WhoId=lead["Id"], ActivityDate="2026-03-16")
    catalog.add("Task", Subject="Nobody", ActivityDate="2026-03-13")
    del bob, cy
    return catalog


def run(soql: str, catalog: MemoryCatalog, **kwargs: Any) -> QueryResult:
    return execute(soql, catalog, api_version="62.0", now=NOW, **kwargs)


def column(soql: str, catalog: MemoryCatalog, name: str) -> list[Any]:
    return [r[name] for r in run(soql, catalog).records]


def error(soql: str, catalog: MemoryCatalog) -> SoqlError:
    with pytest.raises(SoqlError) as caught:
        run(soql, catalog)
    return caught.value


def contact(catalog: MemoryCatalog, last_name: str) -> dict[str, Any]:
    return next(r for r in catalog.records["Contact"] if r["LastName"] == last_name)


# ---------------------------------------------------------------------------
# SELECT and the shape of records
# ---------------------------------------------------------------------------


def test_record_has_attributes_with_type_and_versioned_url(org: MemoryCatalog) -> None:
    record = run("SELECT Id FROM Contact WHERE LastName = 'Lovelace'", org).records[0]
    ada = contact(org, "Lovelace")
    assert record == {
        "attributes": {
            "type": "Contact",
            "url": f"/services/data/v62.0/sobjects/Contact/{ada['Id']}",
        },
        "Id": ada["Id"],
    }


def test_field_keys_use_canonical_spelling_in_select_order(org: MemoryCatalog) -> None:
    record = run("SELECT email, LASTNAME, id FROM Contact WHERE LastName = 'Lovelace'", org)
    assert list(record.records[0]) == ["attributes", "Email", "LastName", "Id"]


def test_result_names_the_canonical_object_and_counts_rows(org: MemoryCatalog) -> None:
    result = run("SELECT Id FROM contact", org)
    assert (result.sobject, result.total_size, result.is_count) == ("Contact", 3, False)


def test_parent_field_is_nested_under_relationship_name(org: MemoryCatalog) -> None:
    record = run("SELECT account.name FROM Contact WHERE LastName = 'Lovelace'", org).records[0]
    acme = org.records["Account"][0]
    assert record["Account"] == {
        "attributes": {
            "type": "Account",
            "url": f"/services/data/v62.0/sobjects/Account/{acme['Id']}",
        },
        "Name": "Acme",
    }


def test_fields_of_one_parent_share_one_nested_record(org: MemoryCatalog) -> None:
    soql = "SELECT Account.Name, Id, Account.Industry FROM Contact WHERE LastName = 'Lovelace'"
    record = run(soql, org).records[0]
    assert list(record) == ["attributes", "Account", "Id"]
    assert list(record["Account"]) == ["attributes", "Name", "Industry"]


def test_null_parent_reference_gives_null_relationship(org: MemoryCatalog) -> None:
    record = run("SELECT Account.Name FROM Contact WHERE LastName = 'Clark'", org).records[0]
    assert record["Account"] is None


def test_parent_path_follows_two_relationships(org: MemoryCatalog) -> None:
    record = run("SELECT Account.Owner.Email FROM Contact WHERE LastName = 'Lovelace'", org)
    assert record.records[0]["Account"]["Owner"]["Email"] == "olive@example.com"
    assert record.records[0]["Account"]["Owner"]["attributes"]["type"] == "User"


def test_null_reference_midway_gives_null_at_that_level(org: MemoryCatalog) -> None:
    record = run("SELECT Account.Owner.Email FROM Contact WHERE LastName = 'brown'", org)
    assert record.records[0]["Account"]["Owner"] is None


def test_polymorphic_relationship_takes_the_type_of_the_record(org: MemoryCatalog) -> None:
    records = run("SELECT Subject, Who.Email FROM Task ORDER BY Subject", org).records
    assert [(r["Subject"], r["Who"] and r["Who"]["attributes"]["type"]) for r in records] == [
        ("Call Ada", "Contact"),
        ("Call Lee", "Lead"),
        ("Nobody", None),
    ]
    assert records[1]["Who"]["Email"] == "lee@lead.com"


def test_polymorphic_relationship_type_names_the_parent_object(org: MemoryCatalog) -> None:
    records = run("SELECT Who.Type FROM Task WHERE Who.Type = 'lead'", org).records
    assert [r["Who"]["Type"] for r in records] == ["Lead"]


def test_path_may_start_with_the_from_object_name(org: MemoryCatalog) -> None:
    record = run("SELECT Contact.Email FROM Contact WHERE LastName = 'Lovelace'", org)
    assert record.records[0]["Email"] == "Ada@Example.com"


def test_five_relationship_levels_are_allowed(org: MemoryCatalog) -> None:
    soql = "SELECT Account.Owner.Manager.Manager.Manager.Email FROM Contact"
    assert run(soql, org).total_size == 3


def test_more_than_five_relationship_levels_is_malformed(org: MemoryCatalog) -> None:
    soql = "SELECT Account.Owner.Manager.Manager.Manager.Manager.Email FROM Contact"
    assert error(soql, org).error_code == "MALFORMED_QUERY"


def test_duplicate_field_is_malformed(org: MemoryCatalog) -> None:
    caught = error("SELECT Id, Email, id FROM Contact", org)
    assert (caught.error_code, caught.message) == (
        "MALFORMED_QUERY",
        "duplicate field selected: id",
    )


def test_duplicate_parent_field_is_malformed(org: MemoryCatalog) -> None:
    assert error("SELECT Account.Name, account.NAME FROM Contact", org).error_code == (
        "MALFORMED_QUERY"
    )


def test_count_returns_the_count_and_no_records(org: MemoryCatalog) -> None:
    result = run("SELECT COUNT() FROM Contact WHERE Email != null", org)
    assert (result.is_count, result.total_size, result.records) == (True, 2, [])


def test_count_with_other_fields_is_malformed(org: MemoryCatalog) -> None:
    assert error("SELECT COUNT(), Id FROM Contact", org).error_code == "MALFORMED_QUERY"


def test_count_respects_limit(org: MemoryCatalog) -> None:
    assert run("SELECT COUNT() FROM Contact LIMIT 2", org).total_size == 2


# ---------------------------------------------------------------------------
# FROM and names
# ---------------------------------------------------------------------------


def test_unknown_object_is_invalid_type(org: MemoryCatalog) -> None:
    caught = error("SELECT Id FROM Foo", org)
    assert caught.error_code == "INVALID_TYPE"
    assert caught.message == (
        "\nSELECT Id FROM Foo\n               ^\nERROR at Row:1:Column:16\n"
        "sObject type 'Foo' is not supported. If you are attempting to use a custom object, "
        "be sure to append the '__c' after the entity name. Please reference your WSDL or "
        "the describe call for the appropriate names."
    )


def test_unknown_field_is_invalid_field_pointing_at_it(org: MemoryCatalog) -> None:
    caught = error("SELECT Id, Foo FROM Account", org)
    assert caught.error_code == "INVALID_FIELD"
    assert caught.message == (
        "\nSELECT Id, Foo FROM Account\n           ^\nERROR at Row:1:Column:12\n"
        "No such column 'Foo' on entity 'Account'. If you are attempting to use a custom "
        "field, be sure to append the '__c' after the custom field name. Please reference "
        "your WSDL or the describe call for the appropriate names."
    )


def test_error_row_and_column_count_lines(org: MemoryCatalog) -> None:
    caught = error("SELECT Id\nFROM Account\nWHERE  Foo = 1", org)
    assert "\nWHERE  Foo = 1\n       ^\nERROR at Row:3:Column:8\nNo such column 'Foo'" in (
        caught.message
    )


def test_unknown_relationship_is_invalid_field(org: MemoryCatalog) -> None:
    caught = error("SELECT Foo.Name FROM Contact", org)
    assert caught.error_code == "INVALID_FIELD"
    assert "\nDidn't understand relationship 'Foo' in field path. If you are attempting to " in (
        caught.message
    )


def test_unknown_field_on_parent_names_the_parent_object(org: MemoryCatalog) -> None:
    caught = error("SELECT Account.Foo FROM Contact", org)
    assert "No such column 'Foo' on entity 'Account'." in caught.message


def test_reference_field_name_is_not_a_relationship(org: MemoryCatalog) -> None:
    assert error("SELECT AccountId.Name FROM Contact", org).error_code == "INVALID_FIELD"


def test_field_named_like_a_keyword_prefix_is_a_field(org: MemoryCatalog) -> None:
    assert column("SELECT Notes__c FROM Contact WHERE Notes__c != null", org, "Notes__c") == [
        "50%_off"
    ]


# ---------------------------------------------------------------------------
# WHERE: operators
# ---------------------------------------------------------------------------


def test_email_comparison_ignores_case(org: MemoryCatalog) -> None:
    soql = "SELECT Email FROM Contact WHERE Email = 'ada@EXAMPLE.COM'"
    assert column(soql, org, "Email") == ["Ada@Example.com"]


def test_not_equals_includes_records_whose_value_is_null(org: MemoryCatalog) -> None:
    soql = "SELECT LastName FROM Contact WHERE Email != 'ada@example.com'"
    assert column(soql, org, "LastName") == ["brown", "Clark"]


def test_equals_null_finds_missing_values(org: MemoryCatalog) -> None:
    assert column("SELECT LastName FROM Contact WHERE Email = null", org, "LastName") == ["Clark"]


def test_not_equals_null_finds_present_values(org: MemoryCatalog) -> None:
    soql = "SELECT LastName FROM Contact WHERE Email != NULL"
    assert column(soql, org, "LastName") == ["Lovelace", "brown"]


def test_number_comparisons(org: MemoryCatalog) -> None:
    assert column("SELECT Name FROM Account WHERE AnnualRevenue > 1000", org, "Name") == ["globex"]
    assert column("SELECT Name FROM Account WHERE AnnualRevenue >= 1000.0", org, "Name") == [
        "Acme",
        "globex",
    ]
    assert column("SELECT Name FROM Account WHERE NumberOfEmployees < 11", org, "Name") == ["Acme"]
    assert column("SELECT Name FROM Account WHERE NumberOfEmployees <= -1", org, "Name") == []


def test_string_ordering_comparison_ignores_case(org: MemoryCatalog) -> None:
    soql = "SELECT LastName FROM Contact WHERE LastName < 'C'"
    assert column(soql, org, "LastName") == ["brown"]


def test_null_value_fails_ordering_comparisons(org: MemoryCatalog) -> None:
    assert column("SELECT LastName FROM Contact WHERE Email > 'a'", org, "LastName") == [
        "Lovelace",
        "brown",
    ]


def test_in_list_matches_any_value_ignoring_case(org: MemoryCatalog) -> None:
    soql = "SELECT LastName FROM Contact WHERE Email IN ('BOB@example.com', 'x@y.z')"
    assert column(soql, org, "LastName") == ["brown"]


def test_in_list_may_hold_null(org: MemoryCatalog) -> None:
    soql = "SELECT LastName FROM Contact WHERE Email IN (null, 'bob@example.com')"
    assert column(soql, org, "LastName") == ["brown", "Clark"]


def test_not_in_list_excludes_the_values(org: MemoryCatalog) -> None:
    soql = "SELECT LastName FROM Contact WHERE LastName NOT IN ('lovelace', 'Brown')"
    assert column(soql, org, "LastName") == ["Clark"]


def test_like_percent_matches_any_run_of_characters(org: MemoryCatalog) -> None:
    soql = "SELECT LastName FROM Contact WHERE Email LIKE '%example.com'"
    assert column(soql, org, "LastName") == ["Lovelace", "brown"]


def test_like_underscore_matches_exactly_one_character(org: MemoryCatalog) -> None:
    assert column("SELECT LastName FROM Contact WHERE LastName LIKE 'Cl_rk'", org, "LastName") == [
        "Clark"
    ]
    assert column("SELECT LastName FROM Contact WHERE LastName LIKE 'Cl_k'", org, "LastName") == []


def test_like_ignores_case(org: MemoryCatalog) -> None:
    soql = "SELECT LastName FROM Contact WHERE LastName LIKE 'BR%'"
    assert column(soql, org, "LastName") == ["brown"]


def test_like_without_wildcards_is_whole_value_match(org: MemoryCatalog) -> None:
    assert column("SELECT LastName FROM Contact WHERE LastName LIKE 'Clar'", org, "LastName") == []


def test_like_escaped_percent_and_underscore_are_literal(org: MemoryCatalog) -> None:
    soql = r"SELECT LastName FROM Contact WHERE Notes__c LIKE '50\%\_%'"
    assert column(soql, org, "LastName") == ["Clark"]
    soql = r"SELECT LastName FROM Contact WHERE Notes__c LIKE '50\_%'"
    assert column(soql, org, "LastName") == []


def test_like_on_id_field_is_invalid_operator(org: MemoryCatalog) -> None:
    assert error("SELECT Id FROM Contact WHERE Id LIKE '003%'", org).error_code == (
        "INVALID_QUERY_FILTER_OPERATOR"
    )


def test_angle_bracket_not_equals_is_malformed(org: MemoryCatalog) -> None:
    assert error("SELECT Id FROM Contact WHERE Email <> 'a'", org).error_code == "MALFORMED_QUERY"


def test_and_requires_both(org: MemoryCatalog) -> None:
    soql = "SELECT LastName FROM Contact WHERE Email LIKE '%example%' AND FirstName = 'bob'"
    assert column(soql, org, "LastName") == ["brown"]


def test_or_requires_either(org: MemoryCatalog) -> None:
    soql = "SELECT LastName FROM Contact WHERE FirstName = 'Ada' OR FirstName = 'Cy'"
    assert column(soql, org, "LastName") == ["Lovelace", "Clark"]


def test_not_negates_the_expression(org: MemoryCatalog) -> None:
    soql = "SELECT LastName FROM Contact WHERE NOT FirstName = 'Ada'"
    assert column(soql, org, "LastName") == ["brown", "Clark"]
    soql = "SELECT LastName FROM Contact WHERE NOT (FirstName = 'Ada' OR FirstName = 'Cy')"
    assert column(soql, org, "LastName") == ["brown"]


def test_mixing_and_or_without_parentheses_is_malformed(org: MemoryCatalog) -> None:
    caught = error("SELECT Id FROM Contact WHERE FirstName = 'a' AND Email = 'b' OR Id = null", org)
    assert caught.error_code == "MALFORMED_QUERY"
    assert caught.message.endswith("ERROR at Row:1:Column:62\nunexpected token: OR")


def test_mixing_or_and_without_parentheses_is_malformed(org: MemoryCatalog) -> None:
    soql = "SELECT Id FROM Contact WHERE FirstName = 'a' OR Email = 'b' AND Id = null"
    assert error(soql, org).error_code == "MALFORMED_QUERY"


def test_parentheses_allow_mixing_and_or(org: MemoryCatalog) -> None:
    soql = (
        "SELECT LastName FROM Contact "
        "WHERE (FirstName = 'Ada' OR FirstName = 'Bob') AND Email LIKE 'b%'"
    )
    assert column(soql, org, "LastName") == ["brown"]


def test_boolean_literals_ignore_case(org: MemoryCatalog) -> None:
    soql = "SELECT LastName FROM Contact WHERE HasOptedOutOfEmail = TRUE"
    assert column(soql, org, "LastName") == ["brown"]
    soql = "SELECT LastName FROM Contact WHERE HasOptedOutOfEmail = False"
    assert column(soql, org, "LastName") == ["Lovelace"]


def test_keywords_ignore_case(org: MemoryCatalog) -> None:
    soql = (
        "select LastName from Contact where Email like '%example%' and not FirstName in ('x') "
        "order by LastName desc nulls last limit 1 offset 1"
    )
    assert column(soql, org, "LastName") == ["brown"]


def test_relationship_path_in_where(org: MemoryCatalog) -> None:
    soql = "SELECT LastName FROM Contact WHERE Account.Name = 'ACME'"
    assert column(soql, org, "LastName") == ["Lovelace"]


def test_relationship_path_in_where_with_in(org: MemoryCatalog) -> None:
    soql = "SELECT Role FROM OpportunityContactRole WHERE Contact.Email IN ('ada@example.com')"
    assert run(soql, org).total_size == 1


def test_null_parent_in_where_compares_as_null(org: MemoryCatalog) -> None:
    soql = "SELECT LastName FROM Contact WHERE Account.Name = null"
    assert column(soql, org, "LastName") == ["Clark"]


def test_field_that_cannot_be_filtered_is_invalid_field(org: MemoryCatalog) -> None:
    caught = error("SELECT Id FROM Contact WHERE Description = 'x'", org)
    assert caught.error_code == "INVALID_FIELD"
    assert "field 'Description' can not be filtered in a query call" in caught.message


# ---------------------------------------------------------------------------
# WHERE: types of values
# ---------------------------------------------------------------------------


def test_string_field_with_number_is_invalid_field(org: MemoryCatalog) -> None:
    caught = error("SELECT Id FROM Contact WHERE LastName = 5", org)
    assert caught.error_code == "INVALID_FIELD"
    assert caught.message.endswith(
        "value of filter criterion for field 'LastName' must be of type string "
        "and should be enclosed in quotes"
    )


def test_boolean_field_with_string_is_invalid_field(org: MemoryCatalog) -> None:
    caught = error("SELECT Id FROM Contact WHERE HasOptedOutOfEmail = 'true'", org)
    assert caught.error_code == "INVALID_FIELD"
    assert caught.message.endswith("must be of type boolean and should not be enclosed in quotes")


def test_number_field_with_string_is_invalid_field(org: MemoryCatalog) -> None:
    caught = error("SELECT Id FROM Account WHERE AnnualRevenue = '5'", org)
    assert caught.error_code == "INVALID_FIELD"
    assert caught.message.endswith("must be of type double and should not be enclosed in quotes")


def test_date_field_with_datetime_literal_is_invalid_field(org: MemoryCatalog) -> None:
    caught = error("SELECT Id FROM Contact WHERE Birthdate = 1990-01-31T00:00:00Z", org)
    assert caught.error_code == "INVALID_FIELD"
    assert caught.message.endswith(
        "value of filter criterion for field 'Birthdate' must be of type date "
        "and should not be enclosed in quotes"
    )


def test_datetime_field_with_date_literal_is_invalid_field(org: MemoryCatalog) -> None:
    caught = error("SELECT Id FROM Contact WHERE CreatedDate > 2026-01-01", org)
    assert caught.error_code == "INVALID_FIELD"
    assert "must be of type dateTime" in caught.message


def test_date_field_with_quoted_date_is_invalid_field(org: MemoryCatalog) -> None:
    assert error("SELECT Id FROM Contact WHERE Birthdate = '1990-01-31'", org).error_code == (
        "INVALID_FIELD"
    )


def test_boolean_ordering_comparison_is_invalid_operator(org: MemoryCatalog) -> None:
    assert error("SELECT Id FROM Contact WHERE HasOptedOutOfEmail > true", org).error_code == (
        "INVALID_QUERY_FILTER_OPERATOR"
    )


def test_date_literal_compares_dates(org: MemoryCatalog) -> None:
    soql = "SELECT LastName FROM Contact WHERE Birthdate = 1990-01-31"
    assert column(soql, org, "LastName") == ["brown"]
    soql = "SELECT LastName FROM Contact WHERE Birthdate < 1900-01-01"
    assert column(soql, org, "LastName") == ["Lovelace"]


def test_datetime_literal_in_utc(org: MemoryCatalog) -> None:
    soql = "SELECT LastName FROM Contact WHERE CreatedDate = 2026-03-15T08:00:00Z"
    assert column(soql, org, "LastName") == ["Lovelace"]


def test_datetime_literal_with_offset(org: MemoryCatalog) -> None:
    soql = "SELECT LastName FROM Contact WHERE CreatedDate = 2026-03-15T10:00:00+02:00"
    assert column(soql, org, "LastName") == ["Lovelace"]
    soql = "SELECT LastName FROM Contact WHERE CreatedDate < 2026-03-10T01:00:00-08:00"
    assert column(soql, org, "LastName") == ["brown"]


def test_datetime_literal_with_fractional_seconds(org: MemoryCatalog) -> None:
    soql = "SELECT LastName FROM Contact WHERE CreatedDate > 2026-03-15T07:59:59.999Z"
    assert column(soql, org, "LastName") == ["Lovelace"]


def test_impossible_date_is_malformed(org: MemoryCatalog) -> None:
    assert error("SELECT Id FROM Contact WHERE Birthdate = 2026-02-30", org).error_code == (
        "MALFORMED_QUERY"
    )


def test_today_yesterday_tomorrow_on_date_fields(org: MemoryCatalog) -> None:
    assert column("SELECT Subject FROM Task WHERE ActivityDate = TOMORROW", org, "Subject") == [
        "Call Lee"
    ]
    assert column("SELECT Subject FROM Task WHERE ActivityDate < TODAY", org, "Subject") == [
        "Nobody"
    ]
    assert column("SELECT Name FROM Opportunity WHERE CloseDate = yesterday", org, "Name") == [
        "Big deal"
    ]


def test_today_on_datetime_field_is_the_utc_day(org: MemoryCatalog) -> None:
    assert column("SELECT Name FROM Account WHERE CreatedDate = TODAY", org, "Name") == ["globex"]
    assert column("SELECT Name FROM Account WHERE CreatedDate < TODAY", org, "Name") == ["Acme"]


def test_last_n_days_includes_today(org: MemoryCatalog) -> None:
    soql = "SELECT LastName FROM Contact WHERE CreatedDate = LAST_N_DAYS:5"
    assert column(soql, org, "LastName") == ["Lovelace", "brown"]
    soql = "SELECT LastName FROM Contact WHERE CreatedDate = LAST_N_DAYS:4"
    assert column(soql, org, "LastName") == ["Lovelace"]


def test_next_n_days_starts_tomorrow(org: MemoryCatalog) -> None:
    soql = "SELECT Subject FROM Task WHERE ActivityDate = NEXT_N_DAYS:1"
    assert column(soql, org, "Subject") == ["Call Lee"]
    assert column("SELECT Name FROM Opportunity WHERE CloseDate = NEXT_N_DAYS:4", org, "Name") == []
    assert column("SELECT Name FROM Opportunity WHERE CloseDate = NEXT_N_DAYS:5", org, "Name") == [
        "Open deal"
    ]


def test_relative_date_literal_needs_its_number(org: MemoryCatalog) -> None:
    soql = "SELECT Id FROM Contact WHERE CreatedDate = LAST_N_DAYS"
    assert error(soql, org).error_code == "MALFORMED_QUERY"


def test_unknown_bare_word_value_is_malformed(org: MemoryCatalog) -> None:
    assert error("SELECT Id FROM Contact WHERE Email = bob", org).error_code == "MALFORMED_QUERY"


def test_now_defaults_to_the_current_time(org: MemoryCatalog) -> None:
    org.add("Task", Subject="Today", ActivityDate=datetime.now(UTC).date().isoformat())
    result = execute("SELECT Subject FROM Task WHERE ActivityDate = TODAY", org, api_version="62.0")
    assert [r["Subject"] for r in result.records] == ["Today"]


# ---------------------------------------------------------------------------
# Ids
# ---------------------------------------------------------------------------


def test_id_comparison_accepts_a_15_character_id(org: MemoryCatalog) -> None:
    ada = contact(org, "Lovelace")
    soql = format_soql("SELECT LastName FROM Contact WHERE Id = {}", ada["Id"][:15])
    assert column(soql, org, "LastName") == ["Lovelace"]


def test_reference_comparison_accepts_an_18_character_id(org: MemoryCatalog) -> None:
    acme = org.records["Account"][0]
    soql = format_soql(
        "SELECT LastName FROM Contact WHERE AccountId IN {}", [acme["Id"][:15] + "XYZ"]
    )
    assert column(soql, org, "LastName") == ["Lovelace"]


def test_id_comparison_is_case_sensitive_on_15_characters(org: MemoryCatalog) -> None:
    org.add("Contact", Id="003AbCdEfGhIjKlAAA", LastName="Mixed")
    assert run("SELECT Id FROM Contact WHERE Id = '003AbCdEfGhIjKl'", org).total_size == 1
    assert run("SELECT Id FROM Contact WHERE Id = '003AbCdEfGhIjKlzzz'", org).total_size == 1
    assert run("SELECT Id FROM Contact WHERE Id = '003abcdefghijkl'", org).total_size == 0


def test_malformed_id_is_invalid_query_filter_operator(org: MemoryCatalog) -> None:
    caught = error("SELECT Id FROM Contact WHERE AccountId = 'abc'", org)
    assert caught.error_code == "INVALID_QUERY_FILTER_OPERATOR"
    assert caught.message.endswith("\ninvalid ID field: abc")


def test_id_ordering_comparison_is_allowed(org: MemoryCatalog) -> None:
    first = org.records["Contact"][0]["Id"]
    assert run(format_soql("SELECT Id FROM Contact WHERE Id > {}", first), org).total_size == 2


# ---------------------------------------------------------------------------
# Semi-joins and anti-joins
# ---------------------------------------------------------------------------


def test_semi_join_keeps_records_whose_id_the_subquery_returns(org: MemoryCatalog) -> None:
    soql = (
        "SELECT LastName FROM Contact WHERE Id IN "
        "(SELECT ContactId FROM OpportunityContactRole WHERE Opportunity.IsClosed = true)"
    )
    assert column(soql, org, "LastName") == ["Lovelace"]


def test_semi_join_subquery_filter_applies(org: MemoryCatalog) -> None:
    soql = (
        "SELECT LastName FROM Contact WHERE Id IN "
        "(SELECT ContactId FROM OpportunityContactRole WHERE Opportunity.IsClosed = false)"
    )
    assert column(soql, org, "LastName") == []


def test_anti_join_drops_records_whose_id_the_subquery_returns(org: MemoryCatalog) -> None:
    soql = (
        "SELECT LastName FROM Contact WHERE Id NOT IN "
        "(SELECT ContactId FROM OpportunityContactRole)"
    )
    assert column(soql, org, "LastName") == ["brown", "Clark"]


def test_semi_join_on_a_reference_field(org: MemoryCatalog) -> None:
    soql = "SELECT LastName FROM Contact WHERE AccountId IN (SELECT AccountId FROM Opportunity)"
    assert column(soql, org, "LastName") == ["Lovelace"]


def test_semi_join_under_or_is_malformed(org: MemoryCatalog) -> None:
    soql = (
        "SELECT Id FROM Contact WHERE LastName = 'x' OR "
        "(Email = 'y' AND Id IN (SELECT ContactId FROM OpportunityContactRole))"
    )
    caught = error(soql, org)
    assert caught.error_code == "MALFORMED_QUERY"
    assert caught.message.endswith("Semi join sub-selects are not allowed with the 'OR' operator")


def test_nested_semi_join_is_malformed(org: MemoryCatalog) -> None:
    soql = (
        "SELECT Id FROM Account WHERE Id IN (SELECT AccountId FROM Contact WHERE Id IN "
        "(SELECT ContactId FROM OpportunityContactRole))"
    )
    assert error(soql, org).error_code == "MALFORMED_QUERY"


def test_semi_join_on_a_text_field_is_invalid_field(org: MemoryCatalog) -> None:
    soql = "SELECT Id FROM Contact WHERE Email IN (SELECT ContactId FROM OpportunityContactRole)"
    assert error(soql, org).error_code == "INVALID_FIELD"


def test_semi_join_on_an_unknown_object_is_invalid_type(org: MemoryCatalog) -> None:
    soql = "SELECT Id FROM Contact WHERE Id IN (SELECT ContactId FROM Nope)"
    assert error(soql, org).error_code == "INVALID_TYPE"


# ---------------------------------------------------------------------------
# Quoted strings
# ---------------------------------------------------------------------------


def test_escaped_single_quote_is_part_of_the_value(org: MemoryCatalog) -> None:
    org.add("Contact", LastName="O'Brien")
    assert column(r"SELECT LastName FROM Contact WHERE LastName = 'o\'brien'", org, "LastName") == [
        "O'Brien"
    ]


def test_escape_sequences_decode(org: MemoryCatalog) -> None:
    org.add("Contact", LastName='a\nb\tc\\d"e\rf\bg\fh')
    soql = r"SELECT LastName FROM Contact WHERE LastName = 'a\nb\Tc\\d\"e\rf\bg\Fh'"
    assert run(soql, org).total_size == 1


def test_unicode_escape_decodes(org: MemoryCatalog) -> None:
    org.add("Contact", LastName="Jos\u00e9")
    assert run(r"SELECT Id FROM Contact WHERE LastName = 'Jos\u00e9'", org).total_size == 1


def test_unknown_escape_is_malformed(org: MemoryCatalog) -> None:
    caught = error(r"SELECT Id FROM Contact WHERE LastName = 'a\qb'", org)
    assert caught.error_code == "MALFORMED_QUERY"
    assert "Illegal character sequence '\\q'" in caught.message


def test_unterminated_string_is_malformed(org: MemoryCatalog) -> None:
    assert error("SELECT Id FROM Contact WHERE LastName = 'abc", org).error_code == (
        "MALFORMED_QUERY"
    )


def test_double_quoted_string_is_malformed(org: MemoryCatalog) -> None:
    assert error('SELECT Id FROM Contact WHERE LastName = "abc"', org).error_code == (
        "MALFORMED_QUERY"
    )


def test_format_soql_quoted_apostrophe_address_is_found(org: MemoryCatalog) -> None:
    org.add("Contact", LastName="OBrien", Email="o'brien@example.com")
    soql = format_soql("SELECT Id FROM Contact WHERE Email = {}", "o'brien@example.com")
    assert run(soql, org).total_size == 1


def test_format_soql_list_makes_an_in_list(org: MemoryCatalog) -> None:
    soql = format_soql(
        "SELECT LastName FROM Contact WHERE Email IN {}", ["bob@example.com", "o'x@y.z"]
    )
    assert column(soql, org, "LastName") == ["brown"]


def test_format_soql_datetime_is_a_datetime_literal(org: MemoryCatalog) -> None:
    soql = format_soql(
        "SELECT LastName FROM Contact WHERE CreatedDate >= {}", datetime(2026, 3, 15, tzinfo=UTC)
    )
    assert column(soql, org, "LastName") == ["Lovelace"]


# ---------------------------------------------------------------------------
# ORDER BY, LIMIT, OFFSET
# ---------------------------------------------------------------------------


def test_order_by_ascending_ignores_case(org: MemoryCatalog) -> None:
    assert column("SELECT LastName FROM Contact ORDER BY LastName", org, "LastName") == [
        "brown",
        "Clark",
        "Lovelace",
    ]


def test_order_by_descending(org: MemoryCatalog) -> None:
    assert column("SELECT Name FROM Account ORDER BY AnnualRevenue DESC", org, "Name") == [
        "globex",
        "Acme",
    ]


def test_nulls_come_first_ascending_by_default(org: MemoryCatalog) -> None:
    assert column("SELECT LastName FROM Contact ORDER BY Email ASC", org, "LastName") == [
        "Clark",
        "Lovelace",
        "brown",
    ]


def test_nulls_come_last_descending_by_default(org: MemoryCatalog) -> None:
    assert column("SELECT LastName FROM Contact ORDER BY Email DESC", org, "LastName") == [
        "brown",
        "Lovelace",
        "Clark",
    ]


def test_nulls_position_can_be_chosen(org: MemoryCatalog) -> None:
    assert column("SELECT LastName FROM Contact ORDER BY Email NULLS LAST", org, "LastName")[
        -1
    ] == ("Clark")
    assert column("SELECT LastName FROM Contact ORDER BY Email DESC NULLS FIRST", org, "LastName")[
        0
    ] == ("Clark")


def test_order_by_several_fields(org: MemoryCatalog) -> None:
    org.add("Contact", FirstName="Al", LastName="Brown")
    soql = "SELECT FirstName FROM Contact WHERE LastName = 'brown' ORDER BY LastName, FirstName"
    assert column(soql, org, "FirstName") == ["Al", "Bob"]
    soql = soql + " DESC"
    assert column(soql, org, "FirstName") == ["Bob", "Al"]


def test_order_by_relationship_path(org: MemoryCatalog) -> None:
    soql = "SELECT LastName FROM Contact ORDER BY Account.Name DESC"
    assert column(soql, org, "LastName") == ["brown", "Lovelace", "Clark"]


def test_order_by_unsortable_field_is_invalid_field(org: MemoryCatalog) -> None:
    assert error("SELECT Id FROM Contact ORDER BY Description", org).error_code == "INVALID_FIELD"


def test_limit_keeps_the_first_rows(org: MemoryCatalog) -> None:
    result = run("SELECT LastName FROM Contact ORDER BY LastName LIMIT 2", org)
    assert [r["LastName"] for r in result.records] == ["brown", "Clark"]
    assert result.total_size == 2


def test_offset_skips_rows(org: MemoryCatalog) -> None:
    soql = "SELECT LastName FROM Contact ORDER BY LastName LIMIT 1 OFFSET 1"
    assert column(soql, org, "LastName") == ["Clark"]


def test_offset_above_2000_is_refused(org: MemoryCatalog) -> None:
    caught = error("SELECT Id FROM Contact OFFSET 2001", org)
    assert caught.error_code == "NUMBER_OUTSIDE_VALID_RANGE"
    assert caught.message == "Maximum SOQL offset allowed is 2000"
    assert run("SELECT Id FROM Contact OFFSET 2000", org).total_size == 0


def test_fractional_limit_is_malformed(org: MemoryCatalog) -> None:
    assert error("SELECT Id FROM Contact LIMIT 1.5", org).error_code == "MALFORMED_QUERY"


def test_clauses_out_of_order_are_malformed(org: MemoryCatalog) -> None:
    assert error("SELECT Id FROM Contact LIMIT 1 WHERE Id = null", org).error_code == (
        "MALFORMED_QUERY"
    )


# ---------------------------------------------------------------------------
# Deleted records and grammar errors
# ---------------------------------------------------------------------------


def test_deleted_records_are_excluded(org: MemoryCatalog) -> None:
    assert "Gone" not in column("SELECT LastName FROM Contact", org, "LastName")


def test_deleted_records_are_included_for_query_all(org: MemoryCatalog) -> None:
    result = run("SELECT LastName FROM Contact WHERE IsDeleted = true", org, include_deleted=True)
    assert [r["LastName"] for r in result.records] == ["Gone"]


def test_missing_from_is_malformed(org: MemoryCatalog) -> None:
    caught = error("SELECT Id", org)
    assert caught.error_code == "MALFORMED_QUERY"
    assert caught.message.endswith("ERROR at Row:1:Column:10\nunexpected token: <EOF>")


def test_trailing_text_is_malformed(org: MemoryCatalog) -> None:
    assert error("SELECT Id FROM Contact garbage", org).error_code == "MALFORMED_QUERY"


def test_empty_select_list_is_malformed(org: MemoryCatalog) -> None:
    assert error("SELECT FROM Contact", org).error_code == "MALFORMED_QUERY"


# ---------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(value=st.text())
def test_any_string_round_trips_through_format_soql(value: str) -> None:
    catalog = MemoryCatalog()
    record = catalog.add("Contact", LastName=value)
    soql = format_soql("SELECT Id, LastName FROM Contact WHERE LastName = {}", value)
    records = run(soql, catalog).records
    assert [r["LastName"] for r in records] == [value]
    assert records[0]["Id"] == record["Id"]


@settings(max_examples=200, deadline=None)
@given(value=st.text())
def test_any_string_is_found_by_an_escaped_like_pattern(value: str) -> None:
    catalog = MemoryCatalog()
    catalog.add("Contact", LastName=value)
    catalog.add("Contact", LastName=value + "x")
    soql = format_soql("SELECT LastName FROM Contact WHERE LastName LIKE '{:like}'", value)
    assert [r["LastName"] for r in run(soql, catalog).records] == [value]


@settings(max_examples=100, deadline=None)
@given(values=st.lists(st.text(), min_size=1, max_size=4))
def test_any_strings_round_trip_through_an_in_list(values: list[str]) -> None:
    catalog = MemoryCatalog()
    for value in values:
        catalog.add("Contact", LastName=value)
    soql = format_soql("SELECT LastName FROM Contact WHERE LastName IN {}", values)
    assert run(soql, catalog).total_size == len(values)


@settings(max_examples=300, deadline=None)
@given(text=st.text())
def test_arbitrary_text_fails_only_with_a_soql_error(text: str) -> None:
    catalog = MemoryCatalog()
    try:
        run(text, catalog)
    except SoqlError as caught:
        assert caught.error_code in {"MALFORMED_QUERY", "INVALID_FIELD", "INVALID_TYPE"}


@settings(max_examples=200, deadline=None)
@given(text=st.text(alphabet=st.sampled_from(list("'\\%_ab()=, ")), max_size=20))
def test_arbitrary_where_values_fail_only_with_a_soql_error(text: str) -> None:
    catalog = MemoryCatalog()
    catalog.add("Contact", LastName="a")
    try:
        # Deliberately unescaped: the point is to feed the parser raw fragments.
        run(f"SELECT Id FROM Contact WHERE LastName = {text}", catalog)  # noqa: S608
    except SoqlError as caught:
        assert caught.error_code in {"MALFORMED_QUERY", "INVALID_FIELD"}
