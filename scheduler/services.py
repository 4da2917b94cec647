"""Writes to bookings, from the partner API and from signed scheduler webhooks."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
import secrets
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.errors import Conflict, InvalidInput, Unauthorized
from core.services import row_claim
from scheduler import events
from scheduler.models import Booking, SchedulerWebhookEvent
from tenants.emails import email_normalise
from tenants.models import Tenant


class BookingOutcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    # The change carried a version not newer than the stored one (out of order or repeated).
    STALE = "stale_version_ignored"
    # Cancelled bookings stay cancelled: no later event brings them back.
    CANCELLED = "cancelled_booking_unchanged"


@dataclass(frozen=True)
class BookingResult:
    booking: Booking
    outcome: BookingOutcome

    @property
    def applied(self) -> bool:
        return self.outcome in (BookingOutcome.CREATED, BookingOutcome.UPDATED)


def _booking_apply(booking: Booking, version: int, values: dict[str, Any]) -> BookingOutcome:
    """Steps, in order:
    1. a version not newer than the stored one changes nothing (stale or repeated);
    2. a cancelled booking changes no more (its version still advances nothing);
    3. otherwise the values are applied with the new version, and announced.
    """
    if version <= booking.version:
        return BookingOutcome.STALE
    if booking.status == Booking.Status.CANCELLED:
        return BookingOutcome.CANCELLED
    if values.get("start") and values.get("end") and values["end"] < values["start"]:
        raise InvalidInput("The booking cannot end before it starts.", field="end")
    for key, value in values.items():
        setattr(booking, key, value)
    if booking.status == Booking.Status.CANCELLED:
        booking.cancelled_at = timezone.now()
    booking.version = version
    booking.save()
    events.booking_changed.send(sender=Booking, instance=booking)
    return BookingOutcome.UPDATED


@transaction.atomic
def booking_upsert(
    *,
    tenant: Tenant,
    external_id: str,
    version: int,
    host_email: str,
    guest_email: str,
    title: str,
    start: dt.datetime,
    end: dt.datetime,
    guest_name: str = "",
    description: str = "",
    status: str = Booking.Status.SCHEDULED,
    booked_by_guest: bool = True,
) -> BookingResult:
    """Create a booking, or apply a newer version of it (keyed by the scheduler's id)."""
    if version < 1:
        raise InvalidInput("The version must be 1 or more.", field="version")
    if end < start:
        raise InvalidInput("The booking cannot end before it starts.", field="end")
    values: dict[str, Any] = {
        "host_email": email_normalise(host_email),
        "guest_email": email_normalise(guest_email),
        "guest_name": guest_name.strip(),
        "title": title,
        "description": description,
        "start": start,
        "end": end,
        "status": status,
        "booked_by_guest": booked_by_guest,
    }
    fresh = Booking(
        tenant=tenant,
        external_id=external_id,
        version=version,
        cancelled_at=timezone.now() if status == Booking.Status.CANCELLED else None,
        **values,
    )
    booking, created = row_claim(fresh, tenant=fresh.tenant, external_id=fresh.external_id)
    if created:
        events.booking_changed.send(sender=Booking, instance=booking)
        return BookingResult(booking, BookingOutcome.CREATED)
    if version == booking.version and all(getattr(booking, k) == v for k, v in values.items()):
        return BookingResult(booking, BookingOutcome.UNCHANGED)
    return BookingResult(booking, _booking_apply(booking, version, values))


@transaction.atomic
def booking_reschedule(
    *, booking: Booking, version: int, start: dt.datetime, end: dt.datetime
) -> BookingResult:
    booking = Booking.objects.select_for_update().get(pk=booking.pk)
    outcome = _booking_apply(
        booking, version, {"start": start, "end": end, "status": Booking.Status.RESCHEDULED}
    )
    return BookingResult(booking, outcome)


@transaction.atomic
def booking_cancel(
    *,
    booking: Booking,
    version: int,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    title: str | None = None,
) -> BookingResult:
    """Cancel a booking. A cancellation carries the booking's latest time and title when
    the scheduler sends them: they are applied with its version, as a reschedule's are,
    so an older cancellation never moves the booking back in time."""
    booking = Booking.objects.select_for_update().get(pk=booking.pk)
    values: dict[str, Any] = {"status": Booking.Status.CANCELLED}
    latest = {"start": start, "end": end, "title": title}
    values.update({key: value for key, value in latest.items() if value is not None})
    outcome = _booking_apply(booking, version, values)
    return BookingResult(booking, outcome)


# --- Signed scheduler webhooks ---------------------------------------------------

SIGNATURE_HEADER = "Scheduler-Signature"
WEBHOOK_EVENTS = ("booking.created", "booking.rescheduled", "booking.cancelled")


def scheduler_signature(*, secret: str, timestamp: int, body: bytes) -> str:
    """HMAC-SHA256 over "{timestamp}.{raw body}", hex: what the scheduler sends as v1."""
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


# Stands in for the secret of a tenant that does not exist or has none configured, so
# that such a delivery takes the same path and gets the same answer as a wrong
# signature: tenant slugs cannot be told apart from the outside. Random per process,
# so nothing can ever be signed with it.
_NO_SECRET = secrets.token_hex(32)
# A unix timestamp in seconds has 10 digits until the year 2286; anything longer (or
# any non-ASCII digit) is malformed rather than a number to convert.
_TIMESTAMP = re.compile(r"[0-9]{1,12}", re.ASCII)
_SIGNATURE = re.compile(r"[0-9a-f]{1,128}", re.ASCII)


def _signature_header_parse(header: str) -> tuple[int, list[str]]:
    timestamp: int | None = None
    signatures: list[str] = []
    for part in (header or "").split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and _TIMESTAMP.fullmatch(value):
            timestamp = int(value)
        elif key == "v1" and _SIGNATURE.fullmatch(value):
            signatures.append(value)
    if timestamp is None or not signatures:
        raise Unauthorized(f"The {SIGNATURE_HEADER} header is missing or malformed.")
    return timestamp, signatures


def scheduler_webhook_verify(
    *, tenant_slug: str, header: str, body: bytes, now: float | None = None
) -> Tenant:
    """The tenant a delivery is for, once its signature is verified (401 otherwise). An
    unknown slug is refused exactly like a wrong signature, so slugs cannot be probed."""
    tenant = Tenant.objects.filter(slug=tenant_slug).first()
    return scheduler_signature_verify(tenant=tenant, header=header, body=body, now=now)


def scheduler_signature_verify(
    *, tenant: Tenant | None, header: str, body: bytes, now: float | None = None
) -> Tenant:
    """Steps:
    1. a missing tenant, or one with no secret, is checked against a secret nobody has,
       so it takes the same path and gets the same answer as a wrong signature;
    2. parse `t=<unix seconds>,v1=<hex>[,v1=<hex>...]` (several v1 while a secret rotates);
    3. refuse a timestamp outside the tolerance either way (a replay of an old delivery);
    4. compare each v1 with our signature in constant time; one must match.
    Raises Unauthorized (401); nothing of the body is parsed before this passes.
    """
    secret = (tenant.scheduler_webhook_secret if tenant else "") or _NO_SECRET
    timestamp, signatures = _signature_header_parse(header)
    now = time.time() if now is None else now
    if abs(now - timestamp) > settings.SCHEDULER_WEBHOOK_TOLERANCE_SECONDS:
        raise Unauthorized("The signature timestamp is too old (or in the future).")
    expected = scheduler_signature(secret=secret, timestamp=timestamp, body=body)
    matched = any(hmac.compare_digest(expected, candidate) for candidate in signatures)
    if tenant is None or secret == _NO_SECRET or not matched:
        raise Unauthorized("The signature does not match the body.")
    return tenant


def scheduler_webhook_body_parse(*, body: bytes) -> Any:
    """The verified body as JSON, for the event serializer to check."""
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise InvalidInput("The body is not valid JSON.") from None


@transaction.atomic
def scheduler_event_apply(
    *, tenant: Tenant, event_id: str, event_type: str, booking: dict[str, Any]
) -> tuple[SchedulerWebhookEvent, BookingResult]:
    """Apply one verified and validated scheduler event. A replayed event id is refused
    (409); an event refused here is not recorded, so it can be sent again once fixed."""
    try:
        with transaction.atomic():
            event = SchedulerWebhookEvent.objects.create(
                tenant=tenant, event_id=event_id, event_type=event_type, outcome="received"
            )
    except IntegrityError:
        raise Conflict(
            f"Event '{event_id}' was received already; it is not applied twice."
        ) from None
    values = dict(booking)
    external_id: str = values.pop("external_id")
    if event_type == "booking.created":
        result = booking_upsert(tenant=tenant, external_id=external_id, **values)
    else:
        existing = Booking.objects.filter(tenant=tenant, external_id=external_id).first()
        if existing is None:
            raise InvalidInput(
                f"No booking '{external_id}' to change; send booking.created first.",
                field="booking.external_id",
            )
        change = booking_reschedule if event_type == "booking.rescheduled" else booking_cancel
        result = change(booking=existing, **values)
    event.booking = result.booking
    event.outcome = result.outcome.value
    event.save(update_fields=["booking", "outcome"])
    return event, result
