"""Pages that compose several apps (the overview shows meetings, bookings and sync
jobs together). It sits at the top: it may import every app and none imports it."""

from __future__ import annotations

from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Portal"
