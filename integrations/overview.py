"""What a tenant's overview shows: the jobs waiting for a person, the connection's
state (connected, paused, to reconnect), a backlog's progress, the last successful sync
and the API calls used today.

Reads only. The connection's state and the API usage are worked out as on the ops
dashboard (`integrations.dashboard.health`), so both say the same thing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Max, Min, Q
from django.utils import timezone

from integrations.dashboard.health import ApiUsage, ConnectionHealth, ConnectionState
from integrations.models import SalesforceConnection, SyncJob
from tenants.models import Tenant

State = SyncJob.State

# The rate of a backlog is measured over the last few minutes: recent enough to follow
# a pause or a slowdown, long enough not to swing with each batch.
RATE_WINDOW = timedelta(minutes=5)


@dataclass(frozen=True)
class Backlog:
    """The jobs created since the oldest open job (or since `started_at` given by the
    page that follows the backlog): how many there are and how many are done."""

    started_at: datetime
    total: int
    done: int
    # Jobs finished per minute over the last few minutes; None before any finished.
    rate_per_minute: float | None
    now: datetime

    @property
    def remaining(self) -> int:
        return self.total - self.done

    @property
    def finished(self) -> bool:
        return self.remaining == 0

    @property
    def percent(self) -> int:
        return 100 if not self.total else self.done * 100 // self.total

    @property
    def expected_end(self) -> datetime | None:
        """When the open jobs are done at the current rate; None without a rate."""
        if self.finished or not self.rate_per_minute:
            return None
        return self.now + timedelta(minutes=self.remaining / self.rate_per_minute)


@dataclass(frozen=True)
class Overview:
    needs_review: int
    failed: int
    connection: ConnectionHealth
    backlog: Backlog | None
    last_success_at: datetime | None
    api_usage: ApiUsage
    now: datetime

    @property
    def paused(self) -> bool:
        return self.connection.state == ConnectionState.PAUSED

    @property
    def needs_reconnect(self) -> bool:
        return self.connection.state == ConnectionState.NEEDS_REAUTH

    @property
    def connected(self) -> bool:
        """Salesforce holds a working session (possibly paused by the API limit)."""
        return self.connection.state in (ConnectionState.CONNECTED, ConnectionState.PAUSED)


def tenant_overview(
    *,
    tenant: Tenant,
    connection: SalesforceConnection | None,
    backlog_since: datetime | None = None,
    now: datetime | None = None,
) -> Overview:
    """`backlog_since`: the start of the backlog the page follows (see `backlog_progress`)."""
    now = now or timezone.now()
    counts = SyncJob.objects.filter(tenant=tenant).aggregate(
        needs_review=Count("pk", filter=Q(state=State.NEEDS_REVIEW)),
        failed=Count("pk", filter=Q(state=State.FAILED)),
        last_success_at=Max("finished_at", filter=Q(state=State.SUCCEEDED)),
    )
    return Overview(
        needs_review=counts["needs_review"],
        failed=counts["failed"],
        connection=ConnectionHealth.of(connection, now=now),
        backlog=backlog_progress(tenant=tenant, since=backlog_since, now=now),
        last_success_at=counts["last_success_at"],
        api_usage=api_usage_of(connection, now=now),
        now=now,
    )


def connection_health(
    connection: SalesforceConnection | None, *, now: datetime | None = None
) -> ConnectionHealth:
    """Connected, paused by the API limit, to reconnect, disconnected or never connected."""
    return ConnectionHealth.of(connection, now=now or timezone.now())


def api_usage_of(connection: SalesforceConnection | None, *, now: datetime) -> ApiUsage:
    if connection is None:
        return ApiUsage(used=0, limit=0, reported_at=None, now=now)
    return ApiUsage(
        used=connection.api_usage_used,
        limit=connection.api_usage_limit,
        reported_at=connection.api_usage_at,
        now=now,
    )


def backlog_progress(
    *, tenant: Tenant, since: datetime | None = None, now: datetime | None = None
) -> Backlog | None:
    """The backlog's progress, or None when no job is open and none was followed.

    1. The backlog starts at `since` (the start the page followed so far, so its total
       does not shrink when the oldest jobs finish) or else at the oldest open job that
       is not held by the API limit or a lost connection.
    2. Its total is every job created since then, and done is those no longer open.
    3. The rate counts the jobs of the backlog finished over the last few minutes (or
       since the start, when that is nearer), per minute.
    """
    now = now or timezone.now()
    jobs = SyncJob.objects.filter(tenant=tenant)
    if since is None:
        # Jobs held by the API limit or a connection to restore are not work under way:
        # the banner above says what they wait for, and no bar follows them.
        moving = jobs.filter(state__in=SyncJob.OPEN_STATES).exclude(
            waiting_for__in=[SyncJob.Wait.API_LIMIT, SyncJob.Wait.CONNECTION]
        )
        since = moving.aggregate(at=Min("created_at"))["at"]
        if since is None:
            return None
    window_start = max(since, now - RATE_WINDOW)
    counts = jobs.filter(created_at__gte=since).aggregate(
        total=Count("pk"),
        open=Count("pk", filter=Q(state__in=SyncJob.OPEN_STATES)),
        recent=Count(
            "pk", filter=Q(finished_at__gte=window_start) & ~Q(state__in=SyncJob.OPEN_STATES)
        ),
    )
    minutes = (now - window_start).total_seconds() / 60
    rate = counts["recent"] / minutes if counts["recent"] and minutes > 0 else None
    return Backlog(
        started_at=since,
        total=counts["total"],
        done=counts["total"] - counts["open"],
        rate_per_minute=rate,
        now=now,
    )
