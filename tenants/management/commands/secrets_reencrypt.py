"""`manage.py secrets_reencrypt`: moves every stored secret to the newest key.

Key rotation: put the new key first in FIELD_ENCRYPTION_KEYS (keep the old ones after
it), restart, run this command, then remove the old keys and restart again."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from tenants.fields import stored_secrets_reencrypt


class Command(BaseCommand):
    help = (
        "Re-encrypts every stored secret (OAuth tokens, webhook signing secrets) with the "
        "first key of FIELD_ENCRYPTION_KEYS, so the older keys can then be removed."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        rewritten = stored_secrets_reencrypt()
        for label, count in rewritten.items():
            self.stdout.write(f"{label}: {count} rows re-encrypted")
        self.stdout.write(
            self.style.SUCCESS(
                "Every stored secret now uses the first key; older keys can be removed."
            )
        )
