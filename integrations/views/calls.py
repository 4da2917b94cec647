"""Tenant pages: calls, conferences and tasks, and logging them to Salesforce."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
