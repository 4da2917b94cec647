"""Limits on what partners may send, shared by every app's API serializers."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator

# Upper bound of the integer columns (a PostgreSQL `integer`): a larger number is
# refused as bad input instead of failing at the database.
DB_INT_MAX = 2**31 - 1

# External ids appear in URLs (the API's own paths and the portal's pages), so they are
# kept to characters that need no escaping in a path segment: letters, digits and
# `- _ . : @`. No `/`, no whitespace, and never only dots (`.` and `..` are path steps).
EXTERNAL_ID_ALPHABET = "letters, digits and - _ . : @"
EXTERNAL_ID_HELP = (
    "Your id for this object, unique within your account. Up to {max_length} characters: "
    f"{EXTERNAL_ID_ALPHABET} (no slashes, no spaces, not only dots)."
)


class _WholeValueRegexValidator(RegexValidator):
    """A RegexValidator that refuses a trailing newline too: Python's `$` matches just
    before one. The pattern stays a plain `^...$` so the OpenAPI schema can show it."""

    def __call__(self, value: object) -> None:
        super().__call__(value)
        if str(value).endswith("\n"):
            raise ValidationError(self.message, code=self.code, params={"value": value})


external_id_validator = _WholeValueRegexValidator(
    regex=r"^(?!\.+$)[A-Za-z0-9._:@-]+$",
    message=(
        f"An external id may contain only {EXTERNAL_ID_ALPHABET} "
        "(no slashes, no spaces, not only dots)."
    ),
    code="invalid_external_id",
)
