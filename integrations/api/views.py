"""Partner API views for the sync: preview a match, send highlights, log activities,
create Leads, follow and answer sync jobs, and read the sync state of an object. Each
view finds its object through a selector given `self.tenant`, calls one service, and
answers with the job as it stands (it may already have run)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from core.api.responses import paginated
from core.api.schema import error_response
from integrations import selectors
from integrations.api import serializers as s
from integrations.models import SyncJob
from integrations.services import actions, jobs
from meetings import selectors as meeting_selectors
from scheduler import selectors as booking_selectors
from tenants.api.views import TenantScopedAPIView

JOB_ID = OpenApiParameter("job_id", int, OpenApiParameter.PATH)


def job_accepted(view: TenantScopedAPIView, job: SyncJob) -> Response:
    """202 with the job read again: with tasks run inline it may be finished already."""
    job = selectors.sync_job_get(tenant=view.tenant, job_id=job.pk)
    return Response(s.SyncJobDetailOutputSerializer(job).data, status=status.HTTP_202_ACCEPTED)


def sync_state_response(state: selectors.SyncState) -> Response:
    return Response(s.SyncStateOutputSerializer(state).data)


# --- manual highlight sync (SPEC 3.1) ----------------------------------------------------------


JOB_CONFLICT = error_response(
    "The job is not in a state that allows this, or changed meanwhile (code `conflict`)."
)


@extend_schema(tags=["Salesforce sync"])
class MeetingMatchPreviewView(TenantScopedAPIView):
    @extend_schema(
        operation_id="meetings_match_preview",
        summary="Preview where a meeting's highlights would go",
        parameters=[s.MatchPreviewQuerySerializer],
        responses={
            200: s.MatchPreviewOutputSerializer,
            409: error_response("Salesforce is not connected for this tenant (code `conflict`)."),
            503: error_response("Salesforce could not be asked (code `unavailable`)."),
        },
        description=(
            "Which of the four manual-sync situations applies to the meeting's external "
            "attendees, with the record on offer and the candidates. Reads Salesforce, "
            "writes nothing."
        ),
    )
    def get(self, request: Request, external_id: str) -> Response:
        meeting = meeting_selectors.meeting_get(tenant=self.tenant, external_id=external_id)
        query = s.MatchPreviewQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        preview = actions.match_preview(
            meeting=meeting, highlight_ids=query.validated_data["highlights"]
        )
        return Response(s.MatchPreviewOutputSerializer(preview).data)


@extend_schema(tags=["Salesforce sync"])
class MeetingHighlightsSendView(TenantScopedAPIView):
    @extend_schema(
        operation_id="meetings_send_highlights",
        summary="Send highlights to Salesforce",
        request=s.HighlightsSendInputSerializer,
        responses={202: s.SyncJobDetailOutputSerializer},
        description=(
            "Send the chosen highlights, each as one Note, to a target Account or "
            "Opportunity, or to one created for them (`create`). Give `target` or "
            "`create`, not both."
        ),
    )
    def post(self, request: Request, external_id: str) -> Response:
        meeting = meeting_selectors.meeting_get(tenant=self.tenant, external_id=external_id)
        data = s.HighlightsSendInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        create = values.get("create")
        if create and create.get("close_date"):
            create = {**create, "close_date": create["close_date"].isoformat()}
        job = actions.highlights_send(
            meeting=meeting,
            highlight_ids=values["highlights"],
            target=values.get("target"),
            create=create,
        )
        return job_accepted(self, job)


# --- activities (SPEC 3.5) -------------------------------------------------------------------


@extend_schema(tags=["Salesforce sync"])
class ActivityLogView(TenantScopedAPIView):
    @extend_schema(
        operation_id="activities_log",
        summary="Log an activity in Salesforce",
        request=s.ActivityLogInputSerializer,
        responses={202: s.SyncJobDetailOutputSerializer},
        description=(
            "Log the activity as Salesforce Tasks now. `choices` says which record a "
            "participant's address is (remembered for that address) or asks for a Lead."
        ),
    )
    def post(self, request: Request, external_id: str) -> Response:
        activity = meeting_selectors.activity_get(tenant=self.tenant, external_id=external_id)
        data = s.ActivityLogInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        job = actions.activity_log(activity=activity, choices=data.validated_data.get("choices"))
        return job_accepted(self, job)


@extend_schema(tags=["Salesforce sync"])
class ActivityLeadCreateView(TenantScopedAPIView):
    @extend_schema(
        operation_id="activities_lead_create",
        summary="Create a Lead from an activity's participant",
        request=s.LeadCreateInputSerializer,
        responses={202: s.SyncJobDetailOutputSerializer},
        description=(
            "Create a Salesforce Lead from a participant; Company is taken from the email "
            "domain when not given."
        ),
    )
    def post(self, request: Request, external_id: str) -> Response:
        activity = meeting_selectors.activity_get(tenant=self.tenant, external_id=external_id)
        data = s.LeadCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        job = actions.lead_create(activity=activity, **data.validated_data)
        return job_accepted(self, job)


# --- sync jobs ---------------------------------------------------------------------------------


@extend_schema(tags=["Sync jobs"])
class SyncJobListView(TenantScopedAPIView):
    @extend_schema(
        operation_id="sync_jobs_list",
        summary="List sync jobs",
        parameters=[s.SyncJobFilterSerializer],
        responses=s.SyncJobOutputSerializer(many=True),
        description="The tenant's sync jobs, newest first.",
    )
    def get(self, request: Request) -> Response:
        filters = s.SyncJobFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        jobs = selectors.sync_job_list(tenant=self.tenant, **filters.validated_data)
        return paginated(self, jobs, s.SyncJobOutputSerializer)


@extend_schema(tags=["Sync jobs"])
class SyncJobDetailView(TenantScopedAPIView):
    @extend_schema(
        operation_id="sync_jobs_retrieve",
        summary="Get a sync job with its attempts",
        parameters=[JOB_ID],
        responses=s.SyncJobDetailOutputSerializer,
    )
    def get(self, request: Request, job_id: int) -> Response:
        job = selectors.sync_job_get(tenant=self.tenant, job_id=job_id)
        return Response(s.SyncJobDetailOutputSerializer(job).data)


@extend_schema(tags=["Sync jobs"])
class SyncJobResolveView(TenantScopedAPIView):
    @extend_schema(
        operation_id="sync_jobs_resolve",
        summary="Answer a sync job waiting for review",
        parameters=[JOB_ID],
        request=s.SyncJobResolveInputSerializer,
        responses={202: s.SyncJobDetailOutputSerializer, 409: JOB_CONFLICT},
        description=(
            "Answer a job waiting for review: `choice` (the record a meeting or booking "
            "links to) or `choices` (for an activity, which record each address is)."
        ),
    )
    def post(self, request: Request, job_id: int) -> Response:
        job = selectors.sync_job_get(tenant=self.tenant, job_id=job_id)
        data = s.SyncJobResolveInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        answer: dict[str, Any] = data.validated_data
        job = jobs.sync_job_resolve(
            job=job, choice=answer.get("choice"), choices=answer.get("choices")
        )
        return job_accepted(self, job)


@extend_schema(tags=["Sync jobs"])
class SyncJobRetryView(TenantScopedAPIView):
    @extend_schema(
        operation_id="sync_jobs_retry",
        summary="Run a failed sync job again",
        parameters=[JOB_ID],
        request=None,
        responses={202: s.SyncJobDetailOutputSerializer, 409: JOB_CONFLICT},
        description="Run a failed job again, once its cause was fixed in Salesforce.",
    )
    def post(self, request: Request, job_id: int) -> Response:
        job = selectors.sync_job_get(tenant=self.tenant, job_id=job_id)
        return job_accepted(self, jobs.sync_job_retry(job=job))


# --- the sync state of one object --------------------------------------------------------------


@extend_schema(tags=["Salesforce sync"])
class MeetingSyncStateView(TenantScopedAPIView):
    @extend_schema(
        operation_id="meetings_sync_state",
        summary="Get the Salesforce records of a meeting",
        responses=s.SyncStateOutputSerializer,
        description="Salesforce records of the meeting, its attendees and its highlights.",
    )
    def get(self, request: Request, external_id: str) -> Response:
        meeting = meeting_selectors.meeting_get(tenant=self.tenant, external_id=external_id)
        return sync_state_response(
            selectors.meeting_sync_state(tenant=self.tenant, meeting=meeting)
        )


@extend_schema(tags=["Salesforce sync"])
class HighlightSyncStateView(TenantScopedAPIView):
    @extend_schema(
        operation_id="highlights_sync_state",
        summary="Get the Salesforce records of a highlight",
        responses=s.SyncStateOutputSerializer,
    )
    def get(self, request: Request, external_id: str, highlight_id: str) -> Response:
        highlight = meeting_selectors.highlight_get(
            tenant=self.tenant, meeting_external_id=external_id, external_id=highlight_id
        )
        return sync_state_response(
            selectors.highlight_sync_state(tenant=self.tenant, highlight=highlight)
        )


@extend_schema(tags=["Salesforce sync"])
class ActivitySyncStateView(TenantScopedAPIView):
    @extend_schema(
        operation_id="activities_sync_state",
        summary="Get the Salesforce records of an activity",
        responses=s.SyncStateOutputSerializer,
        description="Salesforce records of the activity and its participants (Tasks, Leads).",
    )
    def get(self, request: Request, external_id: str) -> Response:
        activity = meeting_selectors.activity_get(tenant=self.tenant, external_id=external_id)
        return sync_state_response(
            selectors.activity_sync_state(tenant=self.tenant, activity=activity)
        )


@extend_schema(tags=["Salesforce sync"])
class BookingSyncStateView(TenantScopedAPIView):
    @extend_schema(
        operation_id="bookings_sync_state",
        summary="Get the Salesforce records of a booking",
        responses=s.SyncStateOutputSerializer,
    )
    def get(self, request: Request, external_id: str) -> Response:
        booking = booking_selectors.booking_get(tenant=self.tenant, external_id=external_id)
        return sync_state_response(
            selectors.booking_sync_state(tenant=self.tenant, booking=booking)
        )
