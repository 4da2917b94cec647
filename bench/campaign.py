"""The fault campaign at scale (`make campaign`, not a test): the harness of
`tests/sync/test_campaign.py` at 1,000 operations on PostgreSQL + Redis, with two
worker clusters (`manage.py sync_worker`), three SIGKILLs of a whole cluster, about one
Salesforce request in five failing and an API-limit episode.

    .venv/bin/python bench/campaign.py [--operations 1000] [--seed N] [--clusters 2]
                                       [--kills 3] [--chaos-rate 0.2]

DATABASE_URL (default postgres://postgres@127.0.0.1:5432/portal_campaign) names a
database this script drops, creates and migrates; REDIS_URL (default
redis://127.0.0.1:6379/14) is the broker, purged before and after. The emulator runs
in this process. Prints each invariant (violations, PASS/FAIL) and the totals, writes
the numbered operations to build/campaign-<seed>.log, and exits 1 when an invariant
fails. CAMPAIGN_SEED sets the seed too.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/portal_campaign"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"


def database_recreate(url: str) -> None:
    """Drop and create the campaign's database (never any other: its name must say so)."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if parts.scheme not in ("postgres", "postgresql") or "campaign" not in name:
        raise SystemExit(
            f"refusing to drop {name!r}: the campaign needs a PostgreSQL database of its own "
            "whose name contains 'campaign'"
        )
    admin = urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def django_setup(database_url: str, redis_url: str) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ["DATABASE_URL"] = database_url
    os.environ["REDIS_URL"] = redis_url
    os.environ["Q_SYNC"] = "false"
    os.environ.setdefault("LOG_LEVEL", "WARNING")  # the engine logs every job at INFO
    os.environ["DJANGO_DEBUG"] = "false"  # DEBUG keeps every SQL statement in memory
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--operations", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--clusters", type=int, default=2)
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--chaos-rate", type=float, default=0.2)
    parser.add_argument(
        "--op-seconds", type=float, default=None, help="seconds the operations are spread over"
    )
    parser.add_argument("--drain-seconds", type=float, default=180.0)
    parser.add_argument("--verbose", action="store_true", help="print each operation")
    args = parser.parse_args()

    database_url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    redis_url = os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL
    started = time.monotonic()
    print(f"== fault campaign on {database_url.split('@')[-1]} with broker {redis_url}")
    database_recreate(database_url)
    django_setup(database_url, redis_url)

    from django.conf import settings

    from integrations.checks import sync_timeouts_check
    from salesforce_emulator.testing import EmulatorServer
    from tenants.models import Tenant
    from tests.sync.campaign import (
        CampaignConfig,
        campaign_kinds,
        campaign_run,
        campaign_seed,
        integration_service,
        settings_apply,
    )

    seed = args.seed if args.seed is not None else campaign_seed()
    build = ROOT / "build"
    build.mkdir(exist_ok=True)
    config = CampaignConfig(
        seed=seed,
        operations=args.operations,
        mode="workers",
        clusters=args.clusters,
        kills=args.kills,
        chaos_rate=args.chaos_rate,
        kinds=campaign_kinds(),
        op_seconds=args.op_seconds if args.op_seconds is not None else args.operations * 0.15,
        drain_seconds=args.drain_seconds,
        # Other clusters are alive: a killed cluster's jobs come back when their lease
        # passes, through the sweepers of the clusters still running.
        force_lease_expiry=args.clusters == 1,
        log_dir=build,
        database_url=database_url,
        verbose=args.verbose,
    )
    settings_apply(settings, config)
    problems = sync_timeouts_check()
    if problems:
        print("the campaign's settings fail the config check:", *problems, sep="\n")
        return 2

    with EmulatorServer.start(host="127.0.0.1", port=0) as server:
        org = server.create_org(name="Fault campaign")
        settings.SALESFORCE_CA_FILE = server.ca_file
        settings.SALESFORCE_LOGIN_URL = server.base_url
        settings.SALESFORCE_CLIENT_ID = f"portal-{org.id}"
        settings.SALESFORCE_CLIENT_SECRET = "connected-app-secret"
        org.add_connected_app(
            settings.SALESFORCE_CLIENT_ID, "connected-app-secret", "http://127.0.0.1/cb/"
        )
        tenant = Tenant.objects.create(name="Acme", slug="acme", internal_domains=["acme.test"])
        integration_service("salesforce_connection_connect")(
            tenant=tenant,
            instance_url=org.instance_url,
            access_token=org.access_token,
            refresh_token=org.refresh_token,
        )
        print(
            f"seed {seed}: {config.operations} operations over ~{config.op_seconds:.0f} s, "
            f"{config.clusters} clusters, {config.kills} SIGKILLs, chaos "
            f"{config.chaos_rate:.0%} ({', '.join(config.kinds)}), HTTP timeout "
            f"{config.http_timeout} s, slow {config.slow_ms} ms",
            flush=True,
        )
        report = campaign_run(config, tenant=tenant, org=org)

    log_file = build / f"campaign-{seed}.log"
    log_file.write_text(report.failure_message() + "\n")
    print()
    print(report.table())
    print("\nTotals:")
    print(report.totals_text())
    print(f"  wall clock: {time.monotonic() - started:.0f} s")
    if not report.passed:
        print("\nViolations:")
        print(report.details())
        if report.forensics:
            print("\nHistory of the objects involved:")
            print(report.forensics)
    print(f"\nOperations and details: {log_file.relative_to(ROOT)}")
    print("RESULT:", "PASS" if report.passed else "FAIL")
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(main())
