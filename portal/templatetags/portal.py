"""Template helpers every tenant page uses: `{% load portal %}`.

- `{{ value|local_time }}`: a moment in the tenant's timezone with its abbreviation,
  "30 Nov 2026, 14:05 CET" (`tenant_page` activates the tenant's zone for the request).
- `{{ value|local_date }}`: the day alone, "30 Nov 2026".
- `{{ number|thousands }}`: "14,990".
- `{% tenant_nav %}`: the navigation bar of the tenant pages, current page marked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django import template
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format

from tenants.models import Membership

register = template.Library()

# "T" is the zone's abbreviation (CET, EDT, UTC), or its offset where it has none (+04).
TIME_FORMAT = "j M Y, H:i T"
DATE_FORMAT = "j M Y"


@register.filter
def local_time(value: datetime | None) -> str:
    """A moment as people read it, in the active (the tenant's) timezone."""
    if value is None:
        return ""
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return date_format(value, TIME_FORMAT)


@register.filter
def local_date(value: datetime | date | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    return date_format(value, DATE_FORMAT)


@register.filter
def thousands(value: int | None) -> str:
    return "" if value is None else f"{value:,}"


@dataclass(frozen=True)
class NavEntry:
    label: str
    url: str
    current: bool


# (label, URL name, other URL names whose pages belong to the same entry, admins only).
# A page under an entry's address (a meeting under Meetings) belongs to it as well.
NAV = (
    ("Overview", "portal:home", (), False),
    ("Meetings", "integrations:meetings", (), False),
    ("Calls", "integrations:calls", (), False),
    ("Bookings", "integrations:bookings", (), False),
    ("Sync log", "integrations:sync-log", (), False),
    ("Settings", "integrations:settings", ("integrations:salesforce-disconnect",), False),
    ("API & webhooks", "tenants:api", (), True),
)


def _url(name: str) -> str:
    """The page's address; empty while the page does not exist (its entry is hidden)."""
    try:
        return reverse(name)
    except NoReverseMatch:
        return ""


def _belongs(path: str, url: str) -> bool:
    # The overview is "/", under which every page lies: only itself counts.
    return path == url if url == "/" else path.startswith(url)


def nav_entries(request: HttpRequest) -> list[NavEntry]:
    membership: Membership | None = getattr(request, "membership", None)
    is_admin = membership is not None and membership.role == Membership.Role.ADMIN
    found: list[tuple[str, str, bool]] = []
    for label, name, also, admins_only in NAV:
        url = _url(name)
        if not url or (admins_only and not is_admin):
            continue
        urls = [url, *(u for u in map(_url, also) if u)]
        found.append((label, url, any(_belongs(request.path, u) for u in urls)))
    # The longest matching address wins, should two entries both match.
    current = max((url for _, url, hit in found if hit), key=len, default=None)
    return [NavEntry(label, url, url == current) for label, url, _ in found]


@register.inclusion_tag("portal/_nav.html", takes_context=True)
def tenant_nav(context: template.Context) -> dict[str, Any]:
    request: HttpRequest = context["request"]
    return {"entries": nav_entries(request), "request": request}
