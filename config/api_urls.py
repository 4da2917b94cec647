"""The partner API, version 1. Every view here but the scheduler webhook authenticates
with a tenant API key and is covered by the cross-tenant test table."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.urls import include, path
from drf_spectacular.utils import extend_schema
from rest_framework.views import APIView

from meetings.api.views import ActivityDetailView, HighlightDetailView, MeetingDetailView
from scheduler.api.views import BookingDetailView

app_name = "api"


def _unlisted(view: type[APIView]) -> Callable[..., Any]:
    """The view as it is, left out of the OpenAPI schema."""
    unlisted: type[APIView] = type(f"Unlisted{view.__name__}", (view,), {})
    return extend_schema(exclude=True)(unlisted).as_view()


urlpatterns = [
    path("", include("meetings.api.urls")),
    path("", include("scheduler.api.urls")),
    path("", include("integrations.api.urls")),
    # Ids stored before the safe alphabet was enforced may hold `/`: such a meeting,
    # activity, booking or highlight can still be read, changed and deleted at its usual
    # address with the slashes as they are. These come last, so they never take an
    # address of the routes above; new ids never need them, so the schema leaves them out.
    path(
        "meetings/<str:external_id>/highlights/<path:highlight_id>/",
        _unlisted(HighlightDetailView),
        name="highlight-detail-slashed",
    ),
    path(
        "meetings/<path:external_id>/",
        _unlisted(MeetingDetailView),
        name="meeting-detail-slashed",
    ),
    path(
        "activities/<path:external_id>/",
        _unlisted(ActivityDetailView),
        name="activity-detail-slashed",
    ),
    path(
        "bookings/<path:external_id>/",
        _unlisted(BookingDetailView),
        name="booking-detail-slashed",
    ),
]
