"""Tenant pages that show several apps' data side by side."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.utils.dateparse import parse_datetime

from integrations.overview import tenant_overview
from integrations.selectors import salesforce_connection_for_tenant
from meetings.selectors import meeting_list
from tenants.access import TenantRequest, tenant_page

# The overview shows the newest meetings only: the Meetings page lists them all.
LATEST_MEETINGS = 5


@tenant_page()
def home(request: TenantRequest) -> HttpResponse:
    tenant = request.membership.tenant
    connection = salesforce_connection_for_tenant(tenant=tenant)
    context = {
        "tenant": tenant,
        "membership": request.membership,
        "connection": connection,
        "overview": tenant_overview(tenant=tenant, connection=connection),
        "meetings": meeting_list(tenant=tenant)[:LATEST_MEETINGS],
    }
    return render(request, "portal/home.html", context)


@tenant_page()
def overview_live(request: TenantRequest) -> HttpResponse:
    """The overview's counts and backlog alone: the page polls them while a backlog runs,
    from the start it first showed (`since`), so the total holds as the oldest jobs
    finish."""
    try:
        since = parse_datetime(request.GET.get("since", ""))
    except ValueError:  # well formed, but no such moment (a 13th month)
        since = None
    if since is not None and since.tzinfo is None:
        since = None
    tenant = request.membership.tenant
    connection = salesforce_connection_for_tenant(tenant=tenant)
    overview = tenant_overview(tenant=tenant, connection=connection, backlog_since=since)
    return render(request, "portal/_overview_live.html", {"overview": overview})
