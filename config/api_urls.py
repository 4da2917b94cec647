"""The partner API, version 1. Every view here but the scheduler webhook authenticates
with a tenant API key and is covered by the cross-tenant test table."""

from __future__ import annotations

from django.urls import include, path

app_name = "api"

urlpatterns = [
    path("", include("meetings.api.urls")),
    path("", include("scheduler.api.urls")),
    path("", include("integrations.api.urls")),
]
