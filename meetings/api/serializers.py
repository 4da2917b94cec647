"""Input and output shapes of the partner API for meetings, highlights and activities."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rest_framework import serializers

from core.validators import DB_INT_MAX, EXTERNAL_ID_HELP, external_id_validator
from meetings.models import (
    Activity,
    ActivityParticipant,
    Attendee,
    Highlight,
    Meeting,
    Transcript,
)
from meetings.services import HIGHLIGHTS_BULK_MAX, PersonInput

# Limits equal to the columns', so anything longer is a 400 here, never a database error.
EMAIL_MAX = Attendee._meta.get_field("email").max_length
TITLE_MAX = Meeting._meta.get_field("title").max_length
SUBJECT_MAX = Activity._meta.get_field("subject").max_length
HIGHLIGHT_TEXT_MAX = Highlight._meta.get_field("text").max_length
NOTES_MAX = Activity._meta.get_field("notes").max_length
TRANSCRIPT_MAX = Transcript._meta.get_field("text").max_length


def external_id_field(model: type[Any]) -> serializers.CharField:
    max_length = model._meta.get_field("external_id").max_length
    return serializers.CharField(
        max_length=max_length,
        validators=[external_id_validator],
        help_text=EXTERNAL_ID_HELP.format(max_length=max_length),
    )


class AttendeeInputSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=EMAIL_MAX)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")


def people(data: list[dict[str, Any]] | None) -> list[PersonInput] | None:
    if data is None:
        return None
    return [PersonInput(**person) for person in data]


class MeetingInputSerializer(serializers.Serializer):
    external_id = external_id_field(Meeting)
    title = serializers.CharField(max_length=TITLE_MAX)
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    organizer_email = serializers.EmailField(
        max_length=EMAIL_MAX, required=False, allow_blank=True, default=""
    )
    recording_url = serializers.URLField(
        max_length=1000, required=False, allow_blank=True, default=""
    )
    status = serializers.ChoiceField(choices=Meeting.Status.choices, required=False)
    attendees = AttendeeInputSerializer(many=True, required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start, end = attrs.get("start"), attrs.get("end")
        if start and end and end < start:
            raise serializers.ValidationError({"end": "The meeting cannot end before it starts."})
        return attrs


class MeetingUpdateSerializer(MeetingInputSerializer):
    """A partial update: every field optional; the external id is in the URL."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["partial"] = True
        super().__init__(*args, **kwargs)

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        fields = super().get_fields()
        del fields["external_id"]  # in the URL
        return fields


class MeetingFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Meeting.Status.choices, required=False)
    start_after = serializers.DateTimeField(required=False)
    start_before = serializers.DateTimeField(required=False)


class AttendeeOutputSerializer(serializers.ModelSerializer):
    is_internal = serializers.SerializerMethodField()

    class Meta:
        model = Attendee
        fields = ["email", "name", "phone", "is_internal"]

    def get_is_internal(self, attendee: Attendee) -> bool:
        return attendee.meeting.tenant.is_internal_email(attendee.email)


class MeetingOutputSerializer(serializers.ModelSerializer):
    attendees = AttendeeOutputSerializer(many=True, read_only=True)
    has_transcript = serializers.SerializerMethodField()

    class Meta:
        model = Meeting
        fields = [
            "external_id",
            "title",
            "start",
            "end",
            "organizer_email",
            "recording_url",
            "status",
            "processed_at",
            "attendees",
            "has_transcript",
            "created_at",
            "updated_at",
        ]

    def get_has_transcript(self, meeting: Meeting) -> bool:
        return hasattr(meeting, "transcript")


class TranscriptSerializer(serializers.Serializer):
    text = serializers.CharField(
        max_length=TRANSCRIPT_MAX, allow_blank=False, trim_whitespace=False
    )


class HighlightInputSerializer(serializers.Serializer):
    external_id = external_id_field(Highlight)
    text = serializers.CharField(max_length=HIGHLIGHT_TEXT_MAX)
    speaker = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    # A JSON number (in the schema too), not the string DRF makes of decimals by default.
    offset_seconds = serializers.DecimalField(
        max_digits=10,
        decimal_places=3,
        min_value=0,
        required=False,
        default=Decimal(0),
        coerce_to_string=False,
    )


class HighlightBulkInputSerializer(serializers.Serializer):
    highlights: serializers.ListSerializer[Any] = serializers.ListSerializer(
        child=HighlightInputSerializer(), allow_empty=False, max_length=HIGHLIGHTS_BULK_MAX
    )

    def validate_highlights(self, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        # Errors by the item's place, as DRF gives those of each item's fields.
        seen: set[str] = set()
        errors: dict[str, dict[str, list[str]]] = {}
        for index, item in enumerate(items):
            if item["external_id"] in seen:
                errors[str(index)] = {"external_id": ["This external_id appears twice."]}
            seen.add(item["external_id"])
        if errors:
            raise serializers.ValidationError(errors)
        return items


class HighlightBulkItemSerializer(serializers.Serializer):
    external_id = serializers.CharField()
    result = serializers.ChoiceField(choices=["created", "updated", "unchanged"])
    version = serializers.IntegerField()


class HighlightBulkOutputSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    highlights = HighlightBulkItemSerializer(many=True)


class HighlightUpdateSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=HIGHLIGHT_TEXT_MAX, required=False)
    speaker = serializers.CharField(max_length=200, required=False, allow_blank=True)
    offset_seconds = serializers.DecimalField(
        max_digits=10, decimal_places=3, min_value=0, required=False, coerce_to_string=False
    )


class HighlightOutputSerializer(serializers.ModelSerializer):
    meeting_external_id = serializers.CharField(source="meeting.external_id", read_only=True)
    # Seconds into the recording, answered as a JSON number (95.5, not "95.500").
    offset_seconds = serializers.DecimalField(
        max_digits=10, decimal_places=3, coerce_to_string=False, read_only=True
    )

    class Meta:
        model = Highlight
        fields = [
            "external_id",
            "meeting_external_id",
            "text",
            "speaker",
            "offset_seconds",
            "version",
            "created_at",
            "updated_at",
        ]


class ParticipantInputSerializer(serializers.Serializer):
    email = serializers.EmailField(
        max_length=ActivityParticipant._meta.get_field("email").max_length,
        required=False,
        allow_blank=True,
        default="",
    )
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("email") and not attrs.get("phone"):
            raise serializers.ValidationError(
                "A participant needs an email address or a phone number."
            )
        return attrs


class ActivityInputSerializer(serializers.Serializer):
    external_id = external_id_field(Activity)
    kind = serializers.ChoiceField(choices=Activity.Kind.choices)
    direction = serializers.ChoiceField(
        choices=Activity.Direction.choices, required=False, allow_blank=True, default=""
    )
    started_at = serializers.DateTimeField()
    duration_seconds = serializers.IntegerField(
        min_value=0, max_value=DB_INT_MAX, required=False, default=0
    )
    subject = serializers.CharField(
        max_length=SUBJECT_MAX, required=False, allow_blank=True, default=""
    )
    notes = serializers.CharField(
        max_length=NOTES_MAX, required=False, allow_blank=True, default=""
    )
    logged_by_email = serializers.EmailField(
        max_length=Activity._meta.get_field("logged_by_email").max_length
    )
    logged_by_name = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default=""
    )
    participants = ParticipantInputSerializer(many=True, allow_empty=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        kind, direction = attrs.get("kind"), attrs.get("direction")
        if kind == Activity.Kind.CALL and not direction:
            raise serializers.ValidationError(
                {"direction": "A call needs a direction: inbound or outbound."}
            )
        if kind and kind != Activity.Kind.CALL and direction:
            raise serializers.ValidationError({"direction": "Only calls have a direction."})
        return attrs


class ActivityUpdateSerializer(ActivityInputSerializer):
    """A partial update: every field optional; the external id is in the URL."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["partial"] = True
        super().__init__(*args, **kwargs)

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        fields = super().get_fields()
        del fields["external_id"]  # in the URL
        return fields

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # Direction rules are checked against the merged result by the service.
        return attrs


class ActivityFilterSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Activity.Kind.choices, required=False)
    started_after = serializers.DateTimeField(required=False)
    started_before = serializers.DateTimeField(required=False)


class ParticipantOutputSerializer(serializers.Serializer):
    # "" for a participant known only by phone.
    email = serializers.EmailField(allow_blank=True)
    phone = serializers.CharField()
    name = serializers.CharField()
    is_internal = serializers.SerializerMethodField()

    def get_is_internal(self, participant: Any) -> bool:
        return bool(participant.email) and participant.activity.tenant.is_internal_email(
            participant.email
        )


class ActivityOutputSerializer(serializers.ModelSerializer):
    participants = ParticipantOutputSerializer(many=True, read_only=True)

    class Meta:
        model = Activity
        fields = [
            "external_id",
            "kind",
            "direction",
            "started_at",
            "duration_seconds",
            "subject",
            "notes",
            "logged_by_email",
            "logged_by_name",
            "participants",
            "version",
            "created_at",
            "updated_at",
        ]
