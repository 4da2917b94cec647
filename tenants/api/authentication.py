"""Partner authentication: `Authorization: Api-Key <key>`, one key belongs to one tenant.

This is the one place a partner request gets its tenant; every API view reads it from
`request.auth.tenant` through `TenantScopedAPIView.tenant`.
"""

from __future__ import annotations

from typing import Any, cast

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
            # Looks the key up by its prefix and checks the hash; revoked keys are not usable.
            # The library's manager is typed for its abstract model; the key it finds
            # is one of the model it manages, here TenantAPIKey.
            api_key = cast(TenantAPIKey, TenantAPIKey.objects.get_from_key(key))
        except TenantAPIKey.DoesNotExist:
            raise exceptions.AuthenticationFailed("Unknown or revoked API key.") from None
        if api_key.has_expired:
            raise exceptions.AuthenticationFailed("This API key has expired.")
        return (None, api_key)

    def authenticate_header(self, request: Request) -> str:
        # Makes DRF answer 401 (not 403) when the key is missing or wrong.
        return KEYWORD


class HasTenantAPIKey(BasePermission):
    message = "Send your tenant's API key as `Authorization: Api-Key <key>`."

    def has_permission(self, request: Request, view: Any) -> bool:
        return isinstance(request.auth, TenantAPIKey)
