"""highlights.send: highlights a member sends by hand (SPEC 3.1), each as one Note, to a
chosen record or to an Account (and Opportunity) created for them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from integrations.enums import Operation, Purpose, SObject
from integrations.executors.auto_sync import external_attendees
from integrations.executors.base import (
    Executor,
    JobContext,
    Reading,
    lead_chosen,
    needs_review,
    skipped,
)
from integrations.executors.notes import (
    event_plan,
    highlight_note_spec,
    note_plan,
    target_of,
)
from integrations.models import OutsidePerson, SyncMapping
from integrations.salesforce.matching import Directory, Person, manual_match
from integrations.salesforce.writer import Ref
from integrations.sync.plan import Finish, Parent, Plan, Slot
from meetings.models import Attendee, Highlight, Meeting


@dataclass(kw_only=True)
class SendReading(Reading):
    meeting: Meeting
    highlights: list[Highlight]
    emails: list[str]


class HighlightsSend(Executor[SendReading]):
    def read(self, ctx: JobContext) -> SendReading | Finish:
        meeting = Meeting.objects.filter(pk=ctx.job.object_id, tenant=ctx.tenant).first()
        if meeting is None:
            return skipped("The meeting was deleted before it was sent.")
        wanted = ctx.params.get("highlights", [])
        highlights = list(
            Highlight.objects.filter(meeting=meeting, external_id__in=wanted, is_deleted=False)
        )
        if not highlights:
            return skipped("None of the chosen highlights exists any more.")
        emails = external_attendees(meeting, ctx.tenant.internal_domains)
        return SendReading(
            people=set(emails),
            leads=lead_chosen(ctx.params.get("target")),
            meeting=meeting,
            highlights=highlights,
            emails=emails,
        )

    def plan(self, ctx: JobContext, reading: SendReading, directory: Directory) -> Plan | Finish:
        meeting = reading.meeting
        found = manual_match(directory, reading.emails)
        plan = ctx.new_plan()
        chosen = ctx.params.get("target")
        creating = False
        # A create this job began (its Account is in Salesforce now) is finished, not
        # read as "the Contacts already belong to an Account".
        started = ctx.mappings(Meeting, [meeting.pk]).get((meeting.pk, Purpose.CREATED_ACCOUNT))
        resuming = bool(ctx.params.get("create")) and started is not None and started.live
        if chosen:
            target = target_of(chosen, directory)
        elif not found.situation.offers_creation and not resuming:
            # SPEC 3.1 creates an Account only when the Contacts belong to none (or
            # nobody matches); moving Contacts away from their Account is not ours.
            names = ", ".join(c.name or c.id for c in found.candidates)
            return needs_review(
                f"The attendees' Contacts already belong to {names}; choose one of them "
                "(or another record) instead of creating an Account.",
                [c.as_dict() for c in found.candidates],
            )
        else:
            create = ctx.params.get("create") or {}
            target = organisation_plan(ctx, plan, meeting, create, found.contacts, reading.emails)
            creating = True
            # The Notes are written before the new record's Id is known: once it is,
            # they are rendered again with their link to it.
            plan.follow_ups.append(Operation.MEETING_SYNC)
        own = ctx.mappings(Highlight, [h.pk for h in reading.highlights])
        for highlight in reading.highlights:
            note_plan(ctx, plan, highlight_note_spec(meeting, highlight, own), target=target)
        meeting_maps = ctx.mappings(Meeting, [meeting.pk])
        event = meeting_maps.get((meeting.pk, Purpose.MEETING_EVENT))
        if event is None or not event.live:
            event_plan(
                ctx,
                plan,
                meeting=meeting,
                mapping=event,
                target=target,
                contacts=[] if creating else found.contacts,
            )
        plan.reason = (
            f"{len(reading.highlights)} highlight(s) sent as Notes to "
            f"{target.sobject} {target.name or target.id}."
        )
        return plan


def organisation_plan(
    ctx: JobContext,
    plan: Plan,
    meeting: Meeting,
    create: dict[str, Any],
    contacts: Sequence[Person],
    emails: Sequence[str],
) -> Parent:
    """Situations 2 and 4: create the Account (and Opportunity), link the matched
    Contacts to it, create Contacts for the unmatched external attendees (one per
    tenant and address, however many syncs ask), and give them Opportunity roles."""
    existing = ctx.mappings(Meeting, [meeting.pk])
    account = _created(
        plan,
        existing.get((meeting.pk, Purpose.CREATED_ACCOUNT)),
        "account",
        Slot.of(meeting, Purpose.CREATED_ACCOUNT),
        SObject.ACCOUNT,
        {"Name": create["account_name"]},
    )
    target = Parent(SObject.ACCOUNT, account, create["account_name"])
    opportunity: str | Ref = ""
    if create.get("opportunity_name"):
        close = create.get("close_date") or (dt.date.today() + dt.timedelta(days=30))
        opportunity = _created(
            plan,
            existing.get((meeting.pk, Purpose.CREATED_OPPORTUNITY)),
            "opportunity",
            Slot.of(meeting, Purpose.CREATED_OPPORTUNITY),
            SObject.OPPORTUNITY,
            {
                "Name": create["opportunity_name"],
                "AccountId": account,
                "StageName": create.get("stage") or "Prospecting",
                "CloseDate": str(close),
            },
        )
        target = Parent(SObject.OPPORTUNITY, opportunity, create["opportunity_name"])
    attendees = {a.email: a for a in Attendee.objects.filter(meeting=meeting)}
    people: list[tuple[Attendee | None, str | Ref]] = []
    for contact in contacts:
        if not contact.account_id:
            plan.touch(f"link{contact.id}", SObject.CONTACT, contact.id, {"AccountId": account})
        people.append((attendees.get(contact.email), contact.id))
    matched = {c.email for c in contacts}
    for email in emails:
        if email not in matched:
            attendee = attendees.get(email)
            people.append((attendee, _contact_for(ctx, plan, email, attendee, account)))
    if opportunity:
        _roles_plan(ctx, plan, opportunity, people)
    return target


def _created(
    plan: Plan,
    row: SyncMapping | None,
    name: str,
    slot: Slot,
    sobject: SObject,
    fields: dict[str, Any],
) -> str | Ref:
    """The record this meeting's create made already, or its create now."""
    if row is not None and row.live:
        return row.salesforce_id
    return plan.create(name, slot, sobject, fields)


def _roles_plan(
    ctx: JobContext,
    plan: Plan,
    opportunity: str | Ref,
    people: list[tuple[Attendee | None, str | Ref]],
) -> None:
    """Each person gets a role on the new Opportunity (the first is primary)."""
    roles = ctx.mappings(Attendee, [a.pk for a, _ in people if a is not None])
    seen: set[int] = set()
    for index, (attendee, contact_id) in enumerate(people):
        if attendee is not None and attendee.pk in seen:
            continue  # an address matching two Contacts gets one role (one row)
        if attendee is not None:
            seen.add(attendee.pk)
        row = roles.get((attendee.pk, Purpose.CONTACT_ROLE)) if attendee else None
        if row is not None and row.live:
            continue
        plan.create(
            f"role{index}",
            Slot.of(attendee, Purpose.CONTACT_ROLE) if attendee else None,
            SObject.OPPORTUNITY_CONTACT_ROLE,
            {"OpportunityId": opportunity, "ContactId": contact_id, "IsPrimary": index == 0},
            parent=Parent(SObject.OPPORTUNITY, opportunity),
        )


def _contact_for(
    ctx: JobContext, plan: Plan, email: str, attendee: Attendee | None, account: str | Ref
) -> str | Ref:
    """The Contact of an outside address: the one the portal made already, or a new one
    (its row is claimed when the plan is sent, so a second sync asking at once waits)."""
    person, _ = OutsidePerson.objects.get_or_create(tenant=ctx.tenant, email=email)
    row = ctx.mappings(OutsidePerson, [person.pk]).get((person.pk, Purpose.CONTACT))
    if row is not None and row.live:
        return row.salesforce_id
    first, last = split_name(attendee.name if attendee else "", email)
    fields: dict[str, Any] = {
        "FirstName": first,
        "LastName": last,
        "Email": email,
        "AccountId": account,
    }
    if attendee is not None and attendee.phone:
        fields["Phone"] = attendee.phone
    return plan.create(
        f"contact{person.pk}", Slot.of(person, Purpose.CONTACT), SObject.CONTACT, fields
    )


def split_name(name: str, email: str) -> tuple[str, str]:
    """First and last name for a new Contact or Lead; Salesforce requires a last name,
    so an unnamed person gets the part of the address before the @."""
    parts = name.strip().split()
    if len(parts) >= 2:
        return " ".join(parts[:-1])[:40], parts[-1][:80]
    if parts:
        return "", parts[0][:80]
    return "", email.split("@", 1)[0][:80]
