"""The delivery state machine of one record (SyncMapping), one function per transition.

    planned  --plans_mark_sent-->   sent       (a create goes out; committed first)
    sent     --mapping_confirm-->   confirmed  (its Id came back, or recovery found it)
    sent     --mapping_replan-->    planned    (refused, or recovery found nothing)
    confirmed --mapping_replan-->   planned    (deleted in Salesforce by someone: made again)
    confirmed --mapping_delete_start--> deleting (the plan no longer wants it)
    deleting --mapping_deleted-->   deleted    (its delete landed, or it was gone already)
    deleting --mapping_confirm-->   confirmed  (the delete was refused, or never landed)
    deleted  --plans_mark_sent-->   sent       (wanted again: made where it was)

Every transition is a conditional update on the state it leaves, so a stale worker can
never move a row another run has moved on.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone

from integrations.enums import LINK_PURPOSES, Purpose, SObject
from integrations.models import SyncJob, SyncMapping
from integrations.salesforce.errors import SalesforceError
from integrations.salesforce.writer import Ref, Result
from integrations.sync.identity import identity_of, slot_key
from integrations.sync.plan import Parent, Plan, PlannedWrite, Slot
from tenants.models import Tenant

logger = logging.getLogger(__name__)

MState = SyncMapping.State
# States from which a create may go out: nothing of it is in Salesforce.
CREATABLE = (MState.PLANNED, MState.DELETED)


class SlotBusy(Exception):
    """Another sync holds this record (it is sending it, or made it meanwhile)."""

    def __init__(self, what: str, rows: Sequence[SyncMapping] = ()) -> None:
        super().__init__(what)
        self.rows = list(rows)


class ClaimLost(Exception):
    """The job's claim passed to another run (its lease ran out): it sends nothing."""


def mappings_of(
    tenant: Tenant, model: type[models.Model], ids: Iterable[int]
) -> dict[tuple[int, Purpose], SyncMapping]:
    """(object id, purpose) -> its row, whatever its state."""
    content_type = ContentType.objects.get_for_model(model)
    rows = SyncMapping.objects.filter(
        tenant=tenant, content_type=content_type, object_id__in=list(ids)
    )
    return {(m.object_id, Purpose(m.purpose)): m for m in rows}


# --- transitions ------------------------------------------------------------------------


_SENT_FIELDS = [
    "salesforce_object",
    "salesforce_id",
    "state",
    "identity",
    "sent_at",
    "sent_by_user_id",
    "sent_by_job",
    "lock_key",
    "updated_at",
]


def mapping_reserve(*, tenant: Tenant, slot: Slot, sobject: str, parent: Parent) -> None:
    """(no row) -> planned, with the record it will be linked to: a record that has
    nothing to say yet keeps its place (a meeting synced before its highlights).

    A planned row with no place yet gets this one: a create that was sent, never landed
    and was planned again holds no parent (a parent is kept once a record is linked)."""
    place = {
        "parent_object": parent.sobject,
        "parent_id": str(parent.id),
        "parent_name": parent.name,
    }
    _, created = SyncMapping.objects.get_or_create(
        tenant=tenant,
        content_type_id=slot.content_type_id,
        object_id=slot.object_id,
        purpose=slot.purpose,
        defaults={"salesforce_object": sobject, "state": MState.PLANNED, **place},
    )
    if not created:
        SyncMapping.objects.filter(
            tenant=tenant,
            content_type_id=slot.content_type_id,
            object_id=slot.object_id,
            purpose=slot.purpose,
            state=MState.PLANNED,
            parent_id="",
        ).update(salesforce_object=sobject, updated_at=timezone.now(), **place)


def as_read(row: SyncMapping) -> dict[str, Any]:
    """A guard for a transition decided on this reading of the row: it applies only if
    nobody moved the row since (recovery in one batch never undoes another's result)."""
    return {"state": row.state, "sent_at": row.sent_at, "sent_by_job": row.sent_by_job_id}


def mapping_confirm(
    row: SyncMapping,
    *,
    salesforce_id: str,
    version: int | None = None,
    parent: tuple[str, str, str] | None = None,
    guard: dict[str, Any] | None = None,
) -> bool:
    """sent/deleting/confirmed -> confirmed with this Id (and the version it now holds;
    an older version never replaces a newer one)."""
    values: dict[str, object] = {
        "state": MState.CONFIRMED,
        "salesforce_id": salesforce_id,
        "identity": {},
        "sent_at": None,
        "updated_at": timezone.now(),
    }
    if parent is not None:
        values["parent_object"], values["parent_id"], values["parent_name"] = parent
    rows = SyncMapping.objects.filter(
        pk=row.pk, state__in=(MState.SENT, MState.DELETING, MState.CONFIRMED)
    ).filter(**(guard or {}))
    if version is not None:
        rows = rows.filter(pushed_version__lte=version)
        values["pushed_version"] = version
    return rows.update(**values) == 1


def mapping_replan(row: SyncMapping, *, why: str, guard: dict[str, Any] | None = None) -> None:
    """sent/confirmed -> planned: nothing of it is in Salesforce (a refused or unfound
    create, or a record somebody deleted there). Where it was linked is kept, so it is
    made again in the same place; what hung on it goes too."""
    rows = SyncMapping.objects.filter(pk=row.pk, state__in=(MState.SENT, MState.CONFIRMED))
    moved = rows.filter(**(guard or {})).update(
        state=MState.PLANNED,
        salesforce_id="",
        pushed_version=0,
        identity={},
        sent_at=None,
        updated_at=timezone.now(),
    )
    if moved:
        logger.info("record %s of %s planned again: %s", row.purpose, row.object_id, why)
        _dependents_set(row, MState.PLANNED)


def mapping_delete_start(row: SyncMapping, *, job: SyncJob, user_id: str) -> bool:
    """confirmed -> deleting, just before its delete goes out (by this job, as this
    Salesforce user: the row is this job's to settle while it is in doubt)."""
    now = timezone.now()
    return (
        SyncMapping.objects.filter(pk=row.pk, state=MState.CONFIRMED).update(
            state=MState.DELETING,
            sent_at=now,
            sent_by_job=job,
            sent_by_user_id=user_id,
            lock_key=job.lock_key,
            updated_at=now,
        )
        == 1
    )


def mapping_deleted(row: SyncMapping, *, guard: dict[str, Any] | None = None) -> None:
    """deleting -> deleted (Salesforce deleted it, or it was gone already)."""
    moved = SyncMapping.objects.filter(
        pk=row.pk, state__in=(MState.DELETING, MState.CONFIRMED), **(guard or {})
    ).update(
        state=MState.DELETED,
        salesforce_id="",
        identity={},
        sent_at=None,
        updated_at=timezone.now(),
    )
    if moved:
        _dependents_set(row, MState.DELETED)


def _dependents_set(row: SyncMapping, state: MState) -> None:
    """A deleted Note takes its link with it; a deleted Event its relations."""
    purpose = Purpose(row.purpose)
    dependents = SyncMapping.objects.none()
    if purpose.links:
        dependents = SyncMapping.objects.filter(
            tenant_id=row.tenant_id,
            content_type_id=row.content_type_id,
            object_id=row.object_id,
            purpose__in=purpose.links,
        )
    elif row.salesforce_object == SObject.EVENT and row.salesforce_id:
        dependents = SyncMapping.objects.filter(
            tenant_id=row.tenant_id, purpose=Purpose.EVENT_RELATION, parent_id=row.salesforce_id
        )
    dependents.exclude(state__in=(MState.PLANNED, MState.DELETED)).update(
        state=state, salesforce_id="", identity={}, sent_at=None, updated_at=timezone.now()
    )


# --- a plan's bookkeeping -----------------------------------------------------------------


def plan_mark_sent(plan: Plan, *, tenant: Tenant, job: SyncJob, user_id: str) -> None:
    """Before anything goes out: every create of the plan becomes `sent` with its
    identity, every delete `deleting`, committed. Raises SlotBusy (and marks nothing)
    when another sync holds one of the records, ClaimLost when the job's claim passed
    to another run."""
    refused = plans_mark_sent([(plan, job)], tenant=tenant, user_id=user_id)
    if job.pk in refused:
        raise refused[job.pk]


def plans_mark_sent(
    items: Sequence[tuple[Plan, SyncJob]], *, tenant: Tenant, user_id: str
) -> dict[int, Exception]:
    """`plan_mark_sent` for a batch's plans, each all or nothing, in the same few
    statements whatever their number: the claims read at once, the rows of every
    create read (and locked) at once, one insert of the new rows, one update of the
    rows sent again. Returns why each plan that was not marked was refused (ClaimLost,
    SlotBusy, or ValueError for a plan naming one record twice), by job id.

    A plan with deletes is marked on its own (a delete's row moves first, conditionally).
    When another sync inserted one of the new rows meanwhile, the unique index refuses
    the insert whole and each plan is marked on its own, so only that one is refused."""
    refused: dict[int, Exception] = {}
    together: list[tuple[Plan, SyncJob]] = []
    alone: list[tuple[Plan, SyncJob]] = []
    for plan, job in items:
        deletes = any(w.write.op == "delete" for w in plan.writes)
        (alone if deletes else together).append((plan, job))
    try:
        refused.update(_plans_mark(together, tenant=tenant, user_id=user_id))
    except _InsertRace:
        alone = list(items)
    for plan, job in alone:
        refused.update(_plans_mark([(plan, job)], tenant=tenant, user_id=user_id))
    return refused


class _InsertRace(Exception):
    """Another sync inserted a row of these plans meanwhile."""


@transaction.atomic
def _plans_mark(
    items: Sequence[tuple[Plan, SyncJob]], *, tenant: Tenant, user_id: str
) -> dict[int, Exception]:
    refused = _plans_mark_in_transaction(items, tenant=tenant, user_id=user_id)
    if len(items) == 1 and refused:
        # A plan is marked whole or not at all: a delete it started is undone too.
        transaction.set_rollback(True)
    return refused


def _plans_mark_in_transaction(
    items: Sequence[tuple[Plan, SyncJob]], *, tenant: Tenant, user_id: str
) -> dict[int, Exception]:
    if not items:
        return {}
    refused: dict[int, Exception] = {}
    held = set(
        SyncJob.objects.filter(
            pk__in=[job.pk for _, job in items],
            state=SyncJob.State.RUNNING,
            claim_token__in={job.claim_token for _, job in items if job.claim_token},
        ).values_list("pk", "claim_token")
    )
    marking: list[tuple[Plan, SyncJob]] = []
    for plan, job in items:
        if job.claim_token is None or (job.pk, job.claim_token) not in held:
            refused[job.pk] = ClaimLost(f"job {job.pk}")
            continue
        busy = _deletes_start(plan, job=job, user_id=user_id)
        if busy is not None:
            refused[job.pk] = busy
            continue
        slots = [p.slot for p in plan.creates()]
        if len(set(slots)) != len(slots):
            refused[job.pk] = ValueError(f"plan of job {job.pk} names one record twice: {slots}")
            continue
        marking.append((plan, job))
    creates = [(planned, job) for plan, job in marking for planned in plan.creates()]
    if not creates:
        return refused
    existing = _rows_for_update(tenant, [p.slot for p, _ in creates if p.slot is not None])
    now = timezone.now()
    rows: dict[Slot, SyncMapping] = {}
    for plan, job in marking:
        planned_rows = _rows_sent(plan, job, existing, now=now, user_id=user_id, tenant=tenant)
        if isinstance(planned_rows, SlotBusy):
            refused[job.pk] = planned_rows
            continue
        if rows.keys() & planned_rows.keys():
            refused[job.pk] = SlotBusy("a record another job of the batch makes")
            continue
        rows.update(planned_rows)
    fresh = [r for r in rows.values() if r.pk is None]
    try:
        with transaction.atomic():
            SyncMapping.objects.bulk_create(fresh)
    except IntegrityError as exc:  # another sync created one of these rows just now
        if len(items) == 1:
            return {items[0][1].pk: SlotBusy("a record of this plan")}
        raise _InsertRace from exc
    inserted = {id(r) for r in fresh}  # by identity: comparing models is by pk, pairwise
    again = [r for r in rows.values() if id(r) not in inserted]
    if again:
        SyncMapping.objects.bulk_update(again, _SENT_FIELDS)
    for plan, job in marking:
        if job.pk in refused:
            continue
        for planned in plan.creates():
            assert planned.slot is not None
            planned.mapping = rows[planned.slot]
    return refused


def _deletes_start(plan: Plan, *, job: SyncJob, user_id: str) -> SlotBusy | None:
    for planned in plan.writes:
        row = planned.mapping
        if (
            planned.write.op == "delete"
            and row is not None
            and not mapping_delete_start(row, job=job, user_id=user_id)
        ):
            return SlotBusy(f"{row.purpose} changed while planning")
    return None


def _rows_for_update(tenant: Tenant, slots: Sequence[Slot]) -> dict[Slot, SyncMapping]:
    """The rows of these slots, locked until the transaction ends (one query)."""
    return {
        Slot.of_mapping(m): m
        for m in SyncMapping.objects.select_for_update().filter(
            tenant=tenant,
            content_type_id__in={s.content_type_id for s in slots},
            object_id__in={s.object_id for s in slots},
            purpose__in={s.purpose for s in slots},
        )
    }


def _rows_sent(
    plan: Plan,
    job: SyncJob,
    existing: dict[Slot, SyncMapping],
    *,
    now: datetime,
    user_id: str,
    tenant: Tenant,
) -> dict[Slot, SyncMapping] | SlotBusy:
    """planned/deleted (or no row yet) -> sent for every create of the plan, in memory;
    SlotBusy when a row is in any other state: a record exists or another sync is
    making it."""
    creates = plan.creates()
    # Identities name other creates of the plan by their slots.
    slot_of_ref = {
        p.write.key: slot_key(p.slot.content_type_id, p.slot.object_id, p.slot.purpose)
        for p in creates
        if p.slot is not None
    }
    rows: dict[Slot, SyncMapping] = {}
    for planned in creates:
        slot = planned.slot
        assert slot is not None
        row = existing.get(slot)
        if row is not None and row.state not in CREATABLE:
            return SlotBusy(f"{slot.purpose} of object {slot.object_id}", [row])
        row = row or SyncMapping(
            tenant=tenant,
            content_type_id=slot.content_type_id,
            object_id=slot.object_id,
            purpose=slot.purpose,
        )
        parent = planned.parent
        identity = identity_of(
            planned.write.sobject,
            planned.write.fields,
            slot_of_ref,
            version=planned.version,
            parent=(parent.sobject, parent.id, parent.name) if parent else ("", "", ""),
        ).as_json()
        row.salesforce_object = planned.write.sobject
        row.salesforce_id, row.state, row.identity = "", MState.SENT, identity
        row.sent_at, row.sent_by_user_id, row.sent_by_job = now, user_id, job
        row.lock_key, row.updated_at = job.lock_key, now
        rows[slot] = row
    return rows


@dataclass
class Recorded:
    """What a plan's results did to its records."""

    ids: dict[str, str] = field(default_factory=dict)  # write key -> Id
    errors: list[tuple[PlannedWrite, SalesforceError]] = field(default_factory=list)
    # Rows Salesforce says exist already: recovery confirms they are ours.
    to_settle: list[SyncMapping] = field(default_factory=list)
    # A record we update was deleted in Salesforce: the plan is made again, once.
    gone: bool = False


@dataclass(frozen=True)
class _Confirm:
    """A create or update Salesforce answered with this Id (`mapping_confirm`'s
    arguments, to apply with the batch's others)."""

    row: SyncMapping
    salesforce_id: str
    version: int | None
    parent: tuple[str, str, str] | None


def plan_record(plan: Plan, results: dict[str, Result]) -> Recorded:
    """Apply each write's answer to its row, all in one transaction."""
    return plans_record([(plan, results)])[0]


@transaction.atomic
def plans_record(items: Sequence[tuple[Plan, dict[str, Result]]]) -> list[Recorded]:
    """`plan_record` for a batch's plans, in one transaction. The answers that confirm
    a record (nearly all of them) are applied together in one statement; the others
    (refused, gone, unknown) row by row."""
    confirms: list[_Confirm] = []
    answers: list[Recorded] = []
    # The Ids among a batch's answers, picked once for all its plans (they share one
    # results dict; picking them per plan costs the batch's size squared), then
    # copied (a plain copy, cheap) so each plan's stay its own.
    ids_of: dict[int, dict[str, str]] = {}
    for plan, results in items:
        recorded = Recorded()
        ids = ids_of.get(id(results))
        if ids is None:
            ids = ids_of[id(results)] = {k: v for k, v in results.items() if isinstance(v, str)}
        recorded.ids = dict(ids)
        for planned in plan.writes:
            result = results.get(planned.write.key)
            if result is None:
                continue
            if isinstance(result, SalesforceError):
                recorded.errors.append((planned, result))
            row = planned.mapping
            if row is None:
                continue
            _write_record(planned, row, result, recorded, confirms)
        answers.append(recorded)
    mappings_confirm(confirms)
    return answers


# Rows confirmed by one statement at most (its parameters stay far below the limits of
# SQLite and PostgreSQL, about a dozen per row).
CONFIRM_CHUNK = 1000


def mappings_confirm(confirms: Sequence[_Confirm]) -> None:
    """`mapping_confirm` for many rows at once: sent/deleting/confirmed -> confirmed
    with each its Id (and version, and parent). A row whose stored version is newer than
    the one confirmed is left as it is, as `mapping_confirm` leaves it.

    One UPDATE ... FROM (VALUES ...) per CONFIRM_CHUNK rows: each row meets its own
    values by id, so the work grows with the rows, not with their square (as a CASE
    per column would). PostgreSQL and SQLite (3.33 on) both take this form; the values'
    columns are `column1`... in both."""
    table = connection.ops.quote_name(SyncMapping._meta.db_table)
    postgres = connection.vendor == "postgresql"

    def typed(sql_type: str) -> str:
        return f"CAST(%s AS {sql_type})" if postgres else "%s"

    row_sql = (
        f"({typed('bigint')}, {typed('varchar')}, {typed('integer')}, "
        f"{typed('varchar')}, {typed('varchar')}, {typed('varchar')})"
    )
    now = timezone.now()
    for start in range(0, len(confirms), CONFIRM_CHUNK):
        chunk = confirms[start : start + CONFIRM_CHUNK]
        params: list[Any] = [MState.CONFIRMED, now, "{}"]
        for c in chunk:
            parent = c.parent or (None, None, None)
            params += [c.row.pk, c.salesforce_id, c.version, *parent]
        params += list(_CONFIRMABLE)
        # Only the table's name, casts and placeholders are written into the text;
        # every value is a parameter.
        sql = f"""
            UPDATE {table} SET
                state = %s,
                updated_at = %s,
                identity = {typed("jsonb")},
                sent_at = NULL,
                salesforce_id = v.column2,
                pushed_version = COALESCE(v.column3, pushed_version),
                parent_object = COALESCE(v.column4, parent_object),
                parent_id = COALESCE(v.column5, parent_id),
                parent_name = COALESCE(v.column6, parent_name)
            FROM (VALUES {", ".join([row_sql] * len(chunk))}) AS v
            WHERE {table}.id = v.column1
              AND {table}.state IN (%s, %s, %s)
              AND (v.column3 IS NULL OR {table}.pushed_version <= v.column3)
        """  # noqa: S608
        with connection.cursor() as cursor:
            cursor.execute(sql, params)


_CONFIRMABLE = (MState.SENT, MState.DELETING, MState.CONFIRMED)


def _write_record(
    planned: PlannedWrite,
    row: SyncMapping,
    result: Result,
    recorded: Recorded,
    confirms: list[_Confirm],
) -> None:
    op = planned.write.op
    if isinstance(result, str):
        if op == "delete":
            mapping_deleted(row)
            return
        parent = None
        if planned.parent is not None:
            parent_id = planned.parent.id
            if isinstance(parent_id, Ref):
                parent_id = recorded.ids.get(parent_id.key, "")
            parent = (planned.parent.sobject, parent_id, planned.parent.name)
        confirms.append(_Confirm(row, result, planned.version, parent))
        return
    if result.outcome_unknown:
        # Stays as it is (sent, deleting, or confirmed after an update) with the time the
        # answer was given up on: the record is left alone for the grace period, then
        # settled before anything else is written to it.
        SyncMapping.objects.filter(pk=row.pk).update(sent_at=timezone.now())
        return
    if op == "create":
        if result.already_exists and Purpose(row.purpose) in LINK_PURPOSES | {Purpose.CONTACT}:
            recorded.to_settle.append(row)  # stays sent: found and confirmed right after
        else:
            mapping_replan(row, why=f"Salesforce did not make it ({result.code})")
    elif op == "delete":
        if gone_already(planned, result):
            mapping_deleted(row)
        else:  # refused, or rolled back with the rest of its request: still there
            mapping_confirm(row, salesforce_id=row.salesforce_id)
    elif result.kind == "deleted" and not result.halted:
        mapping_replan(row, why="deleted in Salesforce")
        recorded.gone = True


def gone_already(planned: PlannedWrite, result: Result) -> bool:
    """A delete answered "no such record" did what it meant to (an error that was only
    copied onto a rolled-back request says nothing of the record)."""
    return (
        planned.write.op == "delete"
        and isinstance(result, SalesforceError)
        and result.kind == "deleted"
        and not result.halted
    )
