"""Writes to bookings, from the partner API and from signed scheduler webhooks."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from core.errors import Conflict, InvalidInput, Unauthorized
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
    booking = (
        Booking.objects.select_for_update().filter(tenant=tenant, external_id=external_id).first()
    )
    if booking is None:
        booking = Booking.objects.create(
            tenant=tenant,
            external_id=external_id,
            version=version,
            cancelled_at=timezone.now() if status == Booking.Status.CANCELLED else None,
            **values,
        )
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
def booking_cancel(*, booking: Booking, version: int) -> BookingResult:
    booking = Booking.objects.select_for_update().get(pk=booking.pk)
    outcome = _booking_apply(booking, version, {"status": Booking.Status.CANCELLED})
    return BookingResult(booking, outcome)


# --- Signed scheduler webhooks ---------------------------------------------------

SIGNATURE_HEADER = "Scheduler-Signature"
WEBHOOK_EVENTS = ("booking.created", "booking.rescheduled", "booking.cancelled")


def scheduler_signature(*, secret: str, timestamp: int, body: bytes) -> str:
    """HMAC-SHA256 over "{timestamp}.{raw body}", hex: what the scheduler sends as v1."""
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def scheduler_signature_verify(
    *, tenant: Tenant, header: str, body: bytes, now: float | None = None
) -> None:
    """Steps:
    1. parse `t=<unix seconds>,v1=<hex>[,v1=<hex>...]` (several v1 while a secret rotates);
    2. refuse a timestamp outside the tolerance either way (a replay of an old delivery);
    3. compare each v1 with our signature in constant time; one must match.
    Raises Unauthorized; nothing of the body is parsed before this passes.
    """
    secret = tenant.scheduler_webhook_secret
    if not secret:
        raise Unauthorized("This tenant has no scheduler signing secret configured.")
    timestamp: int | None = None
    signatures: list[str] = []
    for part in (header or "").split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1" and value:
            signatures.append(value)
    if timestamp is None or not signatures:
        raise Unauthorized(f"The {SIGNATURE_HEADER} header is missing or malformed.")
    now = time.time() if now is None else now
    if abs(now - timestamp) > settings.SCHEDULER_WEBHOOK_TOLERANCE_SECONDS:
        raise Unauthorized("The signature timestamp is too old (or in the future).")
    expected = scheduler_signature(secret=secret, timestamp=timestamp, body=body)
    if not any(hmac.compare_digest(expected, candidate) for candidate in signatures):
        raise Unauthorized("The signature does not match the body.")


def _required(data: dict[str, Any], key: str) -> Any:
    value = data.get(key)
    if value in (None, ""):
        raise InvalidInput(f"The booking has no '{key}'.", field=f"booking.{key}")
    return value


def _datetime(data: dict[str, Any], key: str) -> dt.datetime:
    raw = _required(data, key)
    parsed = parse_datetime(str(raw))
    if parsed is None or parsed.tzinfo is None:
        raise InvalidInput(
            f"'{key}' must be an ISO 8601 date-time with a time zone.", field=f"booking.{key}"
        )
    return parsed


def _version(data: dict[str, Any]) -> int:
    raw = _required(data, "version")
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise InvalidInput("'version' must be a whole number.", field="booking.version")
    return raw


@transaction.atomic
def scheduler_webhook_receive(
    *, tenant: Tenant, signature_header: str, body: bytes
) -> tuple[SchedulerWebhookEvent, BookingResult]:
    """Verify, then apply one scheduler event. A replayed event id is refused (409)."""
    scheduler_signature_verify(tenant=tenant, header=signature_header, body=body)
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("The body is not valid JSON.") from None
    if not isinstance(payload, dict):
        raise InvalidInput("The body must be a JSON object.")
    event_id, event_type = payload.get("id"), payload.get("event")
    if not isinstance(event_id, str) or not event_id:
        raise InvalidInput("The event has no 'id'.", field="id")
    if event_type not in WEBHOOK_EVENTS:
        raise InvalidInput(
            f"Unknown event '{event_type}'; expected one of {', '.join(WEBHOOK_EVENTS)}.",
            field="event",
        )
    data = payload.get("booking")
    if not isinstance(data, dict):
        raise InvalidInput("The event has no 'booking' object.", field="booking")
    try:
        with transaction.atomic():
            event = SchedulerWebhookEvent.objects.create(
                tenant=tenant, event_id=event_id, event_type=event_type, outcome="received"
            )
    except IntegrityError:
        raise Conflict(
            f"Event '{event_id}' was received already; it is not applied twice."
        ) from None

    external_id = str(_required(data, "external_id"))
    version = _version(data)
    if event_type == "booking.created":
        result = booking_upsert(
            tenant=tenant,
            external_id=external_id,
            version=version,
            host_email=str(_required(data, "host_email")),
            guest_email=str(_required(data, "guest_email")),
            guest_name=str(data.get("guest_name") or ""),
            title=str(_required(data, "title")),
            description=str(data.get("description") or ""),
            start=_datetime(data, "start"),
            end=_datetime(data, "end"),
            booked_by_guest=bool(data.get("booked_by_guest", True)),
        )
    else:
        booking = Booking.objects.filter(tenant=tenant, external_id=external_id).first()
        if booking is None:
            raise InvalidInput(
                f"No booking '{external_id}' to change; send booking.created first.",
                field="booking.external_id",
            )
        if event_type == "booking.rescheduled":
            result = booking_reschedule(
                booking=booking,
                version=version,
                start=_datetime(data, "start"),
                end=_datetime(data, "end"),
            )
        else:
            result = booking_cancel(booking=booking, version=version)
    event.booking = result.booking
    event.outcome = result.outcome.value
    event.save(update_fields=["booking", "outcome"])
    return event, result
