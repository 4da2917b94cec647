"""Time of the admin index with the ops dashboard over 100 tenants and 1,000,000 sync
jobs, one attempt each, on PostgreSQL (`make bench-dashboard`, not a test).

    .venv/bin/python bench/dashboard.py [--tenants 100] [--jobs 1000000] [--days 30]
                                        [--renders 20] [--explain] [--reuse]

DATABASE_URL (default postgres://postgres@127.0.0.1:5432/portal_bench_dashboard) names
a database this script drops, creates and migrates (its name must contain "bench").
Tenants and their connections are made with the ORM; jobs and attempts with one
`INSERT ... SELECT generate_series` each, spread over the last --days days (the charts
read the last 7 and 14: a shorter spread puts more rows in their windows). Tenants differ
in size, connection state and API usage; about 90% of jobs succeeded, the rest failed,
need review, were dismissed or skipped, or are pending.

Then a superuser opens /admin/ --renders times (after one warm-up): prints the median and
p95 time, the number of queries and the slowest queries of one render (--explain: the
plan of each dashboard query). Results go to build/bench-dashboard.json; exits 1 when
the p95 is 1 s or more.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/portal_bench_dashboard"
RESULTS_FILE = ROOT / "build" / "bench-dashboard.json"
TARGET_SECONDS = 1.0

ERROR_CODES = [
    "REQUEST_LIMIT_EXCEEDED",
    "UNABLE_TO_LOCK_ROW",
    "INVALID_SESSION_ID",
    "FIELD_CUSTOM_VALIDATION_EXCEPTION",
    "ENTITY_IS_DELETED",
    "INSUFFICIENT_ACCESS_OR_READONLY",
    "DUPLICATES_DETECTED",
    "SERVER_UNAVAILABLE",
    "INVALID_FIELD",
    "STRING_TOO_LONG",
    "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY",
    "INVALID_CROSS_REFERENCE_KEY",
]


def database_recreate(url: str) -> None:
    """Drop and create the bench's database (never any other: its name must say so)."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if parts.scheme not in ("postgres", "postgresql") or "bench" not in name:
        raise SystemExit(
            f"refusing to drop {name!r}: the bench needs a PostgreSQL database of its own "
            "whose name contains 'bench'"
        )
    admin = urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def django_setup(database_url: str) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ["DATABASE_URL"] = database_url
    os.environ.pop("REDIS_URL", None)
    os.environ["Q_SYNC"] = "false"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["DJANGO_DEBUG"] = "false"  # DEBUG keeps every SQL statement in memory
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


# --- data --------------------------------------------------------------------------------


def tenants_seed(count: int) -> None:
    """Tenants with every connection state: most connected, some needing
    re-authorisation, paused, disconnected or never connected; API usage from low to
    past the warning."""
    from datetime import timedelta

    from django.utils import timezone

    from integrations.models import SalesforceConnection
    from tenants.models import Tenant

    now = timezone.now()
    tenants = Tenant.objects.bulk_create(
        Tenant(name=f"Tenant {i:03}", slug=f"tenant-{i:03}", internal_domains=[f"t{i}.test"])
        for i in range(1, count + 1)
    )
    status = SalesforceConnection.Status
    connections = []
    for i, tenant in enumerate(tenants, start=1):
        if i % 23 == 0:
            continue  # never connected
        limit = 15000 if i % 3 else 100000
        connections.append(
            SalesforceConnection(
                tenant=tenant,
                instance_url=f"https://t{i}.my.salesforce.com",
                status=(
                    status.NEEDS_REAUTH
                    if i % 10 == 0
                    else status.DISCONNECTED
                    if i % 17 == 0
                    else status.CONNECTED
                ),
                status_reason="Salesforce refused the stored session." if i % 10 == 0 else "",
                connected_at=now - timedelta(days=60),
                paused_until=now + timedelta(minutes=30) if i % 10 == 1 else None,
                api_usage_used=(i * 937) % limit,
                api_usage_limit=limit,
                api_usage_at=now - timedelta(minutes=i) if i % 7 else None,
            )
        )
    SalesforceConnection.objects.bulk_create(connections)


JOBS_SQL = """
INSERT INTO integrations_syncjob (
    tenant_id, operation, lock_key, content_type_id, object_id, params, state, reason,
    candidates, attempt_count, last_error_code, next_attempt_at, waiting_for,
    lease_expires_at, claim_token, dispatched_at, requested_by_id, dismissed_by_id,
    created_at, updated_at, finished_at
)
SELECT
    tenant_ids[1 + floor(pow(r_tenant, 2) * cardinality(tenant_ids))::int],
    'meeting.processed', 'meeting:' || g, %(content_type)s, g, '{}'::jsonb, state, '',
    '[]'::jsonb, 1,
    CASE WHEN state IN ('failed', 'needs_review')
         THEN (%(codes)s::text[])[1 + floor(r_code * r_code * %(code_count)s)::int]
         ELSE '' END,
    CASE WHEN state = 'pending' AND r_code < 0.5
         THEN now() + (r_code - 0.25) * interval '2 hours' END,
    '', NULL, NULL, NULL, NULL, NULL,
    created_at, created_at,
    CASE WHEN state <> 'pending' THEN created_at + r_code * interval '1 minute' END
FROM (
    SELECT
        g,
        random() AS r_tenant,
        random() AS r_code,
        now() - random() * %(days)s * interval '1 day' AS created_at,
        CASE
            WHEN r < 0.900 THEN 'succeeded'
            WHEN r < 0.920 THEN 'failed'
            WHEN r < 0.935 THEN 'needs_review'
            WHEN r < 0.945 THEN 'dismissed'
            WHEN r < 0.975 THEN 'skipped'
            ELSE 'pending'
        END AS state
    FROM (SELECT g, random() AS r FROM generate_series(1, %(jobs)s) AS g) AS numbers
) AS jobs,
(SELECT array_agg(id ORDER BY id) AS tenant_ids FROM tenants_tenant) AS tenants
-- Ids grow with time, as they do in production (and the time indexes fill in order).
ORDER BY created_at
"""

ATTEMPTS_SQL = """
INSERT INTO integrations_syncattempt (
    job_id, started_at, finished_at, outcome, salesforce_error_code, message, api_calls,
    duration_ms, salesforce_user_id
)
SELECT
    id, created_at + interval '1 second', created_at + interval '2 seconds',
    CASE state WHEN 'succeeded' THEN 'succeeded' WHEN 'skipped' THEN 'skipped'
               WHEN 'needs_review' THEN 'needs_review' WHEN 'pending' THEN 'retry'
               ELSE 'failed' END,
    last_error_code, '', 1 + id % 5, 200 + id % 800, ''
FROM integrations_syncjob
ORDER BY id
"""


def jobs_seed(*, jobs: int, days: int) -> None:
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection

    from meetings.models import Meeting

    content_type = ContentType.objects.get_for_model(Meeting).pk
    params = {
        "content_type": content_type,
        "codes": ERROR_CODES,
        "code_count": len(ERROR_CODES),
        "days": days,
        "jobs": jobs,
    }
    with connection.cursor() as cursor:
        cursor.execute(JOBS_SQL, params)
        cursor.execute(ATTEMPTS_SQL)
    # As autovacuum would have: planner statistics and the visibility map that lets
    # index-only scans skip the table.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE integrations_syncjob")
        cursor.execute("VACUUM ANALYZE integrations_syncattempt")


# --- measure -----------------------------------------------------------------------------


def _seeded_check(jobs: int) -> None:
    from integrations.models import SyncJob

    found = SyncJob.objects.count()
    if found != jobs:
        raise SystemExit(f"--reuse: the database holds {found:,} jobs, not {jobs:,}")
    print(f"reusing the seeded database ({found:,} jobs)", flush=True)


def renders_time(renders: int) -> tuple[list[float], list[dict[str, Any]]]:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    user, _ = get_user_model().objects.get_or_create(
        username="bench", defaults={"is_staff": True, "is_superuser": True}
    )
    client = Client()
    client.force_login(user)
    assert client.get("/admin/").status_code == 200  # warm-up: templates, content types
    seconds = []
    for _ in range(renders):
        started = time.perf_counter()
        response = client.get("/admin/")
        seconds.append(time.perf_counter() - started)
        assert response.status_code == 200
    with CaptureQueriesContext(connection) as captured:
        client.get("/admin/")
    return seconds, captured.captured_queries


def plans_print() -> None:
    """EXPLAIN ANALYZE of each query the dashboard makes (not the admin's own)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from integrations.dashboard.selectors import ops_dashboard

    with CaptureQueriesContext(connection) as captured:
        ops_dashboard()
    with connection.cursor() as cursor:
        for query in captured.captured_queries:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {query['sql']}")
            print("\n" + query["sql"][:300])
            print("\n".join(f"    {row[0]}" for row in cursor.fetchall()))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tenants", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--renders", type=int, default=20)
    parser.add_argument("--explain", action="store_true")
    parser.add_argument(
        "--reuse", action="store_true", help="measure the database an earlier run seeded"
    )
    args = parser.parse_args()

    database_url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    print(f"== ops dashboard on {database_url.split('@')[-1]}", flush=True)
    seed_seconds = 0.0
    if args.reuse:
        django_setup(database_url)
        _seeded_check(args.jobs)
    else:
        database_recreate(database_url)
        django_setup(database_url)
        started = time.perf_counter()
        tenants_seed(args.tenants)
        jobs_seed(jobs=args.jobs, days=args.days)
        seed_seconds = time.perf_counter() - started
        print(
            f"seeded {args.tenants} tenants, {args.jobs:,} jobs and as many attempts over "
            f"{args.days} days in {seed_seconds:.0f} s",
            flush=True,
        )

    seconds, queries = renders_time(args.renders)
    median = statistics.median(seconds)
    p95 = statistics.quantiles(seconds, n=20)[-1] if len(seconds) > 1 else seconds[0]
    print(
        f"/admin/ rendered {args.renders} times: median {median * 1000:.0f} ms, "
        f"p95 {p95 * 1000:.0f} ms, min {min(seconds) * 1000:.0f} ms, "
        f"max {max(seconds) * 1000:.0f} ms"
    )
    sql_ms = sum(float(query["time"]) for query in queries) * 1000
    print(f"queries per render: {len(queries)}, {sql_ms:.0f} ms in the database; slowest:")
    for query in sorted(queries, key=lambda q: -float(q["time"]))[:6]:
        print(f"  {float(query['time']) * 1000:7.1f} ms  {query['sql'][:110]}")
    if args.explain:
        plans_print()

    RESULTS_FILE.parent.mkdir(exist_ok=True)
    RESULTS_FILE.write_text(
        json.dumps(
            {
                "tenants": args.tenants,
                "jobs": args.jobs,
                "days": args.days,
                "seed_seconds": round(seed_seconds, 1),
                "renders": args.renders,
                "median_ms": round(median * 1000, 1),
                "p95_ms": round(p95 * 1000, 1),
                "queries": len(queries),
                "database_ms": round(sql_ms, 1),
            },
            indent=2,
        )
        + "\n"
    )
    passed = p95 < TARGET_SECONDS
    print("RESULT:", "PASS" if passed else f"FAIL (p95 is not under {TARGET_SECONDS:.0f} s)")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
