"""Tenant pages: scheduler bookings and the open activities they keep in Salesforce."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
