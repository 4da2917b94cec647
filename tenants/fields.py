"""A text field encrypted at rest with Fernet (from the `cryptography` package).

OAuth tokens and webhook signing secrets go through it, so a database dump or a
backup never holds them in clear text. Keys come from FIELD_ENCRYPTION_KEYS (newest
first); MultiFernet decrypts with any listed key, so keys can be rotated, and
`manage.py secrets_reencrypt` moves every stored secret to the newest key.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models, transaction


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except ValueError as exc:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS holds a key that is not a Fernet key"
        ) from exc


def secret_encrypt(value: str) -> str:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS)).encrypt(value.encode()).decode()


def secret_decrypt(token: str) -> str:
    try:
        return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS)).decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured(
            "A stored secret cannot be decrypted with FIELD_ENCRYPTION_KEYS (was a key removed?)"
        ) from exc


class EncryptedTextField(models.TextField):
    """Stores ciphertext, hands out plain text. Empty stays empty (nothing to hide)."""

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value in (None, ""):
            return value
        return secret_encrypt(str(value))

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value in (None, ""):
            return value
        return secret_decrypt(value)


def stored_secrets_reencrypt() -> dict[str, int]:
    """Re-encrypts every stored secret with the newest key (the first of
    FIELD_ENCRYPTION_KEYS), so that older keys can be taken off the list afterwards.

    Finds the secrets by their field type, in every installed app, so a secret added
    later is covered without changes here. Each row is locked while it is rewritten: a
    token refreshed at the same moment is never overwritten with its older value.
    Returns the number of rows rewritten per model ("app_label.model")."""
    rewritten: dict[str, int] = {}
    for model in apps.get_models():
        names = [
            field.name
            for field in model._meta.concrete_fields
            if isinstance(field, EncryptedTextField)
        ]
        if not names:
            continue
        count = 0
        for pk in model._default_manager.order_by("pk").values_list("pk", flat=True).iterator():
            with transaction.atomic():
                row = model._default_manager.select_for_update().filter(pk=pk)
                values = row.values(*names).first()
                # Empty values hold nothing to encrypt; a row deleted meanwhile is skipped.
                secrets = {name: value for name, value in (values or {}).items() if value}
                if secrets:
                    count += row.update(**secrets)
        rewritten[model._meta.label] = count
    return rewritten
