"""Rate limits of the partner API (per API key) and of scheduler webhooks (per tenant).

Counts live in the shared cache (Redis when `REDIS_URL` is set), so every web process
sees the same budget. Each limit is a fixed window (`1200/min`: at most 1,200 requests in
each calendar minute) counted with one atomic increment, which costs the same whatever
the rate. A refused request answers 429 with `Retry-After`: the seconds until its window
ends. Rates are read from settings on every request; an empty rate means no limit.
"""

from __future__ import annotations

import contextlib
import logging
import time
from typing import TYPE_CHECKING, Any, ClassVar

from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, cache, caches
from django.core.cache.backends.redis import RedisCache
from rest_framework.throttling import BaseThrottle

from tenants.models import Tenant, TenantAPIKey

if TYPE_CHECKING:
    # Not at run time: DRF's APIView reads the throttle classes (this module) as it loads.
    from rest_framework.request import Request
    from rest_framework.views import APIView

logger = logging.getLogger(__name__)

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def rate_parse(rate: str) -> tuple[int, int]:
    """`"1200/min"` -> (1200, 60). The period is read by its first letter: s, m, h, d."""
    count, _, period = rate.partition("/")
    return int(count), _PERIODS[period.strip()[:1].lower()]


class WindowRateThrottle(BaseThrottle):
    """Allows each identity (what `ident` returns) the requests of every rate in
    `rate_settings` (e.g. a burst and a sustained rate). A refused request is not counted,
    so a client that retries too early does not spend its budget further."""

    scope: ClassVar[str]
    rate_settings: ClassVar[tuple[str, ...]]
    # Tests move time through this.
    timer = staticmethod(time.time)

    def __init__(self) -> None:
        self.retry_after: float | None = None

    def ident(self, request: Request, view: APIView) -> str | None:
        """Whose budget the request uses; None: not limited here."""
        raise NotImplementedError

    def allow_request(self, request: Request, view: APIView) -> bool:
        ident = self.ident(request, view)
        return ident is None or self.allow(ident)

    def allow(self, ident: str) -> bool:
        now = self.timer()
        # A malformed rate fails here, loudly, and not as a cache that does not answer.
        rates = [
            (number, *rate_parse(rate))
            for number, name in enumerate(self.rate_settings)
            if (rate := getattr(settings, name, ""))
        ]
        counted: list[str] = []
        waits: list[float] = []
        try:
            for number, _, period in rates:
                window = int(now // period)
                counted.append(f"throttle:{self.scope}:{number}:{period}:{window}:{ident}")
            counts = _count_all(
                [(key, period + 5) for key, (_, _, period) in zip(counted, rates, strict=True)]
            )
            for (_, limit, period), count in zip(rates, counts, strict=True):
                if count > limit:
                    waits.append((int(now // period) + 1) * period - now)
            if waits:
                for key in counted:
                    _uncount(key)
        except Exception:
            # A cache that does not answer must not take the API down with it.
            logger.warning("Rate limit %s not checked: the cache is unavailable.", self.scope)
            return True
        if not waits:
            return True
        self.retry_after = max(waits)
        return False

    def wait(self) -> float | None:
        return self.retry_after


def _count_all(windows: list[tuple[str, int]]) -> list[int]:
    """Adds one to each (key, timeout)'s count and returns the counts: with Redis, in
    one round trip for all of them (a request checks two windows); with another cache,
    one key after the other."""
    client = _redis_client()
    if client is None:
        return [_count(key, timeout=timeout) for key, timeout in windows]
    pipe = client.pipeline(transaction=False)
    for key, timeout in windows:
        stored = cache.make_and_validate_key(key)
        # Starts the window's count with its expiry when it has none yet, then counts:
        # both atomic in Redis, as `cache.add` and `cache.incr` are.
        pipe.set(stored, 0, ex=timeout, nx=True)
        pipe.incr(stored)
    answers = pipe.execute()
    return [int(count) for count in answers[1::2]]


# The Redis client of the cache backend last seen: (backend, client).
_redis: dict[str, tuple[object, Any]] = {}


def _redis_client() -> Any | None:
    """The Redis client under the default cache, or None when the cache is not Redis.
    Kept while the cache backend stays the same: Django's cache makes a client for
    each call, which costs more than the round trip itself. Counts stay readable
    through `cache` (the same keys, integers stored as they are)."""
    backend = caches[DEFAULT_CACHE_ALIAS]
    if not isinstance(backend, RedisCache):
        return None
    kept = _redis.get("client")
    if kept is None or kept[0] is not backend:
        # Django's RedisCache has no public way to its client; this is how its own
        # methods reach it.
        kept = (backend, backend._cache.get_client(write=True))
        _redis["client"] = kept
    return kept[1]


def _count(key: str, *, timeout: int) -> int:
    """Adds one to the key's count (atomic in Redis) and returns the count. The key
    outlives its window a little; the next window has another key."""
    try:
        return cache.incr(key)
    except ValueError:  # the window's first request
        if cache.add(key, 1, timeout=timeout):
            return 1
        return cache.incr(key)  # another request started the window meanwhile


def _uncount(key: str) -> None:
    with contextlib.suppress(ValueError):  # already expired
        cache.decr(key)


class APIKeyThrottle(WindowRateThrottle):
    scope = "api_key"
    rate_settings = ("API_RATE_LIMIT_BURST", "API_RATE_LIMIT_SUSTAINED")

    def ident(self, request: Request, view: APIView) -> str | None:
        # Each key has its own budget, also between keys of one tenant. The prefix is the
        # key's unique public identifier (the stored id also carries its hash).
        api_key = request.auth
        return api_key.prefix if isinstance(api_key, TenantAPIKey) else None


class SchedulerWebhookThrottle(WindowRateThrottle):
    """Deliveries per tenant. Checked by the webhook view once the signature is verified
    (not before, like the API's throttles): a sender without the tenant's secret is
    refused with 401 and never uses up the budget of the tenant's real deliveries."""

    scope = "scheduler_webhook"
    rate_settings = ("SCHEDULER_WEBHOOK_RATE_LIMIT",)

    def ident(self, request: Request, view: APIView) -> str | None:
        return None  # not a view's throttle class: the view calls `check`

    def check(self, view: APIView, request: Request, *, tenant: Tenant) -> None:
        """Raises Throttled (429 with Retry-After) when the tenant's budget is spent."""
        if not self.allow(str(tenant.pk)):
            assert self.retry_after is not None  # set by every refusal
            view.throttled(request, self.retry_after)
