"""Requests refused before any view sees them."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import unquote

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse

NUL = "\x00"
NUL_REFUSAL = "The address holds a NUL character, which no page or endpoint accepts."


class RefuseNulMiddleware:
    """Answers 400 to a request whose path or query string holds a NUL character
    (sent as `%00`). The database cannot compare text holding one, so such a request
    would otherwise end as a server error wherever the address reaches a query.

    The path is checked as the server decoded it and decoded once more, as the portal's
    pages decode their external ids (`%2500` names the id "\\x00" there); the query
    string as its parameters are read."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _holds_nul(request):
            if request.path_info.startswith("/api/"):
                return JsonResponse({"detail": NUL_REFUSAL, "code": "invalid"}, status=400)
            return HttpResponseBadRequest(
                f"<!doctype html><title>Bad Request (400)</title>"
                f"<h1>Bad Request (400)</h1><p>{NUL_REFUSAL}</p>"
            )
        return self.get_response(request)


def _holds_nul(request: HttpRequest) -> bool:
    path = request.path_info
    query = request.META.get("QUERY_STRING", "")
    return NUL in unquote(path) or NUL in unquote(query.replace("+", " "))
