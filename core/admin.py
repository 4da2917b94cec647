"""Helpers every app's admin may share. No model is registered here."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.http import HttpRequest

# URLs typed without a scheme are https (the default Django 6 adopts). Given to a
# ModelAdmin as `formfield_overrides`.
HTTPS_URLS: dict[type[models.Field[Any, Any]], dict[str, Any]] = {
    models.URLField: {"assume_scheme": "https"}
}


class ReadOnlyAdminMixin:
    """For records the product writes itself (what partners send through the API, what
    the scheduler's webhooks say, what the sync did): ops read them and never edit
    them, since an edit here would bypass the services that keep them right and enqueue
    their sync. Without change permission Django renders the change page as a view
    page, which anyone with *view* permission opens.

    Works on a ModelAdmin and on an inline (whose permission checks also get `obj`)."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
