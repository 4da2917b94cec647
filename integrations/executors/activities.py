"""activity.sync and lead.create: calls, conferences and tasks as Salesforce Tasks
(SPEC 3.5), one per matched outside participant, owned by the right user.

A participant is known by their email address; one known only by phone, by their number
in E.164 (read in the tenant's default region when written without a country code).
Numbers are matched by the same rules as addresses: several matches ask for a choice,
which is remembered for the number; the tenant's own numbers are internal."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q

from integrations.enums import Purpose, SObject
from integrations.executors.base import (
    Executor,
    JobContext,
    Reading,
    choice_followed,
    lead_chosen,
    lead_parents,
    needs_review,
    skipped,
)
from integrations.executors.manual_send import split_name
from integrations.models import MatchChoice, SyncMapping
from integrations.salesforce import payloads
from integrations.salesforce.matching import (
    Directory,
    Person,
    activity_people,
    external_emails,
    task_owner,
)
from integrations.salesforce.phones import key_shown, phone_e164
from integrations.salesforce.writer import Ref
from integrations.sync.plan import Finish, Parent, Plan, Slot
from meetings.models import Activity, ActivityParticipant
from tenants.emails import email_is_internal


@dataclass(kw_only=True)
class ActivityReading(Reading):
    activity: Activity
    external: list[ActivityParticipant]
    internal: list[ActivityParticipant]
    maps: dict[tuple[int, Purpose], SyncMapping]
    # Who is looked up: the outside participants' addresses, then the E.164 numbers of
    # those known only by phone.
    emails: list[str]
    by_phone: dict[str, ActivityParticipant]
    # Numbers of phone-only participants that are no phone number: not looked up.
    unreadable: list[str]
    region: str
    # Remembered choices for these addresses and numbers, then those given with the job.
    choices: dict[str, dict[str, Any]]
    remembered: dict[str, dict[str, Any]]


class ActivityLog(Executor[ActivityReading]):
    def read(self, ctx: JobContext) -> ActivityReading | Finish:
        activity = Activity.objects.filter(pk=ctx.job.object_id, tenant=ctx.tenant).first()
        if activity is None:
            return skipped("The activity no longer exists.")
        participants = list(activity.participants.all())
        maps = ctx.mappings(ActivityParticipant, [p.pk for p in participants])
        requested = bool(ctx.params.get("requested"))
        logged = any(p == Purpose.ACTIVITY_TASK for _, p in maps)
        if not (requested or logged or ctx.settings.log_calls_automatically):
            return skipped(
                "Activities are logged on request for this tenant; ask to log this one, or "
                "turn on automatic logging."
            )
        domains = ctx.tenant.internal_domains
        internal = [p for p in participants if p.email and email_is_internal(p.email, domains)]
        region = ctx.settings.phone_default_region
        own_numbers = set(ctx.settings.internal_phone_numbers or [])
        by_phone: dict[str, ActivityParticipant] = {}
        own: list[ActivityParticipant] = []
        unreadable: list[str] = []
        for p in participants:
            if p.email or not p.phone:
                continue
            number = phone_e164(p.phone, region)
            if number is None:
                unreadable.append(p.phone)
            elif number in own_numbers:
                own.append(p)  # one of the tenant's own numbers: an internal user
            else:
                by_phone.setdefault(number, p)
        external = [p for p in participants if p not in internal and p not in own]
        if not external:
            return skipped(
                "Only internal users took part; internal activities are not logged to Salesforce."
            )
        emails = external_emails([p.email for p in external if p.email], domains)
        remembered: dict[str, dict[str, Any]] = {
            c.email or c.phone: {"object": c.salesforce_object, "id": c.salesforce_id}
            for c in MatchChoice.objects.filter(tenant=ctx.tenant).filter(
                Q(email__in=emails) | Q(phone__in=list(by_phone))
            )
        }
        choices = {**remembered, **(ctx.params.get("choices") or {})}
        return ActivityReading(
            people=set(emails),
            users={activity.logged_by_email, *(p.email for p in internal)},
            phones=set(by_phone),
            leads=lead_parents(maps.values()).union(*(lead_chosen(c) for c in choices.values())),
            choices=choices,
            remembered=remembered,
            activity=activity,
            external=external,
            internal=internal,
            maps=maps,
            emails=emails + sorted(by_phone),
            by_phone=by_phone,
            unreadable=unreadable,
            region=region,
        )

    def plan(
        self, ctx: JobContext, reading: ActivityReading, directory: Directory
    ) -> Plan | Finish:
        """Steps: 1. each address's record: a Task already logged keeps its person, a
        remembered or given choice decides between several, one match is taken, none
        gets no Task; 2. still several: a person confirms first, nothing is logged;
        3. one Task per participant with a record (or a Lead made for them)."""
        emails = reading.emails
        choices: dict[str, dict[str, Any]] = {
            key: choice_followed(choice, directory) or choice
            for key, choice in reading.choices.items()
        }
        lead_requests = {e for e, c in choices.items() if c.get("object") == "create_lead"}
        chosen, ambiguous = activity_people(
            directory, emails, {e: c for e, c in choices.items() if e not in lead_requests}
        )
        by_email = {p.email: p for p in reading.external if p.email} | reading.by_phone
        for email, known in by_email.items():
            task = reading.maps.get((known.pk, Purpose.ACTIVITY_TASK))
            if task is not None and task.parent_id:
                chosen[email] = Person(_person_kind(task.parent_object), task.parent_id, email)
        ambiguous = [a for a in ambiguous if a.email not in chosen and a.email not in lead_requests]
        if ambiguous:
            return needs_review(
                "Several Salesforce records match "
                f"{', '.join(key_shown(a.email) for a in ambiguous)}. "
                "Confirm which one (or create a Lead) before the activity is logged; the "
                "choice is remembered for that address or number." + _unread(reading),
                [
                    {**p.as_candidate().as_dict(), "email": a.email}
                    for a in ambiguous
                    for p in a.people
                ],
            )
        plan = ctx.new_plan()
        logged = 0
        for email in emails:
            participant = by_email.get(email)
            if participant is None:
                continue
            person, who = self._person(
                ctx, plan, reading, participant, chosen, lead_requests, choices
            )
            if person is None:
                continue
            if self._task_plan(ctx, plan, reading, directory, participant, person, who):
                logged += 1
        if not logged and not any(p == Purpose.ACTIVITY_TASK for _, p in reading.maps):
            return skipped(
                "No Contact or Lead in Salesforce matches "
                f"{', '.join(map(key_shown, emails)) or 'the participants'}; create a Lead "
                "to log it." + _unread(reading)
            )
        plan.reason = (
            f"Logged as {logged} Task(s)."
            if logged
            else "Salesforce already holds this version of the activity."
        ) + _unread(reading)
        return plan

    def _person(
        self,
        ctx: JobContext,
        plan: Plan,
        reading: ActivityReading,
        participant: ActivityParticipant,
        chosen: dict[str, Person],
        lead_requests: set[str],
        choices: dict[str, dict[str, Any]],
    ) -> tuple[Person | None, str | Ref]:
        email = participant.email or _number_of(participant, reading)
        if email in chosen:
            return chosen[email], chosen[email].id
        if email not in lead_requests:
            return None, ""
        made = reading.maps.get((participant.pk, Purpose.PARTICIPANT_LEAD))
        if made is not None and made.live:
            # A Lead was already created for this participant: it is the one.
            return Person("Lead", made.salesforce_id, email, participant.name), made.salesforce_id
        known = reading.remembered.get(email) or {}
        if known.get("object") == SObject.LEAD and known.get("id"):
            # A Lead is remembered for this address or number (made on an earlier call,
            # or chosen): asking again uses it rather than making a second one.
            lead_id = str(known["id"])
            return Person("Lead", lead_id, email, participant.name), lead_id
        lead = plan.create(
            f"lead{participant.pk}",
            Slot.of(participant, Purpose.PARTICIPANT_LEAD),
            SObject.LEAD,
            lead_fields(participant, choices[email].get("company")),
        )
        plan.remember_leads[email] = lead
        return Person("Lead", "", email, participant.name), lead

    def _task_plan(
        self,
        ctx: JobContext,
        plan: Plan,
        reading: ActivityReading,
        directory: Directory,
        participant: ActivityParticipant,
        person: Person,
        who: str | Ref,
    ) -> bool:
        activity = reading.activity
        owner, say_who = task_owner(
            person=person,
            logging_user_id=directory.users.get(activity.logged_by_email.lower(), ""),
            installer_user_id=ctx.connection.installer_salesforce_user_id,
            participant_user_ids=[
                directory.users[p.email.lower()]
                for p in reading.internal
                if p.email.lower() in directory.users
            ],
        )
        payload = payloads.activity_task_payload(
            kind=activity.kind,
            direction=activity.direction,
            subject=activity.subject,
            notes=activity.notes,
            logged_by=(
                payloads.logged_by_line(activity.logged_by_name, activity.logged_by_email)
                if say_who
                else ""
            ),
            page_url=ctx.page_url("integrations:call", activity.external_id),
        )
        fields: dict[str, Any] = {
            **payload.fields,
            "Status": "Completed",
            "ActivityDate": activity.started_at.date().isoformat(),
        }
        if owner:
            fields["OwnerId"] = owner
        if activity.kind in (Activity.Kind.CALL, Activity.Kind.CONFERENCE):
            fields["CallDurationInSeconds"] = activity.duration_seconds
            if activity.kind == Activity.Kind.CALL:
                fields["CallType"] = activity.direction.capitalize()
        task = reading.maps.get((participant.pk, Purpose.ACTIVITY_TASK))
        name = f"task{participant.pk}"
        if task is not None and task.live:
            if task.pushed_version >= activity.version:
                return False
            plan.update(name, task, fields, version=activity.version)
            plan.cuts.extend(payload.cuts)
            return True
        fields["WhoId"] = who
        fields["TaskSubtype"] = "Task" if activity.kind == Activity.Kind.TASK else "Call"
        plan.create(
            name,
            Slot.of(participant, Purpose.ACTIVITY_TASK),
            SObject.TASK,
            fields,
            version=activity.version,
            parent=Parent(person.sobject, who, person.name),
        )
        plan.cuts.extend(payload.cuts)
        return True


def _number_of(participant: ActivityParticipant, reading: ActivityReading) -> str:
    """A phone-only participant's key: their number in E.164."""
    return next((n for n, p in reading.by_phone.items() if p.pk == participant.pk), "")


def _unread(reading: ActivityReading) -> str:
    """What the job's reason says of the numbers that could not be looked up."""
    if not reading.unreadable:
        return ""
    return (
        f" Not looked up, as they are not valid phone numbers (national numbers are read "
        f"in region {reading.region}): {', '.join(reading.unreadable)}."
    )


def _person_kind(sobject: str) -> Any:
    return "Lead" if sobject == SObject.LEAD else "Contact"


def lead_fields(participant: ActivityParticipant, company: str | None) -> dict[str, Any]:
    """A Lead from a participant: name, email, phone, and the company asked for or taken
    from the email's domain."""
    first, last = split_name(participant.name, participant.email or participant.phone)
    domain = participant.email.split("@", 1)[1] if "@" in participant.email else ""
    fields: dict[str, Any] = {
        "FirstName": first,
        "LastName": last,
        "Company": (company or domain.split(".")[0].title() or "Unknown")[:255],
    }
    if participant.email:
        fields["Email"] = participant.email
    if participant.phone:
        fields["Phone"] = participant.phone
    return fields


@dataclass(kw_only=True)
class LeadReading(Reading):
    participant: ActivityParticipant


class LeadCreate(Executor[LeadReading]):
    """Create a Lead from an activity's participant (SPEC 3.5)."""

    def read(self, ctx: JobContext) -> LeadReading | Finish:
        participant = ActivityParticipant.objects.filter(
            pk=ctx.job.object_id, activity__tenant=ctx.tenant
        ).first()
        if participant is None:
            return skipped("The participant no longer exists.")
        # Asked for explicitly, even when the address matches records already (seed
        # 001: "confirm the match, or create a Salesforce Lead"): no lookup needed.
        return LeadReading(participant=participant)

    def plan(self, ctx: JobContext, reading: LeadReading, directory: Directory) -> Plan | Finish:
        participant = reading.participant
        plan = ctx.new_plan()
        row = ctx.mappings(ActivityParticipant, [participant.pk]).get(
            (participant.pk, Purpose.PARTICIPANT_LEAD)
        )
        if row is not None and row.live:
            plan.reason = f"The Lead exists: {row.salesforce_id}."
            return plan
        lead = plan.create(
            "lead",
            Slot.of(participant, Purpose.PARTICIPANT_LEAD),
            SObject.LEAD,
            lead_fields(participant, ctx.params.get("company")),
        )
        number = phone_e164(participant.phone, ctx.settings.phone_default_region)
        if participant.email or number:
            plan.remember_leads[participant.email or str(number)] = lead
        plan.reason = f"Lead created for {participant.name or participant.email}."
        return plan
