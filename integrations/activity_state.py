"""Where calls (and conferences and tasks) and scheduler bookings stand in Salesforce,
in words a member reads: reads only, always within one tenant.

A list row's state comes from two things, both computed in the list's own query (no
query per row): the newest sync job about the object, and how many of its records are
in Salesforce (a call's Tasks, a booking's open Task). The rule that turns them into
one state is `_log_state`, written once as SQL so that the state filter and the row's
words can never disagree."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Case, Count, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce

from integrations.enums import Operation, Purpose
from integrations.models import MatchChoice, SyncJob, SyncMapping
from integrations.participants import (
    PhoneBook,
    participant_internal,
    participant_key,
    phone_book,
)
from integrations.salesforce.errors import error_advice
from integrations.salesforce.phones import key_shown
from integrations.selectors import (
    salesforce_connection_for_tenant,
)
from meetings.models import Activity, ActivityParticipant
from scheduler.models import Booking
from tenants.models import Tenant

State = SyncJob.State
_Row = TypeVar("_Row", bound=models.Model)


class LogState(models.TextChoices):
    """Where one call or booking stands in Salesforce (the lists' state filter)."""

    LOGGED = "logged", "Logged"
    LOGGING = "logging", "Being logged"
    NEEDS_CHOICE = "needs_choice", "Needs your choice"
    FAILED = "failed", "Failed"
    NOT_LOGGED = "not_logged", "Not logged"


# The look of each state: the job states' colours of the shared stylesheet.
_STATE_CSS = {
    LogState.LOGGED: "succeeded",
    LogState.LOGGING: "running",
    LogState.NEEDS_CHOICE: "needs_review",
    LogState.FAILED: "failed",
    LogState.NOT_LOGGED: "skipped",
}


@dataclass(frozen=True)
class RowState:
    """One row's state: `label` beside it as a badge, `detail` the sentence after."""

    state: LogState
    detail: str
    job_id: int | None = None
    # Whether asking to log it now makes sense: not logged, and someone outside is
    # known by an address or a phone number (what Salesforce is searched by).
    can_log: bool = False

    @property
    def label(self) -> str:
        return str(self.state.label)

    @property
    def css(self) -> str:
        return _STATE_CSS[self.state]


def _last_job(model: type[models.Model], operation: Operation) -> QuerySet[SyncJob]:
    """The newest job of `operation` about each row of `model` (an OuterRef query)."""
    return SyncJob.objects.filter(
        tenant=OuterRef("tenant"),
        content_type=ContentType.objects.get_for_model(model),
        object_id=OuterRef("pk"),
        operation=operation,
    ).order_by("-created_at", "-id")


def _with_last_job(
    rows: QuerySet[_Row], model: type[models.Model], operation: Operation
) -> QuerySet[_Row]:
    last = _last_job(model, operation)
    annotated = rows.annotate(
        last_job_id=Subquery(last.values("id")[:1]),
        last_job_state=Subquery(last.values("state")[:1]),
        last_job_reason=Subquery(last.values("reason")[:1]),
        last_job_error=Subquery(last.values("last_error_code")[:1]),
    )
    # The rows are still `_Row`s, with attributes added (read through `Any` below).
    return cast("QuerySet[_Row]", annotated)


def _log_state() -> Case:
    """The one rule: a job at work or waiting for a person speaks first; otherwise the
    object is logged when any of its records is in Salesforce (`records_logged`)."""
    return Case(
        When(last_job_state__in=SyncJob.OPEN_STATES, then=Value(LogState.LOGGING.value)),
        When(last_job_state=State.NEEDS_REVIEW, then=Value(LogState.NEEDS_CHOICE.value)),
        When(last_job_state=State.FAILED, then=Value(LogState.FAILED.value)),
        When(records_logged__gt=0, then=Value(LogState.LOGGED.value)),
        default=Value(LogState.NOT_LOGGED.value),
        output_field=models.CharField(),
    )


def _count(rows: QuerySet[Any]) -> Coalesce:
    """How many rows a correlated query finds (0 when none)."""
    counted = rows.order_by().values("tenant").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=models.IntegerField()), Value(0))


# --- calls, conferences and tasks ---------------------------------------------------------


def calls_with_state(activities: QuerySet[Activity]) -> QuerySet[Activity]:
    """Activities with their participants, their newest log job, the Tasks they have in
    Salesforce (`records_logged`) and their `log_state`, in one query plus one for the
    participants."""
    participant_type = ContentType.objects.get_for_model(ActivityParticipant)
    tasks = SyncMapping.objects.filter(
        tenant=OuterRef("tenant"),
        content_type=participant_type,
        object_id__in=ActivityParticipant.objects.filter(activity=OuterRef(OuterRef("pk"))).values(
            "pk"
        ),
        purpose=Purpose.ACTIVITY_TASK,
        state=SyncMapping.State.CONFIRMED,
    ).exclude(salesforce_id="")
    rows = _with_last_job(activities, Activity, Operation.ACTIVITY_SYNC)
    return (
        rows.annotate(records_logged=_count(tasks))
        .annotate(log_state=_log_state())
        .prefetch_related("participants")
    )


def _failure(row: Any) -> str:
    reason = row.last_job_reason or ""
    code = row.last_job_error or ""
    return error_advice(code, reason) if code else reason or "The last try failed."


def call_outside(activity: Activity, tenant: Tenant, book: PhoneBook) -> list[ActivityParticipant]:
    """The people outside the tenant in a call (read from the prefetched rows)."""
    return [p for p in activity.participants.all() if not participant_internal(p, tenant, book)]


# A number in E.164 in a job's words ("+14155550100"), as the jobs name phone-only people.
_E164_IN_TEXT = re.compile(r"(?<![\w+])\+\d{8,15}\b")


def _numbers_shown(text: str) -> str:
    """A job's words with each E.164 number as a person reads it ("+1 415-555-0100")."""
    return _E164_IN_TEXT.sub(lambda found: key_shown(found.group()), text)


def _detail(row: Any, state: LogState, logged: str) -> str:
    """The sentence after a row's state: `logged` when logged, otherwise what its newest
    job said (a failure in plain words, with the next step)."""
    if state == LogState.LOGGED:
        return logged
    if state == LogState.LOGGING:
        return "Being sent to Salesforce now."
    if state == LogState.FAILED:
        return _numbers_shown(_failure(row))
    return _numbers_shown(str(row.last_job_reason or "Not sent to Salesforce yet."))


def call_row_state(activity: Activity, tenant: Tenant, book: PhoneBook) -> RowState:
    """A call's state in words, from what `calls_with_state` computed."""
    row: Any = activity
    state = LogState(row.log_state)
    count = row.records_logged
    detail = _detail(row, state, f"{count} Task{'s' if count != 1 else ''} in Salesforce.")
    can_log = state == LogState.NOT_LOGGED and any(
        participant_key(p, book) for p in call_outside(activity, tenant, book)
    )
    return RowState(state, detail, row.last_job_id, can_log)


@dataclass
class ParticipantMatch:
    """One participant of a call and what they are in Salesforce."""

    participant: ActivityParticipant
    internal: bool
    # What they are looked up by: their address, or their number in E.164 when known
    # only by phone ("" when neither is usable); choices and candidates are keyed by it.
    key: str = ""
    # The Task logged for them, and the Lead made for them, when there are.
    task: SyncMapping | None = None
    lead: SyncMapping | None = None
    # The record someone chose for this address or number before (asked no more).
    remembered: MatchChoice | None = None
    # The records their address or number matches, when a person must choose.
    candidates: list[dict[str, str]] = field(default_factory=list)

    @property
    def email(self) -> str:
        return self.participant.email

    @property
    def by_phone(self) -> bool:
        """Known only by phone, and looked up by that number."""
        return bool(self.key) and not self.participant.email

    @property
    def shown_as(self) -> str:
        """Their address, or their number as a person reads it ("+1 415-555-0100")."""
        return key_shown(self.key) if self.key else self.participant.phone

    @property
    def askable(self) -> bool:
        """Whether logging can still be asked for this person: outside, known by an
        address or a phone number and without a Task yet."""
        return not self.internal and bool(self.key) and self.task is None


@dataclass
class CallState:
    """A call's page: its state, its participants' matches, its newest job when that
    waits for a person (a choice among records, or a failure) and the org's address
    for links."""

    activity: Activity
    row: RowState
    participants: list[ParticipantMatch]
    waiting_job: SyncJob | None
    instance_url: str

    @property
    def review_job(self) -> SyncJob | None:
        """The job waiting for a choice among records, if the call's newest does."""
        job = self.waiting_job
        return job if job is not None and job.state == State.NEEDS_REVIEW else None

    @property
    def failed_job(self) -> SyncJob | None:
        job = self.waiting_job
        return job if job is not None and job.state == State.FAILED else None

    @property
    def pending(self) -> bool:
        return self.row.state == LogState.LOGGING

    @property
    def askable(self) -> list[ParticipantMatch]:
        """Who the log form asks about: when a job waits for a choice, the addresses and
        numbers it asks about; otherwise everyone outside still without a Task. Each
        address or number once, as the job answers for it once."""
        choosing = self.review_job is not None
        asked = [p for p in self.participants if (p.candidates if choosing else p.askable)]
        once: dict[str, ParticipantMatch] = {}
        for person in asked:
            once.setdefault(person.key, person)
        return list(once.values())


def instance_url(tenant: Tenant) -> str:
    """The org's address, to which a record's Id is appended to open it ("" when
    Salesforce was never connected)."""
    found = salesforce_connection_for_tenant(tenant=tenant)
    return found.instance_url.rstrip("/") if found else ""


def call_get(*, tenant: Tenant, external_id: str) -> Activity | None:
    return calls_with_state(Activity.objects.filter(tenant=tenant, external_id=external_id)).first()


def call_state(*, tenant: Tenant, activity: Activity) -> CallState:
    """Everything the call's page shows about Salesforce. `activity` comes from
    `call_get` (with its state computed)."""
    book = phone_book(tenant)
    row = call_row_state(activity, tenant, book)
    participants = list(activity.participants.all())
    records = SyncMapping.objects.filter(
        tenant=tenant,
        content_type=ContentType.objects.get_for_model(ActivityParticipant),
        object_id__in=[p.pk for p in participants],
        purpose__in=[Purpose.ACTIVITY_TASK, Purpose.PARTICIPANT_LEAD],
    )
    by_participant: dict[tuple[int, str], SyncMapping] = {
        (r.object_id, r.purpose): r for r in records if r.live
    }
    keys = {p.pk: participant_key(p, book) for p in participants}
    emails = [p.email for p in participants if p.email]
    numbers = [keys[p.pk] for p in participants if keys[p.pk] and not p.email]
    remembered = {
        c.email or c.phone: c
        for c in MatchChoice.objects.filter(tenant=tenant).filter(
            Q(email__in=emails) | Q(phone__in=numbers)
        )
    }
    waiting_job = None
    if row.state in (LogState.NEEDS_CHOICE, LogState.FAILED) and row.job_id is not None:
        waiting_job = SyncJob.objects.filter(tenant=tenant, pk=row.job_id).first()
    review_job = waiting_job if waiting_job and waiting_job.state == State.NEEDS_REVIEW else None
    candidates = list(review_job.candidates or []) if review_job else []
    matches = [
        ParticipantMatch(
            participant=p,
            internal=participant_internal(p, tenant, book),
            key=keys[p.pk],
            task=by_participant.get((p.pk, Purpose.ACTIVITY_TASK)),
            lead=by_participant.get((p.pk, Purpose.PARTICIPANT_LEAD)),
            remembered=remembered.get(keys[p.pk]) if keys[p.pk] else None,
            candidates=[c for c in candidates if keys[p.pk] and c.get("email") == keys[p.pk]],
        )
        for p in participants
    ]
    return CallState(activity, row, matches, waiting_job, instance_url(tenant))


# --- scheduler bookings -------------------------------------------------------------------------


def bookings_with_state(bookings: QuerySet[Booking]) -> QuerySet[Booking]:
    """Bookings with their newest sync job, their open Task's Id in Salesforce
    (`task_id`, "" when none) and their `log_state`, in one query."""
    task = SyncMapping.objects.filter(
        tenant=OuterRef("tenant"),
        content_type=ContentType.objects.get_for_model(Booking),
        object_id=OuterRef("pk"),
        purpose=Purpose.BOOKING_TASK,
        state=SyncMapping.State.CONFIRMED,
    ).exclude(salesforce_id="")
    rows = _with_last_job(bookings, Booking, Operation.BOOKING_SYNC)
    return (
        rows.annotate(task_id=Coalesce(Subquery(task.values("salesforce_id")[:1]), Value("")))
        .annotate(records_logged=Case(When(task_id="", then=Value(0)), default=Value(1)))
        .annotate(log_state=_log_state())
    )


def booking_row_state(booking: Booking) -> RowState:
    """A booking's state in words, from what `bookings_with_state` computed."""
    row: Any = booking
    state = LogState(row.log_state)
    logged = (
        "The Task in Salesforce says the booking was cancelled."
        if booking.status == Booking.Status.CANCELLED
        else "An open Task in Salesforce, owned by the host."
    )
    return RowState(state, _detail(row, state, logged), row.last_job_id)
