"""The production stack under load (`make bench-stack`, not a test): the portal served
by gunicorn (2 workers, `gunicorn.conf.py`), PostgreSQL, Redis as the broker,
`manage.py sync_worker` clusters (django-q2 plus the sweeper) and the Salesforce
emulator in a process of its own, every REST request to it taking 50 ms more.

    .venv/bin/python bench/stack.py [--meetings 1000] [--quick] [--users 20]
                                    [--ingest-seconds 30] [--edit-samples 50]

DATABASE_URL (default postgres://postgres@127.0.0.1:5432/portal_bench_stack) names a
database this script drops, creates and migrates, and drops again at the end
(--keep-db keeps it); its name must contain "bench". REDIS_URL (default
redis://127.0.0.1:6379/13) is flushed at the start and at the end. The processes run
as in production (DJANGO_ENV=production, secrets made for the run, requests carry
X-Forwarded-Proto: https as a load balancer's do) and are stopped on exit, Ctrl-C or
error. What it measures, in order:

1. ingest: 20 partner clients (locust, no think time) upsert one highlight per request
   through the partner API with an API key, into 100 meetings not processed yet (the
   usual order: highlights arrive, then "processed"); no worker runs meanwhile.
   Requests/s and p50/p95/p99 of the successful requests. Then the same clients at 200
   requests/s together (`--ingest-rate`): the latency at that load; and one client
   alone, one request after another: a request's own time.
2. bulk ingest: the same through a bulk highlights endpoint, when the API schema has
   one ("n/a" otherwise; `bulk_ingest` and the locustfile's "bulk" scenario say what is
   sent). Then one client alone sends 500 highlights in one request, and edits them all
   in another: the time of each.
3. backlog drain, one cluster: N processed meetings (4 external attendees, all Contacts
   of one Account in the org; 5 highlights), created while no worker runs, so their jobs
   wait in Redis; then one cluster starts, and the clock runs from its start until no
   job of the tenant is pending or running. Meetings/s and Salesforce API calls per
   meeting (the emulator's count, through its control API).
4. backlog drain, two clusters: the same with a new tenant and org, two clusters.
5. edit latency: with the two clusters running, a highlight of a synced meeting is
   edited (PATCH through gunicorn), and the clock runs until the meeting's Note, read
   from the emulator's record page (no API call, no added latency), shows the new text.
6. trickle: with the two clusters running, processed meetings arrive one at a time
   (10 a second for 30 s): Salesforce API calls per meeting, and "processed" -> synced.
7. retry dispatch: the org answers 503 to the next few API requests (the emulator's
   control API), so some jobs fail once and back off; a cluster of its own, with a
   backoff of seconds, retries them. How long after its due time each retry starts
   (p50, p95, max; the goal is within 5 s).
8. memory: RSS of every process of each cluster (peak during its drain) and of
   gunicorn, and the clusters' PSS (shared pages counted once).

It prints one table and writes build/bench-stack.json; the processes' logs go to
build/bench-stack/. The load generator, PostgreSQL, Redis, the emulator and the portal
share this machine's cores: the figures are the stack's on this machine, not a
server's alone.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import ctypes
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.sync import (  # noqa: E402 (the repository's root is on the path first)
    INTERNAL_DOMAIN,
    Customer,
    customers_for,
    meetings_create,
)

BIN = Path(sys.executable).parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/portal_bench_stack"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/13"
LOG_DIR = ROOT / "build" / "bench-stack"
RESULTS_FILE = ROOT / "build" / "bench-stack.json"
LOCUSTFILE = ROOT / "bench" / "stack_locustfile.py"
INGEST_MEETINGS = 100
# What a load balancer adds: the portal in production redirects plain HTTP to HTTPS.
FORWARDED = {"X-Forwarded-Proto": "https"}
OPEN_STATES = ("pending", "running")


# --- processes ------------------------------------------------------------------------


def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM when this script dies, even by SIGKILL."""
    libc = ctypes.CDLL(None, use_errno=True)
    pr_set_pdeathsig = 1
    libc.prctl(pr_set_pdeathsig, signal.SIGTERM)


class Processes:
    """The stack's processes, each in a session (process group) of its own, so that
    stopping one stops its children (gunicorn's and the clusters' workers) too, and
    Ctrl-C at the terminal reaches this script only, which stops them in order."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.running: dict[str, subprocess.Popen[bytes]] = {}

    def start(
        self, name: str, argv: list[str], extra_env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        log = open(LOG_DIR / f"{name}.log", "ab")  # noqa: SIM115 (the child keeps it)
        process = subprocess.Popen(
            argv,
            cwd=ROOT,
            env={**self.env, **(extra_env or {})},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )
        log.close()
        self.running[name] = process
        return process

    def stop(self, name: str, grace: float = 15.0) -> None:
        """SIGTERM to the leader (gunicorn and django-q2 stop their workers in order),
        then SIGKILL to whatever of its group is left."""
        process = self.running.pop(name, None)
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=grace)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)

    def stop_all(self) -> None:
        for name in reversed(list(self.running)):
            self.stop(name)

    def alive(self, name: str) -> bool:
        process = self.running.get(name)
        return process is not None and process.poll() is None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def log_tail(name: str, lines: int = 15) -> str:
    path = LOG_DIR / f"{name}.log"
    if not path.exists():
        return "(no log)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


# --- memory ----------------------------------------------------------------------------


def _proc_tree(pid: int) -> list[int]:
    """The process and its descendants, from /proc (when psutil is not installed)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def _proc_kb(path: Path, key: str) -> int:
    for line in path.read_text().splitlines():
        if line.startswith(key):
            return int(line.split()[1])
    return 0


def memory_of_tree(pid: int) -> list[dict[str, Any]]:
    """RSS and PSS (MB) of a process and its descendants."""
    try:
        import psutil  # type: ignore[import-untyped]
    except ImportError:
        psutil = None
    rows: list[dict[str, Any]] = []
    if psutil is not None:
        try:
            root = psutil.Process(pid)
            procs = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []
        for proc in procs:
            try:
                info = proc.memory_full_info()
                name = " ".join(proc.cmdline()[1:3]) or proc.name()
                rows.append(
                    {
                        "pid": proc.pid,
                        "name": name[:60],
                        "rss_mb": info.rss / 2**20,
                        "pss_mb": getattr(info, "pss", info.rss) / 2**20,
                    }
                )
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
        return rows
    for child in _proc_tree(pid):
        base = Path("/proc") / str(child)
        try:
            rss = _proc_kb(base / "status", "VmRSS:")
            pss = (
                _proc_kb(base / "smaps_rollup", "Pss:") if (base / "smaps_rollup").exists() else rss
            )
            name = (base / "cmdline").read_bytes().replace(b"\0", b" ").decode()[:60]
        except OSError:
            continue
        rows.append({"pid": child, "name": name, "rss_mb": rss / 1024, "pss_mb": pss / 1024})
    return rows


@dataclass
class MemoryPeak:
    """The largest sample of a process tree (by total RSS) and each process' peak."""

    label: str
    total_rss_mb: float = 0.0
    total_pss_mb: float = 0.0
    processes: int = 0
    per_process_peak_mb: dict[int, float] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)

    def sample(self, pid: int) -> None:
        rows = memory_of_tree(pid)
        total = sum(r["rss_mb"] for r in rows)
        if total > self.total_rss_mb:
            self.total_rss_mb = total
            self.total_pss_mb = sum(r["pss_mb"] for r in rows)
            self.processes = len(rows)
        for r in rows:
            self.per_process_peak_mb[r["pid"]] = max(
                self.per_process_peak_mb.get(r["pid"], 0.0), r["rss_mb"]
            )
            self.names[r["pid"]] = r["name"]

    def as_dict(self) -> dict[str, Any]:
        peaks = sorted(self.per_process_peak_mb.values())
        return {
            "label": self.label,
            "processes": self.processes,
            "total_rss_mb": round(self.total_rss_mb, 1),
            "total_pss_mb": round(self.total_pss_mb, 1),
            "largest_process_rss_mb": round(peaks[-1], 1) if peaks else 0.0,
            "median_process_rss_mb": round(peaks[len(peaks) // 2], 1) if peaks else 0.0,
            "per_process": [
                {"pid": pid, "name": self.names[pid], "peak_rss_mb": round(mb, 1)}
                for pid, mb in sorted(self.per_process_peak_mb.items())
            ],
        }


# --- the emulator, in a process of its own ---------------------------------------------


class Emulator:
    """The emulator's control API (`/_emulator/`, never counted as API calls) and its
    record pages."""

    def __init__(self, base_url: str, ca_file: str) -> None:
        import requests

        self.base_url = base_url
        self.ca_file = ca_file
        # Given with each request: requests prefers REQUESTS_CA_BUNDLE to a session's own.
        self.session = requests.Session()

    def control(self, method: str, path: str, body: Any = None) -> Any:
        answer = self.session.request(
            method, f"{self.base_url}/_emulator/{path}", json=body, verify=self.ca_file, timeout=60
        )
        answer.raise_for_status()
        return answer.json()

    def org_create(self, name: str) -> dict[str, Any]:
        org: dict[str, Any] = self.control("POST", "orgs", {"name": name})
        return org

    def api_calls(self, org_id: str) -> int:
        return int(self.control("GET", f"orgs/{org_id}")["api_calls"])

    def insert(self, org_id: str, sobject: str, rows: list[dict[str, Any]]) -> list[str]:
        ids: list[str] = self.control(
            "POST", f"orgs/{org_id}/records/{sobject}", {"records": rows}
        )["ids"]
        return ids

    def records(self, org_id: str, sobject: str) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self.control("GET", f"orgs/{org_id}/records/{sobject}")
        return rows

    def record_page(self, record_id: str) -> str:
        answer = self.session.get(f"{self.base_url}/{record_id}", verify=self.ca_file, timeout=10)
        answer.raise_for_status()
        return answer.text


def emulator_start(procs: Processes, ca_file: Path) -> Emulator:
    import requests

    port = free_port()
    procs.start(
        "emulator",
        [
            str(BIN / "python"),
            "-m",
            "salesforce_emulator",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--ca-file",
            str(ca_file),
            "--org-name",
            "Bench default org",
        ],
    )
    base_url = f"https://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if not procs.alive("emulator"):
            break
        if ca_file.exists():
            try:
                requests.get(f"{base_url}/services/data/", verify=str(ca_file), timeout=1)
                return Emulator(base_url, str(ca_file))
            except requests.RequestException:
                pass
        time.sleep(0.2)
    raise RuntimeError(f"the emulator did not start:\n{log_tail('emulator')}")


# --- database, broker, Django ----------------------------------------------------------


def database_recreate(url: str, *, create: bool = True) -> None:
    """Drop (and create) the benchmark's database, never another: its name must say so."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if parts.scheme not in ("postgres", "postgresql") or "bench" not in name:
        raise SystemExit(
            f"refusing to drop {name!r}: the benchmark needs a PostgreSQL database of its own "
            "whose name contains 'bench'"
        )
    admin = urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if create:
            conn.execute(f'CREATE DATABASE "{name}"')


def redis_flush(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()


def stack_env(
    *, database_url: str, redis_url: str, emulator: Emulator, q_workers: int
) -> dict[str, str]:
    """The environment of every process of the stack, as in production: one set of
    secrets (the workers decrypt the tokens this script stores)."""
    from cryptography.fernet import Fernet

    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DJANGO_ENV="production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        FIELD_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        Q_SYNC="false",
        Q_WORKERS=str(q_workers),
        SALESFORCE_CA_FILE=emulator.ca_file,
        SALESFORCE_LOGIN_URL=emulator.base_url,
        SALESFORCE_CLIENT_ID="portal-bench",
        SALESFORCE_CLIENT_SECRET=secrets.token_hex(16),
        # One API key carries the whole ingest load: its rate limits are still counted
        # (their cost is part of each request) but set beyond what the stack serves.
        API_RATE_LIMIT_BURST="1000000/min",
        API_RATE_LIMIT_SUSTAINED="100000000/hour",
    )
    env.pop("DJANGO_DEBUG", None)
    return env


def django_setup(env: dict[str, str]) -> None:
    os.environ.update(env)
    # This script's own writes only; the stack's processes log at their default level.
    os.environ["LOG_LEVEL"] = "WARNING"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


@dataclass
class BenchTenant:
    tenant: Any
    org: dict[str, Any]
    api_key: str = ""


def tenant_connected(emulator: Emulator, slug: str, latency_ms: float) -> BenchTenant:
    """A tenant connected to an org of its own, auto-sync on, Notes and Events."""
    from django.conf import settings

    from integrations.models import IntegrationSettings
    from integrations.services.connection import salesforce_connection_connect
    from integrations.services.settings import integration_settings_update
    from tenants.services import api_key_create, tenant_create

    org = emulator.org_create(f"Bench {slug}")
    base = f"orgs/{org['id']}"
    emulator.control(
        "POST",
        f"{base}/connected-apps",
        {
            "client_id": settings.SALESFORCE_CLIENT_ID,
            "client_secret": settings.SALESFORCE_CLIENT_SECRET,
            "callback_urls": ["http://127.0.0.1/salesforce/callback/"],
        },
    )
    emulator.control("POST", f"{base}/api-limit", {"max": 100_000_000})
    emulator.control("POST", f"{base}/faults/latency", {"ms": latency_ms})
    tenant = tenant_create(name=f"Bench {slug}", slug=slug, internal_domains=[INTERNAL_DOMAIN])
    salesforce_connection_connect(
        tenant=tenant,
        instance_url=org["instance_url"],
        access_token=org["access_token"],
        refresh_token=org["refresh_token"],
    )
    integration_settings_update(
        tenant=tenant,
        auto_sync=True,
        highlights_destination=IntegrationSettings.Destination.NOTES_AND_EVENTS,
        note_flavour=IntegrationSettings.NoteFlavour.CONTENT_NOTE,
        link_back_base_url="https://portal.acme.example",
    )
    _, key = api_key_create(tenant=tenant, name="bench partner")
    return BenchTenant(tenant=tenant, org=org, api_key=key)


def org_seed(emulator: Emulator, org_id: str, customers: list[Customer]) -> None:
    """Each meeting's Account and its attendees' Contacts (control API: no API calls)."""
    account_ids = emulator.insert(org_id, "Account", [{"Name": c.name} for c in customers])
    rows: list[dict[str, Any]] = []
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
    emulator.insert(org_id, "Contact", rows)


def jobs_by_state(tenant: Any) -> dict[str, dict[str, int]]:
    from integrations.models import SyncJob

    table: dict[str, Counter[str]] = {}
    for operation, state in SyncJob.objects.filter(tenant=tenant).values_list("operation", "state"):
        table.setdefault(operation, Counter())[state] += 1
    return {op: dict(states) for op, states in sorted(table.items())}


def open_jobs(tenant: Any) -> int:
    from integrations.models import SyncJob

    count: int = SyncJob.objects.filter(tenant=tenant, state__in=OPEN_STATES).count()
    return count


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile of the values (p in 0..100)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


# --- the phases -------------------------------------------------------------------------


@dataclass
class Context:
    args: argparse.Namespace
    procs: Processes
    emulator: Emulator
    web_url: str = ""
    problems: list[str] = field(default_factory=list)


def gunicorn_start(ctx: Context) -> MemoryPeak:
    import requests

    port = free_port()
    ctx.procs.start(
        "gunicorn",
        [
            str(BIN / "gunicorn"),
            "-c",
            str(ROOT / "gunicorn.conf.py"),
            "--bind",
            f"127.0.0.1:{port}",
            "config.wsgi",
        ],
        {"WEB_CONCURRENCY": str(ctx.args.web_workers)},
    )
    ctx.web_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if not ctx.procs.alive("gunicorn"):
            break
        try:
            requests.get(f"{ctx.web_url}/health/", headers=FORWARDED, timeout=2)
            return MemoryPeak("gunicorn")
        except requests.RequestException:
            time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not start:\n{log_tail('gunicorn')}")


def ingest_meetings_create(tenant: Any, count: int) -> list[str]:
    """Meetings a partner has pushed and not marked processed yet."""
    from meetings import services as meetings

    start = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    ids = []
    for i in range(count):
        when = start + timedelta(hours=i)
        meeting, _ = meetings.meeting_upsert(
            tenant=tenant,
            external_id=f"ingest-{i}",
            title=f"Ingest call {i}",
            start=when,
            end=when + timedelta(minutes=30),
            organizer_email=f"rep@{INTERNAL_DOMAIN}",
            attendees=[
                meetings.PersonInput(email=f"buyer@ingest{i}.example", name="Buyer"),
                meetings.PersonInput(email=f"rep@{INTERNAL_DOMAIN}", name="Rep"),
            ],
        )
        ids.append(meeting.external_id)
    return ids


def locust_run(
    ctx: Context, name: str, api_key: str, meetings: list[str], extra: dict[str, str]
) -> dict[str, Any]:
    """One locust run (headless, no think time); the numbers from each request's own
    timing, successful requests only."""
    timings_file = LOG_DIR / f"{name}-timings.json"
    timings_file.unlink(missing_ok=True)
    users = ctx.args.users
    process = ctx.procs.start(
        name,
        [
            str(BIN / "locust"),
            "-f",
            str(LOCUSTFILE),
            "--headless",
            "--users",
            str(users),
            "--spawn-rate",
            str(users),
            "--run-time",
            f"{round(ctx.args.ingest_seconds)}s",
            "--stop-timeout",
            "10",
            "--host",
            ctx.web_url,
            "--only-summary",
            "--loglevel",
            "WARNING",
        ],
        {
            "BENCH_API_KEY": api_key,
            "BENCH_MEETINGS": ",".join(meetings),
            "BENCH_TIMINGS_FILE": str(timings_file),
            **extra,
        },
    )
    process.wait(timeout=ctx.args.ingest_seconds + 120)
    ctx.procs.stop(name)
    if not timings_file.exists():
        raise RuntimeError(f"locust wrote no timings:\n{log_tail(name)}")
    timings: list[list[Any]] = json.loads(timings_file.read_text())
    ok = [t for t in timings if t[2]]
    if not ok:
        raise RuntimeError(f"no request succeeded:\n{log_tail(name)}\n{log_tail('gunicorn')}")
    first = min(t[0] for t in ok)
    last = max(t[0] + t[1] / 1000 for t in ok)
    durations = [t[1] for t in ok]
    return {
        "clients": users,
        "requests": len(ok),
        "failures": len(timings) - len(ok),
        "seconds": round(last - first, 2),
        "requests_per_second": round(len(ok) / (last - first), 1),
        "p50_ms": round(percentile(durations, 50), 1),
        "p95_ms": round(percentile(durations, 95), 1),
        "p99_ms": round(percentile(durations, 99), 1),
    }


def ingest(ctx: Context, bench: BenchTenant, meetings: list[str]) -> dict[str, Any]:
    print(
        f"ingest: {ctx.args.users} clients upserting highlights for "
        f"{ctx.args.ingest_seconds} s ...",
        end=" ",
        flush=True,
    )
    result = locust_run(ctx, "ingest", bench.api_key, meetings, {"BENCH_SCENARIO": "single"})
    print(f"{result['requests_per_second']} req/s", flush=True)
    if result["failures"]:
        ctx.problems.append(f"ingest: {result['failures']} requests failed (see the locust log)")
    return result


def ingest_alone(ctx: Context, bench: BenchTenant, meetings: list[str]) -> dict[str, Any]:
    """One client alone, one request after another: what a highlight upsert costs when
    it waits for no other request."""
    import requests

    count = ctx.args.alone_requests
    print(f"ingest, one client alone: {count} requests ...", end=" ", flush=True)
    headers = {**FORWARDED, "Authorization": f"Api-Key {bench.api_key}"}
    session = requests.Session()
    timings: list[float] = []
    for i in range(count):
        body = {"external_id": f"alone-{i}", "text": f"Alone {i}: a pilot.", "offset_seconds": i}
        url = f"{ctx.web_url}/api/v1/meetings/{meetings[i % len(meetings)]}/highlights/"
        started = time.perf_counter()
        answer = session.post(url, json=body, headers=headers, timeout=30)
        timings.append((time.perf_counter() - started) * 1000)
        if answer.status_code != 201:
            ctx.problems.append(f"ingest alone: answered {answer.status_code}")
            break
    result = {
        "requests": len(timings),
        "p50_ms": round(percentile(timings, 50), 1),
        "p95_ms": round(percentile(timings, 95), 1),
        "p99_ms": round(percentile(timings, 99), 1),
    }
    print(f"p50 {result['p50_ms']} ms, p95 {result['p95_ms']} ms", flush=True)
    return result


def ingest_paced(ctx: Context, bench: BenchTenant, meetings: list[str]) -> dict[str, Any]:
    """The same clients holding to `--ingest-rate` requests/s together: the latency at
    that load. (Without a set rate, 20 clients that send again at once always wait
    about 20 / throughput for an answer, however fast each request is.)"""
    rate = ctx.args.ingest_rate
    print(f"ingest at {rate:g} req/s: {ctx.args.users} clients ...", end=" ", flush=True)
    result = locust_run(
        ctx,
        "ingest-paced",
        bench.api_key,
        meetings,
        {"BENCH_SCENARIO": "single", "BENCH_RATE": f"{rate:g}", "BENCH_USERS": str(ctx.args.users)},
    )
    result["rate_asked"] = rate
    print(f"{result['requests_per_second']} req/s, p95 {result['p95_ms']} ms", flush=True)
    if result["failures"]:
        ctx.problems.append(f"ingest at {rate:g} req/s: {result['failures']} requests failed")
    return result


def bulk_endpoint(ctx: Context, api_key: str) -> str | None:
    """The bulk highlights path of the partner API's schema, "{meeting}" for the
    meeting's id; None when there is none."""
    import requests

    answer = requests.get(
        f"{ctx.web_url}/api/schema/?format=json",
        headers={**FORWARDED, "Authorization": f"Api-Key {api_key}"},
        timeout=30,
    )
    if not answer.ok:
        return None
    for path in answer.json().get("paths", {}):
        if "highlight" in path and "bulk" in path:
            return str(path).replace("{external_id}", "{meeting}")
    return None


def bulk_ingest(ctx: Context, bench: BenchTenant, meetings: list[str]) -> dict[str, Any]:
    """Highlights in bulk, BENCH_BULK_SIZE per request (the locustfile's "bulk" scenario
    sends {"highlights": [...]}: adjust it there to the endpoint's body)."""
    path = bulk_endpoint(ctx, bench.api_key)
    if path is None:
        print("bulk ingest: n/a (no bulk endpoint)", flush=True)
        return {"available": False, "note": "n/a (no bulk endpoint)"}
    size = ctx.args.bulk_size
    print(f"bulk ingest: {path}, {size} highlights per request ...", end=" ", flush=True)
    result = locust_run(
        ctx,
        "bulk",
        bench.api_key,
        meetings,
        {"BENCH_SCENARIO": "bulk", "BENCH_BULK_PATH": path, "BENCH_BULK_SIZE": str(size)},
    )
    result.update(
        available=True,
        path=path,
        highlights_per_request=size,
        highlights_per_second=round(result["requests_per_second"] * size, 1),
    )
    print(f"{result['highlights_per_second']} highlights/s", flush=True)
    if result["failures"]:
        ctx.problems.append(f"bulk ingest: {result['failures']} requests failed")
    return result


def bulk_alone(ctx: Context, bench: BenchTenant, meetings: list[str]) -> dict[str, Any] | None:
    """One client alone sends `--bulk-alone-size` highlights in one bulk request, to a
    meeting after another: the time of a request that creates them all, then of one
    that edits them all. None when the API has no bulk endpoint."""
    import requests

    path = bulk_endpoint(ctx, bench.api_key)
    if path is None:
        return None
    size, samples = ctx.args.bulk_alone_size, ctx.args.bulk_alone_samples
    print(f"bulk alone: {samples} x {size} highlights ...", end=" ", flush=True)
    headers = {**FORWARDED, "Authorization": f"Api-Key {bench.api_key}"}
    session = requests.Session()
    timings: dict[str, list[float]] = {"create": [], "edit": []}
    for i in range(samples):
        url = f"{ctx.web_url}{path.format(meeting=meetings[i % len(meetings)])}"
        for kind in ("create", "edit"):
            body = {
                "highlights": [
                    {
                        "external_id": f"alone-{i}-{k}",
                        "text": f"Highlight {k} ({kind}): the buyer asked about pricing.",
                        "speaker": "Buyer",
                        "offset_seconds": k,
                    }
                    for k in range(size)
                ]
            }
            started = time.perf_counter()
            answer = session.post(url, json=body, headers=headers, timeout=60)
            timings[kind].append((time.perf_counter() - started) * 1000)
            if answer.status_code != 200:
                ctx.problems.append(f"bulk alone: {kind} answered {answer.status_code}")
    result = {
        "highlights_per_request": size,
        "samples": samples,
        **{
            f"{kind}_{name}_ms": round(value, 1)
            for kind, values in timings.items()
            for name, value in (("p50", percentile(values, 50)), ("max", max(values)))
        },
    }
    print(
        f"create p50 {result['create_p50_ms']} ms, edit p50 {result['edit_p50_ms']} ms",
        flush=True,
    )
    return result


def cluster_name(index: int) -> str:
    return f"sync_worker-{index}"


def clusters_start(ctx: Context, count: int) -> list[str]:
    names = []
    for index in range(1, count + 1):
        name = cluster_name(index)
        ctx.procs.start(name, [str(BIN / "python"), "manage.py", "sync_worker"])
        names.append(name)
    return names


def clusters_stop(ctx: Context, names: list[str]) -> None:
    for name in names:
        ctx.procs.stop(name, grace=20)


def drain(ctx: Context, clusters: int) -> tuple[dict[str, Any], BenchTenant, list[Any]]:
    """N processed meetings queued with no worker running, then `clusters` clusters
    start; timed until the tenant has no pending or running job."""
    n = ctx.args.meetings
    bench = tenant_connected(ctx.emulator, f"drain-{clusters}", ctx.args.latency_ms)
    org_id = bench.org["id"]
    customers = customers_for(n)
    org_seed(ctx.emulator, org_id, customers)
    print(f"drain, {clusters} cluster(s): creating {n} processed meetings ...", end=" ", flush=True)
    started = time.perf_counter()
    meetings = meetings_create(bench.tenant, n, customers)
    queued = open_jobs(bench.tenant)
    backlog_due(bench.tenant)
    print(
        f"{time.perf_counter() - started:.0f} s, {queued} jobs queued; draining ...",
        end=" ",
        flush=True,
    )
    calls_before = ctx.emulator.api_calls(org_id)
    peaks = [MemoryPeak(f"cluster {i}") for i in range(1, clusters + 1)]
    cpu_before = cpu_times()
    started = time.perf_counter()
    names = clusters_start(ctx, clusters)
    deadline = started + ctx.args.drain_timeout
    next_memory = 0.0
    remaining = queued
    last_progress = started
    stalled = False
    while True:
        now = time.perf_counter()
        if now >= next_memory:
            for name, peak in zip(names, peaks, strict=True):
                process = ctx.procs.running.get(name)
                if process is not None:
                    peak.sample(process.pid)
            next_memory = now + 1.0
        left = open_jobs(bench.tenant)
        if left < remaining:
            last_progress = now
        remaining = left
        # No job finished for a long while: the engine is stuck (its errors are in the
        # clusters' logs); waiting for the deadline would only delay the report.
        stalled = now - last_progress > ctx.args.stall_seconds
        if remaining == 0 or now > deadline or stalled:
            break
        dead = [name for name in names if not ctx.procs.alive(name)]
        if dead:
            raise RuntimeError(f"{dead[0]} stopped:\n{log_tail(dead[0])}")
        time.sleep(0.25)
    elapsed = time.perf_counter() - started
    busy = cpu_busy(cpu_before, cpu_times())
    calls = ctx.emulator.api_calls(org_id) - calls_before
    jobs = jobs_by_state(bench.tenant)
    notes = sum(
        1
        for row in ctx.emulator.records(org_id, "ContentNote")
        if str(row.get("Title", "")).endswith(": highlights")
    )
    result = {
        "clusters": clusters,
        "workers_per_cluster": ctx.args.q_workers,
        "meetings": n,
        "jobs_queued": queued,
        "seconds": round(elapsed, 2),
        "meetings_per_second": round(n / elapsed, 2) if remaining == 0 else None,
        "api_calls": calls,
        "api_calls_per_meeting": round(calls / n, 3),
        "finished": remaining == 0,
        "stalled": stalled,
        "jobs_left_open": remaining,
        "jobs_by_state": jobs,
        "notes_in_org": notes,
        "memory": [peak.as_dict() for peak in peaks],
        # The whole machine's cores busy during the drain (every process: the workers,
        # PostgreSQL, Redis, the emulator): near 1.0, more clusters cannot go faster.
        "machine_cpu_busy": round(busy, 3),
    }
    if remaining:
        why = (
            f"no job finished for {ctx.args.stall_seconds:g} s"
            if stalled
            else f"the drain took more than {ctx.args.drain_timeout:g} s"
        )
        ctx.problems.append(
            f"drain with {clusters} cluster(s): {remaining} of {queued} jobs still open "
            f"({why}; see build/bench-stack/sync_worker-*.log)"
        )
    processed = jobs.get("meeting.processed", {})
    if processed.get("succeeded", 0) != n:
        ctx.problems.append(f"drain with {clusters} cluster(s): meeting.processed {processed}")
    if notes != n:
        ctx.problems.append(f"drain with {clusters} cluster(s): {notes} Notes in the org for {n}")
    print(
        f"{elapsed:.1f} s, {result['meetings_per_second'] or 'n/a'} meetings/s, "
        f"{result['api_calls_per_meeting']} API calls/meeting"
        + ("" if remaining == 0 else f", {remaining} jobs still open"),
        flush=True,
    )
    return result, bench, meetings


def edit_latency(ctx: Context, bench: BenchTenant, meetings: list[Any]) -> dict[str, Any]:
    """Highlight "h1" (the first in the Note) of one synced meeting after another is
    edited through the API; timed until the Note in the org shows the new text."""
    import requests

    samples = ctx.args.edit_samples
    print(f"edit latency: {samples} edits ...", end=" ", flush=True)
    org_id = bench.org["id"]
    notes = {
        str(row["Title"]): str(row["Id"])
        for row in ctx.emulator.records(org_id, "ContentNote")
        if not row.get("IsDeleted")
    }
    headers = {**FORWARDED, "Authorization": f"Api-Key {bench.api_key}"}
    session = requests.Session()
    latencies: list[float] = []
    api_ms: list[float] = []
    timeouts = 0
    calls_before = ctx.emulator.api_calls(org_id)
    for i in range(samples):
        meeting = meetings[i % len(meetings)]
        note_id = notes.get(f"{meeting.title}: highlights")
        if note_id is None:
            ctx.problems.append(f"edit latency: no Note for {meeting.external_id}")
            continue
        token = secrets.token_hex(6)
        started = time.perf_counter()
        answer = session.patch(
            f"{ctx.web_url}/api/v1/meetings/{meeting.external_id}/highlights/h1/",
            json={"text": f"Edited ({i}) {token}: they signed."},
            headers=headers,
            timeout=30,
        )
        api_ms.append((time.perf_counter() - started) * 1000)
        if answer.status_code != 200:
            ctx.problems.append(f"edit latency: PATCH answered {answer.status_code}")
            continue
        deadline = started + ctx.args.edit_timeout
        while True:
            if token in ctx.emulator.record_page(note_id):
                latencies.append((time.perf_counter() - started) * 1000)
                break
            if time.perf_counter() > deadline:
                timeouts += 1
                break
            time.sleep(0.01)
        if timeouts >= 3 and not latencies:
            break  # the edits do not reach Salesforce: more samples would only wait
    calls = ctx.emulator.api_calls(org_id) - calls_before
    if timeouts:
        ctx.problems.append(
            f"edit latency: {timeouts} edits not in the Note after {ctx.args.edit_timeout:g} s"
        )
    result = {
        "samples": len(latencies),
        "timeouts": timeouts,
        "p50_ms": round(percentile(latencies, 50), 1),
        "p95_ms": round(percentile(latencies, 95), 1),
        "max_ms": round(max(latencies), 1) if latencies else None,
        "patch_p50_ms": round(percentile(api_ms, 50), 1),
        "api_calls_per_edit": round(calls / samples, 2) if samples else None,
    }
    print(f"p50 {result['p50_ms']} ms, p95 {result['p95_ms']} ms", flush=True)
    return result


def retry_dispatch(ctx: Context, broker: str) -> dict[str, Any]:
    """Sync jobs that fail once with a retryable error (the org answers 503
    SERVER_UNAVAILABLE to the next few API requests, set through the emulator's control
    API): how long after its due time (the end of its backoff) each retry starts.

    One cluster of its own runs with SYNC_RETRY_BASE_SECONDS set low, so the backoffs
    end within seconds: the delay measured (due -> started: the sweeper's period, the
    dispatch, the broker) does not depend on how long the backoff was. Each due time is
    read from the job's row while it waits; the start is its next attempt's. `broker`:
    "redis", or "orm" for a cluster without REDIS_URL (the database is its broker)."""
    from django.conf import settings

    from integrations.models import SyncAttempt, SyncJob

    samples = ctx.args.retry_samples
    base = ctx.args.retry_base_seconds
    print(
        f"retry dispatch ({broker} broker): {samples} failed requests, backoff base {base:g} s ...",
        end=" ",
        flush=True,
    )
    bench = tenant_connected(ctx.emulator, f"retry-{broker}", ctx.args.latency_ms)
    org_id = bench.org["id"]
    customers = customers_for(samples)
    org_seed(ctx.emulator, org_id, customers)
    ctx.emulator.control(
        "POST",
        f"orgs/{org_id}/faults/fail-next",
        {"n": samples, "path": "/services/data/", "error_code": "SERVER_UNAVAILABLE"},
    )
    meetings_create(bench.tenant, samples, customers)
    if broker == "orm":
        # This script queued the jobs to Redis, which this cluster does not read: they
        # count as not handed over, so its sweeper hands them over (as after a lost
        # message).
        SyncJob.objects.filter(tenant=bench.tenant, state="pending").update(dispatched_at=None)
    name = f"sync_worker-retry-{broker}"
    extra = {"SYNC_RETRY_BASE_SECONDS": f"{base:g}"}
    if broker == "orm":
        extra["REDIS_URL"] = ""
    ctx.procs.start(name, [str(BIN / "python"), "manage.py", "sync_worker"], extra)
    due: dict[tuple[int, int], datetime] = {}
    deadline = time.perf_counter() + ctx.args.retry_timeout
    waiting = SyncJob.objects.filter(
        tenant=bench.tenant, state="pending", waiting_for="backoff", next_attempt_at__isnull=False
    )
    while time.perf_counter() < deadline:
        for pk, attempts, next_attempt_at in waiting.values_list(
            "pk", "attempt_count", "next_attempt_at"
        ):
            due[(pk, attempts)] = next_attempt_at
        if not open_jobs(bench.tenant):
            break
        if not ctx.procs.alive(name):
            raise RuntimeError(f"{name} stopped:\n{log_tail(name)}")
        time.sleep(0.05)
    ctx.procs.stop(name, grace=20)
    delays: list[float] = []
    never = 0
    for (pk, tried), due_at in due.items():
        starts = list(
            SyncAttempt.objects.filter(job_id=pk)
            .order_by("started_at")
            .values_list("started_at", flat=True)
        )
        if len(starts) > tried:
            delays.append((starts[tried] - due_at).total_seconds() * 1000)
        else:
            never += 1
    left = ctx.emulator.control("GET", f"orgs/{org_id}/faults")
    result = {
        "failed_requests": samples,
        "backoff_base_seconds": base,
        "sweep_seconds": settings.SYNC_SWEEP_SECONDS,
        "broker": broker,
        "retries": len(delays),
        "retries_not_started": never,
        "p50_ms": round(percentile(delays, 50), 1),
        "p95_ms": round(percentile(delays, 95), 1),
        "max_ms": round(max(delays), 1) if delays else None,
        "jobs_by_state": jobs_by_state(bench.tenant),
        "faults_left": left,
    }
    if never:
        ctx.problems.append(
            f"retry dispatch ({broker}): {never} retries had not started after their due time"
        )
    if not delays:
        ctx.problems.append(f"retry dispatch ({broker}): no job was retried (did the fault hit?)")
    elif result["max_ms"] > ctx.args.retry_goal_seconds * 1000:
        ctx.problems.append(
            f"retry dispatch ({broker}): a retry started {result['max_ms']:.0f} ms after its "
            f"due time (goal: within {ctx.args.retry_goal_seconds:g} s)"
        )
    print(
        f"{len(delays)} retries, due -> started p50 {result['p50_ms']} ms, "
        f"max {result['max_ms']} ms",
        flush=True,
    )
    return result


TRICKLE_NUMBERING = 100_000


def cpu_times() -> tuple[int, int]:
    """The machine's (busy, total) CPU ticks since boot, all cores (/proc/stat)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields) - idle, sum(fields)


def cpu_busy(before: tuple[int, int], after: tuple[int, int]) -> float:
    """The share of all cores' time that was busy between two `cpu_times`."""
    total = after[1] - before[1]
    return (after[0] - before[0]) / total if total else 0.0


def backlog_due(tenant: Any) -> None:
    """Wait until every queued job of the backlog is due: auto-sync gathers meetings for
    SYNC_GATHER_SECONDS (see the README), and a backlog is what waited longer than that
    (an outage, a paused connection), so the drain's clock starts once it is all due."""
    from django.db.models import Max

    from integrations.models import SyncJob

    last = SyncJob.objects.filter(tenant=tenant, state="pending").aggregate(
        due=Max("next_attempt_at")
    )["due"]
    if last is not None:
        time.sleep(max(0.0, (last - datetime.now(UTC)).total_seconds()))


def trickle(ctx: Context) -> dict[str, Any]:
    """Processed meetings arriving one at a time, `--trickle-rate` a second (as partners
    send them through the day), while the two clusters run: Salesforce API calls per
    meeting, and how long each meeting took from "processed" to its sync's end."""
    from integrations.models import SyncJob

    rate, seconds = ctx.args.trickle_rate, ctx.args.trickle_seconds
    count = max(1, round(rate * seconds))
    print(f"trickle: {count} meetings at {rate:g}/s ...", end=" ", flush=True)
    bench = tenant_connected(ctx.emulator, "trickle", ctx.args.latency_ms)
    org_id = bench.org["id"]
    customers = customers_for(count)
    org_seed(ctx.emulator, org_id, customers)
    calls_before = ctx.emulator.api_calls(org_id)
    started = time.perf_counter()
    for i, customer in enumerate(customers):
        pause = started + i / rate - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        meetings_create(bench.tenant, TRICKLE_NUMBERING + i, [customer])
    arrived = time.perf_counter() - started
    deadline = time.perf_counter() + ctx.args.drain_timeout
    while open_jobs(bench.tenant) and time.perf_counter() < deadline:
        time.sleep(0.25)
    settled = time.perf_counter() - started - arrived
    calls = ctx.emulator.api_calls(org_id) - calls_before
    processed = SyncJob.objects.filter(
        tenant=bench.tenant, operation="meeting.processed", finished_at__isnull=False
    ).values_list("created_at", "finished_at")
    latencies = [(done - queued).total_seconds() * 1000 for queued, done in processed]
    left = open_jobs(bench.tenant)
    result = {
        "meetings": count,
        "rate_asked": rate,
        "rate_achieved": round(count / arrived, 2) if arrived else None,
        "seconds_after_last_arrival": round(settled, 2),
        "api_calls": calls,
        "api_calls_per_meeting": round(calls / count, 3),
        "processed_to_synced_p50_ms": round(percentile(latencies, 50), 1),
        "processed_to_synced_p95_ms": round(percentile(latencies, 95), 1),
        "jobs_left_open": left,
        "jobs_by_state": jobs_by_state(bench.tenant),
    }
    if left:
        ctx.problems.append(f"trickle: {left} jobs still open")
    print(
        f"{result['api_calls_per_meeting']} API calls/meeting, processed -> synced p50 "
        f"{result['processed_to_synced_p50_ms']} ms",
        flush=True,
    )
    return result


# --- report ------------------------------------------------------------------------------


def table(results: dict[str, Any]) -> str:
    rows: list[tuple[str, str, str]] = []
    ing = results["ingest"]
    rows.append(
        (
            f"ingest: highlight upsert, {ing['clients']} clients",
            f"{ing['requests_per_second']:.1f} req/s",
            f"p50 {ing['p50_ms']:.0f} ms, p95 {ing['p95_ms']:.0f} ms, p99 {ing['p99_ms']:.0f} ms"
            f" ({ing['requests']} requests, {ing['failures']} failed)",
        )
    )
    paced = results.get("ingest_paced")
    if paced:
        rows.append(
            (
                f"ingest at {paced['rate_asked']:g} req/s asked, {paced['clients']} clients",
                f"{paced['requests_per_second']:.1f} req/s",
                f"p50 {paced['p50_ms']:.0f} ms, p95 {paced['p95_ms']:.0f} ms, p99 "
                f"{paced['p99_ms']:.0f} ms ({paced['requests']} requests, "
                f"{paced['failures']} failed)",
            )
        )
    alone = results.get("ingest_alone")
    if alone:
        rows.append(
            (
                "ingest: one client alone",
                f"p50 {alone['p50_ms']:.1f} ms",
                f"p95 {alone['p95_ms']:.1f} ms, p99 {alone['p99_ms']:.1f} ms "
                f"({alone['requests']} requests one after another)",
            )
        )
    bulk = results["bulk_ingest"]
    if bulk.get("available"):
        rows.append(
            (
                f"bulk ingest: {bulk['highlights_per_request']} per request",
                f"{bulk['highlights_per_second']:.1f} highlights/s",
                f"p50 {bulk['p50_ms']:.0f} ms, p95 {bulk['p95_ms']:.0f} ms, "
                f"p99 {bulk['p99_ms']:.0f} ms ({bulk['failures']} failed)",
            )
        )
    else:
        rows.append(("bulk ingest", bulk["note"], ""))
    single = results.get("bulk_alone")
    if single:
        rows.append(
            (
                f"bulk alone: {single['highlights_per_request']} in one request",
                f"create p50 {single['create_p50_ms']:.0f} ms",
                f"create max {single['create_max_ms']:.0f} ms; edit all p50 "
                f"{single['edit_p50_ms']:.0f} ms, max {single['edit_max_ms']:.0f} ms "
                f"({single['samples']} samples, one client)",
            )
        )
    for d in results["drains"]:
        state = "" if d["finished"] else f", NOT FINISHED: {d['jobs_left_open']} jobs open"
        rows.append(
            (
                f"drain {d['meetings']} meetings, {d['clusters']} cluster(s)",
                f"{d['meetings_per_second']:.2f} meetings/s"
                if d["meetings_per_second"] is not None
                else "not finished",
                f"{d['api_calls_per_meeting']:.3f} API calls/meeting, {d['seconds']:.1f} s, "
                f"machine CPU {d.get('machine_cpu_busy', 0):.0%} busy{state}",
            )
        )
    ed = results["edit_latency"]
    if not ed["samples"]:
        rows.append(("edit -> Note updated", ed.get("note", "n/a (no edit reached the Note)"), ""))
    else:
        rows.append(
            (
                f"edit -> Note updated ({ed['samples']} samples)",
                f"p50 {ed['p50_ms']:.0f} ms",
                f"p95 {ed['p95_ms']:.0f} ms, max {ed['max_ms']} ms, PATCH p50 "
                f"{ed['patch_p50_ms']:.0f} ms, {ed['api_calls_per_edit']} API calls/edit",
            )
        )
    trick = results.get("trickle")
    if trick:
        rows.append(
            (
                f"trickle: {trick['meetings']} meetings at {trick['rate_asked']:g}/s",
                f"{trick['api_calls_per_meeting']:.3f} API calls/meeting",
                f"processed -> synced p50 {trick['processed_to_synced_p50_ms']:.0f} ms, p95 "
                f"{trick['processed_to_synced_p95_ms']:.0f} ms (arrived at "
                f"{trick['rate_achieved']}/s)",
            )
        )
    for retry in results.get("retry_dispatch", []):
        rows.append(
            (
                f"retry ({retry['broker']}): due -> started, {retry['retries']} retries",
                f"p50 {retry['p50_ms']:.0f} ms",
                f"p95 {retry['p95_ms']:.0f} ms, max {retry['max_ms']} ms (sweep every "
                f"{retry['sweep_seconds']:g} s)",
            )
        )
    for mem in results["memory"]:
        rows.append(
            (
                f"memory: {mem['label']}",
                f"{mem['total_rss_mb']:.0f} MB RSS",
                f"{mem['processes']} processes, PSS {mem['total_pss_mb']:.0f} MB, largest "
                f"{mem['largest_process_rss_mb']:.0f} MB, "
                f"median {mem['median_process_rss_mb']:.0f} MB",
            )
        )
    widths = [max(len(r[i]) for r in [*rows, ("phase", "result", "detail")]) for i in range(2)]
    head = f"{'phase':<{widths[0]}}  {'result':<{widths[1]}}  detail"
    lines = [head, "-" * max(len(head), max(len(r[2]) for r in rows) + widths[0] + widths[1] + 4)]
    lines += [f"{a:<{widths[0]}}  {b:<{widths[1]}}  {c}" for a, b, c in rows]
    return "\n".join(lines)


# --- main ---------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--meetings", type=int, default=1000, help="meetings per backlog")
    parser.add_argument(
        "--quick", action="store_true", help="a smoke run: 20 meetings, 5 s, 5 edits"
    )
    parser.add_argument("--users", type=int, default=20, help="concurrent partner clients")
    parser.add_argument("--ingest-seconds", type=float, default=30.0)
    parser.add_argument(
        "--ingest-rate",
        type=float,
        default=200.0,
        help="requests/s of a second ingest run, for its latency at that load (0: none)",
    )
    parser.add_argument("--bulk-size", type=int, default=50, help="highlights per bulk request")
    parser.add_argument(
        "--alone-requests", type=int, default=300, help="highlight upserts of one client alone"
    )
    parser.add_argument(
        "--bulk-alone-size", type=int, default=500, help="highlights of one bulk request alone"
    )
    parser.add_argument("--bulk-alone-samples", type=int, default=5)
    parser.add_argument("--edit-samples", type=int, default=50)
    parser.add_argument("--edit-timeout", type=float, default=60.0, help="seconds per edit")
    parser.add_argument("--latency-ms", type=float, default=50.0, help="added per API request")
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument(
        "--q-workers",
        type=int,
        default=int(os.environ.get("Q_WORKERS", "2")),
        help="django-q2 workers per cluster (Q_WORKERS)",
    )
    parser.add_argument("--drain-timeout", type=float, default=1200.0, help="seconds")
    parser.add_argument(
        "--stall-seconds",
        type=float,
        default=180.0,
        help="a drain during which no job finishes for this long is given up",
    )
    parser.add_argument(
        "--retry-samples", type=int, default=10, help="API requests failed once (retry phase)"
    )
    parser.add_argument(
        "--retry-base-seconds",
        type=float,
        default=4.0,
        help="SYNC_RETRY_BASE_SECONDS of the retry phase's cluster",
    )
    parser.add_argument("--retry-timeout", type=float, default=120.0, help="seconds")
    parser.add_argument(
        "--retry-goal-seconds", type=float, default=5.0, help="due -> started, at most"
    )
    parser.add_argument("--trickle-rate", type=float, default=10.0, help="meetings per second")
    parser.add_argument("--trickle-seconds", type=float, default=30.0)
    parser.add_argument("--keep-db", action="store_true", help="do not drop the database")
    parser.add_argument("--output", type=Path, default=RESULTS_FILE)
    args = parser.parse_args()
    if args.quick:
        args.meetings = min(args.meetings, 20)
        args.ingest_seconds = min(args.ingest_seconds, 5.0)
        args.edit_samples = min(args.edit_samples, 5)
        args.retry_samples = min(args.retry_samples, 3)
        args.trickle_seconds = min(args.trickle_seconds, 5.0)
    return args


def run(args: argparse.Namespace, database_url: str, redis_url: str) -> dict[str, Any]:
    procs = Processes(dict(os.environ))
    atexit.register(procs.stop_all)
    results: dict[str, Any] = {}
    try:
        emulator = emulator_start(procs, LOG_DIR / "emulator-ca.pem")
        env = stack_env(
            database_url=database_url,
            redis_url=redis_url,
            emulator=emulator,
            q_workers=args.q_workers,
        )
        procs.env = env
        print(f"database {database_url.split('@')[-1]}: created; migrating ...", flush=True)
        django_setup(env)
        ctx = Context(args=args, procs=procs, emulator=emulator)
        gunicorn_memory = gunicorn_start(ctx)
        print(
            f"gunicorn ({args.web_workers} workers) at {ctx.web_url}, emulator at "
            f"{emulator.base_url} (+{args.latency_ms:g} ms per request), broker {redis_url}",
            flush=True,
        )

        ingest_tenant = tenant_connected(emulator, "ingest", args.latency_ms)
        ingest_ids = ingest_meetings_create(ingest_tenant.tenant, INGEST_MEETINGS)
        results["ingest"] = ingest(ctx, ingest_tenant, ingest_ids)
        gunicorn_pid = procs.running["gunicorn"].pid
        gunicorn_memory.sample(gunicorn_pid)
        if args.ingest_rate:
            results["ingest_paced"] = ingest_paced(ctx, ingest_tenant, ingest_ids)
        results["ingest_alone"] = ingest_alone(ctx, ingest_tenant, ingest_ids)
        results["bulk_ingest"] = bulk_ingest(ctx, ingest_tenant, ingest_ids)
        results["bulk_alone"] = bulk_alone(ctx, ingest_tenant, ingest_ids)
        gunicorn_memory.sample(gunicorn_pid)

        one, _, _ = drain(ctx, clusters=1)
        clusters_stop(ctx, [cluster_name(1)])
        two, bench, meetings = drain(ctx, clusters=2)
        results["drains"] = [one, two]
        if two["finished"]:
            results["edit_latency"] = edit_latency(ctx, bench, meetings)
        else:
            print("edit latency: n/a (the drain did not finish)", flush=True)
            results["edit_latency"] = {"samples": 0, "note": "n/a (the drain did not finish)"}
        results["trickle"] = trickle(ctx)
        clusters_stop(ctx, [cluster_name(1), cluster_name(2)])
        results["retry_dispatch"] = [retry_dispatch(ctx, broker) for broker in ("redis", "orm")]
        gunicorn_memory.sample(gunicorn_pid)
        results["memory"] = [
            *({**peak, "label": f"{peak['label']} of 1 (drain, peak)"} for peak in one["memory"]),
            *({**peak, "label": f"{peak['label']} of 2 (drain, peak)"} for peak in two["memory"]),
            gunicorn_memory.as_dict(),
        ]
        results["problems"] = ctx.problems
    finally:
        procs.stop_all()
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # Django never set up
            pass
    return results


def main() -> int:
    args = parse_args()
    database_url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    redis_url = os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL
    # A SIGTERM ends the run as Ctrl-C does: the processes are stopped, the database dropped.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    for old in LOG_DIR.glob("*.log"):
        old.unlink()
    started = time.monotonic()
    load_start = round(os.getloadavg()[0], 2)
    database_recreate(database_url)
    redis_flush(redis_url)
    try:
        results = run(args, database_url, redis_url)
    finally:
        redis_flush(redis_url)
        if not args.keep_db:
            database_recreate(database_url, create=False)
    results["settings"] = {
        "meetings": args.meetings,
        "clients": args.users,
        "ingest_seconds": args.ingest_seconds,
        "latency_ms": args.latency_ms,
        "gunicorn_workers": args.web_workers,
        "q_workers_per_cluster": args.q_workers,
        "cores": os.cpu_count(),
        # Other work on the machine shares the cores: the 1-minute load at the start and
        # at the end, to read the figures with.
        "load_average_start": load_start,
        "load_average_end": round(os.getloadavg()[0], 2),
        "quick": args.quick,
        "wall_clock_seconds": round(time.monotonic() - started, 1),
    }
    print()
    print(
        f"{os.cpu_count()} cores; 1-minute load average {load_start} at the start, "
        f"{results['settings']['load_average_end']} at the end"
    )
    print(table(results))
    for problem in results["problems"]:
        print(f"PROBLEM: {problem}")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    shown = args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output
    print(f"\nResults written to {shown}; logs in build/bench-stack/")
    return 1 if results["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
