from __future__ import annotations

from typing import Any

from rest_framework import serializers

from core.validators import EXTERNAL_ID_HELP, external_id_validator
from scheduler.models import Booking, SchedulerWebhookEvent
from scheduler.services import WEBHOOK_EVENTS

# The largest version the database stores on every backend (a PostgreSQL integer):
# a bigger one is refused as input instead of failing at the database.
VERSION_MAX = 2**31 - 1


def _max_length(model: type[Any], field: str) -> int:
    # Limits come from the model so that input is refused before the database would.
    length: int = model._meta.get_field(field).max_length
    return length


def _external_id_field() -> serializers.CharField:
    # The same alphabet as every external id: it appears in the API's paths and the
    # portal's pages, so it must need no escaping there.
    max_length = _max_length(Booking, "external_id")
    return serializers.CharField(
        max_length=max_length,
        validators=[external_id_validator],
        help_text=EXTERNAL_ID_HELP.format(max_length=max_length),
    )


def _end_not_before_start(attrs: dict[str, Any]) -> dict[str, Any]:
    start, end = attrs.get("start"), attrs.get("end")
    if start is not None and end is not None and end < start:
        raise serializers.ValidationError({"end": "The booking cannot end before it starts."})
    return attrs


# DRF's CharField already refuses NUL bytes (and lone surrogates) in every text field.
class BookingInputSerializer(serializers.Serializer):
    external_id = _external_id_field()
    version = serializers.IntegerField(min_value=1, max_value=VERSION_MAX)
    host_email = serializers.EmailField(max_length=_max_length(Booking, "host_email"))
    guest_email = serializers.EmailField(max_length=_max_length(Booking, "guest_email"))
    guest_name = serializers.CharField(
        max_length=_max_length(Booking, "guest_name"),
        required=False,
        allow_blank=True,
        default="",
    )
    title = serializers.CharField(max_length=_max_length(Booking, "title"))
    description = serializers.CharField(
        max_length=_max_length(Booking, "description"),
        required=False,
        allow_blank=True,
        default="",
    )
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    booked_by_guest = serializers.BooleanField(required=False, default=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        return _end_not_before_start(attrs)


class BookingRescheduleSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=1, max_value=VERSION_MAX)
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        return _end_not_before_start(attrs)


class BookingCancelSerializer(serializers.Serializer):
    """A cancellation may carry the booking's latest time and title; they are applied
    with its version, as a reschedule's are."""

    version = serializers.IntegerField(min_value=1, max_value=VERSION_MAX)
    start = serializers.DateTimeField(required=False)
    end = serializers.DateTimeField(required=False)
    title = serializers.CharField(max_length=_max_length(Booking, "title"), required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("start" in attrs) != ("end" in attrs):
            missing = "end" if "start" in attrs else "start"
            raise serializers.ValidationError(
                {missing: "A cancellation carries both the start and the end, or neither."}
            )
        return _end_not_before_start(attrs)


class _WebhookBookingKey(serializers.Serializer):
    # Reschedules and cancellations name the booking they change.
    external_id = _external_id_field()


class WebhookRescheduleSerializer(_WebhookBookingKey, BookingRescheduleSerializer):
    pass


class WebhookCancelSerializer(_WebhookBookingKey, BookingCancelSerializer):
    pass


WEBHOOK_BOOKING_SERIALIZERS: dict[str, type[serializers.Serializer]] = {
    "booking.created": BookingInputSerializer,
    "booking.rescheduled": WebhookRescheduleSerializer,
    "booking.cancelled": WebhookCancelSerializer,
}


class SchedulerEventSerializer(serializers.Serializer):
    """A scheduler webhook event: its id, its type, and the booking checked by the same
    serializer the booking API uses for that change. Errors in the booking are named
    `booking.<field>`."""

    id = serializers.CharField(max_length=_max_length(SchedulerWebhookEvent, "event_id"))
    event = serializers.ChoiceField(choices=WEBHOOK_EVENTS)
    booking = serializers.DictField()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        booking = WEBHOOK_BOOKING_SERIALIZERS[attrs["event"]](data=attrs["booking"])
        if not booking.is_valid():
            raise serializers.ValidationError(
                {f"booking.{field}": errors for field, errors in booking.errors.items()}
            )
        return {**attrs, "booking": booking.validated_data}


class BookingFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Booking.Status.choices, required=False)
    start_after = serializers.DateTimeField(required=False)
    start_before = serializers.DateTimeField(required=False)


class BookingOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Booking
        fields = [
            "external_id",
            "version",
            "status",
            "host_email",
            "guest_name",
            "guest_email",
            "booked_by_guest",
            "title",
            "description",
            "start",
            "end",
            "cancelled_at",
            "created_at",
            "updated_at",
        ]


class BookingChangeOutputSerializer(serializers.Serializer):
    """What happened to a change: applied, or ignored because it was stale or the
    booking is cancelled, with the booking as it now stands."""

    outcome = serializers.CharField()
    applied = serializers.BooleanField()
    booking = BookingOutputSerializer()


class WebhookOutputSerializer(BookingChangeOutputSerializer):
    event_id = serializers.CharField()
