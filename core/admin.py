"""Helpers every app's admin may share. No model is registered here."""

from __future__ import annotations

from typing import Any

from django.db import models

# URLs typed without a scheme are https (the default Django 6 adopts). Given to a
# ModelAdmin as `formfield_overrides`.
HTTPS_URLS: dict[type[models.Field[Any, Any]], dict[str, Any]] = {
    models.URLField: {"assume_scheme": "https"}
}
