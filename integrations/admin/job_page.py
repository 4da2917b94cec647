"""A sync job as its admin page reads: what was asked and by whom, what it is about,
where it stands and why, what to do about its last error, the records it made, the
records it offered, and every attempt. Built from selectors; nothing here decides."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import User
from django.db import models
from django.urls import NoReverseMatch, reverse

from integrations.enums import Operation, Purpose
from integrations.models import SyncAttempt, SyncJob, SyncMapping
from integrations.salesforce.errors import error_advice
from integrations.selectors import (
    salesforce_connection_for_tenant,
    sync_job_records,
    sync_object_label,
)
from meetings.models import ActivityParticipant, Attendee

# What each operation asks of Salesforce, for someone who never read the code.
OPERATION_ASKS = {
    Operation.HIGHLIGHT_SYNC: "Bring a highlight's Salesforce Note up to date after the "
    "highlight changed (or remove it when the highlight was deleted).",
    Operation.MEETING_PROCESSED: "Auto-sync a processed meeting: link it to the one record "
    "its outside attendees match, and write its Note and Event there.",
    Operation.MEETING_SYNC: "Bring the meeting's Event and Notes up to date after its title "
    "or time changed.",
    Operation.ACTIVITY_SYNC: "Log a call, conference or task as a Task on each outside "
    "participant's Contact or Lead.",
    Operation.BOOKING_SYNC: "Log a booking made through the scheduler as an open Task on "
    "the guest's Contact or Lead.",
    Operation.HIGHLIGHTS_SEND: "Send the chosen highlights, each as a Note, to the record a "
    "member chose or to an Account created for them.",
    Operation.LEAD_CREATE: "Create a Salesforce Lead for a participant of an activity.",
}


@dataclass
class Fact:
    """One line of "what was asked": a label, its value in words, maybe a link."""

    label: str
    value: str
    url: str = ""


@dataclass
class RecordRow:
    """A Salesforce record, as a candidate offered or a record the portal made."""

    object: str
    name: str
    id: str
    url: str
    email: str = ""
    account: str = ""
    owner: str = ""
    purpose: str = ""
    concerns: str = ""
    linked_to: str = ""
    state: str = ""
    admin_url: str = ""
    chosen: bool = False


@dataclass
class JobPage:
    job: SyncJob
    subject: str
    subject_url: str
    operation: str
    asks: str
    requested_by: str
    asked: list[Fact]
    waiting_for: str
    advice: str
    last_message: str
    dismissed_by: str
    candidates: list[RecordRow] = field(default_factory=list)
    records: list[RecordRow] = field(default_factory=list)
    attempts: list[SyncAttempt] = field(default_factory=list)


def admin_url_of(obj: models.Model | None) -> str:
    """The admin page of a job's object; a participant's or attendee's is its
    activity's or meeting's (they have no page of their own)."""
    if isinstance(obj, ActivityParticipant):
        obj = obj.activity
    elif isinstance(obj, Attendee):
        obj = obj.meeting
    if obj is None:
        return ""
    meta = obj._meta
    try:
        return reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk])
    except NoReverseMatch:
        return ""


def job_subject(job: SyncJob) -> str:
    """What the job is about, in words; its kind and number when the object is gone."""
    label = sync_object_label(job.local_object, internal_domains=job.tenant.internal_domains)
    return label or f"A deleted {job.content_type.name} (#{job.object_id})"


def _record_link(base: str, record_id: str) -> str:
    return f"{base}/{record_id}" if base and record_id else ""


def _record_in_words(record: dict[str, Any]) -> str:
    name = record.get("name") or ""
    named = f" “{name}”" if name and name != record.get("id") else ""
    return f"{record.get('object', 'Record')}{named} ({record.get('id', '')})"


def _asked(params: dict[str, Any], base: str) -> list[Fact]:
    """The job's params in words: the record chosen, what to create, which highlights,
    each address's answer. Keys this page does not know are shown as they are."""
    facts: list[Fact] = []
    for key, value in params.items():
        if key == "target" and isinstance(value, dict):
            facts.append(
                Fact("Record chosen", _record_in_words(value), _record_link(base, value["id"]))
            )
        elif key == "create" and isinstance(value, dict):
            wanted = f"Account “{value.get('account_name', '')}”"
            if value.get("opportunity_name"):
                wanted += f" and Opportunity “{value['opportunity_name']}”"
            if value.get("close_date"):
                wanted += f", closing {value['close_date']}"
            facts.append(Fact("Create", wanted))
        elif key == "highlights" and isinstance(value, list):
            facts.append(Fact("Highlights", ", ".join(map(str, value)) or "none"))
        elif key == "choices" and isinstance(value, dict):
            for email, choice in value.items():
                if not isinstance(choice, dict):
                    facts.append(Fact(email, json.dumps(choice)))
                elif choice.get("object") == "create_lead":
                    company = choice.get("company") or "taken from the email domain"
                    facts.append(Fact(email, f"Create a Lead (company: {company})"))
                else:
                    url = _record_link(base, str(choice.get("id", "")))
                    facts.append(Fact(email, _record_in_words(choice), url))
        elif key == "requested":
            facts.append(Fact("Logged", "on a person's request" if value else "automatically"))
        elif key == "company":
            facts.append(Fact("Company of the Lead", value or "taken from the email domain"))
        else:
            facts.append(Fact(key.replace("_", " ").capitalize(), json.dumps(value)))
    return facts


def _candidate_rows(job: SyncJob, base: str) -> list[RecordRow]:
    """Candidates as stored: jobs from before the lookups brought email, Account and
    owner carry only object, Id and name (the page shows "—")."""
    chosen = str((job.params.get("target") or {}).get("id", ""))
    return [
        RecordRow(
            object=str(c.get("object", "")),
            name=str(c.get("name", "")),
            id=str(c.get("id", "")),
            url=_record_link(base, str(c.get("id", ""))),
            email=str(c.get("email", "")),
            account=str(c.get("account", "")),
            owner=str(c.get("owner", "")),
            chosen=bool(chosen) and chosen == c.get("id"),
        )
        for c in job.candidates or []
    ]


def _record_rows(job: SyncJob, records: list[SyncMapping], base: str) -> list[RecordRow]:
    domains = job.tenant.internal_domains
    return [
        RecordRow(
            object=r.salesforce_object,
            name="",  # a Note or Task has no name worth showing; its purpose says it
            id=r.salesforce_id,
            url=_record_link(base, r.salesforce_id) if r.live else "",
            purpose=Purpose(r.purpose).label if r.purpose in Purpose.values else r.purpose,
            concerns=sync_object_label(r.local_object, internal_domains=domains),
            linked_to=f"{r.parent_object} “{r.parent_name or r.parent_id}”" if r.parent_id else "",
            state=r.get_state_display(),
            admin_url=reverse("admin:integrations_syncmapping_change", args=[r.pk]),
        )
        for r in records
    ]


def _person(user: User | None) -> str:
    if user is None:
        return ""
    full_name = user.get_full_name()
    return f"{full_name} ({user.username})" if full_name else user.username


def _last_message(job: SyncJob, attempts: list[SyncAttempt]) -> str:
    """Salesforce's message of the attempt that set the job's error code."""
    code = job.last_error_code
    for attempt in reversed(attempts):
        if attempt.salesforce_error_code == code:
            # Attempts keep "CODE: message"; the page shows the code on its own.
            return attempt.message.removeprefix(f"{code}: ")
    return ""


def job_page_build(job: SyncJob) -> JobPage:
    connection = salesforce_connection_for_tenant(tenant=job.tenant)
    base = connection.instance_url.rstrip("/") if connection else ""
    attempts = list(job.attempts.order_by("started_at", "id"))
    last_message = _last_message(job, attempts) if job.last_error_code else ""
    waiting = job.get_waiting_for_display() if job.waiting_for else ""
    operation = Operation(job.operation) if job.operation in Operation.values else None
    return JobPage(
        job=job,
        subject=job_subject(job),
        subject_url=admin_url_of(job.local_object),
        operation=job.get_operation_display(),
        asks=OPERATION_ASKS.get(operation, "") if operation else "",
        requested_by=_person(job.requested_by),
        asked=_asked(job.params or {}, base),
        waiting_for=waiting if job.state == SyncJob.State.PENDING else "",
        advice=error_advice(job.last_error_code, last_message) if job.last_error_code else "",
        last_message=last_message,
        dismissed_by=_person(job.dismissed_by),
        candidates=_candidate_rows(job, base),
        records=_record_rows(job, sync_job_records(job=job), base),
        attempts=attempts,
    )
