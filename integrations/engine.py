"""Running sync jobs: claim them, look up, plan, write, record the outcome.

A job is claimed with a conditional update (pending -> running, with a lease), so two
workers never run the same job; a unique index over running jobs' `lock_key` keeps two
jobs for the same local object from running at once. A worker that takes one job also
takes up to SYNC_BATCH_SIZE - 1 other due jobs of the same tenant, so a backlog is
synced with one round of lookups and a few sObject Collection writes per batch instead
of a few calls per job.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone
from django_q.tasks import async_task

from integrations.models import (
    IntegrationSettings,
    SalesforceConnection,
    SyncAttempt,
    SyncJob,
    SyncMapping,
)
from integrations.operations import BATCHABLE
from integrations.salesforce.client import SalesforceClient, format_soql
from integrations.salesforce.errors import SalesforceError
from integrations.salesforce.lookups import directory_fetch, queries_run
from integrations.salesforce.matching import Directory
from integrations.salesforce.oauth import OAuthError, OAuthUnavailable, oauth_token_refresh
from integrations.salesforce.soql import in_list_queries
from integrations.salesforce.writer import Ref, Write, writes_execute
from tenants.models import Tenant

logger = logging.getLogger(__name__)

State = SyncJob.State
Outcome = SyncAttempt.Outcome


@dataclass
class Finish:
    """How a job ends (or waits): its state, and why, in the tenant's words."""

    state: str
    reason: str
    candidates: list[dict[str, Any]] = field(default_factory=list)
    error: SalesforceError | None = None


@dataclass
class MappingWrite:
    """Record a write's result against a local object: (object, purpose) -> record."""

    write_key: str
    content_type_id: int
    object_id: int
    purpose: str
    salesforce_object: str
    version: int = 0
    parent_object: str = ""
    parent_id: str | Ref = ""
    parent_name: str = ""
    remove: bool = False  # the record was deleted in Salesforce by us


@dataclass
class JobRun:
    """One job inside a batch: what it read, what it plans, how it ends."""

    job: SyncJob
    tenant: Tenant
    settings: IntegrationSettings
    connection: SalesforceConnection
    state: dict[str, Any] = field(default_factory=dict)
    people_emails: set[str] = field(default_factory=set)
    user_emails: set[str] = field(default_factory=set)
    writes: list[Write] = field(default_factory=list)
    mapping_writes: list[MappingWrite] = field(default_factory=list)
    success: Finish | None = None
    finish: Finish | None = None
    after_success: list[Callable[[dict[str, str]], None]] = field(default_factory=list)
    recreated: bool = False
    adopted: dict[str, str] = field(default_factory=dict)  # write key -> Id found again

    def key(self, name: str) -> str:
        return f"j{self.job.pk}_{name}"

    def done(self, state: str, reason: str, **extra: Any) -> None:
        self.finish = Finish(state, reason, **extra)


class Executor:
    """How one operation is carried out. Subclasses read fresh state in `prepare` (and
    say which addresses to look up), then turn it into writes in `plan`."""

    def prepare(self, run: JobRun) -> None:
        raise NotImplementedError

    def plan(self, run: JobRun, directory: Directory) -> None:
        raise NotImplementedError


EXECUTORS: dict[str, Executor] = {}


def executor_register(operation: str, executor: Executor) -> None:
    EXECUTORS[operation] = executor


def lock_key_for(local_object: Any) -> str:
    """Jobs that write the same Salesforce records share a key, so they run one at a
    time: everything of a meeting (its Note, Event and highlights' Notes), of an
    activity (its Tasks), of a booking."""
    name = type(local_object).__name__
    if name == "Highlight":
        return f"meeting:{local_object.meeting_id}"
    if name == "ActivityParticipant":
        return f"activity:{local_object.activity_id}"
    return f"{name.lower()}:{local_object.pk}"


# --- claiming -------------------------------------------------------------------------


def lease_seconds() -> int:
    return int(settings.Q_CLUSTER.get("timeout", 120)) + 30


def _due(now: datetime) -> Q:
    return Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)


def job_claim(job_id: int, *, now: datetime) -> bool:
    """pending -> running, only if still pending, due, and no job with the same lock key
    is running (the unique index refuses the second one)."""
    try:
        with transaction.atomic():
            # A job of the same object whose writes are in doubt (its run died after
            # sending them) goes first: it finds what Salesforce already has.
            in_doubt = SyncJob.objects.filter(
                lock_key=OuterRef("lock_key"),
                state__in=SyncJob.OPEN_STATES,
                writes_sent_at__isnull=False,
            ).exclude(pk=OuterRef("pk"))
            return (
                SyncJob.objects.filter(pk=job_id, state=State.PENDING)
                .filter(_due(now))
                .exclude(Exists(in_doubt))
                .update(
                    state=State.RUNNING,
                    lease_expires_at=now + timedelta(seconds=lease_seconds()),
                    attempt_count=F("attempt_count") + 1,
                )
                == 1
            )
    except IntegrityError:
        return False


def jobs_claim_batch(first_id: int, *, now: datetime) -> list[SyncJob]:
    if not job_claim(first_id, now=now):
        return []
    first = SyncJob.objects.select_related("tenant").get(pk=first_id)
    claimed = [first]
    if first.operation not in BATCHABLE:
        return claimed
    # Companions: due jobs of the tenant whose object no running job holds, one per
    # object (a second job of the same object could not run beside the first anyway).
    busy = SyncJob.objects.filter(state=State.RUNNING).values("lock_key")
    candidates = (
        SyncJob.objects.filter(
            tenant_id=first.tenant_id, state=State.PENDING, operation__in=BATCHABLE
        )
        .filter(_due(now))
        .exclude(lock_key__in=busy)
        .order_by("id")
        .values_list("pk", "lock_key")[: settings.SYNC_BATCH_SIZE * 3]
    )
    keys = {first.lock_key}
    companions: list[int] = []
    for job_id, key in list(candidates):
        if len(companions) + 1 >= settings.SYNC_BATCH_SIZE:
            break
        if key in keys:
            continue
        if job_claim(job_id, now=now):
            keys.add(key)
            companions.append(job_id)
    return claimed + list(
        SyncJob.objects.select_related("tenant").filter(pk__in=companions).order_by("id")
    )


# --- the Salesforce client of a tenant ----------------------------------------------------


def connection_client(connection: SalesforceConnection) -> SalesforceClient:
    def refresh() -> str:
        if not connection.refresh_token:
            raise SalesforceError(
                "reauth", "INVALID_SESSION_ID", "The session expired and there is no refresh token."
            )
        try:
            tokens = oauth_token_refresh(refresh_token=connection.refresh_token)
        except OAuthUnavailable as exc:
            raise SalesforceError("retry", "TOKEN_ENDPOINT_UNAVAILABLE", str(exc)) from exc
        except OAuthError as exc:
            raise SalesforceError("reauth", "INVALID_SESSION_ID", str(exc)) from exc
        connection.access_token = tokens.access_token
        connection.refresh_token = tokens.refresh_token or connection.refresh_token
        connection.save(update_fields=["access_token", "refresh_token", "updated_at"])
        logger.info("tenant %s: Salesforce session refreshed", connection.tenant_id)
        return tokens.access_token

    return SalesforceClient(
        instance_url=connection.instance_url,
        access_token=connection.access_token,
        api_version=connection.api_version or settings.SALESFORCE_API_VERSION,
        refresh=refresh,
    )


def connection_needs_reauth(connection: SalesforceConnection, why: str) -> None:
    SalesforceConnection.objects.filter(pk=connection.pk).update(
        status=SalesforceConnection.Status.NEEDS_REAUTH,
        status_reason=f"Salesforce refused the stored session: {why} Reconnect Salesforce "
        "on the settings page; waiting syncs resume then.",
        updated_at=timezone.now(),
    )
    logger.warning("tenant %s: Salesforce connection needs re-authorisation", connection.tenant_id)


# --- running --------------------------------------------------------------------------


def sync_jobs_run(*, job_id: int) -> None:
    """Run a job (and companions of its tenant), then hand on jobs that waited."""
    now = timezone.now()
    jobs = jobs_claim_batch(job_id, now=now)
    if not jobs:
        logger.info("sync job %s not claimed: already taken, not due, or its object busy", job_id)
        return
    try:
        ran = _tenant_run(jobs[0].tenant, jobs)
    except Exception as exc:
        # A bug or an answer nobody expected: the jobs are recorded as a failed try (and
        # retried with backoff, within SYNC_MAX_ATTEMPTS) rather than left running.
        logger.exception("sync jobs %s: unexpected error", [j.pk for j in jobs])
        error = SalesforceError("retry", "INTERNAL_ERROR", f"{type(exc).__name__}: {exc}")
        for job in jobs:
            job.refresh_from_db()
            if job.state != State.RUNNING:
                continue
            run = JobRun(job, job.tenant, None, None)  # type: ignore[arg-type]
            run.finish = Finish(State.PENDING, f"Will retry: {error}", error=error)
            _job_finish(run, started_at=now, api_calls=0, duration_ms=0, batch=len(jobs))
        return
    if ran:
        _dispatch_waiting(jobs)


def _tenant_run(tenant: Tenant, jobs: list[SyncJob]) -> bool:
    """Run the batch; False when it could not run at all and went back to wait."""
    connection = SalesforceConnection.objects.filter(tenant=tenant).first()
    settings_row, _ = IntegrationSettings.objects.get_or_create(tenant=tenant)
    now = timezone.now()
    if connection is None or connection.status != SalesforceConnection.Status.CONNECTED:
        status = connection.get_status_display().lower() if connection else "not connected"
        for job in jobs:
            _release(job, f"Waiting: Salesforce is {status} for this tenant.", None)
        return False
    if connection.paused_until and connection.paused_until > now:
        for job in jobs:
            _release(
                job,
                "Waiting: Salesforce's daily API limit was reached; syncing resumes at "
                f"{connection.paused_until:%Y-%m-%d %H:%M} UTC.",
                connection.paused_until,
            )
        return False
    started = time.perf_counter()
    started_at = timezone.now()
    client = connection_client(connection)
    runs = [JobRun(job, tenant, settings_row, connection) for job in jobs]
    _runs_execute(client, runs)
    if any(
        r.finish and r.finish.error and r.finish.error.code == "REQUEST_LIMIT_EXCEEDED"
        for r in runs
    ):
        pause = timezone.now() + timedelta(seconds=settings.SYNC_LIMIT_PAUSE_SECONDS)
        SalesforceConnection.objects.filter(pk=connection.pk).update(paused_until=pause)
        logger.warning("tenant %s: API limit reached, syncing paused until %s", tenant.slug, pause)
    duration_ms = int((time.perf_counter() - started) * 1000)
    if client.usage.limit:
        logger.info(
            "tenant %s: %s API calls for %s jobs; the org has used %s of %s today",
            tenant.slug,
            client.api_calls,
            len(runs),
            client.usage.used,
            client.usage.limit,
        )
    share, rest = divmod(client.api_calls, len(runs))
    for index, run in enumerate(runs):
        calls = share + (1 if index < rest else 0)
        _job_finish(
            run, started_at=started_at, api_calls=calls, duration_ms=duration_ms, batch=len(runs)
        )
    return True


def _runs_execute(client: SalesforceClient, runs: list[JobRun]) -> None:
    """Steps for a batch: 1. each job reads fresh state; 2. one round of lookups for all;
    3. each job plans its writes; 4. a job whose earlier run died after sending writes
    first adopts what Salesforce already has; 5. the writes go out together; 6. results
    are recorded against the local objects; a record deleted in Salesforce is re-created
    once."""
    active: list[JobRun] = []
    for run in runs:
        executor = EXECUTORS.get(run.job.operation)
        if executor is None:
            run.done(State.FAILED, f"No sync is defined for '{run.job.operation}'.")
            continue
        try:
            executor.prepare(run)
        except SalesforceError as error:
            run.finish = _error_finish(run, error)
        if run.finish is None:
            active.append(run)
    if not active:
        return
    try:
        directory = _lookups(client, active)
        for run in active:
            EXECUTORS[run.job.operation].plan(run, directory)
        writing = [r for r in active if r.finish is None]
        _reconcile(client, writing)
        _writes_send(client, writing)
    except SalesforceError as error:
        for run in active:
            if run.finish is None:
                run.finish = _error_finish(run, error)
        return
    for run in writing:
        if run.finish is None:
            run.finish = run.success or Finish(State.SUCCEEDED, "Salesforce is up to date.")


def _lookups(client: SalesforceClient, runs: list[JobRun]) -> Directory:
    people = set().union(*(r.people_emails for r in runs))
    users = set().union(*(r.user_emails for r in runs))
    if not people and not users:
        return Directory()
    return directory_fetch(client, people_emails=people, user_emails=users)


def _writes_send(client: SalesforceClient, runs: list[JobRun]) -> None:
    pending = [r for r in runs if r.writes]
    for run in runs:
        if not run.writes:
            _mappings_record(run, {})
    if not pending:
        return
    _ledger_write(pending)
    results = writes_execute(
        client, [w for r in pending for w in r.writes], together=len(pending) == 1
    )
    for run in pending:
        mine = {w.key: results.get(w.key) for w in run.writes}
        _mappings_record(run, {k: v for k, v in mine.items() if isinstance(v, str)})
        errors = [v for v in mine.values() if isinstance(v, SalesforceError)]
        if not any(e.code in TRANSPORT_ERRORS for e in errors):
            # Every create has its Id recorded or a clear refusal: nothing is in doubt.
            _ledger_clear(run)
        if not errors:
            continue
        causes = [e for e in errors if not e.halted] or errors
        error = next((e for e in causes if e.kind != "deleted"), causes[0])
        failed_writes = {w.key: w for w in run.writes}
        refused = [
            failed_writes[k]
            for k, v in mine.items()
            if isinstance(v, SalesforceError) and not v.halted
        ]
        try:
            if error.kind == "deleted" and not run.recreated:
                _recreate(client, run, mine)
            elif (
                error.code == "FIELD_INTEGRITY_EXCEPTION"
                and any(w.sobject == "EventRelation" for w in refused)
                and not run.recreated
            ):
                _shared_activities_off(client, run)
            else:
                run.finish = _error_finish(run, error)
        except SalesforceError as again:
            run.finish = _error_finish(run, again)


def _recreate(client: SalesforceClient, run: JobRun, results: dict[str, Any]) -> None:
    """A record we update was deleted in Salesforce: forget its mapping and plan the job
    again, once, so it is re-created rather than silently lost."""
    refused = [
        w
        for w in run.writes
        if isinstance(results.get(w.key), SalesforceError)
        and not results[w.key].halted
        and results[w.key].kind == "deleted"
    ]
    gone = {w.salesforce_id for w in refused if w.op != "create"}
    deletes_only = all(w.op == "delete" for w in refused)
    mapped = SyncMapping.objects.filter(tenant=run.tenant, salesforce_id__in=gone)
    logger.info("job %s: %s deleted in Salesforce", run.job.pk, sorted(gone))
    if deletes_only:
        mapped.update(state=SyncMapping.State.DELETED)  # already gone, as we meant
        return
    # Keep what the record was linked to; an empty Id tells the executor to create it
    # again there.
    mapped.update(salesforce_id="", pushed_version=0)
    _replan(client, run, "A record deleted in Salesforce was re-created.")


def _shared_activities_off(client: SalesforceClient, run: JobRun) -> None:
    """The org refused an Event's further people: it does not have Shared Activities.
    Remember it and write the Event with its one person."""
    SalesforceConnection.objects.filter(pk=run.connection.pk).update(shared_activities=False)
    run.connection.shared_activities = False
    logger.info("tenant %s: Shared Activities is off in the org", run.tenant.slug)
    _replan(
        client,
        run,
        "The org does not relate several people to one Event (Shared Activities is off), "
        "so the Event names one of them.",
    )


def _replan(client: SalesforceClient, run: JobRun, note: str) -> None:
    """Read, look up, plan and write the job again, once, after a fixable refusal."""
    run.recreated = True
    run.writes, run.mapping_writes, run.success, run.after_success = [], [], None, []
    executor = EXECUTORS[run.job.operation]
    executor.prepare(run)
    if run.finish is not None:
        return
    directory = _lookups(client, [run])
    executor.plan(run, directory)
    if run.finish is None:
        _writes_send(client, [run])
        if run.finish is None and run.success:
            run.success = Finish(run.success.state, f"{run.success.reason} {note}")


def _mappings_record(run: JobRun, ids: dict[str, str]) -> None:
    """Store what was written before anything else happens: a retry then updates the
    same records instead of creating new ones."""
    # A record found again counts as written unless its catch-up update failed.
    planned = {w.key for w in run.writes}
    ids = {**{k: v for k, v in run.adopted.items() if k not in planned}, **ids}
    with transaction.atomic():
        for spec in run.mapping_writes:
            lookup = {
                "tenant": run.tenant,
                "content_type_id": spec.content_type_id,
                "object_id": spec.object_id,
                "purpose": spec.purpose,
            }
            if spec.write_key not in ids:
                continue  # that write failed; its mapping stays as it was
            if spec.remove:
                SyncMapping.objects.filter(**lookup).update(state=SyncMapping.State.DELETED)
                continue
            parent = spec.parent_id
            if isinstance(parent, Ref):
                parent = ids.get(parent.key, "")
            SyncMapping.objects.update_or_create(
                **lookup,
                defaults={
                    "salesforce_object": spec.salesforce_object,
                    "salesforce_id": ids[spec.write_key],
                    "pushed_version": spec.version,
                    "state": SyncMapping.State.SYNCED,
                    "parent_object": spec.parent_object,
                    "parent_id": parent or "",
                    "parent_name": spec.parent_name,
                },
            )
    for callback in run.after_success:
        callback(ids)


# --- adopting records an earlier, interrupted run created ------------------------------------

IDENTITY_FIELDS = {
    "ContentNote": ("Title",),
    "Note": ("Title", "ParentId"),
    "Event": ("Subject", "WhatId", "WhoId"),
    "Task": ("Subject", "WhoId"),
    "Account": ("Name",),
    "Opportunity": ("Name", "AccountId"),
    "Contact": ("Email",),
    "Lead": ("Email",),
    "ContentDocumentLink": ("ContentDocumentId", "LinkedEntityId"),
    "EventRelation": ("EventId", "RelationId"),
    "OpportunityContactRole": ("OpportunityId", "ContactId"),
}
# Salesforce has no CreatedDate on ContentDocumentLink: those are found by their note.
FOUND_BY_PARENT = {"ContentDocumentLink": "ContentDocumentId"}


# Errors after which nobody knows whether Salesforce applied the write.
TRANSPORT_ERRORS = frozenset({"CONNECTION_ERROR", "TIMEOUT", "HTTP_ERROR"})


def _ledger_write(runs: list[JobRun]) -> None:
    """Before creating anything: store, with the job, what each create will be known
    by in Salesforce, as planned now (a later run may plan other values, e.g. after the
    meeting was renamed). Kept from an earlier interrupted run until it is resolved."""
    now = timezone.now()
    for run in runs:
        ledger = dict(run.job.writes_sent or {})
        for write in run.writes:
            if write.op != "create" or write.sobject not in IDENTITY_FIELDS:
                continue
            ledger[write.key] = {
                "sobject": write.sobject,
                "identity": {
                    name: _ledger_value(write.fields.get(name))
                    for name in IDENTITY_FIELDS[write.sobject]
                },
            }
        SyncJob.objects.filter(pk=run.job.pk).update(
            writes_sent=ledger, writes_sent_at=run.job.writes_sent_at or now
        )
        run.job.writes_sent = ledger
        run.job.writes_sent_at = run.job.writes_sent_at or now


def _ledger_value(value: Any) -> str:
    if isinstance(value, Ref):
        return f"@{value.key}"
    return "" if value is None else str(value)


def _ledger_clear(run: JobRun) -> None:
    SyncJob.objects.filter(pk=run.job.pk).update(writes_sent={}, writes_sent_at=None)
    run.job.writes_sent, run.job.writes_sent_at = {}, None


def _reconcile(client: SalesforceClient, runs: list[JobRun]) -> None:
    """For jobs whose previous run sent creates and died before recording them: find
    the records this integration's user created since then with the identifying
    fields stored in the job's ledger, and take them instead of creating again (a create
    becomes an update, a link that exists is dropped). Costs one lookup round, only
    after such a crash."""
    interrupted = [r for r in runs if r.job.writes_sent_at and r.job.writes_sent]
    if not interrupted:
        return
    since = min(r.job.writes_sent_at for r in interrupted) - timedelta(minutes=5)
    kinds = sorted({e["sobject"] for r in interrupted for e in r.job.writes_sent.values()})
    me = interrupted[0].connection.installer_salesforce_user_id
    queries = []
    for sobject in kinds:
        if sobject in FOUND_BY_PARENT:
            continue
        fields = ", ".join(("Id", *IDENTITY_FIELDS[sobject]))
        # Object and field names come from IDENTITY_FIELDS above; only values vary.
        soql = format_soql(f"SELECT {fields} FROM {sobject} WHERE CreatedDate >= {{}}", since)  # noqa: S608
        if me:
            soql += format_soql(" AND CreatedById = {}", me)
        queries.append((sobject, soql))
    found = queries_run(client, queries) if queries else {}
    taken: set[str] = set(
        SyncMapping.objects.filter(tenant=interrupted[0].tenant).values_list(
            "salesforce_id", flat=True
        )
    )
    adopted = 0
    # Records found by their creation come first; links (which Salesforce gives no
    # creation date) are then found by the records they hang on, in one query.
    resolved_by_run = {
        run.job.pk: _ledger_match(run.job.writes_sent, found, taken, by_parent=False, done={})
        for run in interrupted
    }
    by_parent = _children_query(client, interrupted, resolved_by_run)
    for run in interrupted:
        resolved = resolved_by_run[run.job.pk]
        resolved.update(
            _ledger_match(run.job.writes_sent, by_parent, taken, by_parent=True, done=resolved)
        )
        adopted += len(resolved)
        keep: list[Write] = []
        for write in run.writes:
            if write.op != "create" or write.key not in resolved:
                keep.append(write)
            elif write.sobject not in LINK_OBJECTS:
                keep.append(
                    Write(
                        write.key,
                        write.group,
                        "update",
                        write.sobject,
                        {
                            k: v
                            for k, v in write.fields.items()
                            if k not in _CREATE_ONLY.get(write.sobject, ())
                        },
                        salesforce_id=resolved[write.key],
                    )
                )
        # Refs to adopted records become plain Ids.
        for write in keep:
            write.fields = {
                k: (resolved[v.key] if isinstance(v, Ref) and v.key in resolved else v)
                for k, v in write.fields.items()
            }
        for spec in run.mapping_writes:
            if isinstance(spec.parent_id, Ref) and spec.parent_id.key in resolved:
                spec.parent_id = resolved[spec.parent_id.key]
        run.writes = keep
        run.adopted.update(resolved)
    logger.info("recovered %s records created by interrupted runs", adopted)


def _ledger_identity(entry: dict[str, Any], done: dict[str, str]) -> dict[str, str] | None:
    """The stored identifying fields, references to records found already filled in;
    None when one of those was never created (so neither was this one)."""
    identity: dict[str, str] = {}
    for name, value in entry["identity"].items():
        if value.startswith("@"):
            if value[1:] not in done:
                return None
            value = done[value[1:]]
        identity[name] = value
    return identity


def _ledger_match(
    ledger: dict[str, Any],
    found: dict[str, list[dict[str, Any]]],
    taken: set[str],
    *,
    by_parent: bool,
    done: dict[str, str],
) -> dict[str, str]:
    """Ledger key -> the Id of a record Salesforce has with the same identifying fields
    (each record taken once)."""
    resolved: dict[str, str] = {}
    for key, entry in ledger.items():
        if (entry["sobject"] in FOUND_BY_PARENT) != by_parent:
            continue
        identity = _ledger_identity(entry, {**done, **resolved})
        if identity is None:
            continue
        match = next(
            (
                row
                for row in found.get(entry["sobject"], [])
                if row["Id"] not in taken
                and all((row.get(n) or "") == v for n, v in identity.items())
            ),
            None,
        )
        if match is not None:
            taken.add(match["Id"])
            resolved[key] = match["Id"]
    return resolved


def _children_query(
    client: SalesforceClient, runs: list[JobRun], resolved: dict[int, dict[str, str]]
) -> dict[str, list[dict[str, Any]]]:
    parents: dict[str, set[str]] = {}
    for run in runs:
        for entry in run.job.writes_sent.values():
            if entry["sobject"] not in FOUND_BY_PARENT:
                continue
            identity = _ledger_identity(entry, resolved[run.job.pk])
            if identity is not None:
                parent_field = FOUND_BY_PARENT[entry["sobject"]]
                parents.setdefault(entry["sobject"], set()).add(identity[parent_field])
    queries = []
    for sobject, ids in parents.items():
        fields = ", ".join(IDENTITY_FIELDS[sobject])
        template = (
            f"SELECT Id, {fields} FROM {sobject} WHERE {FOUND_BY_PARENT[sobject]} IN {{values}}"  # noqa: S608
        )
        queries.extend((sobject, soql) for soql in in_list_queries(template, sorted(ids)))
    return queries_run(client, queries) if queries else {}


LINK_OBJECTS = frozenset({"ContentDocumentLink", "EventRelation", "OpportunityContactRole"})
# Fields Salesforce accepts on create only.
_CREATE_ONLY = {
    "Note": ("ParentId",),
    "Task": ("TaskSubtype",),
    "Event": ("EventSubtype",),
    "OpportunityContactRole": ("OpportunityId",),
}

# --- outcomes -------------------------------------------------------------------------


def _error_finish(run: JobRun, error: SalesforceError) -> Finish:
    if error.kind == "reauth":
        connection_needs_reauth(run.connection, error.message)
        return Finish(
            State.PENDING,
            f"Waiting: Salesforce needs to be reconnected ({error.code}).",
            error=error,
        )
    if error.kind == "retry":
        return Finish(State.PENDING, f"Will retry: {error}", error=error)
    return Finish(State.FAILED, f"Salesforce refused the change: {error}", error=error)


def backoff_seconds(attempt: int) -> float:
    """Exponential backoff with full jitter around the doubling delay."""
    base = settings.SYNC_RETRY_BASE_SECONDS * (2 ** max(attempt - 1, 0))
    return min(settings.SYNC_RETRY_MAX_SECONDS, base) * random.uniform(0.5, 1.5)


def _job_finish(
    run: JobRun, *, started_at: datetime, api_calls: int, duration_ms: int, batch: int
) -> None:
    job = run.job
    finish = run.finish or Finish(State.FAILED, "The sync ended without an outcome.")
    error = finish.error
    outcome = {
        State.SUCCEEDED: Outcome.SUCCEEDED,
        State.SKIPPED: Outcome.SKIPPED,
        State.NEEDS_REVIEW: Outcome.NEEDS_REVIEW,
        State.FAILED: Outcome.FAILED,
    }.get(finish.state, Outcome.RETRY)
    next_attempt = None
    state = finish.state
    reason = finish.reason
    attempts = job.attempt_count
    if error is not None and error.kind == "reauth":
        outcome = Outcome.REAUTH
        attempts -= 1  # waiting for a person is not a failed try
    elif error is not None and error.code == "REQUEST_LIMIT_EXCEEDED":
        # The org's daily budget is spent: waiting for it is not a failed try either.
        attempts -= 1
        next_attempt = timezone.now() + timedelta(seconds=settings.SYNC_LIMIT_PAUSE_SECONDS)
        reason = f"{reason} Next attempt at {next_attempt:%H:%M:%S} UTC."
    elif state == State.PENDING:
        if attempts >= settings.SYNC_MAX_ATTEMPTS:
            state = State.FAILED
            reason = f"Gave up after {attempts} attempts. Last error: {error}"
        else:
            next_attempt = timezone.now() + timedelta(seconds=backoff_seconds(attempts))
            reason = f"{reason} Next attempt at {next_attempt:%H:%M:%S} UTC."
    note = f" (in a batch of {batch} jobs)" if batch > 1 else ""
    with transaction.atomic():
        SyncAttempt.objects.create(
            job=job,
            started_at=started_at,
            finished_at=timezone.now(),
            outcome=outcome,
            salesforce_error_code=error.code if error else "",
            message=(str(error) if error else reason) + note,
            api_calls=api_calls,
            duration_ms=duration_ms,
        )
        SyncJob.objects.filter(pk=job.pk).update(
            state=state,
            reason=reason,
            candidates=finish.candidates,
            attempt_count=attempts,
            next_attempt_at=next_attempt,
            lease_expires_at=None,
            finished_at=timezone.now() if state not in SyncJob.OPEN_STATES else None,
            updated_at=timezone.now(),
        )
    log = logger.warning if state == State.FAILED else logger.info
    log("sync job %s (%s) -> %s: %s", job.pk, job.operation, state, reason)


def _release(job: SyncJob, reason: str, until: datetime | None) -> None:
    """Back to pending without counting an attempt: the job waits for a person or the
    API limit, not for a fix."""
    SyncJob.objects.filter(pk=job.pk).update(
        state=State.PENDING,
        reason=reason,
        lease_expires_at=None,
        attempt_count=F("attempt_count") - 1,
        next_attempt_at=until,
        updated_at=timezone.now(),
    )
    logger.info("sync job %s waits: %s", job.pk, reason)


def _dispatch_waiting(jobs: list[SyncJob]) -> None:
    """Jobs that could not start while these held their objects start now."""
    keys = {j.lock_key for j in jobs if j.lock_key}
    waiting = (
        SyncJob.objects.filter(lock_key__in=keys, state=State.PENDING, next_attempt_at__isnull=True)
        .exclude(pk__in=[j.pk for j in jobs])
        .values_list("pk", flat=True)
    )
    for job_id in list(waiting):
        job_dispatch(job_id)


def job_dispatch(job_id: int) -> None:
    async_task("integrations.tasks.sync_job_run", job_id, task_name=f"sync-job-{job_id}")


# --- the sweeper ------------------------------------------------------------------------


def sync_jobs_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Recover what a crash or a lost broker message left behind:
    1. running jobs whose lease passed (their worker died) go back to pending;
    2. every pending job that is due (a retry whose time came, a task the broker
       dropped) is handed to the queue again. A job already taken is not run twice:
       claiming is conditional."""
    now = now or timezone.now()
    expired = SyncJob.objects.filter(state=State.RUNNING, lease_expires_at__lt=now)
    recovered = 0
    for job in expired:
        # A job whose worker keeps dying with it is not handed out forever.
        exhausted = job.attempt_count >= settings.SYNC_MAX_ATTEMPTS
        if SyncJob.objects.filter(pk=job.pk, state=State.RUNNING, lease_expires_at__lt=now).update(
            state=State.FAILED if exhausted else State.PENDING,
            lease_expires_at=None,
            reason=(
                f"Gave up after {job.attempt_count} attempts: its worker stopped mid-sync "
                "each time."
                if exhausted
                else "Its worker stopped mid-sync; taken up again."
            ),
            finished_at=now if exhausted else None,
            updated_at=now,
        ):
            SyncAttempt.objects.create(
                job=job,
                started_at=job.updated_at,
                finished_at=now,
                outcome=Outcome.FAILED if exhausted else Outcome.RETRY,
                message="The worker running this job stopped before it finished (lease expired).",
            )
            recovered += 1
    due = list(
        SyncJob.objects.filter(state=State.PENDING)
        .filter(_due(now))
        # Jobs waiting for a person to (re)connect Salesforce resume when they do.
        .exclude(tenant__salesforce_connection__status__in=["needs_reauth", "disconnected"])
        .exclude(tenant__salesforce_connection__isnull=True)
        .order_by("id")
        .values_list("pk", "tenant_id")
    )
    # Claiming is conditional and a worker takes companions of the same tenant, so
    # handing every due job over is safe: the ones already taken are no-ops.
    dispatched = 0
    for job_id, _tenant_id in due:
        job_dispatch(job_id)
        dispatched += 1
    if recovered or dispatched:
        logger.info("sweeper: %s lost jobs recovered, %s due jobs queued", recovered, dispatched)
    return {"recovered": recovered, "dispatched": dispatched}


def tenant_jobs_resume(*, tenant: Tenant) -> int:
    """After a reconnect: every job that waited for it goes back to the queue."""
    waiting = list(
        SyncJob.objects.filter(tenant=tenant, state=State.PENDING).values_list("pk", flat=True)
    )
    SyncJob.objects.filter(pk__in=waiting).update(next_attempt_at=None)
    SalesforceConnection.objects.filter(tenant=tenant).update(paused_until=None)
    for job_id in waiting:
        transaction.on_commit(lambda job_id=job_id: job_dispatch(job_id))
    return len(waiting)
