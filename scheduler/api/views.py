from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.responses import paginated
from core.api.schema import error_response
from scheduler import selectors, services
from scheduler.api import serializers as s
from tenants.api.throttling import SchedulerWebhookThrottle
from tenants.api.views import TenantScopedAPIView


def change_response(result: services.BookingResult, *, created_status: bool = False) -> Response:
    body = {"outcome": result.outcome.value, "applied": result.applied, "booking": result.booking}
    code = (
        status.HTTP_201_CREATED
        if created_status and result.outcome == services.BookingOutcome.CREATED
        else status.HTTP_200_OK
    )
    return Response(s.BookingChangeOutputSerializer(body).data, status=code)


@extend_schema(tags=["Bookings"])
class BookingListCreateView(TenantScopedAPIView):
    @extend_schema(
        operation_id="bookings_list",
        summary="List bookings",
        parameters=[s.BookingFilterSerializer],
        responses=s.BookingOutputSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        filters = s.BookingFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        bookings = selectors.booking_list(tenant=self.tenant, **filters.validated_data)
        return paginated(self, bookings, s.BookingOutputSerializer)

    @extend_schema(
        operation_id="bookings_upsert",
        summary="Create a booking or apply a newer version of it",
        request=s.BookingInputSerializer,
        responses={200: s.BookingChangeOutputSerializer, 201: s.BookingChangeOutputSerializer},
        description=(
            "Create a booking, or apply a newer version of it. A version not newer than "
            "the stored one is ignored (outcome `stale_version_ignored`)."
        ),
        examples=[
            OpenApiExample(
                "A booking made by a guest",
                request_only=True,
                value={
                    "external_id": "bk-2041",
                    "version": 1,
                    "host_email": "ana@acme.test",
                    "guest_email": "bob@initech.example",
                    "guest_name": "Bob",
                    "title": "Intro call",
                    "description": "Booked from the pricing page.",
                    "start": "2026-11-24T10:00:00Z",
                    "end": "2026-11-24T10:30:00Z",
                    "booked_by_guest": True,
                },
            )
        ],
    )
    def post(self, request: Request) -> Response:
        data = s.BookingInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.booking_upsert(tenant=self.tenant, **data.validated_data)
        return change_response(result, created_status=True)


@extend_schema(tags=["Bookings"])
class BookingDetailView(TenantScopedAPIView):
    @extend_schema(
        operation_id="bookings_retrieve",
        summary="Get a booking",
        responses=s.BookingOutputSerializer,
    )
    def get(self, request: Request, external_id: str) -> Response:
        booking = selectors.booking_get(tenant=self.tenant, external_id=external_id)
        return Response(s.BookingOutputSerializer(booking).data)


@extend_schema(tags=["Bookings"])
class BookingRescheduleView(TenantScopedAPIView):
    @extend_schema(
        operation_id="bookings_reschedule",
        summary="Reschedule a booking",
        request=s.BookingRescheduleSerializer,
        responses=s.BookingChangeOutputSerializer,
    )
    def post(self, request: Request, external_id: str) -> Response:
        booking = selectors.booking_get(tenant=self.tenant, external_id=external_id)
        data = s.BookingRescheduleSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return change_response(services.booking_reschedule(booking=booking, **data.validated_data))


@extend_schema(tags=["Bookings"])
class BookingCancelView(TenantScopedAPIView):
    @extend_schema(
        operation_id="bookings_cancel",
        summary="Cancel a booking",
        request=s.BookingCancelSerializer,
        responses=s.BookingChangeOutputSerializer,
    )
    def post(self, request: Request, external_id: str) -> Response:
        booking = selectors.booking_get(tenant=self.tenant, external_id=external_id)
        data = s.BookingCancelSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return change_response(services.booking_cancel(booking=booking, **data.validated_data))


class SchedulerWebhookView(APIView):
    """Booking events from the meeting scheduler, signed per tenant (no API key):
    `Scheduler-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`."""

    authentication_classes: list[type] = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="scheduler_webhook",
        summary="Receive a booking event from the scheduler",
        tags=["Scheduler webhooks"],
        auth=[],
        request=s.SchedulerEventSerializer,
        parameters=[
            OpenApiParameter(
                services.SIGNATURE_HEADER,
                str,
                OpenApiParameter.HEADER,
                required=True,
                description='`t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`.',
            )
        ],
        responses={
            200: s.WebhookOutputSerializer,
            401: error_response(
                "The signature is missing, malformed, too old or does not match "
                "(code `unauthorized`), or the tenant is unknown."
            ),
            409: error_response("This event id was received already (code `conflict`)."),
        },
        examples=[
            OpenApiExample(
                "A booking was made",
                request_only=True,
                value={
                    "id": "evt-5512",
                    "event": "booking.created",
                    "booking": {
                        "external_id": "bk-2041",
                        "version": 1,
                        "host_email": "ana@acme.test",
                        "guest_email": "bob@initech.example",
                        "title": "Intro call",
                        "start": "2026-11-24T10:00:00Z",
                        "end": "2026-11-24T10:30:00Z",
                    },
                },
            )
        ],
    )
    def post(self, request: Request, tenant_slug: str) -> Response:
        # The raw bytes are what was signed: read them before anything parses the body.
        body = request.body
        tenant = services.scheduler_webhook_verify(
            tenant_slug=tenant_slug,
            header=request.headers.get(services.SIGNATURE_HEADER, ""),
            body=body,
        )
        # Counted once verified, so unsigned floods cannot spend the tenant's budget.
        SchedulerWebhookThrottle().check(self, request, tenant=tenant)
        data = s.SchedulerEventSerializer(data=services.scheduler_webhook_body_parse(body=body))
        data.is_valid(raise_exception=True)
        event, result = services.scheduler_event_apply(
            tenant=tenant,
            event_id=data.validated_data["id"],
            event_type=data.validated_data["event"],
            booking=data.validated_data["booking"],
        )
        payload = {
            "event_id": event.event_id,
            "outcome": result.outcome.value,
            "applied": result.applied,
            "booking": result.booking,
        }
        return Response(s.WebhookOutputSerializer(payload).data)
