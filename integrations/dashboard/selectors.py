"""Reads for the ops dashboard, across every tenant (ops look after them all).

Every number is aggregated by the database, one query per kind of number over an index
(migrations 0007 and 0008), so the page costs the same queries for 2 tenants as for 1,000
and for a hundred jobs as for millions. Nothing here loops over jobs.

Counts count a column of the index the query reads (`Count("state")`, never the id):
PostgreSQL then answers from the index alone, without visiting the table."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

from django.db.models import Count, DateField, Min, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce, TruncHour
from django.utils import timezone
from django.utils.dateformat import format as date_format

from integrations.dashboard.health import (
    JOBS_WINDOW,
    ApiUsage,
    ConnectionHealth,
    JobCounts,
    TenantHealth,
)
from integrations.models import SyncAttempt, SyncJob
from tenants.models import Tenant

OUTCOME_HOURS = 7 * 24
API_CALL_DAYS = 14
ERROR_CODE_WINDOW = timedelta(days=7)
TOP_ERROR_CODES = 10

# The ends a job reaches, in the order the outcome chart stacks them.
OUTCOMES = (
    SyncJob.State.SUCCEEDED,
    SyncJob.State.FAILED,
    SyncJob.State.NEEDS_REVIEW,
    SyncJob.State.DISMISSED,
    SyncJob.State.SKIPPED,
)


class ChartKind(StrEnum):
    STACKED_BARS = "stacked_bars"
    BARS = "bars"
    HORIZONTAL_BARS = "horizontal_bars"


@dataclass(frozen=True)
class Series:
    name: str
    values: tuple[int, ...]


@dataclass(frozen=True)
class ChartSeries:
    """What one chart shows, label by label; the same numbers make its table."""

    title: str
    kind: ChartKind
    # The heading of the labels' column in the table ("Hour", "Day", "Error code").
    label_heading: str
    labels: tuple[str, ...]
    series: tuple[Series, ...]
    # The labels written along the axis when there are too many for all (the table
    # always lists every label that has a number).
    axis_labels: tuple[str, ...] = ()

    @property
    def rows(self) -> list[tuple[str, tuple[str, ...]]]:
        """The table: one row per label with any number other than zero, the numbers
        written as people read them ("1,204")."""
        columns = zip(*(serie.values for serie in self.series), strict=True)
        return [
            (label, tuple(f"{value:,}" for value in values))
            for label, values in zip(self.labels, columns, strict=True)
            if any(values)
        ]

    @property
    def total(self) -> int:
        return sum(sum(serie.values) for serie in self.series)


@dataclass(frozen=True)
class OpsDashboard:
    now: datetime
    tenants: list[TenantHealth]
    charts: tuple[ChartSeries, ...]


def ops_dashboard(*, now: datetime | None = None) -> OpsDashboard:
    now = now or timezone.now()
    return OpsDashboard(
        now=now,
        tenants=tenant_health_list(now=now),
        charts=(
            job_outcomes_per_hour(now=now),
            api_calls_per_day(now=now),
            top_error_codes(now=now),
        ),
    )


# --- tenants ------------------------------------------------------------------------


@dataclass(frozen=True)
class _OpenWork:
    needs_review: int = 0
    failed: int = 0
    oldest_due_since: datetime | None = None


def tenant_health_list(*, now: datetime) -> list[TenantHealth]:
    """Every tenant, who needs attention first (re-authorisation, paused, failures),
    then by name. Three queries whatever the number of tenants."""
    # The newest success per tenant is one index lookup each on (tenant, state,
    # finished_at), made inside the tenants' query.
    last_success = (
        SyncJob.objects.filter(
            tenant=OuterRef("pk"), state=SyncJob.State.SUCCEEDED, finished_at__isnull=False
        )
        .order_by("-finished_at")
        .values("finished_at")[:1]
    )
    tenants = Tenant.objects.select_related("salesforce_connection").annotate(
        last_success_at=Subquery(last_success)
    )
    jobs = _jobs_last_day(now=now)
    open_work = _open_work(now=now)
    rows = [
        _tenant_health(
            tenant,
            last_success_at=tenant.last_success_at,
            jobs=jobs.get(tenant.pk, JobCounts()),
            work=open_work.get(tenant.pk, _OpenWork()),
            now=now,
        )
        for tenant in tenants
    ]
    return sorted(rows, key=lambda row: (row.attention, row.name.casefold(), row.tenant_id))


def _tenant_health(
    tenant: Tenant,
    *,
    last_success_at: datetime | None,
    jobs: JobCounts,
    work: _OpenWork,
    now: datetime,
) -> TenantHealth:
    # A tenant that never connected has no connection row (select_related cached None).
    connection = getattr(tenant, "salesforce_connection", None)
    return TenantHealth(
        tenant_id=tenant.pk,
        name=tenant.name,
        connection=ConnectionHealth.of(connection, now=now),
        jobs_last_day=jobs,
        needs_review=work.needs_review,
        failed=work.failed,
        oldest_due_since=work.oldest_due_since,
        last_success_at=last_success_at,
        api_usage=ApiUsage(
            used=connection.api_usage_used if connection else 0,
            limit=connection.api_usage_limit if connection else 0,
            reported_at=connection.api_usage_at if connection else None,
            now=now,
        ),
        now=now,
    )


def _jobs_last_day(*, now: datetime) -> dict[int, JobCounts]:
    """Jobs created in the last 24 hours per tenant and state: read from the index on
    (created_at, tenant, state) alone."""
    per_state = {
        field.name: Count("state", filter=Q(state=SyncJob.State(field.name)))
        for field in fields(JobCounts)
    }
    rows = (
        SyncJob.objects.filter(created_at__gte=now - JOBS_WINDOW)
        .values("tenant_id")
        .annotate(**per_state)
        .order_by()
        .values_list("tenant_id", *per_state)
    )
    # The counts come in the order of JobCounts' fields.
    return {tenant_id: JobCounts(*counts) for tenant_id, *counts in rows}


def _open_work(*, now: datetime) -> dict[int, _OpenWork]:
    """Per tenant: jobs waiting for a person (needs review, failed, at any age) and the
    due pending job that has waited longest, since it became due."""
    due = Q(state=SyncJob.State.PENDING) & (
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    )
    # Exactly the states of the partial index on waiting jobs, so the database reads that
    # index alone; which pending jobs are due is sorted out in the aggregates.
    waiting = [SyncJob.State.PENDING, SyncJob.State.NEEDS_REVIEW, SyncJob.State.FAILED]
    rows = (
        SyncJob.objects.filter(state__in=waiting)
        .values("tenant_id")
        .annotate(
            needs_review=Count("state", filter=Q(state=SyncJob.State.NEEDS_REVIEW)),
            failed=Count("state", filter=Q(state=SyncJob.State.FAILED)),
            oldest_due_since=Min(Coalesce("next_attempt_at", "created_at"), filter=due),
        )
        .order_by()
    )
    return {
        row["tenant_id"]: _OpenWork(
            needs_review=row["needs_review"],
            failed=row["failed"],
            oldest_due_since=row["oldest_due_since"],
        )
        for row in rows
    }


# --- charts -------------------------------------------------------------------------


def job_outcomes_per_hour(*, now: datetime) -> ChartSeries:
    """Jobs that ended in each of the last 168 hours (the current one included), by
    how they ended. Hours are cut in UTC and named in the portal's time zone."""
    last_hour = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    hours = [last_hour - timedelta(hours=back) for back in reversed(range(OUTCOME_HOURS))]
    rows = (
        SyncJob.objects.filter(finished_at__gte=hours[0], state__in=OUTCOMES)
        .annotate(hour=TruncHour("finished_at", tzinfo=UTC))
        .values("hour", "state")
        .annotate(jobs=Count("state"))
        .order_by()
    )
    counts = {(row["hour"], row["state"]): row["jobs"] for row in rows}
    labels = tuple(_hour_words(hour) for hour in hours)
    return ChartSeries(
        title="Jobs ended per hour, last 7 days",
        kind=ChartKind.STACKED_BARS,
        label_heading="Hour",
        labels=labels,
        series=tuple(
            Series(state.label, tuple(counts.get((hour, state.value), 0) for hour in hours))
            for state in OUTCOMES
        ),
        # One label a day, at local midnight.
        axis_labels=tuple(
            label
            for hour, label in zip(hours, labels, strict=True)
            if timezone.localtime(hour).hour == 0
        ),
    )


def api_calls_per_day(*, now: datetime) -> ChartSeries:
    """Salesforce API calls the sync made per day (by when each attempt started) over the
    last 14 days, today included, days in the portal's time zone.

    One sum per day over its own range of the covering index on (started_at, api_calls),
    the fourteen joined with UNION ALL: about three times faster on PostgreSQL than
    grouping every attempt by its day (no per-row date, no hash of half a million rows)."""
    today = timezone.localdate(now)
    days = [today - timedelta(days=back) for back in reversed(range(API_CALL_DAYS))]
    per_day = [
        SyncAttempt.objects.filter(
            started_at__gte=_day_start(day), started_at__lt=_day_start(day + timedelta(days=1))
        )
        .order_by()
        .values(day=Value(day, output_field=DateField()))
        .annotate(calls=Sum("api_calls"))
        for day in days
    ]
    rows = per_day[0].union(*per_day[1:], all=True)
    calls: dict[date, int] = {row["day"]: row["calls"] or 0 for row in rows}
    labels = tuple(_day_words(day) for day in days)
    return ChartSeries(
        title="Salesforce API calls per day, last 14 days",
        kind=ChartKind.BARS,
        label_heading="Day",
        labels=labels,
        series=(Series("API calls", tuple(calls.get(day, 0) for day in days)),),
        # Every third day, today included: fourteen dates do not fit side by side on a
        # phone.
        axis_labels=labels[::-3],
    )


def top_error_codes(*, now: datetime) -> ChartSeries:
    """The Salesforce error codes attempts met most often over the last 7 days."""
    rows = (
        SyncAttempt.objects.filter(started_at__gte=now - ERROR_CODE_WINDOW)
        .exclude(salesforce_error_code="")
        .values("salesforce_error_code")
        .annotate(attempts=Count("salesforce_error_code"))
        .order_by("-attempts", "salesforce_error_code")[:TOP_ERROR_CODES]
    )
    top = [(row["salesforce_error_code"], row["attempts"]) for row in rows]
    return ChartSeries(
        title="Top Salesforce error codes, last 7 days",
        kind=ChartKind.HORIZONTAL_BARS,
        label_heading="Error code",
        labels=tuple(code for code, _ in top),
        series=(Series("Attempts", tuple(attempts for _, attempts in top)),),
    )


def _hour_words(hour: datetime) -> str:
    return date_format(timezone.localtime(hour), "D j M H:00")


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _day_words(day: date) -> str:
    return date_format(day, "D j M")
