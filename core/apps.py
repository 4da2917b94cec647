"""Shared plumbing every app may use: domain errors, the API's exception handler and
responses, admin helpers. It knows no product concept (no tenant, no meeting), so it
sits below every other app and imports none of them."""

from __future__ import annotations

from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from core import converters  # noqa: F401  (registers the `extid` path converter)
