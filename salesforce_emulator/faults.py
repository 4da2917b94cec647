"""Failures an org can be told to produce, so clients' retry paths can be tested."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

DEFAULT_MESSAGES = {
    "UNABLE_TO_LOCK_ROW": "unable to obtain exclusive access to this record",
    "SERVER_UNAVAILABLE": "Server unavailable; please try again later",
    "REQUEST_LIMIT_EXCEEDED": "TotalRequests Limit exceeded.",
    "INVALID_SESSION_ID": "Session expired or invalid",
    "UNKNOWN_EXCEPTION": "An unexpected error occurred. Please include this ErrorId if you "
                         "contact support: 1234567890-12345 (-1234567890)",
}

# The HTTP status Salesforce answers each error code with (REST API Developer Guide,
# "Status Codes and Error Responses"): 401 for an invalid session, 403 with
# REQUEST_LIMIT_EXCEEDED, 500 for an internal error, 503 when the server is unavailable.
# Every other code (UNABLE_TO_LOCK_ROW among them) is a DML error, answered with 400.
DEFAULT_STATUS = {
    "INVALID_SESSION_ID": 401,
    "REQUEST_LIMIT_EXCEEDED": 403,
    "UNKNOWN_EXCEPTION": 500,
    "SERVER_UNAVAILABLE": 503,
}
# Errors Salesforce sends without a ``fields`` key; DML errors always carry the list.
_WITHOUT_FIELDS = frozenset(DEFAULT_STATUS)


@dataclass
class FaultRule:
    kind: str  # "fail" or "drop"
    remaining: int
    method: str | None
    path: re.Pattern[str] | None
    error_code: str = "UNABLE_TO_LOCK_ROW"
    status: int = 400
    message: str | None = None
    # Matching requests to let through untouched before the rule applies.
    skip: int = 0

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method.upper() != method.upper():
            return False
        return self.path is None or self.path.search(path) is not None

    def text(self) -> str:
        return self.message or DEFAULT_MESSAGES.get(self.error_code, self.error_code)

    def fields(self) -> list[str] | None:
        return None if self.error_code in _WITHOUT_FIELDS else []


class Faults:
    def __init__(self) -> None:
        self._rules: list[FaultRule] = []
        self._lock = threading.Lock()
        self.latency_ms = 0.0

    def fail_next(self, n: int = 1, method: str | None = None, path: str | None = None,
                  error_code: str = "UNABLE_TO_LOCK_ROW", status: int | None = None,
                  message: str | None = None, after: int = 0) -> None:
        """The next ``n`` matching requests answer this error without doing anything
        (after letting ``after`` matching requests through).

        Without ``status``, the error code's own status is used (see ``DEFAULT_STATUS``)."""
        if status is None:
            status = DEFAULT_STATUS.get(error_code, 400)
        with self._lock:
            self._rules.append(FaultRule("fail", n, method, re.compile(path) if path else None,
                                         error_code, status, message, skip=after))

    def drop_after_commit(self, n: int = 1, method: str | None = None,
                          path: str | None = None, after: int = 0) -> None:
        """The next ``n`` matching requests (after ``after`` let through) are applied,
        then the connection is closed without an answer: the case where a client cannot
        know whether it wrote."""
        with self._lock:
            self._rules.append(FaultRule("drop", n, method, re.compile(path) if path else None,
                                         skip=after))

    def latency(self, ms: float) -> None:
        self.latency_ms = float(ms)

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()
            self.latency_ms = 0.0

    def take(self, kind: str, method: str, path: str) -> FaultRule | None:
        with self._lock:
            for rule in self._rules:
                if rule.kind == kind and rule.remaining > 0 and rule.matches(method, path):
                    if rule.skip > 0:
                        rule.skip -= 1
                        return None
                    rule.remaining -= 1
                    if rule.remaining == 0:
                        self._rules.remove(rule)
                    return rule
        return None

    def pending(self) -> list[dict[str, object]]:
        with self._lock:
            return [{"kind": r.kind, "remaining": r.remaining, "method": r.method,
                     "path": r.path.pattern if r.path else None, "error_code": r.error_code,
                     "status": r.status} for r in self._rules]
