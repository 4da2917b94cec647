from __future__ import annotations

from typing import Any

from rest_framework import serializers

from scheduler.models import Booking


class BookingInputSerializer(serializers.Serializer):
    external_id = serializers.CharField(max_length=200)
    version = serializers.IntegerField(min_value=1)
    host_email = serializers.EmailField()
    guest_email = serializers.EmailField()
    guest_name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    title = serializers.CharField(max_length=255)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    booked_by_guest = serializers.BooleanField(required=False, default=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["end"] < attrs["start"]:
            raise serializers.ValidationError({"end": "The booking cannot end before it starts."})
        return attrs


class BookingRescheduleSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=1)
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["end"] < attrs["start"]:
            raise serializers.ValidationError({"end": "The booking cannot end before it starts."})
        return attrs


class BookingCancelSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=1)


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
