"""The WSGI application: routing, sessions, API-call counting, faults and the request log."""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import time
import traceback
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from werkzeug.wrappers import Request, Response

from . import control, oauth, pages, rest
from .errors import ApiError, invalid_session, limit_exceeded, not_found
from .registry import Registry
from .store import Org, RequestLogEntry

MAX_URL_BYTES = 16_384
JSON_TYPE = "application/json;charset=UTF-8"
log = logging.getLogger("salesforce_emulator")


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status=status, headers=headers, content_type=JSON_TYPE)


class EmulatorApp:
    """A WSGI callable serving every org held by one ``Registry``."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        started = time.perf_counter()
        started_at = datetime.now(UTC).isoformat(timespec="milliseconds")
        raw_uri = environ.get("REQUEST_URI") or environ.get("RAW_URI") or request.full_path
        if len(raw_uri.encode()) > MAX_URL_BYTES:
            response = Response("URI Too Long", status=414, mimetype="text/plain")
            return response(environ, start_response)
        path = request.path
        org: Org | None = None
        api_calls = 0
        drop = False
        try:
            if path.startswith("/services/data"):
                response, org, api_calls, drop = self._rest(request)
            elif path.startswith("/services/oauth2/"):
                response = self._oauth(request, path)
            elif path.startswith("/id/"):
                parts = path.strip("/").split("/")
                response = (
                    oauth.identity(request, self.registry, parts[1], parts[2])
                    if len(parts) == 3
                    else _error(not_found())
                )
            elif path.startswith("/_emulator/"):
                response = control.handle(request, self.registry)
            else:
                response = pages.handle(request, self.registry)
        except Exception:  # the emulator must answer like a server, never hang up
            log.error("unhandled error for %s %s\n%s", request.method, path, traceback.format_exc())
            response = _error(
                ApiError(
                    500,
                    "UNKNOWN_EXCEPTION",
                    "An unexpected error occurred. Please include this "
                    "ErrorId if you contact support: 0000000000-00000",
                )
            )
        if org is not None:
            with org.lock:
                org.request_log.append(
                    RequestLogEntry(
                        method=request.method,
                        path=path,
                        query=request.query_string.decode("latin-1"),
                        status=response.status_code,
                        started_at=started_at,
                        duration_ms=round((time.perf_counter() - started) * 1000, 3),
                        api_calls=api_calls,
                    )
                )
        if drop:
            _hang_up(environ)
            start_response("500 Connection dropped", [("Content-Length", "0")])
            return []
        return response(environ, start_response)

    def _oauth(self, request: Request, path: str) -> Response:
        name = path[len("/services/oauth2/") :].strip("/")
        handler = {
            "authorize": oauth.authorize,
            "token": oauth.token,
            "userinfo": oauth.userinfo,
            "revoke": oauth.revoke,
        }.get(name)
        if handler is None:
            return _error(not_found())
        return handler(request, self.registry)

    def _rest(self, request: Request) -> tuple[Response, Org | None, int, bool]:
        path = request.path
        if path.rstrip("/") == "/services/data":
            return json_response(rest.versions_body()), None, 0, False
        try:
            version, subpath, _ = rest.split_url(path)
        except ApiError as error:
            return _error(error), None, 0, False
        authorization = request.headers.get("Authorization")
        try:
            org, session = self.registry.authenticate(authorization)
        except ApiError as error:
            return _error(error), self.registry.org_of_token(authorization), 0, False
        chaos = org.faults.take_chaos()
        if chaos is not None and chaos.kind == "expire":
            # The org's sessions end as when Salesforce times them out: this request is
            # refused like any other with an ended session (not counted as an API call),
            # and so are the next ones until the client refreshes its token.
            self.registry.expire_sessions(org.id)
            return _error(invalid_session()), org, 0, False
        if chaos is not None and chaos.kind == "slow":
            time.sleep(chaos.slow_ms / 1000)
        if org.faults.latency_ms:
            time.sleep(org.faults.latency_ms / 1000)
        with org.lock:
            if org.api_calls >= org.api_max:
                return _error(limit_exceeded(), org), org, 0, False
            org.api_calls += 1
        fault = org.faults.take("fail", request.method, path)
        if fault is None and chaos is not None:
            fault = chaos.failure()
        if fault is not None:
            failure = ApiError(fault.status, fault.error_code, fault.text(), fault.fields())
            return _error(failure, org), org, 1, False
        try:
            body = _parse_body(request)
            call = rest.Call(
                org,
                session,
                request.method,
                version,
                subpath,
                {k: request.args.getlist(k) for k in request.args},
                body,
                request.headers,
            )
            with org.lock:
                reply = rest.handle(call)
        except ApiError as error:
            return _error(error, org), org, 1, False
        drop = org.faults.take("drop", request.method, path) is not None
        if chaos is not None and chaos.kind == "drop":
            drop = True
        headers = {"Sforce-Limit-Info": _usage(org)}
        headers.update(reply.headers)
        if reply.raw is not None:
            response = Response(reply.raw, status=reply.status, headers=headers)
        elif reply.status == 204 or reply.body is None:
            response = Response(status=reply.status, headers=headers)
        else:
            response = json_response(reply.body, reply.status, headers)
        if request.method == "HEAD":
            response.set_data(b"")
        return response, org, 1, drop


def _usage(org: Org) -> str:
    return f"api-usage={org.api_calls}/{org.api_max}"


def _error(error: ApiError, org: Org | None = None) -> Response:
    headers = {"Sforce-Limit-Info": _usage(org)} if org is not None else {}
    if error.status == 300 and "ids" in error.extra:
        return json_response(error.extra["ids"], 300, headers)
    return json_response(error.body(), error.status, headers)


def _parse_body(request: Request) -> Any:
    data = request.get_data(cache=True)
    if not data.strip():
        return None
    try:
        return json.loads(data)
    except ValueError as exc:
        raise ApiError(
            400, "JSON_PARSER_ERROR", f"Unexpected character in the request body: {exc}"
        ) from None


def _hang_up(environ: dict[str, Any]) -> None:
    """Closes the client connection without an answer (after the write was applied)."""
    sock = environ.get("werkzeug.socket")
    if sock is None:
        return
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
