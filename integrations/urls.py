from __future__ import annotations

from django.urls import path

from integrations import views

app_name = "integrations"

urlpatterns = [
    path("settings/", views.integration_settings, name="settings"),
    path("salesforce/connect/", views.salesforce_connect, name="salesforce-connect"),
    path("salesforce/callback/", views.salesforce_callback, name="salesforce-callback"),
    path("salesforce/disconnect/", views.salesforce_disconnect, name="salesforce-disconnect"),
]
