"""What members and partners ask of the sync: preview a meeting's match, send its
highlights, log an activity, create a Lead from a participant."""

from __future__ import annotations

from typing import Any, TypedDict

from django.contrib.auth.models import User
from django.db import transaction

from core.errors import Conflict, InvalidInput, Unavailable
from integrations.enums import Operation
from integrations.models import SalesforceConnection, SyncJob
from integrations.outbox.enqueue import sync_job_enqueue
from integrations.participants import participant_internal, participant_key, phone_book
from integrations.salesforce.errors import SalesforceError
from integrations.salesforce.lookups import directory_fetch
from integrations.salesforce.matching import Directory, external_emails, manual_match
from integrations.salesforce.phones import key_shown
from integrations.services.choices import (
    CREATE_LEAD,
    ORGANISATIONS,
    PersonChoice,
    match_choice_remember,
    person_choice,
    record_choice,
)
from integrations.sync.connection import connection_client, connection_needs_reauth
from meetings.models import Activity, Highlight, Meeting
from tenants.models import Tenant


class AttendeeMatch(TypedDict):
    """One attendee and the Salesforce records their address is: Contacts and Leads for
    an outside person, the User for someone of the tenant; none when nobody matched."""

    email: str
    records: list[dict[str, str]]


class MatchPreview(TypedDict):
    """What `match_preview` answers (the API's and the meeting page's shape)."""

    situation: str
    situation_label: str
    offers_creation: bool
    what_to_do: str
    offer: dict[str, str] | None
    candidates: list[dict[str, str]]
    matched_contacts: list[dict[str, str]]
    unmatched_emails: list[str]
    attendees: list[AttendeeMatch]
    api_calls: int


def _connected(tenant: Tenant) -> SalesforceConnection:
    connection = SalesforceConnection.objects.filter(tenant=tenant).first()
    if connection is None or connection.status != SalesforceConnection.Status.CONNECTED:
        raise Conflict(
            "Salesforce is not connected for this tenant; an admin connects it on the "
            "settings page."
        )
    return connection


def _highlights_pick(meeting: Meeting, highlight_ids: list[str]) -> list[Highlight]:
    if not highlight_ids:
        raise InvalidInput("Choose at least one highlight.", field="highlights")
    found = list(
        Highlight.objects.filter(meeting=meeting, external_id__in=highlight_ids, is_deleted=False)
    )
    missing = sorted(set(highlight_ids) - {h.external_id for h in found})
    if missing:
        raise InvalidInput(
            f"No such highlight in this meeting: {', '.join(missing)}.", field="highlights"
        )
    return found


def match_preview(*, meeting: Meeting, highlight_ids: list[str]) -> MatchPreview:
    """Which of the four manual-sync situations applies (SPEC 3.1), with the record on
    offer and the candidates. Reads Salesforce (one lookup round), writes nothing."""
    _highlights_pick(meeting, highlight_ids)
    connection = _connected(meeting.tenant)
    attendees = [e.lower() for e in meeting.attendees.values_list("email", flat=True)]
    emails = external_emails(attendees, meeting.tenant.internal_domains)
    # Users travel in the same Composite request as the people: no further API call.
    internal = [e for e in attendees if e not in emails]
    client = connection_client(connection)
    try:
        directory = directory_fetch(client, people_emails=emails, user_emails=internal)
    except SalesforceError as error:
        if error.kind == "reauth":
            connection_needs_reauth(connection, error.message)
        raise Unavailable(f"Salesforce could not be asked: {error}") from error
    found = manual_match(directory, emails)
    return {
        "situation": found.situation.value,
        "situation_label": found.situation.label,
        "offers_creation": found.situation.offers_creation,
        "what_to_do": found.situation.what_to_do,
        "offer": found.offer.as_dict() if found.offer else None,
        "candidates": [c.as_dict() for c in found.candidates],
        "matched_contacts": [
            {"id": c.id, "name": c.name, "email": c.email} for c in found.contacts
        ],
        "unmatched_emails": found.unmatched_emails,
        "attendees": [_attendee_match(directory, email, email in emails) for email in attendees],
        "api_calls": client.api_calls,
    }


def _attendee_match(directory: Directory, email: str, external: bool) -> AttendeeMatch:
    if external:
        people = directory.people_of(email)
        records = [{"object": p.sobject, "id": p.id, "name": p.name} for p in people]
    else:
        user_id = directory.users.get(email)
        records = [{"object": "User", "id": user_id, "name": ""}] if user_id else []
    return {"email": email, "records": records}


def _create_request(create: dict[str, Any]) -> dict[str, str]:
    """The Account (and Opportunity) to create for a manual send, checked."""
    name = str(create.get("account_name", "")).strip()
    if not name:
        raise InvalidInput("An Account needs a name.", field="create.account_name")
    request = {
        "account_name": name[:255],
        "opportunity_name": str(create.get("opportunity_name", "")).strip()[:120],
    }
    if create.get("close_date"):
        request["close_date"] = str(create["close_date"])
    return request


def highlights_send(
    *,
    meeting: Meeting,
    highlight_ids: list[str],
    target: dict[str, Any] | None = None,
    create: dict[str, Any] | None = None,
    requested_by: User | None = None,
) -> SyncJob:
    """Send chosen highlights, each as one Note, to a chosen Account or Opportunity, or
    to one created for them (situations 2 and 4)."""
    _highlights_pick(meeting, highlight_ids)
    if bool(target) == bool(create):
        raise InvalidInput("Give either a target record or a create request, not both.")
    params: dict[str, Any] = {"highlights": sorted(set(highlight_ids))}
    if target:
        params["target"] = record_choice(target, allowed=ORGANISATIONS, field="target")
    elif create:
        params["create"] = _create_request(create)
    with transaction.atomic():
        job = sync_job_enqueue(
            tenant=meeting.tenant,
            operation=Operation.HIGHLIGHTS_SEND,
            local_object=meeting,
            params=params,
        )
        SyncJob.objects.filter(pk=job.pk).update(requested_by=requested_by)
    return job


def activity_log(
    *,
    activity: Activity,
    choices: dict[str, Any] | None = None,
    requested_by: User | None = None,
) -> SyncJob:
    """Log an activity now. `choices` maps a participant's key (their email, or for
    someone known only by phone their number in E.164) to the record it is
    ({"object": "Contact", "id": ...}) or to {"object": "create_lead", "company": ...};
    each choice is remembered for that address or number."""
    book = phone_book(activity.tenant)
    participants = list(activity.participants.all())
    outside = {
        participant_key(p, book)
        for p in participants
        if not participant_internal(p, activity.tenant, book)
    }
    if not outside:
        raise InvalidInput(
            "Only internal users took part in this activity; internal activities are not "
            "logged to Salesforce, so nothing was sent.",
            field="participants",
        )
    picked: dict[str, PersonChoice] = {}
    for raw_key, value in (choices or {}).items():
        key = raw_key.strip().lower()
        if key not in outside:
            raise InvalidInput(
                f"{key_shown(key)} is not one of this activity's outside participants "
                "(a participant known only by phone is named by their number in E.164, "
                "e.g. +14155550100).",
                field="choices",
            )
        picked[key] = person_choice(value)
    params: dict[str, Any] = {"requested": True, "choices": picked}
    with transaction.atomic():
        for key, choice in picked.items():
            if choice["object"] != CREATE_LEAD:
                match_choice_remember(
                    tenant=activity.tenant, email=key, choice=choice, user=requested_by
                )
        job = sync_job_enqueue(
            tenant=activity.tenant,
            operation=Operation.ACTIVITY_SYNC,
            local_object=activity,
            params=params,
        )
    return job


def lead_create(*, activity: Activity, email: str, company: str = "") -> SyncJob:
    """Create a Salesforce Lead from one of the activity's participants."""
    email = email.strip().lower()
    participant = activity.participants.filter(email=email).first()
    if participant is None:
        raise InvalidInput(f"{email} did not take part in this activity.", field="email")
    if activity.tenant.is_internal_email(email):
        raise InvalidInput(f"{email} is an internal user, not a prospect.", field="email")
    with transaction.atomic():
        return sync_job_enqueue(
            tenant=activity.tenant,
            operation=Operation.LEAD_CREATE,
            local_object=participant,
            params={"company": company.strip()[:255]},
        )
