"""API calls and throughput of the meeting auto-sync, next to a record-by-record
baseline (run by hand or with `make bench-sync`, not a test).

    .venv/bin/python bench/sync.py [--sizes 1 100 1000] [--latency-ms 50]
                                   [--baseline-sample 200]

Every request to the emulator takes 50 ms more (as a real org over the internet would).
For each N, N processed meetings (4 external attendees, all Contacts of one Account,
1 internal attendee, 5 highlights) are synced in Notes-and-Events mode:

* portal: the sync engine, the way a worker runs it. N=1 runs the meeting's one
  `meeting.processed` job; a backlog runs every pending job of the tenant in the order
  the queue received them (`sync_job_run` per job id; a worker that takes one job also
  takes due companions, so most calls find their job gone), until none is pending.
* baseline: what a team writes first with simple-salesforce: per meeting, one query per
  external attendee, then the ContentNote, its ContentDocumentLink, the Event and each
  EventRelation, one call each. A large N is sampled (--baseline-sample meetings) and
  its time and calls extrapolated; the table says so.

Both are checked against the org: every meeting has exactly one ContentNote linked to
its Account and one Event on it, related to its four Contacts. The targets are checked
at the end (exit status 1 when one fails); results go to build/bench-sync.json.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from html import escape
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

INTERNAL_DOMAIN = "acme.example"
EXTERNAL_PER_MEETING = 4
HIGHLIGHTS_PER_MEETING = 5
RESULTS_FILE = ROOT / "build" / "bench-sync.json"

# The targets (issue text): one auto-synced meeting, a backlog of 1,000.
TARGET_SINGLE_CALLS = 3
TARGET_BACKLOG_N = 1000
TARGET_BACKLOG_CALLS_PER_MEETING = 0.2
TARGET_BACKLOG_SPEEDUP = 10.0


def django_setup(temp_dir: str) -> None:
    """A throwaway SQLite database and the ORM broker: the portal's own code, nothing
    else running. Settings read the environment once, at setup."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ["DATABASE_URL"] = f"sqlite:///{Path(temp_dir) / 'bench.sqlite3'}"
    os.environ.pop("REDIS_URL", None)
    os.environ["Q_SYNC"] = "false"  # queued tasks wait in the database; no worker runs
    os.environ["LOG_LEVEL"] = "WARNING"  # the engine logs every job at INFO
    os.environ["DJANGO_DEBUG"] = "false"  # DEBUG keeps every SQL statement in memory
    import django

    django.setup()
    from django.db.backends.signals import connection_created

    def sqlite_tune(sender: Any, connection: Any, **kwargs: Any) -> None:
        # As a SQLite file is run in production: write-ahead log, fsync at checkpoints.
        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")

    connection_created.connect(sqlite_tune, weak=False)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


# --- data --------------------------------------------------------------------------------


@dataclass
class Customer:
    """The Salesforce side of one meeting: an Account and its attendees' Contacts."""

    name: str
    emails: list[str]
    account_id: str = ""
    contact_ids: list[str] = field(default_factory=list)


def customers_for(n: int) -> list[Customer]:
    return [
        Customer(
            f"Customer {n}-{i}",
            [f"buyer{k}.{i}@customer{i}.n{n}.example" for k in range(EXTERNAL_PER_MEETING)],
        )
        for i in range(n)
    ]


def org_seed(org: Any, customers: list[Customer]) -> None:
    """Accounts and Contacts, inserted directly (not API calls)."""
    account_ids = org.insert_many("Account", [{"Name": c.name} for c in customers])
    rows = []
    for customer, account_id in zip(customers, account_ids, strict=True):
        customer.account_id = account_id
        rows.extend(
            {
                "FirstName": f"Buyer{k}",
                "LastName": customer.name,
                "Email": email,
                "AccountId": account_id,
            }
            for k, email in enumerate(customer.emails)
        )
    contact_ids = org.insert_many("Contact", rows)
    for index, customer in enumerate(customers):
        start = index * EXTERNAL_PER_MEETING
        customer.contact_ids = contact_ids[start : start + EXTERNAL_PER_MEETING]


def meetings_create(tenant: Any, n: int, customers: list[Customer]) -> list[Any]:
    """N meetings as a partner pushes them: the meeting with its attendees, five
    highlights, then "processed". Each change writes its sync job."""
    from meetings import services as meetings

    start = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
    created = []
    for i, customer in enumerate(customers):
        people = [
            meetings.PersonInput(email=email, name=f"Buyer {k}")
            for k, email in enumerate(customer.emails)
        ]
        people.append(meetings.PersonInput(email=f"rep{i % 7}@{INTERNAL_DOMAIN}", name="Rep"))
        when = start + timedelta(hours=i)
        meeting, _ = meetings.meeting_upsert(
            tenant=tenant,
            external_id=f"bench-{n}-{i}",
            title=f"Discovery call {n}-{i} with {customer.name}",
            start=when,
            end=when + timedelta(minutes=45),
            organizer_email=f"rep{i % 7}@{INTERNAL_DOMAIN}",
            attendees=people,
        )
        for h in range(HIGHLIGHTS_PER_MEETING):
            meetings.highlight_upsert(
                meeting=meeting,
                external_id=f"h{h + 1}",
                text=f"Highlight {h + 1}: the buyer said something worth keeping ({i}).",
                speaker=f"Buyer {h % EXTERNAL_PER_MEETING}",
                offset_seconds=Decimal(60 * (h + 1)),
            )
        created.append(meetings.meeting_mark_processed(meeting=meeting))
    return created


def queued_tasks_purge() -> int:
    """Nobody consumes the ORM broker here: drop the task rows the dispatches queued."""
    from django_q.models import OrmQ

    return OrmQ.objects.all().delete()[0]


# --- checking what landed in the org --------------------------------------------------------


def org_check(org: Any, meetings: list[Any], customers: list[Customer]) -> list[str]:
    """Every meeting: exactly one ContentNote linked to its Account, exactly one Event
    on the Account related to its four Contacts. Returns the problems found."""
    notes: dict[str, list[str]] = {}
    for row in org.records("ContentNote"):
        notes.setdefault(row["Title"], []).append(row["Id"])
    links = {
        (r["ContentDocumentId"], r["LinkedEntityId"]) for r in org.records("ContentDocumentLink")
    }
    events: dict[str, list[dict[str, Any]]] = {}
    for row in org.records("Event"):
        events.setdefault(row["Subject"], []).append(row)
    related: dict[str, set[str]] = {}
    for row in org.records("EventRelation"):
        related.setdefault(row["EventId"], set()).add(row["RelationId"])
    problems = []
    for meeting, customer in zip(meetings, customers, strict=True):
        title = meeting.title
        found = notes.get(f"{title}: highlights", [])
        if len(found) != 1:
            problems.append(f"{meeting.external_id}: {len(found)} ContentNotes")
        elif (found[0], customer.account_id) not in links:
            problems.append(f"{meeting.external_id}: the note is not linked to its Account")
        found_events = events.get(title, [])
        if len(found_events) != 1:
            problems.append(f"{meeting.external_id}: {len(found_events)} Events")
            continue
        event = found_events[0]
        if event.get("WhatId") != customer.account_id:
            problems.append(f"{meeting.external_id}: the Event is not on its Account")
        missing = set(customer.contact_ids) - related.get(event["Id"], set())
        if missing:
            problems.append(f"{meeting.external_id}: {len(missing)} Contacts not on the Event")
    return problems


# --- the two ways of syncing ----------------------------------------------------------------


@dataclass
class Result:
    n: int
    mode: str
    meetings_synced: int
    api_calls: int
    seconds: float
    sampled: bool = False
    calls_first_job: int | None = None  # N=1: what the meeting.processed job spent
    jobs: dict[str, dict[str, int]] = field(default_factory=dict)
    worker_calls: int = 0  # sync_job_run calls made (most are no-ops in a backlog)
    batches: int = 0  # runs that did work (one SyncAttempt timestamp per batch)
    problems: list[str] = field(default_factory=list)
    speedup: float | None = None

    @property
    def calls_per_meeting(self) -> float:
        return self.api_calls / self.n

    @property
    def meetings_per_second(self) -> float:
        return self.n / self.seconds if self.seconds else float("inf")

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["calls_per_meeting"] = round(self.calls_per_meeting, 4)
        data["meetings_per_second"] = round(self.meetings_per_second, 2)
        data["seconds"] = round(self.seconds, 3)
        data["problems"] = self.problems[:20]
        data["problem_count"] = len(self.problems)
        return data


def jobs_by_state(tenant: Any) -> dict[str, dict[str, int]]:
    from integrations.models import SyncJob

    table: dict[str, dict[str, int]] = {}
    for operation, state in SyncJob.objects.filter(tenant=tenant).values_list("operation", "state"):
        table.setdefault(operation, Counter())[state] += 1
    return {op: dict(states) for op, states in sorted(table.items())}


def worker_drain(tenant: Any) -> tuple[int, int]:
    """Run the tenant's pending jobs as a worker does with the queue: each job id in the
    order it was queued (creation order), again until none is pending. A job that
    another run already took is a no-op for `sync_job_run`. Returns (sync_job_run calls,
    passes over the queue)."""
    from integrations.models import SyncJob
    from integrations.services.jobs import sync_job_run

    calls = passes = 0
    while True:
        pending = list(
            SyncJob.objects.filter(tenant=tenant, state=SyncJob.State.PENDING)
            .order_by("id")
            .values_list("pk", flat=True)
        )
        if not pending:
            return calls, passes
        passes += 1
        for job_id in pending:
            sync_job_run(job_id=job_id)
            calls += 1
        still = SyncJob.objects.filter(tenant=tenant, state=SyncJob.State.PENDING).count()
        if still == len(pending):
            # Nothing moved (retries wait for their time): report rather than spin.
            return calls, passes


def portal_run(server: Any, n: int, latency_ms: float) -> tuple[Result, list[Any], list[Customer]]:
    from django.conf import settings

    from integrations.models import IntegrationSettings, SyncAttempt, SyncJob
    from integrations.services.connection import salesforce_connection_connect
    from integrations.services.jobs import sync_job_run
    from integrations.services.settings import integration_settings_update
    from tenants.services import tenant_create

    settings.SALESFORCE_CA_FILE = server.ca_file
    settings.SALESFORCE_LOGIN_URL = server.base_url
    org = server.create_org(f"Portal bench {n}")
    customers = customers_for(n)
    org_seed(org, customers)
    org.faults.latency(latency_ms)
    tenant = tenant_create(name=f"Bench {n}", slug=f"bench-{n}", internal_domains=[INTERNAL_DOMAIN])
    salesforce_connection_connect(
        tenant=tenant,
        instance_url=org.instance_url,
        access_token=org.access_token,
        refresh_token=org.refresh_token,
    )
    integration_settings_update(
        tenant=tenant,
        auto_sync=True,
        highlights_destination=IntegrationSettings.Destination.NOTES_AND_EVENTS,
        note_flavour=IntegrationSettings.NoteFlavour.CONTENT_NOTE,
        link_back_base_url="https://portal.acme.example",
    )
    started = time.perf_counter()
    meetings = meetings_create(tenant, n, customers)
    queued_tasks_purge()
    print(
        f"{n} meetings created in {time.perf_counter() - started:.1f} s; portal sync ...",
        end=" ",
        flush=True,
    )
    before = org.api_calls
    first_job_calls = None
    if n == 1:
        job = SyncJob.objects.get(tenant=tenant, operation="meeting.processed")
        started = time.perf_counter()
        sync_job_run(job_id=job.pk)
        elapsed = time.perf_counter() - started
        first_job_calls = org.api_calls - before
        # Its highlights' jobs waited for it (same meeting); they find the Note up to
        # date. Counted too: everything the sync spends on the meeting.
        started = time.perf_counter()
        runs, _ = worker_drain(tenant)
        elapsed += time.perf_counter() - started
        runs += 1
    else:
        started = time.perf_counter()
        runs, _ = worker_drain(tenant)
        elapsed = time.perf_counter() - started
    calls = org.api_calls - before
    queued_tasks_purge()
    batches = SyncAttempt.objects.filter(job__tenant=tenant).values("started_at").distinct().count()
    result = Result(
        n=n,
        mode="portal",
        meetings_synced=n,
        api_calls=calls,
        seconds=elapsed,
        calls_first_job=first_job_calls,
        jobs=jobs_by_state(tenant),
        worker_calls=runs,
        batches=batches,
    )
    result.problems = org_check(org, meetings, customers)
    processed = result.jobs.get("meeting.processed", {})
    if processed.get("succeeded", 0) != n:
        result.problems.append(f"meeting.processed jobs by state: {processed}")
    for operation, states in result.jobs.items():
        bad = {s: c for s, c in states.items() if s not in ("succeeded", "skipped")}
        if bad:
            result.problems.append(f"{operation} jobs not finished well: {bad}")
    # What the sync itself recorded, as a cross-check of the emulator's count.
    recorded = sum(
        SyncAttempt.objects.filter(job__tenant=tenant).values_list("api_calls", flat=True)
    )
    if recorded != calls:
        result.problems.append(f"the jobs recorded {recorded} API calls, the org counted {calls}")
    return result, meetings, customers


def note_html(meeting: Any) -> str:
    parts = [f"<p><b>{escape(meeting.title)}</b></p>"]
    for h in meeting.highlights.all():
        parts.append(f"<p>[{h.offset_seconds}s] {escape(h.speaker)}: {escape(h.text)}</p>")
    return "".join(parts)


def baseline_run(
    server: Any,
    n: int,
    latency_ms: float,
    meetings: list[Any],
    customers: list[Customer],
    sample: int,
) -> Result:
    """Record by record with simple-salesforce, against a fresh org holding the same
    Accounts and Contacts."""
    from simple_salesforce import Salesforce, format_soql

    from salesforce_emulator.testing import trusted_session

    org = server.create_org(f"Baseline bench {n}")
    fresh = [Customer(c.name, list(c.emails)) for c in customers]
    org_seed(org, fresh)
    org.faults.latency(latency_ms)
    sf = Salesforce(
        instance_url=org.instance_url,
        session_id=org.access_token,
        session=trusted_session(server.ca_file),
    )
    count = min(n, sample)
    todo = meetings[:count]
    internal = f"@{INTERNAL_DOMAIN}"
    before = org.api_calls
    started = time.perf_counter()
    for meeting in todo:
        contacts = []
        for attendee in meeting.attendees.all():
            if attendee.email.endswith(internal):
                continue
            answer = sf.query(
                format_soql("SELECT Id, AccountId FROM Contact WHERE Email = {}", attendee.email)
            )
            if answer["records"]:
                contacts.append(answer["records"][0])
        if not contacts:
            continue
        account_id = contacts[0]["AccountId"]
        html = note_html(meeting)
        note = sf.ContentNote.create(
            {
                "Title": f"{meeting.title}: highlights",
                "Content": base64.b64encode(html.encode()).decode(),
            }
        )
        sf.ContentDocumentLink.create(
            {"ContentDocumentId": note["id"], "LinkedEntityId": account_id, "ShareType": "V"}
        )
        event = sf.Event.create(
            {
                "Subject": meeting.title,
                "StartDateTime": meeting.start.isoformat().replace("+00:00", "Z"),
                "EndDateTime": meeting.end.isoformat().replace("+00:00", "Z"),
                "WhatId": account_id,
                "WhoId": contacts[0]["Id"],
            }
        )
        for contact in contacts[1:]:
            sf.EventRelation.create(
                {
                    "EventId": event["id"],
                    "RelationId": contact["Id"],
                    "IsParent": True,
                    "IsInvitee": False,
                }
            )
    elapsed = time.perf_counter() - started
    calls = org.api_calls - before
    result = Result(
        n=n,
        mode="baseline",
        meetings_synced=count,
        api_calls=round(calls * n / count),
        seconds=elapsed * n / count,
        sampled=count < n,
    )
    result.problems = org_check(org, todo, fresh[:count])
    return result


# --- report --------------------------------------------------------------------------------


def table(results: list[Result]) -> str:
    head = (
        f"{'N':>5}  {'mode':<9} {'API calls':>10} {'calls/meeting':>14} {'seconds':>9} "
        f"{'meetings/s':>11} {'speedup':>8}"
    )
    lines = [head, "-" * len(head)]
    for r in results:
        note = f"  (sampled {r.meetings_synced}, extrapolated)" if r.sampled else ""
        speedup = f"{r.speedup:7.1f}x" if r.speedup is not None else f"{'':>8}"
        lines.append(
            f"{r.n:>5}  {r.mode:<9} {r.api_calls:>10} {r.calls_per_meeting:>14.3f} "
            f"{r.seconds:>9.2f} {r.meetings_per_second:>11.2f} {speedup}{note}"
        )
    return "\n".join(lines)


def targets_check(results: list[Result]) -> list[dict[str, Any]]:
    def find(n: int, mode: str) -> Result | None:
        return next((r for r in results if r.n == n and r.mode == mode), None)

    checks = []
    single = find(1, "portal")
    if single is not None:
        checks.append(
            {
                "target": f"one auto-synced meeting: at most {TARGET_SINGLE_CALLS} API calls",
                "value": single.api_calls,
                "passed": single.api_calls <= TARGET_SINGLE_CALLS,
            }
        )
    backlog = find(TARGET_BACKLOG_N, "portal")
    if backlog is not None:
        checks.append(
            {
                "target": f"backlog of {TARGET_BACKLOG_N}: at most "
                f"{TARGET_BACKLOG_CALLS_PER_MEETING} API calls per meeting",
                "value": round(backlog.calls_per_meeting, 4),
                "passed": backlog.calls_per_meeting <= TARGET_BACKLOG_CALLS_PER_MEETING,
            }
        )
        checks.append(
            {
                "target": f"backlog of {TARGET_BACKLOG_N}: at least "
                f"{TARGET_BACKLOG_SPEEDUP:g}x the baseline's meetings/s",
                "value": round(backlog.speedup or 0.0, 2),
                "passed": (backlog.speedup or 0.0) >= TARGET_BACKLOG_SPEEDUP,
            }
        )
    return checks


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 100, 1000])
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument(
        "--baseline-sample",
        type=int,
        default=200,
        help="meetings the baseline syncs at most per N; more are extrapolated",
    )
    parser.add_argument("--output", type=Path, default=RESULTS_FILE)
    args = parser.parse_args()

    temp = tempfile.TemporaryDirectory(prefix="bench-sync-")
    django_setup(temp.name)
    from salesforce_emulator.testing import EmulatorServer

    server = EmulatorServer.start()
    results: list[Result] = []
    try:
        print(
            f"Emulator at {server.base_url}, {args.latency_ms:g} ms added to every request; "
            f"{EXTERNAL_PER_MEETING} external attendees and {HIGHLIGHTS_PER_MEETING} "
            "highlights per meeting; Notes-and-Events mode.",
            flush=True,
        )
        for n in args.sizes:
            print(f"N={n}:", end=" ", flush=True)
            portal, meetings, customers = portal_run(server, n, args.latency_ms)
            print(f"{portal.seconds:.2f} s; baseline ...", end=" ", flush=True)
            baseline = baseline_run(
                server, n, args.latency_ms, meetings, customers, args.baseline_sample
            )
            print(f"{baseline.seconds:.2f} s", flush=True)
            portal.speedup = portal.meetings_per_second / baseline.meetings_per_second
            results += [portal, baseline]
    finally:
        server.stop()
        temp.cleanup()

    print()
    print(table(results))
    print()
    for r in results:
        if r.mode != "portal":
            continue
        extra = f"; the meeting.processed job alone: {r.calls_first_job}" if r.n == 1 else ""
        print(
            f"N={r.n} portal: {r.worker_calls} sync_job_run calls, {r.batches} batches doing "
            f"work{extra}. Jobs by state: "
            + "; ".join(
                f"{op} " + ", ".join(f"{s} {c}" for s, c in sorted(states.items()))
                for op, states in r.jobs.items()
            )
        )
    problems = [(r, p) for r in results for p in r.problems]
    for r, p in problems[:30]:
        print(f"PROBLEM N={r.n} {r.mode}: {p}")
    if len(problems) > 30:
        print(f"... and {len(problems) - 30} more problems")
    print()
    checks = targets_check(results)
    for check in checks:
        verdict = "PASS" if check["passed"] else "FAIL"
        print(f"{verdict}  {check['target']} (measured {check['value']})")
    correct = not problems
    verdict = "PASS" if correct else "FAIL"
    print(f"{verdict}  every meeting synced once and correctly, every job finished")

    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(
        json.dumps(
            {
                "latency_ms": args.latency_ms,
                "external_attendees": EXTERNAL_PER_MEETING,
                "highlights": HIGHLIGHTS_PER_MEETING,
                "results": [r.as_dict() for r in results],
                "targets": checks,
                "correct": correct,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"Results written to {args.output}")
    return 0 if correct and all(c["passed"] for c in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
