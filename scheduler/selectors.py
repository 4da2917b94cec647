"""Reads of bookings, always within one tenant."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet

from core.errors import NotFound
from scheduler.models import Booking
from tenants.models import Tenant


def booking_list(
    *,
    tenant: Tenant,
    status: str | None = None,
    start_after: dt.datetime | None = None,
    start_before: dt.datetime | None = None,
) -> QuerySet[Booking]:
    bookings = Booking.objects.filter(tenant=tenant)
    if status:
        bookings = bookings.filter(status=status)
    if start_after:
        bookings = bookings.filter(start__gte=start_after)
    if start_before:
        bookings = bookings.filter(start__lt=start_before)
    return bookings.order_by("-start", "id")


def booking_get(*, tenant: Tenant, external_id: str) -> Booking:
    booking = booking_list(tenant=tenant).filter(external_id=external_id).first()
    if booking is None:
        raise NotFound(f"No booking with external id '{external_id}'.")
    return booking
