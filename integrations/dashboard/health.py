"""One tenant's row on the ops dashboard, and the words ops read in it.

The rows hold plain values read by `selectors`; the words are worked out here, once, so
the page and its tests read the same sentence."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from enum import IntEnum, StrEnum
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.timesince import timesince

from integrations.models import SalesforceConnection, SyncJob

# Jobs of the last day are summed by state; older ones are history.
JOBS_WINDOW = timedelta(hours=24)
# Salesforce counts API calls over a rolling 24 hours: an older report says nothing of
# today's usage.
API_USAGE_FRESH_FOR = timedelta(hours=24)
API_USAGE_WARN_PERCENT = 80


class ConnectionState(StrEnum):
    NEEDS_REAUTH = "needs_reauth"
    PAUSED = "paused"
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"
    NEVER_CONNECTED = "never_connected"


CONNECTION_STATE_WORDS = {
    ConnectionState.NEEDS_REAUTH: "Needs re-authorisation",
    ConnectionState.PAUSED: "Paused",
    ConnectionState.CONNECTED: "Connected",
    ConnectionState.DISCONNECTED: "Disconnected",
    ConnectionState.NEVER_CONNECTED: "Never connected",
}


class Attention(IntEnum):
    """Who ops look at first: the lower, the sooner."""

    REAUTH = 0
    PAUSED = 1
    FAILURES = 2
    NONE = 3


@dataclass(frozen=True)
class ConnectionHealth:
    state: ConnectionState
    # Why re-authorisation is needed, as the sync recorded it.
    reason: str = ""
    paused_until: datetime | None = None

    @classmethod
    def of(cls, connection: SalesforceConnection | None, *, now: datetime) -> ConnectionHealth:
        """A refused session outranks a pause: nothing runs until someone reconnects."""
        status = SalesforceConnection.Status
        if connection is None or (
            connection.status == status.DISCONNECTED and connection.connected_at is None
        ):
            return cls(ConnectionState.NEVER_CONNECTED)
        if connection.status == status.NEEDS_REAUTH:
            return cls(ConnectionState.NEEDS_REAUTH, reason=connection.status_reason)
        if connection.status == status.DISCONNECTED:
            return cls(ConnectionState.DISCONNECTED)
        if connection.paused_until is not None and connection.paused_until > now:
            return cls(ConnectionState.PAUSED, paused_until=connection.paused_until)
        return cls(ConnectionState.CONNECTED)

    @property
    def words(self) -> str:
        if self.state == ConnectionState.PAUSED and self.paused_until is not None:
            return f"Paused until {moment_words(self.paused_until)}"
        return CONNECTION_STATE_WORDS[self.state]

    @property
    def detail(self) -> str:
        """What explains the state, when something does."""
        if self.state == ConnectionState.PAUSED:
            # The sync pauses a tenant only when Salesforce answers REQUEST_LIMIT_EXCEEDED.
            return "Salesforce's daily API limit was reached."
        if self.state == ConnectionState.NEEDS_REAUTH:
            return self.reason
        return ""


@dataclass(frozen=True)
class JobCounts:
    """Jobs created in the last 24 hours, by state."""

    succeeded: int = 0
    pending: int = 0
    running: int = 0
    needs_review: int = 0
    failed: int = 0
    dismissed: int = 0
    skipped: int = 0

    @property
    def parts(self) -> list[str]:
        """The states that have jobs, each in words: "412 succeeded", "3 pending"."""
        return [
            f"{getattr(self, field.name):,} {SyncJob.State(field.name).label.lower()}"
            for field in fields(self)
            if getattr(self, field.name)
        ]

    @property
    def words(self) -> str:
        """E.g. "412 succeeded · 3 pending · 1 failed"."""
        return " · ".join(self.parts) or "No jobs"


@dataclass(frozen=True)
class ApiUsage:
    """The org's API calls over Salesforce's rolling 24 hours, as last reported."""

    used: int
    limit: int
    reported_at: datetime | None
    now: datetime

    @property
    def reported(self) -> bool:
        return (
            self.reported_at is not None
            and self.limit > 0
            and self.now - self.reported_at <= API_USAGE_FRESH_FOR
        )

    @property
    def percent(self) -> int:
        return round(self.used * 100 / self.limit) if self.limit else 0

    @property
    def bar_percent(self) -> int:
        """The bar's width: an org may go past its limit, the bar stops at full."""
        return min(self.percent, 100)

    @property
    def warn(self) -> bool:
        return self.percent > API_USAGE_WARN_PERCENT

    @property
    def words(self) -> str:
        if not self.reported:
            return "Not reported yet"
        return f"{self.used:,} / {self.limit:,} ({self.percent}%)"


@dataclass(frozen=True)
class TenantHealth:
    tenant_id: int
    name: str
    connection: ConnectionHealth
    jobs_last_day: JobCounts
    # All jobs in these states, whenever created: they stay there until someone acts.
    needs_review: int
    failed: int
    # When the pending job that is due and waited longest became due.
    oldest_due_since: datetime | None
    last_success_at: datetime | None
    api_usage: ApiUsage
    now: datetime

    @property
    def attention(self) -> Attention:
        if self.connection.state == ConnectionState.NEEDS_REAUTH:
            return Attention.REAUTH
        if self.connection.state == ConnectionState.PAUSED:
            return Attention.PAUSED
        if self.failed or self.needs_review:
            return Attention.FAILURES
        return Attention.NONE

    @property
    def oldest_due_words(self) -> str:
        if self.oldest_due_since is None:
            return "—"
        return duration_words(self.now - self.oldest_due_since)

    @property
    def last_success_words(self) -> str:
        if self.last_success_at is None:
            return "Never"
        if self.now - self.last_success_at < timedelta(minutes=1):
            return "Just now"
        return f"{timesince(self.last_success_at, self.now, depth=1)} ago"

    @property
    def jobs_url(self) -> str:
        return sync_job_list_url(tenant_id=self.tenant_id)

    @property
    def needs_review_url(self) -> str:
        return sync_job_list_url(tenant_id=self.tenant_id, state=SyncJob.State.NEEDS_REVIEW)

    @property
    def failed_url(self) -> str:
        return sync_job_list_url(tenant_id=self.tenant_id, state=SyncJob.State.FAILED)


def sync_job_list_url(*, tenant_id: int, state: SyncJob.State | None = None) -> str:
    """The admin's job list, filtered by tenant (and state) through its own filters."""
    params: dict[str, str | int] = {"tenant__id__exact": tenant_id}
    if state is not None:
        params["state__exact"] = state.value
    return f"{reverse('admin:integrations_syncjob_changelist')}?{urlencode(params)}"


def duration_words(delta: timedelta) -> str:
    """A wait in ops' shorthand: "under 1 min", "4 min", "2 h 5 min", "3 days 4 h"."""
    minutes = max(int(delta.total_seconds() // 60), 0)
    if minutes < 1:
        return "under 1 min"
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        day_words = f"{days} day" if days == 1 else f"{days} days"
        return f"{day_words} {hours} h" if hours else day_words
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min"


def moment_words(moment: datetime) -> str:
    """A time in the portal's time zone, with its day: "30 Nov 14:32 UTC"."""
    return date_format(timezone.localtime(moment), "j M H:i T")
