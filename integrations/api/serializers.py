"""Input and output shapes of the partner API for the sync: previews, manual sends,
activity logging, and the sync jobs and records of each object.

Input serializers check shapes only; the services decide what is allowed (a highlight
of this meeting, a well-formed Salesforce Id, either a target or a create request)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from integrations.models import SyncAttempt, SyncJob, SyncMapping
from integrations.selectors import SyncState, sync_object_ref
from integrations.services.actions import MatchPreview

# --- match preview and manual send (SPEC 3.1) ---------------------------------------------


class MatchPreviewQuerySerializer(serializers.Serializer[dict[str, Any]]):
    highlights = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="External ids of the highlights to send, separated by commas.",
    )

    def validate_highlights(self, value: str) -> list[str]:
        return [part.strip() for part in value.split(",") if part.strip()]


class CandidateSerializer(serializers.Serializer[dict[str, str]]):
    object = serializers.CharField()
    id = serializers.CharField()
    name = serializers.CharField(allow_blank=True)


class MatchedContactSerializer(serializers.Serializer[dict[str, str]]):
    id = serializers.CharField()
    name = serializers.CharField(allow_blank=True)
    email = serializers.EmailField()


class MatchPreviewOutputSerializer(serializers.Serializer[MatchPreview]):
    situation = serializers.ChoiceField(choices=["match", "no_organisation", "several", "no_match"])
    what_to_do = serializers.CharField()
    offer = CandidateSerializer(allow_null=True)
    candidates = CandidateSerializer(many=True)
    matched_contacts = MatchedContactSerializer(many=True)
    unmatched_emails = serializers.ListField(child=serializers.EmailField())
    api_calls = serializers.IntegerField()


class SendTargetSerializer(serializers.Serializer[dict[str, Any]]):
    object = serializers.ChoiceField(choices=["Account", "Opportunity"])
    id = serializers.CharField(max_length=18)
    name = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


class SendCreateSerializer(serializers.Serializer[dict[str, Any]]):
    account_name = serializers.CharField(max_length=255)
    opportunity_name = serializers.CharField(
        max_length=120, required=False, allow_blank=True, default=""
    )
    close_date = serializers.DateField(required=False)


class HighlightsSendInputSerializer(serializers.Serializer[dict[str, Any]]):
    highlights = serializers.ListField(child=serializers.CharField(max_length=200))
    target = SendTargetSerializer(required=False)

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        # Declared here, not as an attribute: one named `create` would hide the
        # serializer's create() method.
        fields = super().get_fields()
        fields["create"] = SendCreateSerializer(required=False)
        return fields


# --- activities (SPEC 3.5) -------------------------------------------------------------------


class PersonChoiceSerializer(serializers.Serializer[dict[str, Any]]):
    """Which record an address is, or a request to create a Lead for it."""

    object = serializers.ChoiceField(choices=["Contact", "Lead", "create_lead"])
    id = serializers.CharField(max_length=18, required=False, allow_blank=True, default="")
    name = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    company = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["object"] != "create_lead" and not attrs.get("id"):
            raise serializers.ValidationError({"id": "Say which Contact or Lead it is."})
        return attrs


class ActivityLogInputSerializer(serializers.Serializer[dict[str, Any]]):
    choices = serializers.DictField(
        child=PersonChoiceSerializer(),
        required=False,
        help_text="Participant email -> the record it is, or {'object': 'create_lead'}.",
    )


class LeadCreateInputSerializer(serializers.Serializer[dict[str, Any]]):
    email = serializers.EmailField()
    company = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


# --- sync jobs -------------------------------------------------------------------------------


class SyncJobFilterSerializer(serializers.Serializer[dict[str, Any]]):
    state = serializers.ChoiceField(choices=SyncJob.State.choices, required=False)
    operation = serializers.CharField(max_length=40, required=False)


class RecordChoiceSerializer(serializers.Serializer[dict[str, Any]]):
    object = serializers.ChoiceField(choices=["Account", "Opportunity", "Lead", "Contact"])
    id = serializers.CharField(max_length=18)
    name = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


class SyncJobResolveInputSerializer(serializers.Serializer[dict[str, Any]]):
    choice = RecordChoiceSerializer(
        required=False, help_text="For a meeting or a booking: the record to link to."
    )
    choices = serializers.DictField(
        child=PersonChoiceSerializer(),
        required=False,
        help_text="For an activity: participant email -> the record it is.",
    )


class SyncAttemptOutputSerializer(serializers.ModelSerializer[SyncAttempt]):
    class Meta:
        model = SyncAttempt
        fields = [
            "started_at",
            "finished_at",
            "outcome",
            "salesforce_error_code",
            "message",
            "api_calls",
            "duration_ms",
        ]


class SyncJobOutputSerializer(serializers.ModelSerializer[SyncJob]):
    object_type = serializers.CharField(source="content_type.model", read_only=True)
    object_ref = serializers.SerializerMethodField(
        help_text="The local object: its external id, or meeting/highlight, activity/email."
    )

    class Meta:
        model = SyncJob
        fields = [
            "id",
            "operation",
            "object_type",
            "object_ref",
            "state",
            "reason",
            "candidates",
            "params",
            "attempt_count",
            "next_attempt_at",
            "created_at",
            "updated_at",
            "finished_at",
        ]

    def get_object_ref(self, job: SyncJob) -> str:
        return sync_object_ref(job.local_object)


class SyncJobDetailOutputSerializer(SyncJobOutputSerializer):
    attempts = SyncAttemptOutputSerializer(many=True, read_only=True)

    class Meta(SyncJobOutputSerializer.Meta):
        fields = [*SyncJobOutputSerializer.Meta.fields, "attempts"]


# --- the sync state of one object --------------------------------------------------------------


class SyncRecordOutputSerializer(serializers.ModelSerializer[SyncMapping]):
    object_type = serializers.CharField(source="content_type.model", read_only=True)
    object_ref = serializers.SerializerMethodField()

    class Meta:
        model = SyncMapping
        fields = [
            "object_type",
            "object_ref",
            "purpose",
            "salesforce_object",
            "salesforce_id",
            "pushed_version",
            "state",
            "parent_object",
            "parent_id",
            "parent_name",
            "updated_at",
        ]

    def get_object_ref(self, mapping: SyncMapping) -> str:
        return sync_object_ref(mapping.local_object)


class SyncStateOutputSerializer(serializers.Serializer[SyncState]):
    records = SyncRecordOutputSerializer(many=True)
    jobs = SyncJobOutputSerializer(many=True)
