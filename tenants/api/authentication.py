"""Partner authentication: `Authorization: Api-Key <key>`, one key belongs to one tenant.

This is the one place a partner request gets its tenant; every API view reads it from
`request.auth.tenant` through `TenantScopedAPIView.tenant`.
"""

from __future__ import annotations

import copy
import hashlib
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from tenants.models import TenantAPIKey

KEYWORD = "Api-Key"


class TenantAPIKeyAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[None, TenantAPIKey] | None:
        header = get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        scheme, _, key = header.partition(" ")
        if scheme != KEYWORD:
            return None
        key = key.strip()
        if not key:
            raise exceptions.AuthenticationFailed("The Api-Key header carries no key.")
        if any(character < " " or character == "\x7f" for character in key):
            # No key holds a control character; a NUL would also fail the lookup's
            # query on PostgreSQL.
            raise exceptions.AuthenticationFailed("Unknown or revoked API key.")
        try:
            api_key = api_key_find(key)
        except TenantAPIKey.DoesNotExist:
            raise exceptions.AuthenticationFailed("Unknown or revoked API key.") from None
        if api_key.has_expired:
            raise exceptions.AuthenticationFailed("This API key has expired.")
        return (None, api_key)

    def authenticate_header(self, request: Request) -> str:
        # Makes DRF answer 401 (not 403) when the key is missing or wrong.
        return KEYWORD


@dataclass(frozen=True)
class _Checked:
    api_key: TenantAPIKey
    until: float


# Keys this process has checked lately, by a digest of the whole key (its secret part
# included, so a wrong secret with a known prefix is never found here).
_checked: dict[str, _Checked] = {}
# Keys remembered at most; past it the memory starts again (a partner has a few keys).
_CHECKED_MAX = 1000
# Tests move time through this.
clock = time.monotonic


def api_key_find(key: str) -> TenantAPIKey:
    """The usable key (not revoked, the secret matching its hash), with its tenant, in
    one query; or DoesNotExist. A key found is remembered for API_KEY_CACHE_SECONDS, so
    a partner's next requests need no query at all; a revocation reaches this process
    when that time has passed. Expiry is checked by the caller at every request."""
    ttl = settings.API_KEY_CACHE_SECONDS
    digest = hashlib.sha256(key.encode()).hexdigest()
    now = clock()
    checked = _checked.get(digest) if ttl > 0 else None
    if checked is not None and checked.until > now:
        return _detached(checked.api_key)
    prefix, _, _ = key.partition(".")
    found = TenantAPIKey.objects.select_related("tenant").filter(revoked=False, prefix=prefix)
    api_key = found.first()
    # Checks the hash (and moves a key hashed the old way to the library's new hasher).
    if api_key is None or not api_key.is_valid(key):
        _checked.pop(digest, None)
        raise TenantAPIKey.DoesNotExist("Unknown or revoked API key.")
    if ttl > 0:
        if len(_checked) >= _CHECKED_MAX:
            _checked.clear()
        _checked[digest] = _Checked(api_key=_detached(api_key), until=now + ttl)
    return api_key


def _detached(api_key: TenantAPIKey) -> TenantAPIKey:
    """A copy of the key and of its tenant: nothing one request sets on them reaches
    another request."""
    twin = copy.copy(api_key)
    twin.tenant = copy.copy(api_key.tenant)
    return twin


class HasTenantAPIKey(BasePermission):
    message = "Send your tenant's API key as `Authorization: Api-Key <key>`."

    def has_permission(self, request: Request, view: Any) -> bool:
        return isinstance(request.auth, TenantAPIKey)
