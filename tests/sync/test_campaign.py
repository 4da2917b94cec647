"""THE FAULT CAMPAIGN (SPEC 4): a seeded random run of a few hundred changes made through
the portal's services (meetings with highlights, calls and conferences, scheduler
bookings) while the Salesforce emulator fails about one request in five (503s, locked
rows, answers lost after the write, answers slower than the client waits, expired
sessions) and the org's daily API limit runs out for a while. After a drain, Salesforce
must hold exactly the local state: nothing doubled, nothing lost, no orphan, no job stuck
and none failed for a fault.

- SQLite pass (ORM broker): jobs run inline as each change commits; now and then time
  passes (retries come due, the sweeper runs).
- PostgreSQL + Redis pass: a real `manage.py sync_worker` runs the jobs and is SIGKILLed
  (its whole process group) three times during the run, then started again.

The seed comes from CAMPAIGN_SEED (a fixed default otherwise) and drives both the
operations and the emulator's chaos; a failure prints the seed, the invariant table and
the numbered operations to replay (CAMPAIGN_REPORT=<file> writes all of it, pass or fail).
CAMPAIGN_OPERATIONS changes the number of operations; CAMPAIGN_KINDS (comma-separated)
the kinds of failure.
`make campaign` runs the same harness at 1,000 operations with two worker clusters.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.db import connection

from integrations.checks import sync_timeouts_check
from salesforce_emulator.testing import OrgHandle
from tests.conftest import Partner
from tests.sync.campaign import (
    CampaignConfig,
    campaign_kinds,
    campaign_run,
    campaign_seed,
    settings_apply,
)

pytestmark = pytest.mark.django_db(transaction=True)


def campaign_config(seed: int, log_dir: Path) -> CampaignConfig:
    workers = connection.vendor != "sqlite"
    default_operations = 240 if workers else 220
    return CampaignConfig(
        seed=seed,
        operations=int(os.environ.get("CAMPAIGN_OPERATIONS") or default_operations),
        mode="workers" if workers else "inline",
        clusters=1,
        kills=3 if workers else 0,
        op_seconds=38.0,
        # The whole test stays near a minute on a small machine; the cap only stops the
        # operations early on a machine far slower than expected (the log says so).
        max_op_seconds=55.0,
        drain_seconds=25.0,
        kinds=campaign_kinds(),
        log_dir=log_dir,
    )


def test_randomized_fault_campaign_keeps_salesforce_exactly_in_step(
    partner: Partner, sf: OrgHandle, settings: pytest.FixtureRequest, tmp_path: Path
) -> None:
    config = campaign_config(campaign_seed(), tmp_path)
    settings_apply(settings, config)
    assert sync_timeouts_check() == [], "the campaign's timeouts must pass the config check"

    report = campaign_run(config, tenant=partner.tenant, org=sf)

    print(f"\nfault campaign, seed {report.seed}, {connection.vendor}:\n{report.table()}")
    print(report.totals_text())
    if os.environ.get("CAMPAIGN_REPORT"):
        Path(os.environ["CAMPAIGN_REPORT"]).write_text(report.text() + "\n")
    assert report.passed, report.failure_message()
