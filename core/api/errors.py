"""One exception handler for the partner API. Every error it answers carries a machine
`code`: `{"detail": str, "code": str}` for a refusal of the whole request (domain errors,
a missing key, a throttled client, malformed JSON...), and `{field: [messages], ...,
"code": "invalid"}` when fields are wrong."""

from __future__ import annotations

import traceback
from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import exception_handler

from core.errors import DomainError

PAYLOAD_TOO_LARGE = {
    "detail": "The request body is larger than this API accepts.",
    "code": "payload_too_large",
}


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        body: dict[str, Any] = {"detail": exc.message, "code": exc.code}
        if exc.field:
            body = {exc.field: [exc.message], "code": exc.code}
        return Response(body, status=exc.status_code)
    if isinstance(exc, RequestDataTooBig):
        # Django refuses a body over DATA_UPLOAD_MAX_MEMORY_SIZE when it is read; left
        # alone it would become the site's HTML "Bad Request" page.
        return Response(PAYLOAD_TOO_LARGE, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, RecursionError) and _raised_while_parsing(exc):
        # JSON nested deeper than Python's parser recurses is malformed for us too.
        exc = exceptions.ParseError("The JSON body is nested too deeply.")
    # As DRF's own handler does, so that these answer with their code too.
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(*exc.args)
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)
    response = exception_handler(exc, context)
    if response is not None and isinstance(exc, exceptions.APIException):
        response.data = _with_code(exc, response.data)
    return response


def _raised_while_parsing(exc: BaseException) -> bool:
    """Whether `exc` came out of DRF reading the request body."""
    return any(
        frame.f_code.co_name == "_parse" and frame.f_globals.get("__name__") == Request.__module__
        for frame, _ in traceback.walk_tb(exc.__traceback__)
    )


def _with_code(exc: exceptions.APIException, data: Any) -> dict[str, Any]:
    if isinstance(exc, exceptions.ValidationError):
        fields = data if isinstance(data, dict) else {"non_field_errors": data}
        return {**fields, "code": "invalid"}
    code = exc.get_codes()
    if not isinstance(code, str):
        code = exc.default_code
    detail = data["detail"] if isinstance(data, dict) and "detail" in data else exc.detail
    return {"detail": str(detail), "code": code}


@csrf_exempt
def api_not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Any address under /api/ that is no endpoint answers JSON, as the endpoints do,
    not the site's HTML page; whatever the method (the API sends no CSRF token, so a
    POST must not get the CSRF refusal page either)."""
    return JsonResponse({"detail": "No such API endpoint.", "code": "not_found"}, status=404)


SERVER_ERROR = {"detail": "Server error.", "code": "server_error"}


def server_error(request: HttpRequest) -> HttpResponse:
    """The site's 500 answer (handler500): JSON under /api/, like every other answer
    there; the HTML page elsewhere."""
    if request.path_info.startswith("/api/"):
        return JsonResponse(SERVER_ERROR, status=500)
    return defaults.server_error(request)
