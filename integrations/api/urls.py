from __future__ import annotations

from django.urls import path

from integrations.api import views

urlpatterns = [
    path(
        "meetings/<str:external_id>/match-preview/",
        views.MeetingMatchPreviewView.as_view(),
        name="meeting-match-preview",
    ),
    path(
        "meetings/<str:external_id>/send-highlights/",
        views.MeetingHighlightsSendView.as_view(),
        name="meeting-send-highlights",
    ),
    path(
        "meetings/<str:external_id>/sync/",
        views.MeetingSyncStateView.as_view(),
        name="meeting-sync",
    ),
    path(
        "meetings/<str:external_id>/highlights/<str:highlight_id>/sync/",
        views.HighlightSyncStateView.as_view(),
        name="highlight-sync",
    ),
    path("activities/<str:external_id>/log/", views.ActivityLogView.as_view(), name="activity-log"),
    path(
        "activities/<str:external_id>/leads/",
        views.ActivityLeadCreateView.as_view(),
        name="activity-lead-create",
    ),
    path(
        "activities/<str:external_id>/sync/",
        views.ActivitySyncStateView.as_view(),
        name="activity-sync",
    ),
    path(
        "bookings/<str:external_id>/sync/",
        views.BookingSyncStateView.as_view(),
        name="booking-sync",
    ),
    path("sync-jobs/", views.SyncJobListView.as_view(), name="sync-job-list"),
    path("sync-jobs/<int:job_id>/", views.SyncJobDetailView.as_view(), name="sync-job-detail"),
    path(
        "sync-jobs/<int:job_id>/resolve/",
        views.SyncJobResolveView.as_view(),
        name="sync-job-resolve",
    ),
    path(
        "sync-jobs/<int:job_id>/retry/",
        views.SyncJobRetryView.as_view(),
        name="sync-job-retry",
    ),
]
