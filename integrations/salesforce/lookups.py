"""One round of lookups for a set of email addresses: Contacts, unconverted Leads,
active Users and the Contacts' Opportunities, all in as few API calls as Salesforce
allows (queries travel as Composite subrequests, at most five per request)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import quote_plus

from integrations.salesforce.client import SalesforceClient, format_soql
from integrations.salesforce.domains import domain_and_parents, website_domain
from integrations.salesforce.errors import error_from_body
from integrations.salesforce.matching import (
    CompanyAccount,
    Conversion,
    Directory,
    Opportunity,
    Person,
)
from integrations.salesforce.phones import region_of, stored_number_matches
from integrations.salesforce.soql import MAX_QUERY_URL_BYTES, in_list_queries, query_url

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
# Contacts and unconverted Leads by phone: one SOSL search for many numbers, matched by
# Salesforce on the digits of every phone field whatever their formatting.
PHONE_SEARCH = (
    "FIND {{{terms}}} IN PHONE FIELDS RETURNING "
    "Contact(Id, Name, Email, Phone, MobilePhone, OtherPhone, HomePhone, AssistantPhone, "
    "AccountId, Account.Name, Account.Owner.Name, Owner.Name), "
    "Lead(Id, Name, Email, Phone, MobilePhone, OwnerId, Owner.Name, Company "
    "WHERE IsConverted = false)"
)
# Kinds of lookup that are SOSL searches rather than SOQL queries.
SEARCHES = frozenset({"phone_people"})
# SOQL and SOSL Reference, "SOSL Syntax": "If SearchQuery is longer than 4,000
# characters, any logical operators are removed" (so the ORs would change meaning), and
# "SOSL Limits on Objects": at most 2,000 results per search. Numbers are split so each
# search stays under both with room to spare.
MAX_SEARCH_TERMS_CHARS = 4_000
MAX_NUMBERS_PER_SEARCH = 150
OPPORTUNITIES = (
    "SELECT ContactId, OpportunityId, Opportunity.Name, Opportunity.AccountId, "
    "Opportunity.Account.Name, Opportunity.Owner.Name, Opportunity.IsClosed "
    "FROM OpportunityContactRole WHERE Contact.Email IN {values}"
)
# Leads the jobs know, when converted: where their records go now (see `Conversion`).
CONVERSIONS = (
    "SELECT Id, Name, ConvertedContactId, ConvertedContact.Name, ConvertedAccountId, "
    "ConvertedAccount.Name, ConvertedOpportunityId FROM Lead "
    "WHERE IsConverted = true AND Id IN {values}"
)
# Accounts by the domain of their Website (the match order's Domain step). LIKE is
# coarse ("%initech.example%" also finds "notinitech.example"): the rows are filtered
# precisely on the Website's normalised domain (`directory_from_rows`).
ACCOUNTS_BY_WEBSITE = "SELECT Id, Name, Website, Owner.Name FROM Account WHERE {values}"
WEBSITE_LIKE = "Website LIKE '%{:like}%'"


def website_queries(domains: Iterable[str]) -> Iterator[str]:
    """`ACCOUNTS_BY_WEBSITE` for these domains, one LIKE each joined by OR, split (as
    `in_list_queries` splits IN lists) so that no query's URL passes Salesforce's limit."""
    pending: list[str] = []
    base = len(quote_plus(ACCOUNTS_BY_WEBSITE.replace("{values}", "")))
    size = base
    for domain in dict.fromkeys(domains):
        condition = format_soql(WEBSITE_LIKE, domain)
        cost = len(quote_plus(f" OR {condition}"))
        if pending and size + cost > MAX_QUERY_URL_BYTES:
            yield ACCOUNTS_BY_WEBSITE.replace("{values}", " OR ".join(pending))
            pending, size = [], base
        pending.append(condition)
        size += cost
    if pending:
        yield ACCOUNTS_BY_WEBSITE.replace("{values}", " OR ".join(pending))


def queries_run(
    client: SalesforceClient, queries: list[tuple[str, str]]
) -> dict[str, list[dict[str, Any]]]:
    """Run (kind, soql) pairs in Composite requests; records grouped by kind."""
    found: dict[str, list[dict[str, Any]]] = {kind: [] for kind, _ in queries}
    for start in range(0, len(queries), QUERIES_PER_COMPOSITE):
        chunk = queries[start : start + QUERIES_PER_COMPOSITE]
        if len(chunk) == 1 and chunk[0][0] not in SEARCHES:
            kind, soql = chunk[0]
            found[kind].extend(client.query_all(soql))
            continue
        subrequests = [
            {"method": "GET", "url": _lookup_url(client, kind, soql), "referenceId": f"q{i}"}
            for i, (kind, soql) in enumerate(chunk)
        ]
        results = client.composite(subrequests, all_or_none=False)
        for (kind, _), result in zip(chunk, results, strict=True):
            if result["httpStatusCode"] >= 300:
                raise error_from_body(result["body"], result["httpStatusCode"])
            body = result["body"]
            if kind in SEARCHES:
                found[kind].extend(body.get("searchRecords") or [])
                continue
            found[kind].extend(body["records"])
            while not body.get("done", True) and body.get("nextRecordsUrl"):
                body = client.query_more(body["nextRecordsUrl"])
                found[kind].extend(body["records"])
    return found


def _lookup_url(client: SalesforceClient, kind: str, statement: str) -> str:
    if kind in SEARCHES:
        return f"{client.base_path}/search/?q={quote_plus(statement)}"
    return query_url(client.base_path, statement)


def phone_searches(numbers: Iterable[str]) -> list[str]:
    """SOSL searches that find every one of these E.164 numbers, each number a quoted
    phrase joined by OR, each search within Salesforce's limits."""
    searches: list[str] = []
    terms: list[str] = []
    for number in dict.fromkeys(numbers):
        term = f'"{number}"'
        size = sum(len(t) for t in terms) + 4 * len(terms) + len(term)
        if terms and (size > MAX_SEARCH_TERMS_CHARS or len(terms) >= MAX_NUMBERS_PER_SEARCH):
            searches.append(PHONE_SEARCH.format(terms=" OR ".join(terms)))
            terms = []
        terms.append(term)
    if terms:
        searches.append(PHONE_SEARCH.format(terms=" OR ".join(terms)))
    return searches


def directory_fetch(
    client: SalesforceClient,
    *,
    people_emails: Iterable[str] = (),
    user_emails: Iterable[str] = (),
    domains: Iterable[str] = (),
    phones: Iterable[str] = (),
    leads: Iterable[str] = (),
) -> Directory:
    """Everything the matching rules need to know about these addresses and (E.164)
    phone numbers, and which of these known Leads (`leads`, by Id) are converted."""
    people = sorted({e.lower() for e in people_emails if e})
    users = sorted({e.lower() for e in user_emails if e})
    # Company domains: the Accounts whose Website is on one (or on a domain it is a
    # subdomain of) travel in the same Composite requests.
    websites = sorted({parent for d in domains if d for parent in domain_and_parents(d)})
    queries: list[tuple[str, str]] = []
    for template, kind, emails in (
        (CONTACTS, "contacts", people),
        (LEADS, "leads", people),
        (OPPORTUNITIES, "opportunities", people),
        (USERS, "users", users),
        (CONVERSIONS, "conversions", sorted({i for i in leads if i})),
    ):
        if emails:
            queries.extend((kind, soql) for soql in in_list_queries(template, emails))
    queries.extend(("accounts", soql) for soql in website_queries(websites))
    numbers = sorted({n for n in phones if n})
    queries.extend(("phone_people", sosl) for sosl in phone_searches(numbers))
    rows = queries_run(client, queries) if queries else {}
    directory = directory_from_rows(rows)
    directory_add_phones(directory, rows.get("phone_people", []), numbers)
    return directory


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
    for row in rows.get("accounts", []):
        website = row.get("Website") or ""
        domain = website_domain(website)
        if domain:
            directory.accounts.setdefault(domain, []).append(
                CompanyAccount(
                    row["Id"],
                    row.get("Name") or "",
                    website,
                    domain,
                    owner_name=_parent(row, "Owner", "Name"),
                )
            )
    for row in rows.get("conversions", []):
        if row.get("ConvertedContactId"):
            directory.conversions[row["Id"][:15]] = Conversion(
                row["Id"],
                row["ConvertedContactId"],
                row.get("ConvertedAccountId") or "",
                row.get("ConvertedOpportunityId") or "",
                lead_name=row.get("Name") or "",
                contact_name=_parent(row, "ConvertedContact", "Name"),
                account_name=_parent(row, "ConvertedAccount", "Name"),
            )
    for key in directory.accounts:
        directory.accounts[key].sort(key=lambda a: a.id)
    for key in directory.contacts:
        directory.contacts[key].sort(key=lambda p: p.id)
    for key in directory.leads:
        directory.leads[key].sort(key=lambda p: p.id)
    return directory


# The phone fields each object's search results carry (as in PHONE_SEARCH).
_PHONE_FIELDS = {
    "Contact": ("Phone", "MobilePhone", "OtherPhone", "HomePhone", "AssistantPhone"),
    "Lead": ("Phone", "MobilePhone"),
}


def directory_add_phones(
    directory: Directory, records: list[dict[str, Any]], numbers: list[str]
) -> None:
    """Put the people a phone search found under each E.164 number one of their phone
    fields holds, compared after normalising the stored number (Salesforce matched on
    digits only, so its answer is checked, not trusted)."""
    wanted = set(numbers)
    regions = {region_of(n) for n in wanted} - {""}
    for row in records:
        sobject = (row.get("attributes") or {}).get("type", "")
        if sobject not in _PHONE_FIELDS:
            continue
        stored = [str(row.get(name) or "") for name in _PHONE_FIELDS[sobject]]
        person = Person(
            "Contact" if sobject == "Contact" else "Lead",
            row["Id"],
            (row.get("Email") or "").lower(),
            row.get("Name") or "",
            account_id=row.get("AccountId") or "",
            account_name=_parent(row, "Account", "Name"),
            owner_id=row.get("OwnerId") or "",
            company=row.get("Company") or "",
            owner_name=_parent(row, "Owner", "Name"),
            account_owner_name=_parent(row, "Account", "Owner", "Name"),
        )
        found = set().union(*(stored_number_matches(v, wanted, regions) for v in stored))
        for number in sorted(found):
            people = directory.phone_people.setdefault(number, [])
            if all(p.id != person.id for p in people):
                people.append(person)
    for people in directory.phone_people.values():
        people.sort(key=lambda p: (p.sobject != "Contact", p.id))
