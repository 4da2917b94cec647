from __future__ import annotations

from django.urls import path

from integrations import views

app_name = "integrations"

urlpatterns = [
    path("settings/", views.integration_settings, name="settings"),
    path("salesforce/connect/", views.salesforce_connect, name="salesforce-connect"),
    path("salesforce/callback/", views.salesforce_callback, name="salesforce-callback"),
    path("salesforce/disconnect/", views.salesforce_disconnect, name="salesforce-disconnect"),
    path("meetings/<str:external_id>/", views.meeting_detail, name="meeting"),
    path(
        "meetings/<str:external_id>/send/",
        views.meeting_highlights_send,
        name="meeting-send",
    ),
    path("sync/", views.sync_log, name="sync-log"),
    path("sync/<int:job_id>/resolve/", views.sync_job_resolve, name="sync-job-resolve"),
    path("sync/<int:job_id>/retry/", views.sync_job_retry, name="sync-job-retry"),
]
