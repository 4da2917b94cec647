"""How the partner API describes itself (drf-spectacular).

- Lists are answered a page at a time by `core.api.responses.paginated`, called by hand
  from plain APIViews: `PartnerAutoSchema` documents the page envelope (`count`, `next`,
  `previous`, `results`) and the `page` and `page_size` parameters for them.
- Every error has the one body `core.api.errors` answers, the `Error` component.
  `error_responses` adds to each operation the errors it can give because of its
  shape (401 with a key, 404 with an id in the path or a page number, 400 with a body
  or query parameters, 413 and 415 with a body, 429 always); a view declares the others (409,
  503) with `error_response`.
- What the API refuses the schema does not offer: a text field that may not be blank
  needs one character that is not a space.
"""

from __future__ import annotations

import inspect
from typing import Any

from django.core.validators import RegexValidator
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

from core.api.responses import PartnerPagination

ERROR_COMPONENT = "Error"
ERROR_REF = {"$ref": f"#/components/schemas/{ERROR_COMPONENT}"}

# The alphabet of core.validators.external_id_validator, written without a look-ahead
# ("not only dots": at least one character that is not a dot).
EXTERNAL_ID_PATTERN = r"^[A-Za-z0-9._:@-]*[A-Za-z0-9_:@-][A-Za-z0-9._:@-]*$"
EXTERNAL_ID_PATH_PARAMETERS = ("external_id", "highlight_id")
# Django's `slug` path converter.
SLUG_PATTERN = r"^[-a-zA-Z0-9_]+$"

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": (
        "Every error answer. `code` is a machine code (`invalid`, `not_found`, "
        "`conflict`, `not_authenticated`, `authentication_failed`, `throttled`, "
        "`payload_too_large`, `parse_error`, `unsupported_media_type`, ...). A refusal "
        "of the whole request has a `detail` message; a refusal of some fields (code "
        "`invalid`) names each field with its messages instead (`non_field_errors` for "
        "the body as a whole; a nested object or list has its own errors, field by "
        "field or item by item)."
    ),
    "properties": {
        "code": {"type": "string", "description": "What went wrong, for machines."},
        "detail": {"type": "string", "description": "What went wrong, for people."},
    },
    "required": ["code"],
    "additionalProperties": {
        "anyOf": [
            {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "object"}]}},
            {"type": "object"},
        ]
    },
}

ERROR_DESCRIPTIONS = {
    "400": "Invalid input: the fields in error, each with its messages (code `invalid`).",
    "401": "No API key, or an unknown, revoked or expired one.",
    "404": "No such object for your tenant (or no such page).",
    "409": "The request conflicts with the object's current state.",
    "413": "The body is larger than the API accepts (code `payload_too_large`).",
    "415": "The body is not JSON (code `unsupported_media_type`).",
    "429": "Too many requests (code `throttled`): try again after `Retry-After` seconds.",
    "503": "Salesforce could not be reached; try again later (code `unavailable`).",
}

RETRY_AFTER_HEADER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "integer"},
    }
}


class ErrorSerializer(serializers.Serializer[dict[str, Any]]):
    """The shape of every error answer (completed by `error_responses`: fields in error
    appear as further keys)."""

    code = serializers.CharField()
    detail = serializers.CharField(required=False)

    class Meta:
        ref_name = ERROR_COMPONENT


def error_response(description: str) -> OpenApiResponse:
    """An error a view documents itself (409 or 503: only its service knows)."""
    return OpenApiResponse(response=ErrorSerializer, description=description)


class PartnerAutoSchema(AutoSchema):
    def _get_paginator(self) -> PartnerPagination | None:
        # Every list is answered by core.api.responses.paginated, whose paginator this is.
        return PartnerPagination() if self.method == "GET" else None

    def get_description(self) -> str:  # type: ignore[override]
        # The method's docstring, else the view's own: not one inherited from the base
        # view, which describes the code, not the operation.
        method = getattr(self.view, self.method.lower(), None)
        doc = getattr(method, "__doc__", None) or type(self.view).__dict__.get("__doc__")
        return inspect.cleandoc(doc) if doc else ""

    def _map_serializer_field(
        self, field: Any, direction: str, bypass_extensions: bool = False
    ) -> dict[str, Any]:
        schema: dict[str, Any] = super()._map_serializer_field(field, direction, bypass_extensions)
        if (
            direction == "request"
            and isinstance(field, serializers.CharField)
            and not field.allow_blank
            and schema.get("type") == "string"
        ):
            schema.setdefault("minLength", 1)
            has_pattern = any(isinstance(v, RegexValidator) for v in field.validators)
            if field.trim_whitespace and not has_pattern and "format" not in schema:
                # Spaces alone are trimmed to nothing, which is refused as blank.
                schema["pattern"] = r"\S"
        return schema


def _operations(result: dict[str, Any]) -> Any:
    for path, methods in result.get("paths", {}).items():
        for method, operation in methods.items():
            if isinstance(operation, dict) and "responses" in operation:
                yield path, method, operation


def error_responses(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """Postprocessing hook: the shared error component and the errors each operation
    can give because of its shape; external ids in paths with their alphabet."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas[ERROR_COMPONENT] = ERROR_SCHEMA
    for _path, _method, operation in _operations(result):
        parameters = operation.get("parameters", [])
        for parameter in parameters:
            if parameter["in"] == "path" and parameter["name"] in EXTERNAL_ID_PATH_PARAMETERS:
                parameter["schema"] = {"type": "string", "pattern": EXTERNAL_ID_PATTERN}
            elif parameter["in"] == "path" and parameter["name"] == "tenant_slug":
                parameter["schema"] = {"type": "string", "pattern": SLUG_PATTERN}
        in_query = {p["name"] for p in parameters if p["in"] == "query"}
        codes = {"429"}
        if any(p["in"] == "path" for p in parameters) or "page" in in_query:
            codes.add("404")
        if "requestBody" in operation:
            codes |= {"400", "413", "415"}
        if in_query:  # filters, and a page or page size that is no whole number from 1
            codes.add("400")
        if any(requirement for requirement in operation.get("security", [])):
            codes.add("401")
        responses = operation["responses"]
        for code in sorted(codes):
            responses.setdefault(code, {"description": ERROR_DESCRIPTIONS[code]})
        for code, response in responses.items():
            if code[0] in "45":
                response["content"] = {"application/json": {"schema": ERROR_REF}}
                response.setdefault("description", ERROR_DESCRIPTIONS.get(code, ""))
        responses["429"]["headers"] = RETRY_AFTER_HEADER
        operation["responses"] = dict(sorted(responses.items()))
    return result
