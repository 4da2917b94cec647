"""meeting.processed: auto-sync (SPEC 3.2). All highlights as one Note and the meeting
as an Event, linked to the first record found in the tenant's match order (which may
include the company-domain step, see `integrations.salesforce.domains`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from integrations.enums import Purpose
from integrations.executors.base import (
    Executor,
    JobContext,
    Reading,
    lead_chosen,
    lead_parents,
    needs_review,
    skipped,
)
from integrations.executors.notes import event_plan, meeting_note_spec, note_plan, target_of
from integrations.salesforce.domains import DOMAIN_LEVEL, company_domain
from integrations.salesforce.matching import AutoMatch, Directory, auto_match, external_emails
from integrations.sync.mappings import mappings_of
from integrations.sync.plan import Finish, Parent, Plan
from meetings.models import Meeting


@dataclass(kw_only=True)
class MeetingReading(Reading):
    meeting: Meeting
    emails: list[str]
    # External addresses whose domain may name a company -> that domain (the match
    # order's Domain step; empty when the step is not in the order).
    companies: dict[str, str] = field(default_factory=dict)


def external_attendees(meeting: Meeting, internal_domains: list[str]) -> list[str]:
    return external_emails([a.email for a in meeting.attendees.all()], internal_domains)


def meetings_preload(contexts: Sequence[JobContext]) -> None:
    """The batch's meetings with their attendees and highlights, and their rows: four
    queries for the whole batch. Each job still reads them as they are when it runs."""
    ids = {ctx.job.object_id for ctx in contexts}
    meetings = Meeting.objects.filter(pk__in=ids, tenant=contexts[0].tenant).prefetch_related(
        "attendees", "highlights"
    )
    found = {meeting.pk: meeting for meeting in meetings}
    rows = mappings_of(contexts[0].tenant, Meeting, ids)
    for ctx in contexts:
        ctx.preloaded["object"] = found.get(ctx.job.object_id)
        ctx.preload_mappings(Meeting, {ctx.job.object_id}, rows)


class MeetingAutoSync(Executor[MeetingReading]):
    def preload(self, contexts: Sequence[JobContext]) -> None:
        meetings_preload(contexts)

    def read(self, ctx: JobContext) -> MeetingReading | Finish:
        if "object" in ctx.preloaded:
            meeting = ctx.preloaded["object"]
        else:
            meeting = Meeting.objects.filter(pk=ctx.job.object_id, tenant=ctx.tenant).first()
        if meeting is None:
            return skipped("The meeting was deleted before it was synced.")
        if not ctx.settings.auto_sync and not ctx.params.get("target"):
            return skipped(
                "Auto-sync is off for this tenant; send highlights by hand or turn auto-sync on."
            )
        emails = external_attendees(meeting, ctx.tenant.internal_domains)
        if not emails:
            return skipped(
                "The meeting has no attendee outside the tenant's domains, so there is "
                "nobody to match in Salesforce."
            )
        companies: dict[str, str] = {}
        if DOMAIN_LEVEL in ctx.settings.auto_sync_match_order:
            for email in emails:
                domain = company_domain(
                    email,
                    internal_domains=ctx.tenant.internal_domains,
                    free_mail_extra=ctx.settings.free_mail_domains_extra or [],
                )
                if domain:
                    companies[email] = domain
        return MeetingReading(
            people=set(emails),
            domains=set(companies.values()),
            leads=lead_parents(ctx.mappings(Meeting, [meeting.pk]).values())
            | lead_chosen(ctx.params.get("target")),
            meeting=meeting,
            emails=emails,
            companies=companies,
        )

    def plan(self, ctx: JobContext, reading: MeetingReading, directory: Directory) -> Plan | Finish:
        """Steps: 1. a record a person chose wins; 2. then the record the meeting's Note
        is already linked to; 3. then the match order, which never guesses between
        several records and never creates one."""
        meeting, emails = reading.meeting, reading.emails
        order = ctx.settings.auto_sync_match_order
        found = auto_match(directory, emails, order, reading.companies)
        mappings = ctx.mappings(Meeting, [meeting.pk])
        note = mappings.get((meeting.pk, Purpose.MEETING_NOTE))
        earlier = Parent.of_mapping(note) if note is not None else None
        chosen = ctx.params.get("target")
        if chosen:
            target = target_of(chosen, directory)
            why = f"Linked to the {target.sobject} chosen by a person ({target.name or target.id})."
        elif earlier is not None:
            target = earlier
            why = f"Updated the records already linked to {target.sobject} {target.name}."
        elif found.ambiguous and found.level == DOMAIN_LEVEL:
            return needs_review(
                "Several Accounts have a website on the attendees' company domains: "
                f"{domain_evidence(found)}. Auto-sync does not guess; choose one to "
                "finish the sync.",
                [c.as_dict() for c in found.candidates],
            )
        elif found.ambiguous:
            names = ", ".join(c.name or c.id for c in found.candidates)
            return needs_review(
                f"Several {found.level} records match the attendees ({names}); auto-sync "
                "does not guess. Choose one to finish the sync.",
                [c.as_dict() for c in found.candidates],
            )
        elif found.target is None:
            domains = (
                " and no Account's website is on their company domains"
                if DOMAIN_LEVEL in order
                else ""
            )
            return skipped(
                "No Account, Opportunity, Lead or Contact in Salesforce matches the external "
                f"attendees ({', '.join(emails)}){domains}. Auto-sync never creates "
                "records; send the highlights by hand to create an Account."
            )
        elif found.level == DOMAIN_LEVEL:
            target = Parent.of(found.target)
            why = (
                f"Linked to Account {target.name or target.id}: {domain_evidence(found)} "
                f"(the {DOMAIN_LEVEL} step of the order {', '.join(order)})."
            )
        else:
            target = Parent.of(found.target)
            why = (
                f"Linked to {target.sobject} {target.name or target.id}, the first match in "
                f"the order {', '.join(order)}."
            )
        plan = ctx.new_plan()
        spec = meeting_note_spec(meeting, mappings)
        note_plan(ctx, plan, spec, target=target)
        event_plan(
            ctx,
            plan,
            meeting=meeting,
            mapping=mappings.get((meeting.pk, Purpose.MEETING_EVENT)),
            target=target,
            contacts=found.contacts,
            leads=found.leads,
        )
        if not spec.highlights:
            why += " The meeting has no highlights, so no Note was written."
        plan.reason = why
        return plan


def domain_evidence(found: AutoMatch) -> str:
    """Why the Domain step found its Accounts, one clause per Account: "the attendee
    new.person@initech.example's domain initech.example is the website of Account
    Initech (https://www.initech.example/)"."""
    clauses = []
    for candidate in found.candidates:
        account, email, domain = found.by_domain[candidate.id]
        under = "" if domain == account.domain else f" is under {account.domain}, which"
        clauses.append(
            f"the attendee {email}'s domain {domain}{under} is the website of Account "
            f"{account.name or account.id} ({account.website})"
        )
    return "; ".join(clauses)
