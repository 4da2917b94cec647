"""Matching rules (SPEC 3, 3.1, 3.2, 3.5, 3.6) as pure functions over plain data: what
Salesforce knows about a set of email addresses (`Directory`, filled by one batched
round of lookups) in, a decision out. Nothing here talks to Salesforce or the database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from integrations.salesforce.domains import DOMAIN_LEVEL, domain_and_parents
from integrations.salesforce.phones import is_e164
from tenants.emails import email_is_internal


@dataclass(frozen=True)
class Person:
    """A Contact or an unconverted Lead found by email."""

    sobject: Literal["Contact", "Lead"]
    id: str
    email: str
    name: str = ""
    account_id: str = ""
    account_name: str = ""
    owner_id: str = ""
    company: str = ""
    owner_name: str = ""
    account_owner_name: str = ""

    def as_candidate(self) -> Candidate:
        """The person as a record to choose: a Lead has no Account, its company stands
        in for one."""
        return Candidate(
            self.sobject,
            self.id,
            self.name,
            email=self.email,
            account=self.account_name or self.company,
            owner=self.owner_name,
        )


@dataclass(frozen=True)
class Opportunity:
    id: str
    name: str
    account_id: str
    is_closed: bool
    account_name: str = ""
    owner_name: str = ""


@dataclass(frozen=True)
class Conversion:
    """A Lead converted in Salesforce, and the records it became (SOAP API Developer
    Guide, "convertLead()": the Lead keeps ConvertedContactId, ConvertedAccountId and,
    unless none was made, ConvertedOpportunityId)."""

    lead_id: str
    contact_id: str
    account_id: str
    opportunity_id: str = ""
    lead_name: str = ""
    contact_name: str = ""
    account_name: str = ""

    def describe(self) -> str:
        """The conversion in the words of a job's log."""
        lead = f"{self.lead_name} ({self.lead_id})" if self.lead_name else self.lead_id
        contact = self.contact_name or self.contact_id
        account = self.account_name or self.account_id
        return (
            f"Lead {lead} was converted in Salesforce: what the portal keeps for it now "
            f"follows Contact {contact} and Account {account}."
        )


@dataclass(frozen=True)
class CompanyAccount:
    """An Account found by the domain of its Website (the match order's Domain step)."""

    id: str
    name: str
    website: str
    domain: str  # the Website's domain (see `domains.website_domain`)
    owner_name: str = ""


@dataclass(frozen=True)
class Candidate:
    """A record a person may choose, as shown to them. Besides the name, what tells two
    records apart to a person: the address that led to it, its Account (a Lead's
    company) and its owner; "" when the lookups did not say."""

    sobject: str
    id: str
    name: str
    email: str = ""
    account: str = ""
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


@dataclass
class Directory:
    """What one round of lookups found, keyed by lower-cased email (or E.164 number)."""

    contacts: dict[str, list[Person]] = field(default_factory=dict)
    leads: dict[str, list[Person]] = field(default_factory=dict)
    users: dict[str, str] = field(default_factory=dict)
    opportunities: dict[str, list[Opportunity]] = field(default_factory=dict)  # by Contact Id
    # Contacts and Leads found by phone, keyed by E.164 number (Contacts first).
    phone_people: dict[str, list[Person]] = field(default_factory=dict)
    accounts: dict[str, list[CompanyAccount]] = field(default_factory=dict)  # by Website domain
    # Leads the jobs know (their records point at them, or a choice names them) that
    # are converted, by the Lead's Id in its 15-character form (see `conversion_of`).
    conversions: dict[str, Conversion] = field(default_factory=dict)

    def conversion_of(self, lead_id: str) -> Conversion | None:
        """The conversion of a Lead, whichever of its Id's two forms is given."""
        return self.conversions.get(lead_id[:15]) if lead_id else None

    def accounts_of_domain(self, domain: str) -> list[CompanyAccount]:
        """The Accounts whose Website is on `domain` or on the closest domain it is a
        subdomain of (mail.initech.example finds initech.example's)."""
        for candidate in domain_and_parents(domain):
            if self.accounts.get(candidate):
                return self.accounts[candidate]
        return []

    def contacts_of(self, emails: Iterable[str]) -> list[Person]:
        return _unique(p for e in emails for p in self.contacts.get(e.lower(), []))

    def leads_of(self, emails: Iterable[str]) -> list[Person]:
        return _unique(p for e in emails for p in self.leads.get(e.lower(), []))

    def people_of(self, email: str) -> list[Person]:
        """The Contacts and Leads of an address, or of an E.164 number for someone
        known only by phone."""
        if is_e164(email):
            return list(self.phone_people.get(email, []))
        return self.contacts.get(email.lower(), []) + self.leads.get(email.lower(), [])


def _unique(items: Iterable[Any]) -> list[Any]:
    return list(dict.fromkeys(items))


def _unique_records(candidates: Iterable[Candidate]) -> list[Candidate]:
    """Each record once (as first seen), however many addresses led to it."""
    seen: dict[tuple[str, str], Candidate] = {}
    for candidate in candidates:
        seen.setdefault((candidate.sobject, candidate.id), candidate)
    return list(seen.values())


def external_emails(emails: Iterable[str], internal_domains: Sequence[str]) -> list[str]:
    """Addresses outside the tenant's domains (`email_is_internal` decides, for the
    whole product), normalised, in a stable order, each once."""
    out = []
    for raw in emails:
        email = (raw or "").strip().lower()
        if "@" in email and not email_is_internal(email, internal_domains):
            out.append(email)
    return sorted(dict.fromkeys(out))


# --- Manual highlight sync (SPEC 3.1) --------------------------------------------------


class Situation(StrEnum):
    """The four situations of a manual sync (SPEC 3.1)."""

    MATCH = "match"  # 1: one Account/Opportunity is offered
    NO_ORGANISATION = "no_organisation"  # 2: Contacts match but belong to nothing
    SEVERAL = "several"  # 3: the member picks among several
    NO_MATCH = "no_match"  # 4: nobody matches

    @property
    def offers_creation(self) -> bool:
        """Whether the portal offers to create an Account (and Opportunity) here: only
        where no existing record would be passed over (the one place that decides)."""
        return self in (Situation.NO_ORGANISATION, Situation.NO_MATCH)

    @property
    def label(self) -> str:
        return _SITUATION_LABELS[self]

    @property
    def what_to_do(self) -> str:
        return _SITUATION_ADVICE[self]


_SITUATION_LABELS = {
    Situation.MATCH: "The Contacts belong to one record",
    Situation.NO_ORGANISATION: "The Contacts belong to no Account or Opportunity",
    Situation.SEVERAL: "The Contacts belong to several records",
    Situation.NO_MATCH: "Nobody matches",
}
_SITUATION_ADVICE = {
    Situation.MATCH: "Send the highlights to the record offered, or pick another.",
    Situation.NO_ORGANISATION: "Create an Account (and optionally an Opportunity); the "
    "matched Contacts are linked to it.",
    Situation.SEVERAL: "Pick the one the highlights belong to.",
    Situation.NO_MATCH: "Create an Account or Opportunity; Contacts are created for the "
    "external attendees.",
}


@dataclass
class ManualMatch:
    """Which of the four situations applies, what to offer, and who matched."""

    situation: Situation
    offer: Candidate | None
    candidates: list[Candidate]
    contacts: list[Person]
    unmatched_emails: list[str]


def organisations_of(
    directory: Directory, contacts: Sequence[Person]
) -> tuple[list[Candidate], list[Candidate]]:
    """The Opportunities (open ones first) and Accounts the Contacts belong to, each with
    the address of the first Contact that led to it."""
    opps: dict[str, tuple[Opportunity, str]] = {}
    for contact in contacts:
        for opp in directory.opportunities.get(contact.id, []):
            opps.setdefault(opp.id, (opp, contact.email))
    ordered = sorted(opps.values(), key=lambda pair: (pair[0].is_closed, pair[0].name, pair[0].id))
    opportunities = [
        Candidate(
            "Opportunity", o.id, o.name, email=email, account=o.account_name, owner=o.owner_name
        )
        for o, email in ordered
    ]
    accounts = _unique_records(
        Candidate(
            "Account",
            c.account_id,
            c.account_name,
            email=c.email,
            account=c.account_name,
            owner=c.account_owner_name,
        )
        for c in contacts
        if c.account_id
    )
    return opportunities, accounts


def manual_match(directory: Directory, emails: Sequence[str]) -> ManualMatch:
    """Decide the situation of SPEC 3.1 for a meeting's external attendees.

    1. No attendee is a Contact: situation 4, "no_match" (create from scratch).
    2. Contacts match but belong to no Account or Opportunity: situation 2,
       "no_organisation" (create an Account, link the Contacts to it).
    3. Everything they belong to is one Account with at most one open Opportunity:
       situation 1, "match"; the open Opportunity is offered if there is one, else
       the Account, and the others stay as candidates to pick instead.
    4. Otherwise situation 3, "several": the member picks.
    """
    contacts = directory.contacts_of(emails)
    matched = {c.email for c in contacts}
    unmatched = [e for e in emails if e.lower() not in matched]
    if not contacts:
        return ManualMatch(Situation.NO_MATCH, None, [], [], unmatched)
    opportunities, accounts = organisations_of(directory, contacts)
    if not opportunities and not accounts:
        return ManualMatch(Situation.NO_ORGANISATION, None, [], contacts, unmatched)
    open_ids = {
        o.id for c in contacts for o in directory.opportunities.get(c.id, []) if not o.is_closed
    }
    open_opps = [o for o in opportunities if o.id in open_ids]
    account_ids = {a.id for a in accounts} | {
        o.account_id
        for c in contacts
        for o in directory.opportunities.get(c.id, [])
        if o.account_id
    }
    candidates = opportunities + accounts
    if len(account_ids) <= 1 and len(open_opps) <= 1:
        offer = open_opps[0] if open_opps else (accounts[0] if accounts else opportunities[0])
        return ManualMatch(Situation.MATCH, offer, candidates, contacts, unmatched)
    return ManualMatch(Situation.SEVERAL, None, candidates, contacts, unmatched)


# --- Auto-sync (SPEC 3.2) ----------------------------------------------------------------


@dataclass
class AutoMatch:
    """The record auto-sync links to, or why it cannot pick one."""

    target: Candidate | None
    level: str  # the match-order level that decided, "" when nothing matched
    candidates: list[Candidate]
    contacts: list[Person]
    leads: list[Person]
    # The Domain step: each candidate Account (by Id) as found, with the attendee's
    # address and email domain that led to it.
    by_domain: dict[str, tuple[CompanyAccount, str, str]] = field(default_factory=dict)

    @property
    def ambiguous(self) -> bool:
        return self.target is None and bool(self.candidates)


def auto_match(
    directory: Directory,
    emails: Sequence[str],
    order: Sequence[str],
    companies: Mapping[str, str] | None = None,
) -> AutoMatch:
    """Walk the match order (default Account, Opportunity, Lead, Contact):

    1. For each level, collect the distinct records the external attendees lead to:
       Accounts of matched Contacts; their Opportunities (open ones only, when any is
       open); unconverted Leads; the Contacts themselves; for the optional Domain step,
       the Accounts whose Website is on an attendee's company domain (`companies`,
       address -> domain, holds only domains that may name a company).
    2. The first level with exactly one record wins.
    3. The first level with several records stops the walk: auto-sync never guesses,
       the candidates go to a person.
    4. No level matched: nothing to link to.
    """
    contacts = directory.contacts_of(emails)
    leads = directory.leads_of(emails)
    opportunities, accounts = organisations_of(directory, contacts)
    open_ids = {
        o.id for c in contacts for o in directory.opportunities.get(c.id, []) if not o.is_closed
    }
    open_opps = [o for o in opportunities if o.id in open_ids]
    levels: dict[str, list[Candidate]] = {
        "Account": accounts,
        "Opportunity": open_opps or opportunities,
        "Lead": [p.as_candidate() for p in leads],
        "Contact": [p.as_candidate() for p in contacts],
    }
    by_domain: dict[str, tuple[CompanyAccount, str, str]] = {}
    if DOMAIN_LEVEL in order:
        for email in emails:
            domain = (companies or {}).get(email, "")
            for account in directory.accounts_of_domain(domain) if domain else []:
                by_domain.setdefault(account.id, (account, email, domain))
        levels[DOMAIN_LEVEL] = [
            Candidate("Account", a.id, a.name, email=email, account=a.name, owner=a.owner_name)
            for a, email, _ in by_domain.values()
        ]
    for level in order:
        found = levels.get(level, [])
        if len(found) == 1:
            return AutoMatch(found[0], level, found, contacts, leads, by_domain)
        if len(found) > 1:
            return AutoMatch(None, level, found, contacts, leads, by_domain)
    return AutoMatch(None, "", [], contacts, leads, by_domain)


def event_people(
    target: Candidate, contacts: Sequence[Person], leads: Sequence[Person]
) -> tuple[str, list[str]]:
    """Who an Event names: WhoId and the further Contacts to relate (SPEC 3.3).

    A Lead target is the Who itself (a Lead cannot sit beside a WhatId). Otherwise the
    Contacts of the target's Account come first, then the other matched Contacts; the
    first is the Who, the rest become EventRelations.
    """
    if target.sobject == "Lead":
        return target.id, []  # an activity cannot relate a Lead and Contacts together
    if target.sobject == "Contact":
        return target.id, [c.id for c in contacts if c.id != target.id]
    ordered = sorted(contacts, key=lambda c: c.account_id != target.id)
    if not ordered:
        return (
            leads[0].id if leads and target.sobject not in ("Account", "Opportunity") else ""
        ), []
    return ordered[0].id, [c.id for c in ordered[1:]]


# --- Activities (SPEC 3.5) -----------------------------------------------------------------


@dataclass
class ParticipantMatch:
    email: str
    people: list[Person]

    @property
    def ambiguous(self) -> bool:
        return len(self.people) > 1


def activity_people(
    directory: Directory, emails: Sequence[str], choices: dict[str, dict[str, str]]
) -> tuple[dict[str, Person], list[ParticipantMatch]]:
    """For each external participant, the Contact or Lead its Task goes to.

    An address with one match takes it; with several, a remembered or given choice
    decides, else it waits for a person (returned as ambiguous); with none, it gets no
    Task.
    """
    chosen: dict[str, Person] = {}
    ambiguous: list[ParticipantMatch] = []
    for email in emails:
        people = directory.people_of(email)
        choice = choices.get(email)
        if choice:
            picked = next((p for p in people if p.id == choice.get("id")), None)
            if picked is None and choice.get("id"):
                picked = Person(
                    # Choices name a Contact or a Lead (the services check that).
                    "Lead" if choice.get("object") == "Lead" else "Contact",
                    choice["id"],
                    email,
                    choice.get("name", ""),
                )
            if picked is not None:
                chosen[email] = picked
                continue
        if len(people) == 1:
            chosen[email] = people[0]
        elif len(people) > 1:
            ambiguous.append(ParticipantMatch(email, people))
    return chosen, ambiguous


def task_owner(
    *,
    person: Person,
    logging_user_id: str,
    installer_user_id: str,
    participant_user_ids: Iterable[str],
) -> tuple[str, bool]:
    """The Task's OwnerId, and whether the Task must say who really logged it.

    1. A Lead whose owner took part in the activity: that owner.
    2. The logging user's own Salesforce User.
    3. Otherwise the user who installed the integration.
    Whenever the logging user has no Salesforce User, the description names the person
    who logged it (seed 001: "a comment is added informing whom the task was created by").
    """
    needs_logged_by = not logging_user_id
    if (
        person.sobject == "Lead"
        and person.owner_id
        and person.owner_id in set(participant_user_ids)
    ):
        return person.owner_id, needs_logged_by
    return (logging_user_id or installer_user_id), needs_logged_by
