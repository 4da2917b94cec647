"""Failures an org can be told to produce, so clients' retry paths can be tested.

Two ways to produce them: rules (``fail_next``, ``drop_after_commit``) hit the next
matching requests, for a test that wants one failure at one place; chaos (``chaos``) hits
a random share of requests with a random kind of failure, for a fault campaign that runs a
whole sync against an unreliable org. Chaos draws from a generator seeded by the caller, so
the same requests in the same order meet the same failures: a campaign that found a bug
can be run again to show it fixed.
"""

from __future__ import annotations

import random
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

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

# What chaos can do to a request:
# - "unavailable": 503 SERVER_UNAVAILABLE, nothing done (a pod restarting);
# - "lock": 400 UNABLE_TO_LOCK_ROW, nothing done (another transaction holds the row);
# - "drop": the request is applied, then the connection closes without an answer (the
#   client cannot know whether it wrote);
# - "slow": the answer comes ``slow_ms`` later, the request still applied (pushes a client
#   past its HTTP timeout while the server goes on and commits);
# - "expire": the org's sessions end, answered 401 INVALID_SESSION_ID; refresh tokens
#   still work, so the client refreshes and goes on.
CHAOS_KINDS = ("unavailable", "lock", "drop", "slow", "expire")
# "slow" is left out: only the caller knows how long its client waits (``slow_ms``).
DEFAULT_KINDS = ("unavailable", "lock", "drop", "expire")
_CHAOS_ERRORS = {"unavailable": "SERVER_UNAVAILABLE", "lock": "UNABLE_TO_LOCK_ROW"}


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


@dataclass(frozen=True)
class ChaosHit:
    """The failure chaos drew for one request."""

    kind: str  # one of CHAOS_KINDS
    slow_ms: float = 0.0

    def failure(self) -> FaultRule | None:
        """The error answered instead of doing anything, for "unavailable" and "lock"."""
        error_code = _CHAOS_ERRORS.get(self.kind)
        if error_code is None:
            return None
        return FaultRule("fail", 1, None, None, error_code, DEFAULT_STATUS.get(error_code, 400))


@dataclass
class _Chaos:
    rate: float
    seed: int
    kinds: tuple[str, ...]
    slow_ms: float
    draws: random.Random = field(repr=False)


class Faults:
    def __init__(self) -> None:
        self._rules: list[FaultRule] = []
        self._lock = threading.Lock()
        self.latency_ms = 0.0
        self._chaos: _Chaos | None = None
        self._chaos_counts = dict.fromkeys(("requests", *CHAOS_KINDS), 0)

    def fail_next(
        self,
        n: int = 1,
        method: str | None = None,
        path: str | None = None,
        error_code: str = "UNABLE_TO_LOCK_ROW",
        status: int | None = None,
        message: str | None = None,
        after: int = 0,
    ) -> None:
        """The next ``n`` matching requests answer this error without doing anything
        (after letting ``after`` matching requests through).

        Without ``status``, the error code's own status is used (see ``DEFAULT_STATUS``)."""
        if status is None:
            status = DEFAULT_STATUS.get(error_code, 400)
        with self._lock:
            self._rules.append(
                FaultRule(
                    "fail",
                    n,
                    method,
                    re.compile(path) if path else None,
                    error_code,
                    status,
                    message,
                    skip=after,
                )
            )

    def drop_after_commit(
        self, n: int = 1, method: str | None = None, path: str | None = None, after: int = 0
    ) -> None:
        """The next ``n`` matching requests (after ``after`` let through) are applied,
        then the connection is closed without an answer: the case where a client cannot
        know whether it wrote."""
        with self._lock:
            self._rules.append(
                FaultRule("drop", n, method, re.compile(path) if path else None, skip=after)
            )

    def latency(self, ms: float) -> None:
        self.latency_ms = float(ms)

    def clear(self) -> None:
        """Ends every rule, the latency and chaos (chaos' counts stay readable)."""
        with self._lock:
            self._rules.clear()
            self.latency_ms = 0.0
            self._chaos = None

    def chaos(
        self, rate: float, seed: int, kinds: Iterable[str] = DEFAULT_KINDS, slow_ms: float = 0
    ) -> None:
        """From now on each REST request of the org is hit, with probability ``rate``, by
        one failure of ``kinds`` (see ``CHAOS_KINDS``), drawn from ``random.Random(seed)``.

        The same seed and the same requests in the same order give the same failures;
        ``kinds`` is a set (its order does not change the draws). Counts start again at 0.
        Rules (``fail_next``, ``drop_after_commit``) still apply alongside."""
        rate = float(rate)
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"rate must be between 0 and 1, not {rate}")
        if isinstance(kinds, str):  # one kind given bare would iterate letter by letter
            kinds = [kinds]
        chosen = tuple(sorted(set(kinds)))
        unknown = [k for k in chosen if k not in CHAOS_KINDS]
        if unknown or not chosen:
            raise ValueError(f"kinds must be some of {', '.join(CHAOS_KINDS)}; got {unknown}")
        slow_ms = float(slow_ms)
        if "slow" in chosen and slow_ms <= 0:
            raise ValueError("the 'slow' kind needs slow_ms > 0")
        with self._lock:
            self._chaos = _Chaos(rate, int(seed), chosen, slow_ms, random.Random(int(seed)))
            self._chaos_counts = dict.fromkeys(self._chaos_counts, 0)

    def chaos_off(self) -> None:
        """Ends chaos; its counts stay readable until the next ``chaos``."""
        with self._lock:
            self._chaos = None

    def take_chaos(self) -> ChaosHit | None:
        """Draws for one request: the failure to inject, or None (also when chaos is off).

        Exactly one number is drawn per request whether it is hit or not, and one more
        for the kind when it is, under the lock: concurrent requests each get their own
        draws, in the order they reach this point."""
        with self._lock:
            chaos = self._chaos
            if chaos is None:
                return None
            self._chaos_counts["requests"] += 1
            if chaos.draws.random() >= chaos.rate:
                return None
            kind = chaos.draws.choice(chaos.kinds)
            self._chaos_counts[kind] += 1
            return ChaosHit(kind, chaos.slow_ms)

    def chaos_stats(self) -> dict[str, int]:
        """Requests seen while chaos was on, and the failures drawn for them, by kind.

        A "drop" drawn for a request that fails anyway (a validation error, say) is
        answered like any failed request: there was no write to lose the answer of."""
        with self._lock:
            return dict(self._chaos_counts)

    def chaos_settings(self) -> dict[str, object] | None:
        """What chaos runs with, or None when it is off."""
        with self._lock:
            chaos = self._chaos
            if chaos is None:
                return None
            return {
                "rate": chaos.rate,
                "seed": chaos.seed,
                "kinds": list(chaos.kinds),
                "slow_ms": chaos.slow_ms,
            }

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
            return [
                {
                    "kind": r.kind,
                    "remaining": r.remaining,
                    "method": r.method,
                    "path": r.path.pattern if r.path else None,
                    "error_code": r.error_code,
                    "status": r.status,
                }
                for r in self._rules
            ]
