"""Tenant pages: scheduler bookings and the open Tasks they keep in Salesforce
(SPEC 3.6). Bookings are logged by themselves; the page says where each stands and
opens its Task."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path

from integrations import activity_state
from integrations.filters_activities import BookingFilter, filters_active
from scheduler.models import Booking
from tenants.access import TenantRequest, tenant_page

BOOKINGS_PAGE_SIZE = 25


@tenant_page()
def booking_list(request: TenantRequest) -> HttpResponse:
    tenant = request.membership.tenant
    rows = activity_state.bookings_with_state(Booking.objects.filter(tenant=tenant))
    found = BookingFilter(request.GET or None, queryset=rows)
    bookings = found.qs.order_by("-start", "-id")
    page = Paginator(bookings, BOOKINGS_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "tenant": tenant,
        "membership": request.membership,
        "filter": found,
        "narrowed": filters_active(found),
        "page": page,
        "rows": [
            {"booking": booking, "state": activity_state.booking_row_state(booking)}
            for booking in page.object_list
        ],
        "instance_url": activity_state.instance_url(tenant),
    }
    return render(request, "integrations/bookings.html", context)


urlpatterns = [
    path("bookings/", booking_list, name="bookings"),
]
