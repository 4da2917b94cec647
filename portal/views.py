"""Tenant pages that show several apps' data side by side."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render

from integrations.selectors import salesforce_connection_for_tenant, sync_job_list
from meetings.selectors import meeting_list
from scheduler.selectors import booking_list
from tenants.access import TenantRequest, tenant_page


@tenant_page()
def home(request: TenantRequest) -> HttpResponse:
    tenant = request.membership.tenant
    context = {
        "tenant": tenant,
        "membership": request.membership,
        "connection": salesforce_connection_for_tenant(tenant=tenant),
        "meetings": meeting_list(tenant=tenant)[:20],
        "bookings": booking_list(tenant=tenant)[:10],
        "jobs": sync_job_list(tenant=tenant)[:20],
    }
    return render(request, "portal/home.html", context)
