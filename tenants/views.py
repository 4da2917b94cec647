"""Self-service pages for tenant members."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from integrations.selectors import sync_job_list
from meetings.selectors import meeting_list
from scheduler.selectors import booking_list
from tenants.selectors import membership_for_user


@login_required
def home(request: HttpRequest) -> HttpResponse:
    membership = membership_for_user(user=request.user)
    if membership is None:
        return render(request, "portal/no_tenant.html", status=403)
    tenant = membership.tenant
    context = {
        "tenant": tenant,
        "membership": membership,
        "meetings": meeting_list(tenant=tenant)[:20],
        "bookings": booking_list(tenant=tenant)[:10],
        "jobs": sync_job_list(tenant=tenant).select_related("content_type")[:20],
    }
    return render(request, "portal/home.html", context)
