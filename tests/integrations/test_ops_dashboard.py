"""Ops open /admin/ and see the health of every tenant's sync before the list of models:
one row per tenant (connection, jobs, what waits for someone, API usage), charts of the
last days with their numbers, in a number of queries that does not grow with the data."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from html.parser import HTMLParser

import factory
import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.dateformat import format as date_format

from integrations.models import SalesforceConnection, SyncAttempt, SyncJob
from portal.admin_site import OpsAdminSite
from tenants.models import Tenant
from tests.factories import (
    HighlightFactory,
    SalesforceConnectionFactory,
    SyncAttemptFactory,
    SyncJobFactory,
    TenantFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

State = SyncJob.State
HEALTH = "Sync health of every tenant"
OUTCOMES = "Jobs ended per hour, last 7 days"
API_CALLS = "Salesforce API calls per day, last 14 days"
ERROR_CODES = "Top Salesforce error codes, last 7 days"


# --- reading the page as a person does --------------------------------------------------


@dataclass
class Cell:
    text: str = ""
    links: list[str] = field(default_factory=list)


class _Tables(HTMLParser):
    """The page's tables by caption: rows of cells (text, links), headers left out."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[Cell]]] = {}
        self._caption: str | None = None
        self._rows: list[list[Cell]] = []
        self._cell: Cell | None = None
        self._in_head = False
        self._in_caption = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._caption, self._rows = None, []
        elif tag == "caption":
            self._caption, self._in_caption = "", True
        elif tag == "thead":
            self._in_head = True
        elif tag == "tr" and not self._in_head:
            self._rows.append([])
        elif tag in ("td", "th") and not self._in_head and self._rows:
            self._cell = Cell()
            self._rows[-1].append(self._cell)
        elif tag == "a" and self._cell is not None:
            self._cell.links.append(dict(attrs).get("href") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "table" and self._caption:
            self.tables[" ".join(self._caption.split())] = self._rows
            self._caption = None
        elif tag == "caption":
            self._in_caption = False
        elif tag == "thead":
            self._in_head = False
        elif tag in ("td", "th") and self._cell is not None:
            self._cell.text = " ".join(self._cell.text.split())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.text += data
        elif self._caption is not None and self._in_caption:
            self._caption += data


def tables_of(html: str) -> dict[str, list[list[Cell]]]:
    parser = _Tables()
    parser.feed(html)
    return parser.tables


def health_rows(client: Client) -> dict[str, list[Cell]]:
    """The tenants' rows, by tenant name, in the page's order."""
    response = client.get("/admin/")
    assert response.status_code == 200
    return {row[0].text: row for row in tables_of(response.content.decode())[HEALTH]}


COLUMNS = ["tenant", "connection", "jobs", "review", "failed", "due", "success", "api"]


def cell(row: list[Cell], column: str) -> Cell:
    return row[COLUMNS.index(column)]


# --- data -------------------------------------------------------------------------------


@pytest.fixture
def ops() -> Client:
    client = Client()
    client.force_login(UserFactory(username="ops", is_staff=True, is_superuser=True))
    return client


def jobs_make(
    tenant: Tenant,
    state: str,
    count: int = 1,
    *,
    created_ago: timedelta = timedelta(minutes=1),
    finished_ago: timedelta | None = None,
    next_attempt_at: datetime | None = None,
) -> list[SyncJob]:
    now = timezone.now()
    highlight = HighlightFactory(meeting__tenant=tenant)
    made = SyncJobFactory.create_batch(
        count,
        local_object=highlight,
        state=state,
        finished_at=now - finished_ago if finished_ago is not None else None,
        next_attempt_at=next_attempt_at,
        # One running job per key at a time: each its own key.
        lock_key=factory.Sequence(lambda n: f"dashboard:{n}"),
    )
    # created_at is set by the database on insert: moved back afterwards.
    SyncJob.objects.filter(pk__in=[job.pk for job in made]).update(created_at=now - created_ago)
    return made


def connected(name: str, **connection: object) -> Tenant:
    tenant = TenantFactory(name=name)
    SalesforceConnectionFactory(tenant=tenant, **connection)
    return tenant


# --- the tenants' rows ------------------------------------------------------------------


def test_each_tenant_says_its_connection_state_in_words_who_needs_attention_first(
    ops: Client,
) -> None:
    now = timezone.now()
    connected("Acme")
    connected(
        "Initech",
        status=SalesforceConnection.Status.NEEDS_REAUTH,
        status_reason="Salesforce refused the stored session: expired.",
    )
    connected("Globex", paused_until=now + timedelta(hours=2))
    connected("Hooli", paused_until=now - timedelta(minutes=5))
    connected("Umbrella", status=SalesforceConnection.Status.DISCONNECTED)
    TenantFactory(name="Vandelay")
    jobs_make(connected("Stark"), State.FAILED)

    rows = health_rows(ops)

    assert list(rows) == [
        "Initech",  # needs re-authorisation
        "Globex",  # paused
        "Stark",  # a failed job
        "Acme",
        "Hooli",
        "Umbrella",
        "Vandelay",
    ]
    states = {name: cell(row, "connection").text for name, row in rows.items()}
    assert states["Acme"] == "Connected"
    assert states["Initech"] == (
        "Needs re-authorisation Salesforce refused the stored session: expired."
    )
    paused_until = date_format(timezone.localtime(now + timedelta(hours=2)), "j M H:i T")
    assert states["Globex"] == (
        f"Paused until {paused_until} Salesforce's daily API limit was reached."
    )
    assert states["Hooli"] == "Connected"  # the pause is over
    assert states["Umbrella"] == "Disconnected"
    assert states["Vandelay"] == "Never connected"


def test_jobs_of_the_last_day_are_counted_by_state_dismissed_apart_from_failed(
    ops: Client,
) -> None:
    acme = connected("Acme")
    jobs_make(acme, State.SUCCEEDED, 3, finished_ago=timedelta(minutes=1))
    jobs_make(acme, State.PENDING)
    jobs_make(acme, State.FAILED)
    jobs_make(acme, State.DISMISSED, 2)
    jobs_make(acme, State.SUCCEEDED, 5, created_ago=timedelta(hours=25))
    connected("Globex")

    rows = health_rows(ops)

    assert cell(rows["Acme"], "jobs").text == "3 succeeded · 1 pending · 1 failed · 2 dismissed"
    assert cell(rows["Globex"], "jobs").text == "No jobs"


def test_needs_review_and_failed_link_to_that_tenants_jobs_in_that_state(ops: Client) -> None:
    acme, globex = connected("Acme"), connected("Globex")
    review = jobs_make(acme, State.NEEDS_REVIEW, 2, created_ago=timedelta(days=3))
    failed = jobs_make(acme, State.FAILED)
    jobs_make(acme, State.SUCCEEDED, 2)
    jobs_make(globex, State.NEEDS_REVIEW)
    jobs_make(globex, State.FAILED, 3)

    row = health_rows(ops)["Acme"]

    assert cell(row, "review").text == "2"
    assert cell(row, "failed").text == "1"
    for column, expected in (("review", review), ("failed", failed)):
        (link,) = cell(row, column).links
        listed = ops.get(link)
        assert listed.status_code == 200
        assert {job.pk for job in listed.context["cl"].result_list} == {job.pk for job in expected}


def test_oldest_due_job_says_how_long_it_has_waited_since_it_became_due(ops: Client) -> None:
    now = timezone.now()
    acme, globex, initech = connected("Acme"), connected("Globex"), connected("Initech")
    jobs_make(acme, State.PENDING, created_ago=timedelta(minutes=10, seconds=5))
    jobs_make(
        acme,
        State.PENDING,
        created_ago=timedelta(hours=5),
        next_attempt_at=now - timedelta(minutes=4),
    )
    jobs_make(globex, State.PENDING, next_attempt_at=now + timedelta(minutes=30))
    jobs_make(initech, State.PENDING, created_ago=timedelta(hours=2, minutes=5, seconds=5))

    rows = health_rows(ops)

    assert cell(rows["Acme"], "due").text == "10 min"
    assert cell(rows["Globex"], "due").text == "—"  # waiting for its retry time
    assert cell(rows["Initech"], "due").text == "2 h 5 min"


def test_last_successful_sync_is_the_latest_success_in_words(ops: Client) -> None:
    acme = connected("Acme")
    jobs_make(acme, State.SUCCEEDED, finished_ago=timedelta(hours=3, minutes=1))
    jobs_make(acme, State.SUCCEEDED, finished_ago=timedelta(days=2))
    jobs_make(acme, State.FAILED, finished_ago=timedelta(minutes=1))
    connected("Globex")

    rows = health_rows(ops)

    assert cell(rows["Acme"], "success").text == "3 hours ago"
    assert cell(rows["Globex"], "success").text == "Never"


def test_api_usage_shows_the_numbers_or_not_reported_yet(ops: Client) -> None:
    now = timezone.now()
    connected("Acme", api_usage_used=1204, api_usage_limit=15000, api_usage_at=now)
    connected("Globex", api_usage_used=13100, api_usage_limit=15000, api_usage_at=now)
    connected(
        "Initech",
        api_usage_used=900,
        api_usage_limit=15000,
        api_usage_at=now - timedelta(hours=25),
    )
    connected("Hooli")

    response = ops.get("/admin/")
    rows = {row[0].text: row for row in tables_of(response.content.decode())[HEALTH]}
    usage = {name: cell(row, "api").text for name, row in rows.items()}

    assert usage == {
        "Acme": "1,204 / 15,000 (8%)",
        "Globex": "13,100 / 15,000 (87%)",
        "Initech": "Not reported yet",  # older than Salesforce's 24 hours
        "Hooli": "Not reported yet",
    }
    warned = {row.name for row in response.context["ops_dashboard"].tenants if row.api_usage.warn}
    assert warned == {"Globex"}
    assert response.content.decode().count("ops-usage-warn") == 1


# --- charts -----------------------------------------------------------------------------


def test_charts_are_inline_svg_without_script_with_their_numbers_in_a_table(
    ops: Client,
) -> None:
    now = timezone.now()
    acme = connected("Acme")
    jobs_make(acme, State.SUCCEEDED, 3, finished_ago=timedelta(hours=2))
    jobs_make(acme, State.FAILED, finished_ago=timedelta(hours=2))
    jobs_make(acme, State.DISMISSED, finished_ago=timedelta(hours=2))
    jobs_make(acme, State.SUCCEEDED, finished_ago=timedelta(days=8))  # outside the week
    (job,) = jobs_make(acme, State.FAILED)
    for calls, code, ago in (
        (5, "REQUEST_LIMIT_EXCEEDED", timedelta(0)),
        (7, "REQUEST_LIMIT_EXCEEDED", timedelta(0)),
        (4, "REQUEST_LIMIT_EXCEEDED", timedelta(days=1)),
        (1, "<b>ODD</b>", timedelta(days=1)),
        (2, "", timedelta(days=1)),
        (9, "INVALID_SESSION_ID", timedelta(days=20)),
    ):
        SyncAttemptFactory(
            job=job, started_at=now - ago, api_calls=calls, salesforce_error_code=code
        )

    response = ops.get("/admin/")
    html = response.content.decode()
    tables = tables_of(html)

    hour = date_format(timezone.localtime(now - timedelta(hours=2)), "D j M H:00")
    assert [[c.text for c in row] for row in tables[OUTCOMES]] == [[hour, "3", "1", "0", "1", "0"]]
    today = date_format(timezone.localdate(now), "D j M")
    yesterday = date_format(timezone.localdate(now - timedelta(days=1)), "D j M")
    assert [[c.text for c in row] for row in tables[API_CALLS]] == [
        [yesterday, "7"],
        [today, "12"],
    ]
    assert [[c.text for c in row] for row in tables[ERROR_CODES]] == [
        ["REQUEST_LIMIT_EXCEEDED", "3"],
        ["<b>ODD</b>", "1"],
    ]
    assert html.count('class="pygal-chart"') == 3
    assert "<script" not in html.split('id="content"')[1]
    assert not re.search(r"(href|src)=\"https?://", html)
    assert "&lt;b&gt;ODD&lt;/b&gt;" in html  # the chart's label, escaped
    assert "<b>ODD" not in html


def test_charts_say_nothing_yet_without_data(ops: Client) -> None:
    connected("Acme")

    html = ops.get("/admin/").content.decode()

    assert html.count("Nothing yet") == 6  # in each chart and under it


# --- cost, access -----------------------------------------------------------------------


def _tenant_with_history(name: str, jobs_per_state: int) -> None:
    tenant = connected(name, api_usage_used=10, api_usage_limit=100, api_usage_at=timezone.now())
    for state in State:
        for job in jobs_make(
            tenant, state, jobs_per_state, finished_ago=timedelta(hours=len(name))
        ):
            SyncAttemptFactory(job=job, api_calls=2, salesforce_error_code=f"E_{state}")


def test_the_dashboard_costs_the_same_queries_for_2_tenants_and_for_12_with_more_jobs(
    ops: Client,
) -> None:
    for name in ("Acme", "Globex"):
        _tenant_with_history(name, 1)
    ops.get("/admin/")  # the session and content types are cached from here on
    with CaptureQueriesContext(connection) as small:
        assert ops.get("/admin/").status_code == 200

    for number in range(10):
        _tenant_with_history(f"Tenant {number:02}", 4)
    TenantFactory(name="Never connected")
    with CaptureQueriesContext(connection) as large:
        response = ops.get("/admin/")

    assert len(response.context["ops_dashboard"].tenants) == 13
    assert SyncJob.objects.count() == 2 * 7 + 10 * 7 * 4
    assert SyncAttempt.objects.count() == SyncJob.objects.count()
    assert len(large.captured_queries) == len(small.captured_queries)


def test_a_view_only_staff_user_sees_the_dashboard_and_follows_its_links() -> None:
    acme = connected("Acme")
    (failed,) = jobs_make(acme, State.FAILED)
    viewer = UserFactory(username="viewer", is_staff=True)
    viewer.user_permissions.set(
        Permission.objects.filter(codename__in=["view_syncjob", "view_tenant"])
    )
    client = Client()
    client.force_login(viewer)

    row = health_rows(client)["Acme"]
    listed = client.get(cell(row, "failed").links[0])

    assert cell(row, "failed").text == "1"
    assert [job.pk for job in listed.context["cl"].result_list] == [failed.pk]


def test_staff_who_may_not_read_sync_jobs_get_the_model_list_alone() -> None:
    connected("Acme")
    client = Client()
    client.force_login(UserFactory(username="support", is_staff=True))

    response = client.get("/admin/")

    assert response.status_code == 200
    assert "ops_dashboard" not in response.context
    assert HEALTH not in response.content.decode()


def test_the_admin_is_the_ops_site_with_every_model_still_registered(ops: Client) -> None:
    html = ops.get("/admin/").content.decode()

    assert isinstance(admin.site._wrapped, OpsAdminSite)  # type: ignore[attr-defined]
    assert {SyncJob, Tenant, SalesforceConnection} <= set(admin.site._registry)
    assert "Integration portal ops" in html
    assert "Health of every tenant&#x27;s sync" in html
    # The stock list of models stays, below the dashboard.
    assert html.index(HEALTH) < html.index('id="content-main"')
