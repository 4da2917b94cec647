"""The fault campaign: a seeded random run of a few hundred (or a thousand) changes made
through the portal's services while the Salesforce emulator fails about one request in
five, followed by a drain and a check of every exactly-once invariant against the org.

Shared by the test (`tests/sync/test_campaign.py`, both database passes) and the bench
(`bench/campaign.py`, `make campaign`). Two ways to run the jobs:

- "inline": django-q2 runs each task in this process when its transaction commits (the
  SQLite pass); "time passes" now and then: requests the emulator is still serving land,
  every retry becomes due and the sweeper runs;
- "workers": real `manage.py sync_worker` clusters take the job ids from the broker (the
  PostgreSQL + Redis pass and the bench); a whole cluster is SIGKILLed a few times and
  started again.

Everything the campaign chooses comes from `random.Random(seed)` and the portal's own
state, and the emulator's chaos draws from the same seed, so one seed names one run: a
failure prints the seed and the numbered operations that led to it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import html
import importlib
import os
import pkgutil
import random
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import close_old_connections
from django.db.models import Max, Q, Sum
from django.utils import timezone

from integrations.enums import Purpose
from integrations.models import (
    IntegrationSettings,
    SalesforceConnection,
    SyncAttempt,
    SyncJob,
    SyncMapping,
)
from integrations.outbox.sweeper import sync_jobs_sweep
from integrations.salesforce import payloads
from meetings import services as meeting_services
from meetings.models import Activity, ActivityParticipant, Attendee, Highlight, Meeting
from meetings.services import PersonInput
from salesforce_emulator.server import EmulatorApp
from salesforce_emulator.testing import OrgHandle
from scheduler import services as scheduler_services
from scheduler.models import Booking
from tenants.models import Tenant
from tests.sync.worker_process import database_url, worker_environment

UTC = dt.UTC
DEFAULT_SEED = 20_261_120
ALL_KINDS = ("unavailable", "lock", "drop", "slow", "expire")
# Error codes of faults the emulator injects (or that its slowness causes): a job must
# never end `failed` with one of them; they are retried until they pass.
INJECTED_CODES = frozenset(
    {
        "SERVER_UNAVAILABLE",
        "UNABLE_TO_LOCK_ROW",
        "TIMEOUT",
        "CONNECTION_ERROR",
        "HTTP_ERROR",
        "INVALID_SESSION_ID",
        "REQUEST_LIMIT_EXCEEDED",
        "INTERNAL_ERROR",
        "DATABASE_ERROR",
        "TOKEN_ENDPOINT_UNAVAILABLE",
    }
)


def campaign_seed(default: int = DEFAULT_SEED) -> int:
    raw = os.environ.get("CAMPAIGN_SEED", "").strip()
    return int(raw) if raw else default


def campaign_kinds() -> tuple[str, ...]:
    """Chaos kinds from CAMPAIGN_KINDS (comma-separated), all five by default."""
    raw = os.environ.get("CAMPAIGN_KINDS", "").strip()
    return tuple(k.strip() for k in raw.split(",") if k.strip()) if raw else ALL_KINDS


def integration_service(name: str) -> Callable[..., Any]:
    """A service of the integrations app by name, wherever it lives: the services
    package is being split into submodules (`integrations.services.jobs`, ...), so the
    campaign looks in the package and then in each of its modules."""
    package = importlib.import_module("integrations.services")
    found = getattr(package, name, None)
    if callable(found):
        return found  # type: ignore[no-any-return]
    for info in pkgutil.iter_modules(getattr(package, "__path__", [])):
        module = importlib.import_module(f"integrations.services.{info.name}")
        found = getattr(module, name, None)
        if callable(found):
            return found  # type: ignore[no-any-return]
    raise LookupError(f"no integrations service named {name}")


# --- configuration -------------------------------------------------------------------------


@dataclass
class CampaignConfig:
    seed: int
    operations: int = 300
    mode: str = "inline"  # "inline" or "workers"
    clusters: int = 1
    kills: int = 0
    chaos_rate: float = 0.2
    http_timeout: int = 1  # SALESFORCE_HTTP_TIMEOUT, seconds
    slow_ms: int = 1300  # beyond the HTTP timeout: the client gives up, the org applies
    q_timeout: int = 4  # >= 4 x http_timeout (integrations.checks)
    q_retry: int = 6  # > q_timeout
    max_attempts: int = 60  # SYNC_MAX_ATTEMPTS: faults alone never exhaust it
    retry_base: int = 1  # SYNC_RETRY_BASE_SECONDS
    retry_max: int = 4  # SYNC_RETRY_MAX_SECONDS
    time_passes_rate: float = 0.12  # inline: chance that time passes after an operation
    # The API-limit episode: exhausted from this share of the operations to that one.
    limit_episode: tuple[float, float] = (0.42, 0.5)
    # Workers: seconds the operations are spread over (kills fall inside).
    op_seconds: float = 40.0
    # Hard cap on the operation phase (the test must stay short); 0 = none.
    max_op_seconds: float = 0.0
    drain_seconds: float = 30.0
    # Workers: a worker killed (by us or by django-q2's timeout) leaves running jobs
    # until their lease ends; with one cluster and none alive, the campaign may sweep
    # as if the lease had passed (that is what time would do).
    force_lease_expiry: bool = True
    # The kinds of failure chaos draws from (all five by default).
    kinds: tuple[str, ...] = ALL_KINDS
    log_dir: Path | None = None
    database_url: str | None = None  # for the workers; the test database by default
    verbose: bool = False

    def settings_overrides(self) -> dict[str, Any]:
        q_cluster = dict(settings.Q_CLUSTER)
        q_cluster.update(timeout=self.q_timeout, retry=self.q_retry)
        return {
            "SALESFORCE_HTTP_TIMEOUT": self.http_timeout,
            "SYNC_MAX_ATTEMPTS": self.max_attempts,
            "SYNC_RETRY_BASE_SECONDS": self.retry_base,
            "SYNC_RETRY_MAX_SECONDS": self.retry_max,
            "SYNC_IN_DOUBT_GRACE_SECONDS": 3.0 * self.http_timeout,
            "Q_CLUSTER": q_cluster,
        }


def settings_apply(target: Any, config: CampaignConfig) -> None:
    """Set the campaign's settings on `target` (pytest-django's `settings` fixture, or
    `django.conf.settings` in the bench)."""
    for name, value in config.settings_overrides().items():
        setattr(target, name, value)


# --- the org -------------------------------------------------------------------------------

INTERNAL_DOMAIN = "acme.test"
ACCOUNTS: dict[str, tuple[str, list[str]]] = {
    "Initech": ("initech.example", ["bill.lumbergh", "peter.gibbons", "milton.waddams"]),
    "Globex": ("globex.example", ["hank.scorpio", "frank.grimes"]),
    "Hooli": ("hooli.example", ["gavin.belson", "jian.yang", "nelson.bighetti"]),
}
LONE_CONTACTS = ["sam.malone@cheers.example"]  # a Contact of no Account
LEADS = ["lena.lead@umbrella.example", "otto.lead@vandelay.example", "rita.lead@piedpiper.example"]
# A Contact and a Lead with one address: a person must choose.
TWICE = "pat.twice@wayne.example"
UNKNOWN = ["nobody@nowhere.example", "ghost@void.example"]
USERS = [f"ana@{INTERNAL_DOMAIN}", f"ben@{INTERNAL_DOMAIN}", f"cleo@{INTERNAL_DOMAIN}"]
NO_USER = f"dev@{INTERNAL_DOMAIN}"  # an internal person with no Salesforce User
INTERNAL = [*USERS, NO_USER]
LINK_BASE = "https://portal.acme.test"


@dataclass
class OrgDirectory:
    """What the seeded org holds, by email (the oracle's view, not the engine's)."""

    accounts: dict[str, str] = field(default_factory=dict)  # name -> Id
    contacts: dict[str, tuple[str, str]] = field(default_factory=dict)  # email -> (Id, Account Id)
    leads: dict[str, str] = field(default_factory=dict)
    users: dict[str, str] = field(default_factory=dict)

    def people(self, email: str) -> list[tuple[str, str]]:
        """(object, Id) of each Contact and Lead with this address."""
        found = []
        if email in self.contacts:
            found.append(("Contact", self.contacts[email][0]))
        if email in self.leads:
            found.append(("Lead", self.leads[email]))
        return found

    @property
    def account_contacts(self) -> list[str]:
        return [e for e, (_, account) in self.contacts.items() if account]


def org_seed(org: OrgHandle) -> OrgDirectory:
    directory = OrgDirectory()
    for name, (domain, people) in ACCOUNTS.items():
        account = org.insert("Account", Name=name, Website=f"https://{domain}")
        directory.accounts[name] = account
        for person in people:
            first, last = person.split(".")
            email = f"{person}@{domain}"
            contact = org.insert(
                "Contact",
                FirstName=first.title(),
                LastName=last.title(),
                Email=email,
                AccountId=account,
            )
            directory.contacts[email] = (contact, account)
    for email in LONE_CONTACTS:
        directory.contacts[email] = (org.insert("Contact", LastName="Malone", Email=email), "")
    for email in LEADS:
        name = email.split("@")[0].split(".")[0].title()
        company = email.split("@")[1].split(".")[0].title()
        directory.leads[email] = org.insert("Lead", LastName=name, Company=company, Email=email)
    directory.contacts[TWICE] = (org.insert("Contact", LastName="Twice", Email=TWICE), "")
    directory.leads[TWICE] = org.insert("Lead", LastName="Twice", Company="Wayne", Email=TWICE)
    for email in USERS:
        name = email.split("@")[0].title()
        directory.users[email] = org.insert(
            "User", Username=f"{email}.sf", Email=email, LastName=name, Alias=name[:8]
        )
    return directory


def tenant_configure(tenant: Tenant) -> None:
    """Auto-sync on, calls logged automatically, scheduled meetings logged, Notes and
    Events, links back to the portal."""
    integration_service("integration_settings_update")(
        tenant=tenant,
        auto_sync=True,
        log_calls_automatically=True,
        log_scheduled_meetings=True,
        highlights_destination=IntegrationSettings.Destination.NOTES_AND_EVENTS,
        link_back_base_url=LINK_BASE,
    )


# --- requests the emulator is still serving -------------------------------------------------


class InFlight:
    """Counts the requests the in-process emulator is serving. A "slow" request goes on
    after its client gave up and then writes; when the campaign lets time pass it waits
    for those first, as time would."""

    def __init__(self) -> None:
        self._count = 0
        self._cv = threading.Condition()
        self._original: Any = None

    def install(self) -> None:
        original = EmulatorApp.__call__
        tracker = self

        def counted(app: EmulatorApp, environ: dict[str, Any], start_response: Any) -> Any:
            with tracker._cv:
                tracker._count += 1
            try:
                return original(app, environ, start_response)
            finally:
                with tracker._cv:
                    tracker._count -= 1
                    tracker._cv.notify_all()

        self._original = original
        EmulatorApp.__call__ = counted  # type: ignore[method-assign]

    def uninstall(self) -> None:
        if self._original is not None:
            EmulatorApp.__call__ = self._original  # type: ignore[method-assign]
            self._original = None

    def wait_idle(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._cv:
            while self._count:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cv.wait(left)
        return True


# --- worker clusters -----------------------------------------------------------------------


class Worker:
    """`manage.py sync_worker` (a django-q2 cluster and the short-period sweeper) in its
    own process group, logging to a file; SIGKILL takes the whole group."""

    def __init__(self, log_path: Path, config: CampaignConfig) -> None:
        self.log_path = log_path
        env = worker_environment(
            config.database_url or database_url(),
            Q_WORKERS="2",
            Q_TIMEOUT=str(config.q_timeout),
            Q_RETRY=str(config.q_retry),
            SALESFORCE_HTTP_TIMEOUT=str(config.http_timeout),
            SYNC_MAX_ATTEMPTS=str(config.max_attempts),
            SYNC_RETRY_BASE_SECONDS=str(config.retry_base),
            SYNC_RETRY_MAX_SECONDS=str(config.retry_max),
            SYNC_IN_DOUBT_GRACE_SECONDS=str(3.0 * config.http_timeout),
            SYNC_SWEEP_SECONDS="1",
        )
        self._log = open(log_path, "ab")  # noqa: SIM115 (closed in stop())
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "sync_worker"],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: sentinel, pusher, workers
        )

    def alive(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, chars: int = 3000) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")[-chars:]

    def kill(self) -> None:
        """SIGKILL to the whole cluster: nothing gets to clean up."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self._log.close()

    def stop(self) -> None:
        if self._log.closed:
            return
        try:
            if self.alive():
                self.process.send_signal(signal.SIGTERM)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.process.wait(timeout=10)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
            self._log.close()


# --- the portal as the campaign sees it ------------------------------------------------------

TOPICS = [
    "renewal",
    "pricing",
    "SSO rollout",
    "security review",
    "Q&A on the API",
    "onboarding",
    "O'Brien's escalation",
    "roadmap",
    "budget <2027>",
    "procurement",
]
PHRASES = [
    "They will renew for two years",
    "Budget is approved",
    "Needs SSO before signing",
    "Asked for a 10% discount",
    "Legal wants the DPA",
    "Champion is leaving in June",
    "Wants a pilot with 5 seats",
    "Competitor & incumbent: Initrode",
    "Timeline slips to Q3",
    'CFO signs off "next week"',
]
MEETING_BASE = dt.datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
ACTIVITY_BASE = dt.datetime(2026, 10, 1, 9, 0, tzinfo=UTC)
BOOKING_BASE = dt.datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@dataclass
class HighlightModel:
    ext: str
    pk: int
    edits: int = 1
    deleted: bool = False


@dataclass
class MeetingModel:
    ext: str
    pk: int
    slot: dt.datetime
    processed: bool
    titles: int = 1
    highlights: dict[str, HighlightModel] = field(default_factory=dict)
    next_highlight: int = 1
    offsets: set[int] = field(default_factory=set)

    def live(self) -> list[HighlightModel]:
        return [h for h in self.highlights.values() if not h.deleted]


@dataclass
class ActivityModel:
    ext: str
    pk: int
    edits: int = 1


@dataclass
class BookingModel:
    ext: str
    pk: int
    # Scheduler events held back to be delivered late (out of order): (version, start).
    late: list[tuple[int, dt.datetime]] = field(default_factory=list)


@dataclass
class Report:
    seed: int
    config: CampaignConfig
    log: list[str]
    violations: dict[str, list[str]]
    totals: dict[str, Any]
    seconds: dict[str, float]
    forensics: str = ""

    @property
    def passed(self) -> bool:
        return not any(self.violations.values())

    def table(self) -> str:
        width = max(len(name) for name in self.violations)
        lines = [f"{'invariant'.ljust(width)} | violations | result", "-" * (width + 23)]
        for name, found in self.violations.items():
            result = "PASS" if not found else "FAIL"
            lines.append(f"{name.ljust(width)} | {len(found):>10} | {result}")
        return "\n".join(lines)

    def details(self, per_invariant: int = 8) -> str:
        lines = []
        for name, found in self.violations.items():
            for item in found[:per_invariant]:
                lines.append(f"  [{name}] {item}")
            if len(found) > per_invariant:
                lines.append(f"  [{name}] ... and {len(found) - per_invariant} more")
        return "\n".join(lines)

    def totals_text(self) -> str:
        return "\n".join(f"  {k}: {v}" for k, v in self.totals.items())

    def failure_message(self) -> str:
        return self.text()

    def text(self) -> str:
        """Everything about the run: the verdict, the invariants, the totals, the numbered
        operations (what to replay) and the history of the objects a violation names."""
        verdict = "kept every invariant" if self.passed else "broke invariants"
        return (
            f"Fault campaign seed {self.seed} {verdict} "
            f"(reproduce: CAMPAIGN_SEED={self.seed} CAMPAIGN_OPERATIONS={self.config.operations}"
            f"; mode {self.config.mode}, chaos {self.config.chaos_rate:.0%} of "
            f"{', '.join(self.config.kinds)}).\n"
            f"{self.table()}\n\nViolations:\n{self.details() or '  none'}\n\n"
            f"Totals:\n{self.totals_text()}\n\nOperations (seed {self.seed}):\n"
            + "\n".join(self.log)
            + (f"\n\nHistory of the objects involved:\n{self.forensics}" if self.forensics else "")
        )


class Campaign:
    def __init__(
        self,
        config: CampaignConfig,
        *,
        tenant: Tenant,
        org: OrgHandle,
        directory: OrgDirectory,
    ) -> None:
        self.config = config
        self.tenant = tenant
        self.org = org
        self.directory = directory
        self.rng = random.Random(config.seed)
        self.log: list[str] = []
        self.meetings: list[MeetingModel] = []
        self.activities: list[ActivityModel] = []
        self.bookings: list[BookingModel] = []
        self.inflight = InFlight()
        self.workers: list[Worker | None] = []
        self.worker_logs: list[Path] = []
        self.kills_done = 0
        self.resumes = 0
        self.forced_recoveries = 0
        self.seconds: dict[str, float] = {}
        # Records of the org no confirmed mapping owns (filled by the check).
        self.orphans: list[tuple[str, dict[str, Any]]] = []
        self._op_index = 0

    # --- the log -----------------------------------------------------------------------

    def note(self, text: str) -> None:
        line = f"#{self._op_index:04d} {text}" if text[:2] != "--" else f"      {text}"
        self.log.append(line)
        if self.config.verbose:
            print(line, flush=True)

    # --- running ---------------------------------------------------------------------

    def run(self) -> Report:
        from django_q.conf import Conf

        previous_sync = Conf.SYNC
        # Global randomness (the backoff's jitter) follows the seed too.
        random.seed(self.config.seed)
        self.inflight.install()
        started = time.monotonic()
        try:
            if self.config.mode == "workers":
                Conf.SYNC = False
                self._broker_purge()
                for index in range(self.config.clusters):
                    self._worker_start(index)
            else:
                Conf.SYNC = True
            self.org.faults.chaos(
                self.config.chaos_rate,
                self.config.seed,
                kinds=self.config.kinds,
                slow_ms=self.config.slow_ms,
            )
            self.note(
                f"-- chaos on: rate {self.config.chaos_rate}, seed {self.config.seed}, kinds "
                f"{', '.join(self.config.kinds)}, slow {self.config.slow_ms} ms; HTTP timeout "
                f"{self.config.http_timeout} s; mode {self.config.mode}"
            )
            self._operations()
            self.seconds["operations"] = round(time.monotonic() - started, 1)
            self.org.faults.chaos_off()
            self._limit_restore(final=True)
            self.note("-- chaos off; draining")
            drain_started = time.monotonic()
            drained = self._drain()
            self.seconds["drain"] = round(time.monotonic() - drain_started, 1)
            if not drained:
                self.note("-- drain bound reached with jobs still open")
        finally:
            for worker in self.workers:
                if worker is not None:
                    worker.stop()
            if self.config.mode == "workers":
                self._broker_purge()
            Conf.SYNC = previous_sync
            self.inflight.uninstall()
            self.org.faults.chaos_off()
        check_started = time.monotonic()
        violations = invariants_check(self)
        self.seconds["check"] = round(time.monotonic() - check_started, 1)
        self.seconds["total"] = round(time.monotonic() - started, 1)
        return Report(
            self.config.seed,
            self.config,
            self.log,
            violations,
            self._totals(),
            self.seconds,
            forensics(self, violations),
        )

    def _operations(self) -> None:
        config = self.config
        n = config.operations
        limit_from, limit_to = (int(n * f) for f in config.limit_episode)
        kill_at = {int(n * (k + 1) / (config.kills + 1)) for k in range(config.kills)}
        started = time.monotonic()
        pace = config.op_seconds / n if config.mode == "workers" else 0.0
        for index in range(1, n + 1):
            self._op_index = index
            op_started = time.monotonic()
            if config.max_op_seconds and op_started - started > config.max_op_seconds:
                self.note(f"-- time cap: stopped after {index - 1} operations")
                config.operations = index - 1
                break
            if index == limit_from:
                self.org.exhaust_api_limit()
                self.note("-- the org's daily API limit is used up")
            if index == limit_to:
                self._limit_restore()
            if index in kill_at:
                self._kill()
            self._operation()
            if config.mode == "inline" and self.rng.random() < config.time_passes_rate:
                self.time_passes()
            if pace:
                time.sleep(max(0.0, pace - (time.monotonic() - op_started)))
        self._op_index = n + 1

    def _limit_restore(self, final: bool = False) -> None:
        with self.org.org.lock:
            exhausted = self.org.org.api_calls >= self.org.org.api_max
        if not exhausted and final:
            return
        self.org.set_api_limit(self.org.api_calls + 50_000_000)
        resumed = integration_service("sync_tenant_resume")(tenant=self.tenant)
        self.resumes += 1
        self.note(f"-- API limit restored; ops resume syncing ({resumed} jobs waited for it)")

    # --- time and workers -----------------------------------------------------------------

    def time_passes(self) -> None:
        """Requests still being served land, every waiting retry comes due, the
        sweeper runs (inline: the jobs it dispatches run here and now)."""
        self.inflight.wait_idle(self.config.slow_ms / 1000 + 5)
        SyncJob.objects.filter(tenant=self.tenant, state=SyncJob.State.PENDING).update(
            next_attempt_at=timezone.now() - dt.timedelta(seconds=1)
        )
        self.note("-- time passes (retries due, sweeper runs)")
        sync_jobs_sweep()

    def _broker_purge(self) -> None:
        from django_q.brokers import get_broker

        get_broker().purge_queue()

    def _worker_start(self, index: int) -> None:
        log_dir = self.config.log_dir or Path(settings.BASE_DIR) / "build"
        log_dir.mkdir(parents=True, exist_ok=True)
        path = log_dir / f"campaign-{self.config.seed}-cluster{index}.log"
        if index >= len(self.workers):
            self.workers.append(None)
            self.worker_logs.append(path)
            path.write_bytes(b"")
        self.workers[index] = Worker(path, self.config)

    def _kill(self) -> None:
        if self.config.mode != "workers" or not self.workers:
            return
        index = self.kills_done % len(self.workers)
        worker = self.workers[index]
        assert worker is not None
        # Mid-sync if it can be: wait a moment for a job to be running (any cluster's).
        deadline = time.monotonic() + 3.0
        running = 0
        while time.monotonic() < deadline:
            running = SyncJob.objects.filter(
                tenant=self.tenant, state=SyncJob.State.RUNNING
            ).count()
            if running:
                break
            time.sleep(0.01)
        worker.kill()
        self.kills_done += 1
        self.note(f"-- SIGKILL to cluster {index} ({running} jobs running)")
        if len(self.workers) == 1 and self.config.force_lease_expiry:
            self._leases_expire()
        self._worker_start(index)
        self.note(f"-- cluster {index} started again")

    def _leases_expire(self) -> None:
        """No cluster is alive: its requests land, then the sweeper runs as it would
        once the leases had passed."""
        self.inflight.wait_idle(self.config.slow_ms / 1000 + 5)
        latest = SyncJob.objects.filter(state=SyncJob.State.RUNNING).aggregate(
            latest=Max("lease_expires_at")
        )["latest"]
        if latest is None:
            return
        swept = sync_jobs_sweep(now=latest + dt.timedelta(seconds=1))
        self.forced_recoveries += swept["recovered"]
        self.note(f"-- leases passed: sweeper recovered {swept['recovered']} jobs")

    def _open_jobs(self) -> int:
        return SyncJob.objects.filter(tenant=self.tenant, state__in=SyncJob.OPEN_STATES).count()

    def _drain(self) -> bool:
        """Make everything due and sweep until no job is open, or the bound is hit."""
        deadline = time.monotonic() + self.config.drain_seconds
        quiet = 0
        while time.monotonic() < deadline:
            self._pause_lift_if_needed()
            if self.config.mode == "inline":
                self.time_passes()
                if not self._open_jobs():
                    return True
                continue
            SyncJob.objects.filter(
                tenant=self.tenant,
                state=SyncJob.State.PENDING,
                next_attempt_at__gt=timezone.now(),
            ).exclude(waiting_for=SyncJob.Wait.CONNECTION).update(next_attempt_at=timezone.now())
            sync_jobs_sweep()
            for index, worker in enumerate(self.workers):
                if worker is not None and not worker.alive():
                    self.note(f"-- cluster {index} had exited; started again")
                    self._worker_start(index)
            if self._stuck_running() and len(self.workers) == 1 and self.config.force_lease_expiry:
                self.note("-- a job runs with no worker behind it (task timeout): restart")
                worker = self.workers[0]
                assert worker is not None
                worker.kill()
                self._leases_expire()
                self._worker_start(0)
            if not self._open_jobs():
                quiet += 1
                if quiet >= 2:
                    return True
            else:
                quiet = 0
            time.sleep(1.0)
        return not self._open_jobs()

    def _stuck_running(self) -> bool:
        """A running job whose lease nobody extended for twice the task timeout: its
        worker is gone (django-q2 kills a task past its timeout)."""
        lease = self.config.q_timeout + 30
        limit = timezone.now() + dt.timedelta(seconds=lease - 2 * self.config.q_timeout)
        return SyncJob.objects.filter(
            tenant=self.tenant, state=SyncJob.State.RUNNING, lease_expires_at__lt=limit
        ).exists()

    def _pause_lift_if_needed(self) -> None:
        """A batch that met the limit before it was restored may pause the tenant after
        ops resumed it: ops resume it again."""
        paused = SalesforceConnection.objects.filter(
            tenant=self.tenant, paused_until__gt=timezone.now()
        ).exists()
        if paused:
            count = integration_service("sync_tenant_resume")(tenant=self.tenant)
            self.resumes += 1
            self.note(f"-- the tenant was paused again; ops resume it ({count} jobs)")

    # --- operations ---------------------------------------------------------------------

    def _operation(self) -> None:
        rng = self.rng
        choices: list[tuple[int, Callable[[], None]]] = [(12, self.meeting_create)]
        if self.meetings:
            unprocessed = [m for m in self.meetings if not m.processed]
            with_live = [m for m in self.meetings if m.live()]
            with_deleted = [
                m for m in self.meetings if any(h.deleted for h in m.highlights.values())
            ]
            choices += [(10, self.highlight_add), (6, self.title_change), (3, self.meeting_retime)]
            if unprocessed:
                choices.append((4, self.meeting_process))
            if with_live:
                choices += [
                    (12, self.highlight_edit),
                    (6, self.highlight_delete),
                    (4, self.highlights_replace),
                ]
            if with_deleted:
                choices.append((2, self.highlight_restore))
        choices.append((9, self.activity_log))
        if self.activities:
            choices += [
                (8, self.activity_notes),
                (4, self.participant_rename),
                (3, self.participant_add),
            ]
        choices.append((7, self.booking_create))
        if self.bookings:
            choices += [
                (6, self.booking_reschedule),
                (3, self.booking_cancel),
                (3, self.booking_repeat),
                (2, self.booking_out_of_order),
            ]
            if any(b.late for b in self.bookings):
                choices.append((3, self.booking_late_event))
        total = sum(w for w, _ in choices)
        pick = rng.uniform(0, total)
        for weight, operation in choices:
            pick -= weight
            if pick <= 0:
                operation()
                return
        choices[-1][1]()

    def _text(self, what: str) -> str:
        return f"{what}: {self.rng.choice(PHRASES)}"

    def _meeting(self, model: MeetingModel) -> Meeting:
        return Meeting.objects.get(pk=model.pk)

    def _attendees(self) -> tuple[list[str], str]:
        rng = self.rng
        internal = rng.sample(INTERNAL, rng.choice([1, 1, 2]))
        roll = rng.random()
        if roll < 0.68:
            name = rng.choice(sorted(ACCOUNTS))
            domain, people = ACCOUNTS[name]
            external = [f"{p}@{domain}" for p in rng.sample(people, rng.randint(1, len(people)))]
            kind = f"account {name}"
            if rng.random() < 0.2:
                external.append(rng.choice(UNKNOWN))
        elif roll < 0.78:
            external, kind = [rng.choice(LEADS)], "lead"
        elif roll < 0.86:
            a, b = rng.sample(sorted(ACCOUNTS), 2)
            external = [
                f"{ACCOUNTS[a][1][0]}@{ACCOUNTS[a][0]}",
                f"{ACCOUNTS[b][1][0]}@{ACCOUNTS[b][0]}",
            ]
            kind = "two accounts"
        elif roll < 0.93:
            external, kind = [rng.choice(UNKNOWN)], "nobody known"
        else:
            external, kind = [rng.choice(LONE_CONTACTS)], "lone contact"
        return internal + external, kind

    def meeting_create(self) -> None:
        rng = self.rng
        index = len(self.meetings) + 1
        ext = f"m-{index:03d}"
        slot = MEETING_BASE + dt.timedelta(hours=2 * index)
        title = f"{ext} {rng.choice(TOPICS)}"
        emails, kind = self._attendees()
        count = rng.choice([1, 1, 2, 2, 3, 3, 4])
        processed = rng.random() < 0.88
        meeting, _ = meeting_services.meeting_upsert(
            tenant=self.tenant,
            external_id=ext,
            title=title,
            start=slot,
            end=slot + dt.timedelta(minutes=45),
            status=Meeting.Status.RECORDING,
            attendees=[PersonInput(email=e, name=e.split("@")[0].title()) for e in emails],
        )
        model = MeetingModel(ext, meeting.pk, slot, False)
        self.meetings.append(model)
        texts = []
        for _ in range(count):
            texts.append(self._highlight_new(model))
        if processed:
            meeting_services.meeting_mark_processed(meeting=meeting)
            model.processed = True
        self.note(
            f"meeting {ext} '{title}' ({kind}: {', '.join(emails)}) with highlights "
            f"{'; '.join(texts)}{', processed' if processed else ', not processed yet'}"
        )

    def _highlight_new(self, model: MeetingModel) -> str:
        ext = f"h{model.next_highlight}"
        model.next_highlight += 1
        offset = self._offset(model)
        text = self._text(f"{model.ext}.{ext} v1")
        highlight, _ = meeting_services.highlight_upsert(
            meeting=self._meeting(model),
            external_id=ext,
            text=text,
            offset_seconds=Decimal(offset),
        )
        model.highlights[ext] = HighlightModel(ext, highlight.pk)
        return f"{ext}@{offset}s '{text}'"

    def _offset(self, model: MeetingModel) -> int:
        while True:
            offset = self.rng.randrange(0, 3600)
            if offset not in model.offsets:
                model.offsets.add(offset)
                return offset

    def _pick_meeting(self, candidates: list[MeetingModel] | None = None) -> MeetingModel:
        return self.rng.choice(candidates if candidates is not None else self.meetings)

    def meeting_process(self) -> None:
        model = self._pick_meeting([m for m in self.meetings if not m.processed])
        meeting_services.meeting_mark_processed(meeting=self._meeting(model))
        model.processed = True
        self.note(f"meeting {model.ext}: processed")

    def highlight_add(self) -> None:
        model = self._pick_meeting()
        self.note(f"meeting {model.ext}: add highlight {self._highlight_new(model)}")

    def highlight_edit(self) -> None:
        model = self._pick_meeting([m for m in self.meetings if m.live()])
        item = self.rng.choice(model.live())
        item.edits += 1
        text = self._text(f"{model.ext}.{item.ext} v{item.edits}")
        changes: dict[str, Any] = {"text": text}
        if self.rng.random() < 0.25:
            changes["offset_seconds"] = Decimal(self._offset(model))
        meeting_services.highlight_update(highlight=Highlight.objects.get(pk=item.pk), **changes)
        moved = f" at {changes['offset_seconds']}s" if "offset_seconds" in changes else ""
        self.note(f"meeting {model.ext}: edit {item.ext} -> '{text}'{moved}")

    def highlight_delete(self) -> None:
        model = self._pick_meeting([m for m in self.meetings if m.live()])
        item = self.rng.choice(model.live())
        meeting_services.highlight_delete(highlight=Highlight.objects.get(pk=item.pk))
        item.deleted = True
        self.note(f"meeting {model.ext}: delete {item.ext}")

    def highlights_replace(self) -> None:
        model = self._pick_meeting([m for m in self.meetings if m.live()])
        gone = [h.ext for h in model.live()]
        for item in model.live():
            meeting_services.highlight_delete(highlight=Highlight.objects.get(pk=item.pk))
            item.deleted = True
        added = self._highlight_new(model)
        self.note(
            f"meeting {model.ext}: delete all highlights ({', '.join(gone)}), then add {added}"
        )

    def highlight_restore(self) -> None:
        model = self._pick_meeting(
            [m for m in self.meetings if any(h.deleted for h in m.highlights.values())]
        )
        item = self.rng.choice([h for h in model.highlights.values() if h.deleted])
        item.edits += 1
        text = self._text(f"{model.ext}.{item.ext} v{item.edits}")
        offset = self._offset(model)
        meeting_services.highlight_upsert(
            meeting=self._meeting(model),
            external_id=item.ext,
            text=text,
            offset_seconds=Decimal(offset),
        )
        item.deleted = False
        self.note(f"meeting {model.ext}: re-send deleted {item.ext} as '{text}' at {offset}s")

    def title_change(self) -> None:
        model = self._pick_meeting()
        model.titles += 1
        title = f"{model.ext} {self.rng.choice(TOPICS)} (rev {model.titles})"
        meeting_services.meeting_update(meeting=self._meeting(model), title=title)
        self.note(f"meeting {model.ext}: title -> '{title}'")

    def meeting_retime(self) -> None:
        model = self._pick_meeting()
        start = model.slot + dt.timedelta(minutes=self.rng.choice([0, 15, 30, 45]))
        meeting = self._meeting(model)
        meeting_services.meeting_update(
            meeting=meeting,
            start=start,
            end=start + dt.timedelta(minutes=self.rng.choice([30, 45, 60])),
        )
        self.note(f"meeting {model.ext}: moved to {start:%Y-%m-%d %H:%M}")

    # activities

    def _external_participant(self, exclude: set[str]) -> PersonInput:
        rng = self.rng
        roll = rng.random()
        if roll < 0.06:
            return PersonInput(phone=f"+1555{rng.randrange(10**6, 10**7)}", name="Phone Only")
        if roll < 0.12:
            pool = UNKNOWN
        elif roll < 0.15:
            pool = [TWICE]
        elif roll < 0.45:
            pool = LEADS
        else:
            pool = [*self.directory.account_contacts, *LONE_CONTACTS]
        options = [e for e in pool if e not in exclude] or [
            e for e in [*self.directory.account_contacts, *LEADS] if e not in exclude
        ]
        email = rng.choice(options)
        return PersonInput(email=email, name=email.split("@")[0].replace(".", " ").title())

    def activity_log(self) -> None:
        rng = self.rng
        index = len(self.activities) + 1
        ext = f"a-{index:03d}"
        kind = rng.choice(["call", "call", "conference", "task"])
        direction = rng.choice(["inbound", "outbound"]) if kind == "call" else ""
        logger = rng.choice([*USERS, NO_USER])
        people: list[PersonInput] = []
        if rng.random() < 0.6:
            people.append(PersonInput(email=logger, name=logger.split("@")[0].title()))
        seen = {p.email for p in people}
        for _ in range({"call": 1, "task": 1, "conference": rng.randint(2, 3)}[kind]):
            person = self._external_participant(seen)
            seen.add(person.email)
            people.append(person)
        subject = f"{ext} {rng.choice(TOPICS)}"
        notes = self._text(f"{ext} notes v1")
        activity, _ = meeting_services.activity_upsert(
            tenant=self.tenant,
            external_id=ext,
            kind=kind,
            direction=direction,
            started_at=ACTIVITY_BASE + dt.timedelta(days=index, minutes=rng.randrange(0, 480)),
            duration_seconds=rng.randrange(30, 3600),
            subject=subject,
            notes=notes,
            logged_by_email=logger,
            logged_by_name=logger.split("@")[0].title(),
            participants=people,
        )
        self.activities.append(ActivityModel(ext, activity.pk))
        who = ", ".join(p.email or p.phone for p in people)
        self.note(f"activity {ext}: {kind} {direction} by {logger} with {who}; notes '{notes}'")

    def _activity(self) -> tuple[ActivityModel, Activity]:
        model = self.rng.choice(self.activities)
        return model, Activity.objects.get(pk=model.pk)

    def activity_notes(self) -> None:
        model, activity = self._activity()
        model.edits += 1
        notes = self._text(f"{model.ext} notes v{model.edits}")
        meeting_services.activity_update(activity=activity, notes=notes)
        self.note(f"activity {model.ext}: notes -> '{notes}'")

    def _people(self, activity: Activity) -> list[PersonInput]:
        return [
            PersonInput(email=p.email, phone=p.phone, name=p.name)
            for p in activity.participants.order_by("id")
        ]

    def participant_rename(self) -> None:
        model, activity = self._activity()
        people = self._people(activity)
        index = self.rng.randrange(len(people))
        person = people[index]
        role = self.rng.choice(["VP Sales", "CTO", "buyer", "intern"])
        name = f"{person.name.split(' (')[0]} ({role})"
        people[index] = PersonInput(email=person.email, phone=person.phone, name=name)
        meeting_services.activity_update(activity=activity, participants=people)
        self.note(
            f"activity {model.ext}: participant {person.email or person.phone} named '{name}'"
        )

    def participant_add(self) -> None:
        model, activity = self._activity()
        people = self._people(activity)
        if activity.kind == Activity.Kind.CALL and len(people) >= 3:
            self.note(f"activity {model.ext}: no participant added (call is full)")
            return
        person = self._external_participant({p.email for p in people if p.email})
        if any(p.email == person.email and person.email for p in people):
            self.note(f"activity {model.ext}: no participant added ({person.email} is in)")
            return
        meeting_services.activity_update(activity=activity, participants=[*people, person])
        self.note(f"activity {model.ext}: add participant {person.email or person.phone}")

    # bookings

    def booking_create(self) -> None:
        rng = self.rng
        index = len(self.bookings) + 1
        ext = f"b-{index:03d}"
        host = NO_USER if rng.random() < 0.08 else rng.choice(USERS)
        roll = rng.random()
        if roll < 0.08:
            guest = rng.choice(UNKNOWN)
        elif roll < 0.12:
            guest = TWICE
        elif roll < 0.42:
            guest = rng.choice(LEADS)
        else:
            guest = rng.choice([*self.directory.account_contacts, *LONE_CONTACTS])
        title = f"{ext} {rng.choice(TOPICS)}"
        start = BOOKING_BASE + dt.timedelta(days=index, hours=rng.randrange(0, 8))
        result = scheduler_services.booking_upsert(
            tenant=self.tenant,
            external_id=ext,
            version=1,
            host_email=host,
            guest_email=guest,
            guest_name=guest.split("@")[0].replace(".", " ").title(),
            title=title,
            description=self._text(f"{ext} agenda"),
            start=start,
            end=start + dt.timedelta(minutes=30),
        )
        self.bookings.append(BookingModel(ext, result.booking.pk))
        self.note(f"booking {ext} v1: host {host}, guest {guest}, {start:%Y-%m-%d %H:%M}")

    def _booking(self) -> tuple[BookingModel, Booking]:
        model = self.rng.choice(self.bookings)
        return model, Booking.objects.get(pk=model.pk)

    def _new_start(self, booking: Booking) -> dt.datetime:
        day = booking.start.replace(hour=9, minute=0) + dt.timedelta(days=self.rng.randint(-3, 5))
        return day + dt.timedelta(hours=self.rng.randrange(0, 8), minutes=self.rng.choice([0, 30]))

    def booking_reschedule(self) -> None:
        model, booking = self._booking()
        version = booking.version + 1
        start = self._new_start(booking)
        result = scheduler_services.booking_reschedule(
            booking=booking, version=version, start=start, end=start + dt.timedelta(minutes=30)
        )
        self.note(
            f"booking {model.ext}: reschedule v{version} -> {start:%Y-%m-%d %H:%M} "
            f"({result.outcome.value})"
        )

    def booking_cancel(self) -> None:
        model, booking = self._booking()
        version = booking.version + 1
        result = scheduler_services.booking_cancel(booking=booking, version=version)
        self.note(f"booking {model.ext}: cancel v{version} ({result.outcome.value})")

    def booking_repeat(self) -> None:
        """A scheduler event delivered again, or an older one: ignored."""
        model, booking = self._booking()
        version = booking.version - self.rng.choice([0, 0, 1])
        start = self._new_start(booking)
        if version < 1:
            version = booking.version
        if self.rng.random() < 0.5:
            result = scheduler_services.booking_reschedule(
                booking=booking, version=version, start=start, end=start + dt.timedelta(minutes=30)
            )
            what = f"reschedule v{version} -> {start:%Y-%m-%d %H:%M}"
        else:
            result = scheduler_services.booking_cancel(booking=booking, version=version)
            what = f"cancel v{version}"
        self.note(f"booking {model.ext}: repeated/old {what} ({result.outcome.value})")

    def booking_out_of_order(self) -> None:
        """v+2 arrives now; v+1 is held back and arrives later (ignored then)."""
        model, booking = self._booking()
        late_start, start = self._new_start(booking), self._new_start(booking)
        model.late.append((booking.version + 1, late_start))
        result = scheduler_services.booking_reschedule(
            booking=booking,
            version=booking.version + 2,
            start=start,
            end=start + dt.timedelta(minutes=30),
        )
        self.note(
            f"booking {model.ext}: reschedule v{booking.version + 2} -> "
            f"{start:%Y-%m-%d %H:%M} ({result.outcome.value}); v{booking.version + 1} "
            f"-> {late_start:%Y-%m-%d %H:%M} held back"
        )

    def booking_late_event(self) -> None:
        model = self.rng.choice([b for b in self.bookings if b.late])
        version, start = model.late.pop(0)
        booking = Booking.objects.get(pk=model.pk)
        result = scheduler_services.booking_reschedule(
            booking=booking, version=version, start=start, end=start + dt.timedelta(minutes=30)
        )
        self.note(
            f"booking {model.ext}: late reschedule v{version} -> {start:%Y-%m-%d %H:%M} "
            f"({result.outcome.value})"
        )

    # --- totals ------------------------------------------------------------------------------

    def _totals(self) -> dict[str, Any]:
        jobs = Counter(SyncJob.objects.filter(tenant=self.tenant).values_list("state", flat=True))
        attempts = SyncAttempt.objects.filter(job__tenant=self.tenant)
        codes = Counter(
            attempts.exclude(salesforce_error_code="").values_list(
                "salesforce_error_code", flat=True
            )
        )
        log = self.org.request_log
        stats = self.org.faults.chaos_stats()
        return {
            "operations": self.config.operations,
            "meetings / activities / bookings": (
                f"{len(self.meetings)} / {len(self.activities)} / {len(self.bookings)}"
            ),
            "jobs by state": dict(sorted(jobs.items())),
            "attempts": attempts.count(),
            "attempt error codes": dict(codes.most_common()),
            "REST requests to the org": len(log),
            "API calls counted by the org": sum(e.api_calls for e in log),
            "API calls recorded by attempts": attempts.aggregate(n=Sum("api_calls"))["n"] or 0,
            "faults injected (chaos_stats)": stats,
            "faults injected": sum(v for k, v in stats.items() if k != "requests"),
            "SIGKILLs": self.kills_done,
            "attempts ended by a lost worker (lease expired)": attempts.filter(
                message__contains="lease expired"
            ).count(),
            "jobs recovered by forcing lease expiry": self.forced_recoveries,
            "resumes by ops": self.resumes,
            "records in the org": {
                s: len(self.org.records(s))
                for s in ("ContentNote", "ContentDocumentLink", "Event", "EventRelation", "Task")
            },
            "seconds": self.seconds,
        }


# --- invariants ---------------------------------------------------------------------------

INVARIANTS = (
    "one Note per meeting",
    "one Event per meeting",
    "one Task per activity participant",
    "one Task per booking",
    "every portal record owned by one confirmed mapping",
    "every confirmed mapping's record exists",
    "meeting Note holds exactly the live highlights",
    "meeting Event shows the current title and time",
    "booking Task shows the current version",
    "activity Tasks show the current activity",
    "no job pending or running",
    "no mapping left sent or deleting",
    "no job failed (faults are retried)",
)
NOTE_LINE = re.compile(
    r'<p>\[(?P<at>[0-9:]+)\] (?P<text>.*?)(?: <a href="[^"]*">Listen to the audio</a>)?</p>'
)
LISTEN = re.compile(r"/listen/([^/?\"]+)/\?t=")
TAG = re.compile(r"\b([ab]-\d{3,})\b")


def _instant(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    text = value.replace("Z", "+00:00")
    text = re.sub(r"\.\d+", "", text)
    text = re.sub(r"([+-]\d\d)(\d\d)$", r"\1:\2", text)
    return dt.datetime.fromisoformat(text)


def meeting_target(directory: OrgDirectory, emails: list[str]) -> tuple[str, str] | str | None:
    """Where auto-sync must link a meeting (SPEC 3.2, match order Account, Opportunity,
    Lead, Contact): (object, Id); "review" when the first level that matches has several
    records; None when nothing matches."""
    external = sorted({e for e in emails if not e.endswith(f"@{INTERNAL_DOMAIN}")})
    contacts = [directory.contacts[e] for e in external if e in directory.contacts]
    accounts = sorted({account for _, account in contacts if account})
    leads = sorted({directory.leads[e] for e in external if e in directory.leads})
    levels = [
        ("Account", accounts),
        ("Opportunity", []),
        ("Lead", leads),
        ("Contact", sorted({c for c, _ in contacts})),
    ]
    for sobject, found in levels:
        if len(found) == 1:
            return sobject, found[0]
        if len(found) > 1:
            return "review"
    return None


def invariants_check(campaign: Campaign) -> dict[str, list[str]]:
    close_old_connections()
    org, tenant = campaign.org, campaign.tenant
    found: dict[str, list[str]] = {name: [] for name in INVARIANTS}
    notes = org.records("ContentNote")
    links = org.records("ContentDocumentLink")
    events = org.records("Event")
    relations = org.records("EventRelation")
    tasks = org.records("Task")
    content = {n["Id"]: (org.note_content(n["Id"]) or b"").decode() for n in notes}
    mappings = list(SyncMapping.objects.filter(tenant=tenant))
    confirmed: dict[str, list[SyncMapping]] = defaultdict(list)
    for row in mappings:
        if row.state == SyncMapping.State.CONFIRMED and row.salesforce_id:
            confirmed[row.salesforce_id].append(row)

    # -- ownership: every record the portal made is one confirmed mapping's record
    events_by_id = {e["Id"]: e for e in events}
    owned_by = {
        "ContentNote": {Purpose.MEETING_NOTE, Purpose.HIGHLIGHT_NOTE},
        "Event": {Purpose.MEETING_EVENT},
        "Task": {Purpose.ACTIVITY_TASK, Purpose.BOOKING_TASK},
        "ContentDocumentLink": {Purpose.MEETING_NOTE_LINK, Purpose.HIGHLIGHT_NOTE_LINK},
        "EventRelation": {Purpose.EVENT_RELATION},
    }
    note_ids = {n["Id"] for n in notes}
    records = {
        "ContentNote": notes,
        "Event": events,
        "Task": tasks,
        "ContentDocumentLink": links,
        "EventRelation": relations,
    }
    for sobject, rows in records.items():
        for record in rows:
            if sobject == "ContentDocumentLink" and record["ContentDocumentId"] not in note_ids:
                continue
            if sobject == "EventRelation":
                event = events_by_id.get(record["EventId"], {})
                if record["RelationId"] in (event.get("WhoId"), event.get("WhatId")):
                    continue  # made by Salesforce itself for the Event's Who and What
            owners = [m for m in confirmed.get(record["Id"], []) if m.purpose in owned_by[sobject]]
            if len(owners) != 1:
                campaign.orphans.append((sobject, record))
                found["every portal record owned by one confirmed mapping"].append(
                    f"{sobject} {record['Id']} ({_describe(record, content)}) has "
                    f"{len(owners)} confirmed mappings" + _mapping_history(mappings, record["Id"])
                )
    live_ids = {r["Id"] for rows in records.values() for r in rows}
    for row in mappings:
        if (
            row.state == SyncMapping.State.CONFIRMED
            and row.salesforce_object in records
            and row.salesforce_id not in live_ids
        ):
            found["every confirmed mapping's record exists"].append(
                f"mapping {row.pk} ({row.purpose} of object {row.object_id}) -> "
                f"{row.salesforce_object} {row.salesforce_id} is not in the org"
            )

    _meetings_check(campaign, found, notes, links, events, relations, content)
    _bookings_check(campaign, found, tasks)
    _activities_check(campaign, found, tasks)

    # -- jobs and mappings
    for job in SyncJob.objects.filter(tenant=tenant, state__in=SyncJob.OPEN_STATES):
        found["no job pending or running"].append(
            f"job {job.pk} {job.operation} of {job.object_id} is {job.state} "
            f"(waiting for {job.waiting_for or '-'}): {job.reason[:200]}"
        )
    for row in mappings:
        if row.state in SyncMapping.IN_DOUBT:
            found["no mapping left sent or deleting"].append(
                f"mapping {row.pk} ({row.purpose} of object {row.object_id}) is {row.state}"
            )
    for job in SyncJob.objects.filter(tenant=tenant, state=SyncJob.State.FAILED):
        last = job.attempts.order_by("-id").first()
        code = last.salesforce_error_code if last else ""
        kind = "an injected fault" if code in INJECTED_CODES or not code else "a refusal"
        found["no job failed (faults are retried)"].append(
            f"job {job.pk} {job.operation} of {job.object_id} failed on {kind} "
            f"({code or 'no code'}): {job.reason[:300]}"
        )
    for job in SyncJob.objects.filter(tenant=tenant, state=SyncJob.State.SKIPPED, reason=""):
        found["no job failed (faults are retried)"].append(
            f"job {job.pk} {job.operation} was skipped without saying which rule"
        )
    return found


def _describe(record: dict[str, Any], content: dict[str, str]) -> str:
    if record["Id"] in content:
        listen = LISTEN.search(content[record["Id"]])
        return f"note of {listen.group(1) if listen else '?'} titled {record.get('Title')!r}"
    if "Subject" in record:
        return f"{record.get('Subject')!r}, who {record.get('WhoId')}"
    return ", ".join(
        f"{k}={record.get(k)}"
        for k in ("ContentDocumentId", "LinkedEntityId", "EventId", "RelationId")
        if k in record
    )


def _mapping_history(mappings: list[SyncMapping], record_id: str) -> str:
    rows = [m for m in mappings if m.salesforce_id == record_id]
    if not rows:
        return " (no mapping names it)"
    return " (" + "; ".join(f"mapping {m.pk} {m.purpose} {m.state}" for m in rows) + ")"


def _meetings_check(
    campaign: Campaign,
    found: dict[str, list[str]],
    notes: list[dict[str, Any]],
    links: list[dict[str, Any]],
    events: list[dict[str, Any]],
    relations: list[dict[str, Any]],
    content: dict[str, str],
) -> None:
    directory = campaign.directory
    notes_of: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for note in notes:
        listen = LISTEN.search(content[note["Id"]])
        notes_of[listen.group(1) if listen else "?"].append(note)
    meetings = {
        m.external_id: m
        for m in Meeting.objects.filter(tenant=campaign.tenant).prefetch_related(
            "attendees", "highlights"
        )
    }
    slot_of = {MEETING_BASE + dt.timedelta(hours=2 * int(ext[2:])): ext for ext in meetings}
    events_of: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for event in events:
        start = _instant(event.get("StartDateTime"))
        slot = start.replace(minute=0) if start else None
        events_of[slot_of.get(slot, "?") if slot else "?"].append(event)
    for ext, group in notes_of.items():
        if len(group) > 1:
            found["one Note per meeting"].append(
                f"{ext} has {len(group)} Notes: {', '.join(n['Id'] for n in group)}"
            )
    for ext, group in events_of.items():
        if len(group) > 1:
            found["one Event per meeting"].append(
                f"{ext} has {len(group)} Events: "
                + ", ".join(f"{e['Id']} {e.get('Subject')!r}" for e in group)
            )
    links_of: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for link in links:
        links_of[link["ContentDocumentId"]].append(link)
    relations_of: dict[str, list[str]] = defaultdict(list)
    for relation in relations:
        relations_of[relation["EventId"]].append(relation["RelationId"])

    for ext, meeting in sorted(meetings.items()):
        emails = [a.email for a in meeting.attendees.all()]
        target = meeting_target(directory, emails) if meeting.status == "processed" else None
        in_salesforce = isinstance(target, tuple)
        live = sorted(
            (h for h in meeting.highlights.all() if not h.is_deleted),
            key=lambda h: (h.offset_seconds, h.external_id),
        )
        gone = [h for h in meeting.highlights.all() if h.is_deleted]
        where = f"{ext} ({meeting.status}, target {target})"
        # The Note
        group = notes_of.get(ext, [])
        if not (in_salesforce and live):
            for note in group:
                found["meeting Note holds exactly the live highlights"].append(
                    f"{where}: Note {note['Id']} exists though none is wanted "
                    f"({len(live)} live highlights)"
                )
        elif not group:
            found["meeting Note holds exactly the live highlights"].append(
                f"{where}: no Note although {len(live)} live highlights: "
                + "; ".join(h.text for h in live)
            )
        else:
            assert isinstance(target, tuple)
            for note in group:
                body = content[note["Id"]]
                have = [
                    (m.group("at"), html.unescape(m.group("text")))
                    for m in NOTE_LINE.finditer(body)
                ]
                want = [(payloads.offset_label(h.offset_seconds), h.text) for h in live]
                problems = []
                if have != want:
                    problems.append(f"holds {have} instead of {want}")
                stale = [h.text for h in gone if h.text in html.unescape(body)]
                if stale:
                    problems.append(f"still holds deleted {stale}")
                if f"<b>{html.escape(meeting.title)}</b>" not in body:
                    problems.append("does not name the current title")
                views = [
                    payloads.HighlightView(h.text, h.speaker, h.offset_seconds, h.external_id)
                    for h in live
                ]
                view = payloads.MeetingView(
                    meeting.external_id, meeting.title, meeting.start, meeting.end
                )
                title = payloads.note_title(view, views, classic=False)
                if note.get("Title") != title:
                    problems.append(f"is titled {note.get('Title')!r}, not {title!r}")
                linked = [link["LinkedEntityId"] for link in links_of.get(note["Id"], [])]
                if linked != [target[1]]:
                    problems.append(f"is linked to {linked}, not [{target[1]}]")
                if problems:
                    found["meeting Note holds exactly the live highlights"].append(
                        f"{where}: Note {note['Id']} " + "; ".join(problems)
                    )
        # The Event
        group = events_of.get(ext, [])
        if not in_salesforce:
            for event in group:
                found["meeting Event shows the current title and time"].append(
                    f"{where}: Event {event['Id']} exists though none is wanted"
                )
            continue
        assert isinstance(target, tuple)
        if not group:
            found["meeting Event shows the current title and time"].append(f"{where}: no Event")
            continue
        external = {e for e in emails if not e.endswith(f"@{INTERNAL_DOMAIN}")}
        contacts = {directory.contacts[e][0] for e in external if e in directory.contacts}
        for event in group:
            problems = []
            if event.get("Subject") != payloads.clip(meeting.title, payloads.SUBJECT_MAX):
                problems.append(f"Subject {event.get('Subject')!r} != {meeting.title!r}")
            if _instant(event.get("StartDateTime")) != meeting.start:
                problems.append(f"starts {event.get('StartDateTime')}, not {meeting.start}")
            if _instant(event.get("EndDateTime")) != meeting.end:
                problems.append(f"ends {event.get('EndDateTime')}, not {meeting.end}")
            if target[0] == "Account":
                if event.get("WhatId") != target[1]:
                    problems.append(f"WhatId {event.get('WhatId')} != {target[1]}")
                if event.get("WhoId") not in contacts:
                    problems.append(f"WhoId {event.get('WhoId')} is none of the attendees")
                related = relations_of.get(event["Id"], [])
                if len(related) != len(set(related)):
                    problems.append(f"relations doubled: {sorted(related)}")
                missing = contacts - set(related)
                if missing:
                    problems.append(f"attendees not related: {sorted(missing)}")
            elif event.get("WhoId") != target[1]:
                problems.append(f"WhoId {event.get('WhoId')} != {target[1]}")
            if problems:
                found["meeting Event shows the current title and time"].append(
                    f"{where}: Event {event['Id']} " + "; ".join(problems)
                )


def _bookings_check(
    campaign: Campaign, found: dict[str, list[str]], tasks: list[dict[str, Any]]
) -> None:
    directory = campaign.directory
    tasks_of: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for task in tasks:
        tag = TAG.search(task.get("Subject") or "")
        if tag and tag.group(1).startswith("b-"):
            tasks_of[tag.group(1)].append(task)
    for ext, group in tasks_of.items():
        if len(group) > 1:
            found["one Task per booking"].append(
                f"{ext} has {len(group)} Tasks: "
                + ", ".join(f"{t['Id']} {t.get('Subject')!r} {t.get('Status')}" for t in group)
            )
    for booking in Booking.objects.filter(tenant=campaign.tenant).order_by("external_id"):
        people = directory.people(booking.guest_email)
        logged = (
            booking.booked_by_guest and len(people) == 1 and booking.host_email in directory.users
        )
        cancelled = booking.status == Booking.Status.CANCELLED
        group = tasks_of.get(booking.external_id, [])
        where = (
            f"{booking.external_id} (v{booking.version} {booking.status}, "
            f"guest {booking.guest_email})"
        )
        rule = "booking Task shows the current version"
        if not logged:
            for task in group:
                found[rule].append(f"{where}: Task {task['Id']} exists though none is wanted")
            continue
        if not group:
            if not cancelled:
                found[rule].append(f"{where}: no Task")
            continue
        for task in group:
            problems = []
            prefix = "Cancelled" if cancelled else "Meeting"
            subject = payloads.clip(f"{prefix}: {booking.title}", payloads.SUBJECT_MAX)
            if task.get("Subject") != subject:
                problems.append(f"Subject {task.get('Subject')!r} != {subject!r}")
            if task.get("ActivityDate") != booking.start.date().isoformat():
                problems.append(
                    f"ActivityDate {task.get('ActivityDate')} != {booking.start.date()}"
                )
            status = "Completed" if cancelled else "Not Started"
            if task.get("Status") != status:
                problems.append(f"Status {task.get('Status')} != {status}")
            if cancelled and "Cancelled" not in (task.get("Description") or ""):
                problems.append("description does not say it was cancelled")
            if task.get("WhoId") != people[0][1]:
                problems.append(f"WhoId {task.get('WhoId')} != {people[0][1]}")
            if problems:
                found[rule].append(f"{where}: Task {task['Id']} " + "; ".join(problems))


def _activities_check(
    campaign: Campaign, found: dict[str, list[str]], tasks: list[dict[str, Any]]
) -> None:
    directory = campaign.directory
    tasks_of: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for task in tasks:
        tag = TAG.search(task.get("Subject") or "")
        if tag and tag.group(1).startswith("a-"):
            tasks_of[(tag.group(1), task.get("WhoId") or "")].append(task)
    for (ext, who), group in tasks_of.items():
        if len(group) > 1:
            found["one Task per activity participant"].append(
                f"{ext} has {len(group)} Tasks for {who}: " + ", ".join(t["Id"] for t in group)
            )
    rule = "activity Tasks show the current activity"
    for activity in Activity.objects.filter(tenant=campaign.tenant).prefetch_related(
        "participants"
    ):
        external = [
            p
            for p in activity.participants.all()
            if p.email and not p.email.endswith(f"@{INTERNAL_DOMAIN}")
        ]
        matches = {p.email: directory.people(p.email) for p in external}
        ambiguous = sorted(email for email, m in matches.items() if len(m) > 1)
        wanted = {m[0][1]: email for email, m in matches.items() if len(m) == 1}
        where = f"{activity.external_id} (v{activity.version})"
        have = {who: group for (ext, who), group in tasks_of.items() if ext == activity.external_id}
        for who in set(have) - set(wanted):
            found[rule].append(f"{where}: Task for {who} though none is wanted")
        if ambiguous:
            # A person must say who an address is before the activity is logged (again):
            # Tasks logged before that stay as they were; nothing more is expected.
            last = (
                SyncJob.objects.filter(
                    tenant=campaign.tenant, operation="activity.sync", object_id=activity.pk
                )
                .order_by("-id")
                .first()
            )
            if last is None or last.state != SyncJob.State.NEEDS_REVIEW:
                found[rule].append(
                    f"{where}: {', '.join(ambiguous)} match several records, yet its last job "
                    f"is {last.state if last else 'missing'}, not needs_review"
                )
            continue
        description = activity.notes
        if activity.logged_by_email not in directory.users:
            line = payloads.logged_by_line(activity.logged_by_name, activity.logged_by_email)
            description = f"{line}\n\n{description}" if description else line
        description = payloads.clip(description, payloads.DESCRIPTION_MAX)
        subject = payloads.activity_subject(activity.kind, activity.direction, activity.subject)
        for who, email in wanted.items():
            group = have.get(who, [])
            if not group:
                found[rule].append(f"{where}: no Task for {email}")
                continue
            for task in group:
                problems = []
                if task.get("Subject") != subject:
                    problems.append(f"Subject {task.get('Subject')!r} != {subject!r}")
                if (task.get("Description") or "") != description:
                    problems.append(f"Description {task.get('Description')!r} != {description!r}")
                if task.get("ActivityDate") != activity.started_at.date().isoformat():
                    problems.append(f"ActivityDate {task.get('ActivityDate')}")
                if task.get("Status") != "Completed":
                    problems.append(f"Status {task.get('Status')}")
                if problems:
                    found[rule].append(
                        f"{where}: Task {task['Id']} for {email} " + "; ".join(problems)
                    )


# --- one call for the test and the bench ------------------------------------------------------


def campaign_run(config: CampaignConfig, *, tenant: Tenant, org: OrgHandle) -> Report:
    """Seed the org, configure the tenant, run the campaign, check it."""
    directory = org_seed(org)
    tenant_configure(tenant)
    campaign = Campaign(config, tenant=tenant, org=org, directory=directory)
    return campaign.run()


def forensics(campaign: Campaign, violations: dict[str, list[str]], limit: int = 6) -> str:
    """For the local objects the violations name: their jobs, attempts and mappings."""
    from django.contrib.contenttypes.models import ContentType

    names = sorted(
        {tag for found in violations.values() for item in found for tag in OBJECT.findall(item)}
    )[:limit]
    lines: list[str] = []
    for ext in names:
        model: Any = {"m": Meeting, "a": Activity, "b": Booking}[ext[0]]
        local = model.objects.filter(tenant=campaign.tenant, external_id=ext).first()
        if local is None:
            continue
        key = f"{model.__name__.lower()}:{local.pk}"
        lines.append(f"{ext} ({key}):")
        for job in SyncJob.objects.filter(tenant=campaign.tenant, lock_key=key).order_by("id"):
            lines.append(
                f"  job {job.pk} {job.operation} of {job.object_id} -> {job.state}: "
                f"{job.reason[:160]}"
            )
            for attempt in job.attempts.order_by("id"):
                lines.append(
                    f"    {attempt.started_at:%H:%M:%S.%f} {attempt.outcome} "
                    f"{attempt.salesforce_error_code} {attempt.message[:140]}"
                )
        owners = Q(content_type=ContentType.objects.get_for_model(model), object_id=local.pk)
        children: list[tuple[Any, list[int]]] = []
        if model is Meeting:
            children = [
                (
                    Highlight,
                    list(Highlight.objects.filter(meeting=local).values_list("pk", flat=True)),
                ),
                (
                    Attendee,
                    list(Attendee.objects.filter(meeting=local).values_list("pk", flat=True)),
                ),
            ]
        elif model is Activity:
            children = [
                (ActivityParticipant, list(local.participants.values_list("pk", flat=True)))
            ]
        for child, ids in children:
            owners |= Q(content_type=ContentType.objects.get_for_model(child), object_id__in=ids)
        for row in SyncMapping.objects.filter(owners, tenant=campaign.tenant).order_by("id"):
            lines.append(
                f"  mapping {row.pk} {row.purpose} of {row.object_id}: {row.state} "
                f"{row.salesforce_object} {row.salesforce_id or '-'} v{row.pushed_version} "
                f"sent by job {row.sent_by_job_id} at "
                f"{row.sent_at and f'{row.sent_at:%H:%M:%S.%f}'}"
            )
    lines += _orphans_explained(campaign)
    return "\n".join(lines)


def _orphans_explained(campaign: Campaign, limit: int = 6) -> list[str]:
    """When each orphan was made, and the write requests the org was serving then (a
    duration past the HTTP timeout means the client had given up before it landed)."""
    if not campaign.orphans:
        return []
    log = campaign.org.request_log
    lines = ["Orphan records and the writes that made them:"]
    for sobject, record in campaign.orphans[:limit]:
        created = _instant(record.get("CreatedDate"))
        lines.append(
            f"  {sobject} {record['Id']} created {record.get('CreatedDate')} by "
            f"{record.get('CreatedById')}"
        )
        if created is None:
            continue
        for entry in log:
            started = dt.datetime.fromisoformat(entry.started_at)
            ended = started + dt.timedelta(milliseconds=entry.duration_ms)
            if entry.method == "GET" or not started <= created <= ended + dt.timedelta(seconds=1):
                continue
            lines.append(
                f"    {entry.method} {entry.path} started {started:%H:%M:%S.%f} took "
                f"{entry.duration_ms:.0f} ms, answered {entry.status}"
            )
    return lines


OBJECT = re.compile(r"\b([mab]-\d{3,})\b")
