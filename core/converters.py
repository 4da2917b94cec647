"""A path converter for the portal's pages about one object named by its external id.

New external ids keep to a safe alphabet (core.validators), but ids stored before that
rule may hold any character, `/` included. Their pages must still open: the converter
percent-encodes every character outside the safe alphabet when a link is made, and
decodes it when the page is asked for. Since servers decode the path once before Django
sees it, the link carries `%25` for each `%`, which is what `reverse` does by itself."""

from __future__ import annotations

from urllib.parse import quote, unquote

from django.urls import register_converter

# The safe alphabet of core.validators, left as is in a link.
_SAFE = "-_.:@"


class ExternalIdConverter:
    regex = "[^/]+"

    def to_python(self, value: str) -> str:
        return unquote(value)

    def to_url(self, value: str) -> str:
        encoded = quote(str(value), safe=_SAFE)
        # `.` and `..` alone are path steps that browsers fold away.
        return encoded.replace(".", "%2E") if not encoded.strip(".") else encoded


register_converter(ExternalIdConverter, "extid")
