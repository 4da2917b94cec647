"""Tenant admins' own pages: API keys and the scheduler's webhook secret."""

from __future__ import annotations

from tenants import views

app_name = "tenants"

urlpatterns = [*views.urlpatterns]
