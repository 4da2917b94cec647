"""The sync log and a job's page as a member reads them: what each job asked in words,
what it is about (with a link to that page), its message in plain words with the next
step, the records it made, the records it offered, and its attempts.

Reads only; what a person may do to a job is the services' (`sync_job_actions`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import models
from django.db.models import Prefetch, prefetch_related_objects
from django.urls import NoReverseMatch, reverse
from django.utils.http import urlencode

from integrations.enums import Operation, Purpose
from integrations.forms import record_value
from integrations.models import SyncAttempt, SyncJob, SyncMapping
from integrations.salesforce.errors import error_advice
from integrations.selectors import (
    salesforce_connection_for_tenant,
    sync_job_records,
    sync_object_label,
)
from meetings.models import Activity, ActivityParticipant, Attendee, Highlight, Meeting
from scheduler.models import Booking
from tenants.models import Tenant

State = SyncJob.State

# What each operation asks of Salesforce, in a member's words.
OPERATION_ASKS = {
    Operation.HIGHLIGHT_SYNC: "Bring a highlight's Note in Salesforce up to date after the "
    "highlight changed, or take it out when the highlight was deleted.",
    Operation.MEETING_PROCESSED: "Sync the processed meeting by itself: find the one "
    "Salesforce record its outside attendees belong to, and write the meeting's Note and "
    "Event there.",
    Operation.MEETING_SYNC: "Bring the meeting's Event and Notes in Salesforce up to date "
    "after its title or time changed.",
    Operation.ACTIVITY_SYNC: "Log the call, conference or task as a Task on each outside "
    "person's Contact or Lead.",
    Operation.BOOKING_SYNC: "Log the booking as an open Task on the guest's Contact or Lead.",
    Operation.HIGHLIGHTS_SEND: "Send the chosen highlights, each as a Note, to the record "
    "chosen, or to an Account created for them.",
    Operation.LEAD_CREATE: "Create a Salesforce Lead for a person on the call.",
}

# Salesforce objects by the names people know them by.
OBJECT_WORDS = {
    "ContentNote": "Note",
    "EventRelation": "Event attendee",
    "OpportunityContactRole": "Contact role",
}
# A Note's link to its record is a record of its own in Salesforce; the Note's row says
# what it is linked to, so the link is not listed apart.
HIDDEN_PURPOSES = frozenset(
    {
        Purpose.MEETING_NOTE_LINK,
        Purpose.HIGHLIGHT_NOTE_LINK,
        Purpose.MEETING_NOTE_ACCOUNT_LINK,
        Purpose.HIGHLIGHT_NOTE_ACCOUNT_LINK,
    }
)
# Where a record stands, as a member reads it (a planned one is not in Salesforce).
RECORD_STATE_WORDS = {
    SyncMapping.State.PLANNED: "Not in Salesforce yet",
    SyncMapping.State.SENT: "Sent, waiting for Salesforce's answer",
    SyncMapping.State.CONFIRMED: "In Salesforce",
    SyncMapping.State.DELETING: "Being deleted",
    SyncMapping.State.DELETED: "Deleted",
}


def object_words(sobject: str) -> str:
    return OBJECT_WORDS.get(sobject, sobject)


def record_words(record: dict[str, Any]) -> str:
    """A chosen or offered record: `Account “Initech”` (its Id when it has no name)."""
    name = str(record.get("name") or "")
    record_id = str(record.get("id") or "")
    shown = name if name and name != record_id else record_id
    return f"{object_words(str(record.get('object', 'Record')))} “{shown}”"


def _reverse(name: str, *args: str) -> str:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def subject_url(obj: models.Model | None) -> str:
    """The tenant page of what a job is about: a highlight's or attendee's meeting, a
    participant's call, the bookings list found by the booking's id."""
    if isinstance(obj, Highlight | Attendee):
        obj = obj.meeting
    elif isinstance(obj, ActivityParticipant):
        obj = obj.activity
    if isinstance(obj, Meeting):
        return _reverse("integrations:meeting", obj.external_id)
    if isinstance(obj, Activity):
        return _reverse("integrations:call", obj.external_id)
    if isinstance(obj, Booking):
        found = _reverse("integrations:bookings")
        return f"{found}?{urlencode({'q': obj.external_id})}" if found else ""
    return ""


def subject_words(job: SyncJob, tenant: Tenant) -> str:
    label = sync_object_label(job.local_object, internal_domains=tenant.internal_domains)
    return label or f"A deleted {job.content_type.name}"


def _last_message(job: SyncJob, attempts: Sequence[SyncAttempt]) -> str:
    """Salesforce's message of the attempt that set the job's error code."""
    for attempt in reversed(attempts):
        if attempt.salesforce_error_code == job.last_error_code:
            return attempt.message
    return ""


def job_message(job: SyncJob, attempts: Sequence[SyncAttempt]) -> str:
    """Why the job is where it is: for a job that failed or waits after an error, the
    error in plain words with the next step; otherwise the job's own reason."""
    after_error = job.state in (State.FAILED, State.PENDING) and bool(job.last_error_code)
    if after_error:
        return error_advice(job.last_error_code, _last_message(job, attempts))
    return job.reason


@dataclass
class LogRow:
    job: SyncJob
    what: str
    about: str
    about_url: str
    record: str
    message: str
    next_attempt_at: datetime | None


def _target_words(job: SyncJob) -> str:
    target = (job.params or {}).get("target")
    return record_words(target) if isinstance(target, dict) else ""


def log_rows(jobs: Iterable[SyncJob], *, tenant: Tenant) -> list[LogRow]:
    """One page of the tenant's log. Jobs from `selectors.sync_job_log` (their objects
    loaded); their attempts are read here, in one query for the page."""
    page = list(jobs)
    prefetch_related_objects(
        page, Prefetch("attempts", queryset=SyncAttempt.objects.order_by("started_at", "id"))
    )
    return [
        LogRow(
            job=job,
            what=str(job.get_operation_display()),
            about=subject_words(job, tenant),
            about_url=subject_url(job.local_object),
            record=_target_words(job),
            message=job_message(job, list(job.attempts.all())),
            next_attempt_at=job.next_attempt_at if job.state == State.PENDING else None,
        )
        for job in page
    ]


# --- one job's page -------------------------------------------------------------------------


@dataclass
class Fact:
    """One line of "what was asked": a label, its value in words, maybe a link."""

    label: str
    value: str
    url: str = ""


@dataclass
class RecordChoice:
    """A Salesforce record a person may choose: what tells two of one name apart."""

    value: str
    object: str
    name: str
    email: str
    account: str
    owner: str
    id: str
    url: str
    checked: bool = False


@dataclass
class MadeRecord:
    """A record of the job's object in Salesforce, in words."""

    what: str
    object: str
    concerns: str
    linked_to: str
    linked_url: str
    state: str
    live: bool
    url: str


@dataclass
class AttemptRow:
    started_at: datetime
    outcome: str
    message: str
    api_calls: int
    seconds: float


@dataclass
class JobView:
    job: SyncJob
    what: str
    asks: str
    about: str
    about_url: str
    message: str
    meeting_jobs_url: str
    facts: list[Fact] = field(default_factory=list)
    records: list[MadeRecord] = field(default_factory=list)
    candidates: list[RecordChoice] = field(default_factory=list)
    attempts: list[AttemptRow] = field(default_factory=list)
    instance_url: str = ""


def salesforce_base(tenant: Tenant) -> str:
    connection = salesforce_connection_for_tenant(tenant=tenant)
    return connection.instance_url.rstrip("/") if connection else ""


def _link(base: str, record_id: str) -> str:
    return f"{base}/{record_id}" if base and record_id else ""


def record_choices(
    records: Iterable[dict[str, Any]], base: str, chosen: str = "", *, with_name: bool = True
) -> list[RecordChoice]:
    """Candidates or records found by name, as rows of radio buttons (`Object:Id:Name`,
    or `Object:Id` for the per-address answer). Older jobs' candidates carry only object,
    Id and name; the page shows "—" for the rest."""
    rows = []
    for record in records:
        value = record_value(record, with_name=with_name)
        record_id = str(record.get("id", ""))
        rows.append(
            RecordChoice(
                value=value,
                object=object_words(str(record.get("object", ""))),
                name=str(record.get("name") or ""),
                email=str(record.get("email") or ""),
                account=str(record.get("account") or ""),
                owner=str(record.get("owner") or ""),
                id=record_id,
                url=_link(base, record_id),
                checked=bool(chosen) and value == chosen,
            )
        )
    return rows


def _highlight_texts(job: SyncJob, external_ids: Sequence[Any]) -> str:
    meeting = job.local_object
    if not isinstance(meeting, Meeting):
        return ", ".join(map(str, external_ids))
    texts = dict(
        Highlight.objects.filter(meeting=meeting, external_id__in=external_ids).values_list(
            "external_id", "text"
        )
    )
    return "; ".join(f"“{_clip(texts.get(h, str(h)))}”" for h in external_ids) or "none"


def _clip(text: str, length: int = 80) -> str:
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"


def _asked(job: SyncJob, base: str) -> list[Fact]:
    """The job's params in words. Keys only the engine reads are left out."""
    facts: list[Fact] = []
    params = job.params or {}
    target = params.get("target")
    if isinstance(target, dict):
        facts.append(
            Fact("Record chosen", record_words(target), _link(base, str(target.get("id", ""))))
        )
    create = params.get("create")
    if isinstance(create, dict):
        wanted = f"Account “{create.get('account_name', '')}”"
        if create.get("opportunity_name"):
            wanted += f" and Opportunity “{create['opportunity_name']}”"
        facts.append(Fact("Create", wanted))
    if isinstance(params.get("highlights"), list):
        facts.append(Fact("Highlights", _highlight_texts(job, params["highlights"])))
    choices = params.get("choices")
    if isinstance(choices, dict):
        for email, choice in choices.items():
            if not isinstance(choice, dict):
                continue
            if choice.get("object") == "create_lead":
                company = choice.get("company") or "taken from the email domain"
                facts.append(Fact(email, f"Create a Lead (company: {company})"))
            else:
                url = _link(base, str(choice.get("id", "")))
                facts.append(Fact(email, record_words(choice), url))
    if "company" in params:
        facts.append(
            Fact("Company of the Lead", params["company"] or "taken from the email domain")
        )
    return facts


def _made(job: SyncJob, records: Iterable[SyncMapping], base: str) -> list[MadeRecord]:
    domains = job.tenant.internal_domains
    rows = []
    for r in records:
        if r.purpose in HIDDEN_PURPOSES:
            continue
        parent = ""
        if r.parent_id:
            parent = record_words(
                {"object": r.parent_object, "id": r.parent_id, "name": r.parent_name}
            )
        rows.append(
            MadeRecord(
                what=str(Purpose(r.purpose).label) if r.purpose in Purpose.values else r.purpose,
                object=object_words(r.salesforce_object),
                concerns=sync_object_label(r.local_object, internal_domains=domains),
                linked_to=parent,
                linked_url=_link(base, r.parent_id),
                state=RECORD_STATE_WORDS.get(SyncMapping.State(r.state), r.state),
                live=r.live,
                url=_link(base, r.salesforce_id) if r.live else "",
            )
        )
    return rows


def _attempts(job: SyncJob) -> list[AttemptRow]:
    rows = []
    for attempt in job.attempts.all():
        code = attempt.salesforce_error_code
        rows.append(
            AttemptRow(
                started_at=attempt.started_at,
                outcome=str(attempt.get_outcome_display() or "Running"),
                message=error_advice(code, attempt.message) if code else attempt.message,
                api_calls=attempt.api_calls,
                seconds=round(attempt.duration_ms / 1000, 1),
            )
        )
    return rows


def _meeting_of(obj: models.Model | None) -> Meeting | None:
    if isinstance(obj, Highlight | Attendee):
        return obj.meeting
    return obj if isinstance(obj, Meeting) else None


def job_view(job: SyncJob) -> JobView:
    """A job from `selectors.sync_job_get` (its attempts loaded), as its page shows it."""
    base = salesforce_base(job.tenant)
    operation = Operation(job.operation) if job.operation in Operation.values else None
    meeting = _meeting_of(job.local_object)
    log = _reverse("integrations:sync-log")
    chosen = (job.params or {}).get("target") or {}
    candidates = record_choices(job.candidates or [], base)
    for row in candidates:
        row.checked = bool(chosen) and row.id == chosen.get("id")
    return JobView(
        job=job,
        what=str(job.get_operation_display()),
        asks=OPERATION_ASKS.get(operation, "") if operation else "",
        about=subject_words(job, job.tenant),
        about_url=subject_url(job.local_object),
        message=job_message(job, list(job.attempts.all())),
        meeting_jobs_url=f"{log}?{urlencode({'meeting': meeting.external_id})}" if meeting else "",
        facts=_asked(job, base),
        records=_made(job, sync_job_records(job=job), base),
        candidates=candidates,
        attempts=_attempts(job),
        instance_url=base,
    )


def person_name(user: Any) -> str:
    if user is None:
        return ""
    return str(user.get_full_name() or user.get_username())
