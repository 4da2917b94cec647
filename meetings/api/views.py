"""Partner API views for meetings, highlights and activities: parse, call one service
or selector, answer. Every object is found through a selector given `self.tenant`."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from core.api.responses import paginated, upserted
from core.api.schema import error_response
from core.errors import NotFound
from meetings import selectors, services
from meetings.api import serializers as s
from meetings.models import Meeting
from tenants.api.views import TenantScopedAPIView

PROCESSED_CONFLICT = error_response(
    "A processed meeting cannot go back to an earlier status (code `conflict`)."
)


def _meeting_for_highlights(view: TenantScopedAPIView, external_id: str) -> Meeting:
    """The meeting alone, for writing its highlights: without the attendees and the
    transcript that the answers about a meeting carry (a transcript may be megabytes)."""
    meeting = (
        selectors.meeting_list(tenant=view.tenant)
        .select_related(None)
        .prefetch_related(None)
        .filter(external_id=external_id)
        .first()
    )
    if meeting is None:
        raise NotFound(f"No meeting with external id '{external_id}'.")
    meeting.tenant = view.tenant
    return meeting


@extend_schema(tags=["Meetings"])
class MeetingListCreateView(TenantScopedAPIView):
    @extend_schema(
        operation_id="meetings_list",
        summary="List meetings",
        parameters=[s.MeetingFilterSerializer],
        responses=s.MeetingOutputSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        filters = s.MeetingFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        meetings = selectors.meeting_list(tenant=self.tenant, **filters.validated_data)
        return paginated(self, meetings, s.MeetingOutputSerializer)

    @extend_schema(
        operation_id="meetings_upsert",
        summary="Create or update a meeting",
        request=s.MeetingInputSerializer,
        responses={
            200: s.MeetingOutputSerializer,
            201: s.MeetingOutputSerializer,
            409: PROCESSED_CONFLICT,
        },
        description="Create the meeting, or update it when its external_id exists already.",
        examples=[
            OpenApiExample(
                "A meeting with two attendees",
                request_only=True,
                value={
                    "external_id": "zoom-8812",
                    "title": "Discovery with Initech",
                    "start": "2026-11-20T15:00:00Z",
                    "end": "2026-11-20T15:45:00Z",
                    "organizer_email": "ana@acme.test",
                    "recording_url": "https://recordings.example/zoom-8812",
                    "attendees": [
                        {"email": "ana@acme.test", "name": "Ana"},
                        {"email": "bob@initech.example", "name": "Bob", "phone": "+1 555 0100"},
                    ],
                },
            )
        ],
    )
    def post(self, request: Request) -> Response:
        data = s.MeetingInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        values["attendees"] = s.people(values.get("attendees"))
        meeting, created = services.meeting_upsert(tenant=self.tenant, **values)
        meeting = selectors.meeting_get(tenant=self.tenant, external_id=meeting.external_id)
        return upserted(meeting, created, s.MeetingOutputSerializer)


@extend_schema(tags=["Meetings"])
class MeetingDetailView(TenantScopedAPIView):
    @extend_schema(
        operation_id="meetings_retrieve",
        summary="Get a meeting",
        responses=s.MeetingOutputSerializer,
    )
    def get(self, request: Request, external_id: str) -> Response:
        meeting = selectors.meeting_get(tenant=self.tenant, external_id=external_id)
        return Response(s.MeetingOutputSerializer(meeting).data)

    @extend_schema(
        operation_id="meetings_update",
        summary="Change some fields of a meeting",
        request=s.MeetingUpdateSerializer,
        responses={200: s.MeetingOutputSerializer, 409: PROCESSED_CONFLICT},
    )
    def patch(self, request: Request, external_id: str) -> Response:
        meeting = selectors.meeting_get(tenant=self.tenant, external_id=external_id)
        data = s.MeetingUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        if "attendees" in values:
            values["attendees"] = s.people(values["attendees"])
        services.meeting_update(meeting=meeting, **values)
        meeting = selectors.meeting_get(tenant=self.tenant, external_id=external_id)
        return Response(s.MeetingOutputSerializer(meeting).data)

    @extend_schema(
        operation_id="meetings_delete", summary="Delete a meeting", responses={204: None}
    )
    def delete(self, request: Request, external_id: str) -> Response:
        meeting = selectors.meeting_get(tenant=self.tenant, external_id=external_id)
        services.meeting_delete(meeting=meeting)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["Transcripts"])
class MeetingTranscriptView(TenantScopedAPIView):
    @extend_schema(
        operation_id="meetings_transcript_retrieve",
        summary="Get a meeting's transcript",
        responses=s.TranscriptSerializer,
    )
    def get(self, request: Request, external_id: str) -> Response:
        meeting = selectors.meeting_get(tenant=self.tenant, external_id=external_id)
        if not hasattr(meeting, "transcript"):
            return Response(
                {"detail": "This meeting has no transcript yet.", "code": "not_found"},
                status=status.HTTP_404_NOT_FOUND,
            )
        return Response({"text": meeting.transcript.text})

    @extend_schema(
        operation_id="meetings_transcript_set",
        summary="Set a meeting's transcript",
        request=s.TranscriptSerializer,
        responses=s.TranscriptSerializer,
    )
    def put(self, request: Request, external_id: str) -> Response:
        meeting = selectors.meeting_get(tenant=self.tenant, external_id=external_id)
        data = s.TranscriptSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        transcript = services.meeting_transcript_set(meeting=meeting, **data.validated_data)
        return Response({"text": transcript.text})


@extend_schema(tags=["Meetings"])
class MeetingProcessedView(TenantScopedAPIView):
    @extend_schema(
        operation_id="meetings_mark_processed",
        summary="Mark a meeting processed",
        request=None,
        responses=s.MeetingOutputSerializer,
        description="All highlights and the transcript are in; starts auto-sync when it is on.",
    )
    def post(self, request: Request, external_id: str) -> Response:
        meeting = selectors.meeting_get(tenant=self.tenant, external_id=external_id)
        services.meeting_mark_processed(meeting=meeting)
        meeting = selectors.meeting_get(tenant=self.tenant, external_id=external_id)
        return Response(s.MeetingOutputSerializer(meeting).data)


@extend_schema(tags=["Highlights"])
class HighlightListCreateView(TenantScopedAPIView):
    @extend_schema(
        operation_id="highlights_list",
        summary="List a meeting's highlights",
        responses=s.HighlightOutputSerializer(many=True),
    )
    def get(self, request: Request, external_id: str) -> Response:
        meeting = selectors.meeting_get(tenant=self.tenant, external_id=external_id)
        highlights = selectors.highlight_list(meeting=meeting).select_related("meeting")
        return paginated(self, highlights, s.HighlightOutputSerializer)

    @extend_schema(
        operation_id="highlights_upsert",
        summary="Create or update a highlight",
        request=s.HighlightInputSerializer,
        responses={200: s.HighlightOutputSerializer, 201: s.HighlightOutputSerializer},
        description=(
            "Create the highlight, or edit it when its external_id exists already. "
            "Re-sending a deleted highlight restores it."
        ),
        examples=[
            OpenApiExample(
                "A highlight 95 seconds in",
                request_only=True,
                value={
                    "external_id": "h-1",
                    "text": "Budget is approved for Q1.",
                    "speaker": "Bob",
                    "offset_seconds": 95,
                },
            )
        ],
    )
    def post(self, request: Request, external_id: str) -> Response:
        meeting = _meeting_for_highlights(self, external_id)
        data = s.HighlightInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        highlight, created = services.highlight_upsert(meeting=meeting, **data.validated_data)
        return upserted(highlight, created, s.HighlightOutputSerializer)


@extend_schema(tags=["Highlights"])
class HighlightBulkView(TenantScopedAPIView):
    @extend_schema(
        operation_id="highlights_bulk_upsert",
        summary="Create or update up to 500 highlights of a meeting",
        request=s.HighlightBulkInputSerializer,
        responses=s.HighlightBulkOutputSerializer,
        description=(
            "Each highlight as the single upsert takes it. All or nothing: when one is "
            "refused, none is stored and the answer is a 400 whose `highlights` object "
            "maps each refused item's place in the list (from 0) to its errors "
            '(`{"highlights": {"2": {"text": ["This field may not be blank."]}}}`); '
            "errors of the list as a whole are under `non_field_errors`."
        ),
        examples=[
            OpenApiExample(
                "Two highlights",
                request_only=True,
                value={
                    "highlights": [
                        {"external_id": "h-1", "text": "Budget approved.", "offset_seconds": 95},
                        {"external_id": "h-2", "text": "Needs SSO.", "speaker": "Bob"},
                    ]
                },
            )
        ],
    )
    def post(self, request: Request, external_id: str) -> Response:
        meeting = _meeting_for_highlights(self, external_id)
        data = s.HighlightBulkInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        items = [services.HighlightInput(**item) for item in data.validated_data["highlights"]]
        results = services.highlights_upsert_bulk(meeting=meeting, items=items)
        counts = dict.fromkeys(("created", "updated", "unchanged"), 0)
        for _, result in results:
            counts[result] += 1
        body = {
            **counts,
            "highlights": [
                {"external_id": h.external_id, "result": result, "version": h.version}
                for h, result in results
            ],
        }
        return Response(s.HighlightBulkOutputSerializer(body).data)


@extend_schema(tags=["Highlights"])
class HighlightDetailView(TenantScopedAPIView):
    def _get(self, external_id: str, highlight_id: str) -> Any:
        return selectors.highlight_get(
            tenant=self.tenant, meeting_external_id=external_id, external_id=highlight_id
        )

    @extend_schema(
        operation_id="highlights_retrieve",
        summary="Get a highlight",
        responses=s.HighlightOutputSerializer,
    )
    def get(self, request: Request, external_id: str, highlight_id: str) -> Response:
        return Response(s.HighlightOutputSerializer(self._get(external_id, highlight_id)).data)

    @extend_schema(
        operation_id="highlights_update",
        summary="Change some fields of a highlight",
        request=s.HighlightUpdateSerializer,
        responses={
            200: s.HighlightOutputSerializer,
            409: error_response("The highlight was deleted; create it again to restore it."),
        },
    )
    def patch(self, request: Request, external_id: str, highlight_id: str) -> Response:
        highlight = self._get(external_id, highlight_id)
        data = s.HighlightUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        highlight = services.highlight_update(highlight=highlight, **data.validated_data)
        return Response(s.HighlightOutputSerializer(highlight).data)

    @extend_schema(
        operation_id="highlights_delete", summary="Delete a highlight", responses={204: None}
    )
    def delete(self, request: Request, external_id: str, highlight_id: str) -> Response:
        services.highlight_delete(highlight=self._get(external_id, highlight_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["Activities"])
class ActivityListCreateView(TenantScopedAPIView):
    @extend_schema(
        operation_id="activities_list",
        summary="List activities",
        parameters=[s.ActivityFilterSerializer],
        responses=s.ActivityOutputSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        filters = s.ActivityFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        activities = selectors.activity_list(tenant=self.tenant, **filters.validated_data)
        return paginated(self, activities, s.ActivityOutputSerializer)

    @extend_schema(
        operation_id="activities_upsert",
        summary="Create or update an activity",
        request=s.ActivityInputSerializer,
        responses={200: s.ActivityOutputSerializer, 201: s.ActivityOutputSerializer},
        description="Log a call, conference or task, or edit it when its external_id exists.",
        examples=[
            OpenApiExample(
                "An outbound call",
                request_only=True,
                value={
                    "external_id": "call-1",
                    "kind": "call",
                    "direction": "outbound",
                    "started_at": "2026-11-20T09:00:00Z",
                    "duration_seconds": 420,
                    "subject": "Pricing",
                    "notes": "Asked for a discount.",
                    "logged_by_email": "agent@acme.test",
                    "participants": [
                        {"email": "agent@acme.test"},
                        {"phone": "+1 555 0100", "name": "Prospect"},
                    ],
                },
            )
        ],
    )
    def post(self, request: Request) -> Response:
        data = s.ActivityInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        values["participants"] = s.people(values["participants"])
        activity, created = services.activity_upsert(tenant=self.tenant, **values)
        activity = selectors.activity_get(tenant=self.tenant, external_id=activity.external_id)
        return upserted(activity, created, s.ActivityOutputSerializer)


@extend_schema(tags=["Activities"])
class ActivityDetailView(TenantScopedAPIView):
    @extend_schema(
        operation_id="activities_retrieve",
        summary="Get an activity",
        responses=s.ActivityOutputSerializer,
    )
    def get(self, request: Request, external_id: str) -> Response:
        activity = selectors.activity_get(tenant=self.tenant, external_id=external_id)
        return Response(s.ActivityOutputSerializer(activity).data)

    @extend_schema(
        operation_id="activities_update",
        summary="Change some fields of an activity",
        request=s.ActivityUpdateSerializer,
        responses=s.ActivityOutputSerializer,
    )
    def patch(self, request: Request, external_id: str) -> Response:
        activity = selectors.activity_get(tenant=self.tenant, external_id=external_id)
        data = s.ActivityUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        changes = dict(data.validated_data)
        if "participants" in changes:
            changes["participants"] = s.people(changes["participants"])
        services.activity_update(activity=activity, **changes)
        activity = selectors.activity_get(tenant=self.tenant, external_id=external_id)
        return Response(s.ActivityOutputSerializer(activity).data)

    @extend_schema(
        operation_id="activities_delete", summary="Delete an activity", responses={204: None}
    )
    def delete(self, request: Request, external_id: str) -> Response:
        activity = selectors.activity_get(tenant=self.tenant, external_id=external_id)
        services.activity_delete(activity=activity)
        return Response(status=status.HTTP_204_NO_CONTENT)
