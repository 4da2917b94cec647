"""Tenant admins' own pages: API keys and the scheduler's webhook secret."""

from __future__ import annotations

from django.urls import URLPattern

app_name = "tenants"

urlpatterns: list[URLPattern] = []
