"""Find Salesforce records by name, for a person choosing the record a sync links to
when the one they want was not among the candidates. Reads Salesforce, writes nothing
of the sync's."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.errors import Conflict, InvalidInput, Unavailable
from integrations.models import SalesforceConnection
from integrations.salesforce.client import format_soql
from integrations.salesforce.errors import SalesforceError
from integrations.salesforce.lookups import queries_run
from integrations.services.choices import ANY_RECORD, RecordObject
from integrations.sync.connection import connection_client, connection_needs_reauth
from tenants.models import Tenant

SEARCH_MIN_CHARS = 2
RESULTS_PER_OBJECT = 10

# One query per object, with what tells two records of the same name apart. `{:like}`
# escapes quotes and backslashes and makes % and _ match themselves.
_QUERIES: dict[RecordObject, str] = {
    "Account": "SELECT Id, Name, Owner.Name FROM Account WHERE Name LIKE '%{:like}%'",
    "Opportunity": (
        "SELECT Id, Name, Account.Name, Owner.Name FROM Opportunity WHERE Name LIKE '%{:like}%'"
    ),
    "Lead": (
        "SELECT Id, Name, Email, Company, Owner.Name FROM Lead "
        "WHERE IsConverted = false AND Name LIKE '%{:like}%'"
    ),
    "Contact": (
        "SELECT Id, Name, Email, Account.Name, Owner.Name FROM Contact WHERE Name LIKE '%{:like}%'"
    ),
}


@dataclass(frozen=True)
class FoundRecord:
    """A record found by name, shaped like a job's candidates (`as_dict`)."""

    sobject: RecordObject
    id: str
    name: str
    email: str = ""
    account: str = ""  # the Account's name (a Lead's company)
    owner: str = ""

    def as_dict(self) -> dict[str, str]:
        return {
            "object": self.sobject,
            "id": self.id,
            "name": self.name,
            "email": self.email,
            "account": self.account,
            "owner": self.owner,
        }


def salesforce_records_search(
    *, tenant: Tenant, name: str, objects: tuple[RecordObject, ...] = ANY_RECORD
) -> list[FoundRecord]:
    """Records of `objects` whose name contains `name` (Leads not converted), at most
    ten of each, in one API call (the queries travel in one Composite request)."""
    name = " ".join((name or "").split())
    if len(name) < SEARCH_MIN_CHARS:
        raise InvalidInput(
            f"Type at least {SEARCH_MIN_CHARS} characters of the record's name.", field="name"
        )
    connection = _connected(tenant)
    limit = f" ORDER BY Name LIMIT {RESULTS_PER_OBJECT}"
    queries: list[tuple[str, str]] = [
        (sobject, format_soql(_QUERIES[sobject], name) + limit) for sobject in objects
    ]
    client = connection_client(connection)
    try:
        rows = queries_run(client, queries)
    except SalesforceError as error:
        if error.kind == "reauth":
            connection_needs_reauth(connection, error.message)
        raise Unavailable(f"Salesforce could not be searched: {error}") from error
    return [_found(sobject, row) for sobject in objects for row in rows.get(sobject, [])]


def _connected(tenant: Tenant) -> SalesforceConnection:
    connection = SalesforceConnection.objects.filter(tenant=tenant).first()
    if connection is None or connection.status != SalesforceConnection.Status.CONNECTED:
        raise Conflict(
            f"Salesforce is not connected for {tenant.name}, so it cannot be searched; an "
            "admin of the tenant connects it on the settings page."
        )
    return connection


def _name_of(related: Any) -> str:
    return str((related or {}).get("Name") or "")


def _found(sobject: RecordObject, row: dict[str, Any]) -> FoundRecord:
    account = row.get("Company") if sobject == "Lead" else _name_of(row.get("Account"))
    return FoundRecord(
        sobject=sobject,
        id=str(row["Id"]),
        name=str(row.get("Name") or ""),
        email=str(row.get("Email") or ""),
        account=str(account or ""),
        owner=_name_of(row.get("Owner")),
    )
