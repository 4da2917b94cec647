from __future__ import annotations

from django.urls import path

from meetings.api import views

urlpatterns = [
    path("meetings/", views.MeetingListCreateView.as_view(), name="meeting-list"),
    path("meetings/<str:external_id>/", views.MeetingDetailView.as_view(), name="meeting-detail"),
    path(
        "meetings/<str:external_id>/transcript/",
        views.MeetingTranscriptView.as_view(),
        name="meeting-transcript",
    ),
    path(
        "meetings/<str:external_id>/processed/",
        views.MeetingProcessedView.as_view(),
        name="meeting-processed",
    ),
    path(
        "meetings/<str:external_id>/highlights/",
        views.HighlightListCreateView.as_view(),
        name="highlight-list",
    ),
    path(
        "meetings/<str:external_id>/highlights-bulk/",
        views.HighlightBulkView.as_view(),
        name="highlight-bulk",
    ),
    path(
        "meetings/<str:external_id>/highlights/<str:highlight_id>/",
        views.HighlightDetailView.as_view(),
        name="highlight-detail",
    ),
    path("activities/", views.ActivityListCreateView.as_view(), name="activity-list"),
    path(
        "activities/<str:external_id>/", views.ActivityDetailView.as_view(), name="activity-detail"
    ),
]
