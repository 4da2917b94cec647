"""The address a request came from, as the sign-in throttling counts it."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip_address(request: HttpRequest) -> str | None:
    """The client's address. Behind TRUSTED_PROXY_COUNT reverse proxies it is the one
    the outermost proxy saw: each proxy appends the address it was reached from to
    X-Forwarded-For, so it is that many entries from the right (the entries before it
    were written by the client and prove nothing). Without trusted proxies, or when that
    entry is missing or no IP address, the connection's own address."""
    remote_addr: str | None = request.META.get("REMOTE_ADDR")
    proxies: int = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote_addr
    forwarded = [entry.strip() for entry in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [entry for entry in forwarded if entry]
    if len(forwarded) < proxies:
        return remote_addr
    try:
        return str(ipaddress.ip_address(forwarded[-proxies]))
    except ValueError:
        return remote_addr
