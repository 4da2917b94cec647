"""One round of lookups for a set of email addresses: Contacts, unconverted Leads,
active Users and the Contacts' Opportunities, all in as few API calls as Salesforce
allows (queries travel as Composite subrequests, at most five per request)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from integrations.salesforce.client import SalesforceClient
from integrations.salesforce.errors import error_from_body
from integrations.salesforce.matching import Directory, Opportunity, Person
from integrations.salesforce.soql import in_list_queries, query_url

# Salesforce allows at most five query or collection subrequests in one Composite.
QUERIES_PER_COMPOSITE = 5

# Besides what the matching rules read, each query brings what tells two candidates
# apart to the person choosing (owners, Account names): parent fields travel in the same
# query, so they cost no API call.
CONTACTS = (
    "SELECT Id, Name, Email, AccountId, Account.Name, Account.Owner.Name, Owner.Name "
    "FROM Contact WHERE Email IN {values}"
)
LEADS = (
    "SELECT Id, Name, Email, OwnerId, Owner.Name, Company FROM Lead "
    "WHERE IsConverted = false AND Email IN {values}"
)
USERS = "SELECT Id, Email FROM User WHERE IsActive = true AND Email IN {values}"
OPPORTUNITIES = (
    "SELECT ContactId, OpportunityId, Opportunity.Name, Opportunity.AccountId, "
    "Opportunity.Account.Name, Opportunity.Owner.Name, Opportunity.IsClosed "
    "FROM OpportunityContactRole WHERE Contact.Email IN {values}"
)


def queries_run(
    client: SalesforceClient, queries: list[tuple[str, str]]
) -> dict[str, list[dict[str, Any]]]:
    """Run (kind, soql) pairs in Composite requests; records grouped by kind."""
    found: dict[str, list[dict[str, Any]]] = {kind: [] for kind, _ in queries}
    for start in range(0, len(queries), QUERIES_PER_COMPOSITE):
        chunk = queries[start : start + QUERIES_PER_COMPOSITE]
        if len(chunk) == 1:
            kind, soql = chunk[0]
            found[kind].extend(client.query_all(soql))
            continue
        subrequests = [
            {"method": "GET", "url": query_url(client.base_path, soql), "referenceId": f"q{i}"}
            for i, (_, soql) in enumerate(chunk)
        ]
        results = client.composite(subrequests, all_or_none=False)
        for (kind, _), result in zip(chunk, results, strict=True):
            if result["httpStatusCode"] >= 300:
                raise error_from_body(result["body"], result["httpStatusCode"])
            body = result["body"]
            found[kind].extend(body["records"])
            while not body.get("done", True) and body.get("nextRecordsUrl"):
                body = client.query_more(body["nextRecordsUrl"])
                found[kind].extend(body["records"])
    return found


def directory_fetch(
    client: SalesforceClient,
    *,
    people_emails: Iterable[str] = (),
    user_emails: Iterable[str] = (),
) -> Directory:
    """Everything the matching rules need to know about these addresses."""
    people = sorted({e.lower() for e in people_emails if e})
    users = sorted({e.lower() for e in user_emails if e})
    queries: list[tuple[str, str]] = []
    for template, kind, emails in (
        (CONTACTS, "contacts", people),
        (LEADS, "leads", people),
        (OPPORTUNITIES, "opportunities", people),
        (USERS, "users", users),
    ):
        if emails:
            queries.extend((kind, soql) for soql in in_list_queries(template, emails))
    rows = queries_run(client, queries) if queries else {}
    return directory_from_rows(rows)


def _parent(row: dict[str, Any] | None, *path: str) -> str:
    """A parent record's field from a query row ("" when a parent on the way is null):
    Salesforce nests `Account.Owner.Name` as {"Account": {"Owner": {"Name": ...}}}."""
    value: Any = row
    for name in path:
        value = value.get(name) if isinstance(value, dict) else None
    return str(value) if value else ""


def directory_from_rows(rows: dict[str, list[dict[str, Any]]]) -> Directory:
    """The records the queries returned, keyed the way the matching rules read them."""
    directory = Directory()
    for row in rows.get("contacts", []):
        email = (row.get("Email") or "").lower()
        directory.contacts.setdefault(email, []).append(
            Person(
                "Contact",
                row["Id"],
                email,
                row.get("Name") or "",
                account_id=row.get("AccountId") or "",
                account_name=_parent(row, "Account", "Name"),
                owner_name=_parent(row, "Owner", "Name"),
                account_owner_name=_parent(row, "Account", "Owner", "Name"),
            )
        )
    for row in rows.get("leads", []):
        email = (row.get("Email") or "").lower()
        directory.leads.setdefault(email, []).append(
            Person(
                "Lead",
                row["Id"],
                email,
                row.get("Name") or "",
                owner_id=row.get("OwnerId") or "",
                company=row.get("Company") or "",
                owner_name=_parent(row, "Owner", "Name"),
            )
        )
    for row in rows.get("users", []):
        email = (row.get("Email") or "").lower()
        directory.users.setdefault(email, row["Id"])
    for row in rows.get("opportunities", []):
        opp = row.get("Opportunity") or {}
        directory.opportunities.setdefault(row["ContactId"], []).append(
            Opportunity(
                row["OpportunityId"],
                opp.get("Name") or "",
                opp.get("AccountId") or "",
                bool(opp.get("IsClosed")),
                account_name=_parent(opp, "Account", "Name"),
                owner_name=_parent(opp, "Owner", "Name"),
            )
        )
    for key in directory.contacts:
        directory.contacts[key].sort(key=lambda p: p.id)
    for key in directory.leads:
        directory.leads[key].sort(key=lambda p: p.id)
    return directory
