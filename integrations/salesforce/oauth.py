"""OAuth 2.0 web-server flow with PKCE against Salesforce (or the bundled emulator)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import requests
from django.conf import settings

from integrations.salesforce.client import salesforce_http_session
from integrations.salesforce.login import login_base_url


class OAuthError(Exception):
    """Salesforce refused the authorisation; the message says why, for the admin."""


class OAuthUnavailable(Exception):
    """Salesforce's token endpoint could not be reached; trying later may work."""


@dataclass(frozen=True)
class PendingAuthorization:
    url: str
    state: str
    code_verifier: str


@dataclass(frozen=True)
class TokenResponse:
    access_token: str
    refresh_token: str
    instance_url: str
    identity_url: str


def oauth_authorization_start(*, redirect_uri: str, login_url: str = "") -> PendingAuthorization:
    """Where to send the admin, with a fresh `state` and PKCE verifier to remember.
    `login_url` is a checked login address (see `login_url_clean`); "" is production."""
    if not settings.SALESFORCE_CLIENT_ID:
        raise OAuthError("SALESFORCE_CLIENT_ID is not configured; ask your operator.")
    state = secrets.token_urlsafe(24)
    verifier = secrets.token_urlsafe(64)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    params = {
        "response_type": "code",
        "client_id": settings.SALESFORCE_CLIENT_ID,
        "redirect_uri": redirect_uri,
        "state": state,
        "code_challenge": challenge.decode().rstrip("="),
        "code_challenge_method": "S256",
        "scope": "api refresh_token",
    }
    url = f"{login_base_url(login_url)}/services/oauth2/authorize?{urlencode(params)}"
    return PendingAuthorization(url=url, state=state, code_verifier=verifier)


def _signature_valid(body: dict[str, Any]) -> bool:
    """Salesforce signs `id + issued_at` with the consumer secret (HMAC-SHA256, base64)."""
    expected = base64.b64encode(
        hmac.new(
            settings.SALESFORCE_CLIENT_SECRET.encode(),
            (str(body.get("id", "")) + str(body.get("issued_at", ""))).encode(),
            hashlib.sha256,
        ).digest()
    ).decode()
    return hmac.compare_digest(expected, str(body.get("signature", "")))


def oauth_code_exchange(
    *, code: str, code_verifier: str, redirect_uri: str, login_url: str = ""
) -> TokenResponse:
    """Trade the code for tokens at the login address the admin signed in at."""
    response = salesforce_http_session().post(
        f"{login_base_url(login_url)}/services/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "client_id": settings.SALESFORCE_CLIENT_ID,
            "client_secret": settings.SALESFORCE_CLIENT_SECRET,
            "redirect_uri": redirect_uri,
            "code_verifier": code_verifier,
        },
        timeout=settings.SALESFORCE_HTTP_TIMEOUT,
    )
    body = response.json() if response.content else {}
    if response.status_code != 200:
        why = body.get("error_description") or body.get("error") or response.status_code
        raise OAuthError(f"Salesforce refused the authorisation: {why}")
    if not _signature_valid(body):
        raise OAuthError("Salesforce's answer carried a signature that does not match.")
    return TokenResponse(
        access_token=body["access_token"],
        refresh_token=body.get("refresh_token", ""),
        instance_url=body["instance_url"],
        identity_url=body["id"],
    )


def oauth_token_revoke(*, instance_url: str, token: str) -> None:
    """Ask Salesforce to forget a token; a token it no longer knows is fine."""
    salesforce_http_session().post(
        f"{instance_url.rstrip('/')}/services/oauth2/revoke",
        data={"token": token},
        timeout=settings.SALESFORCE_HTTP_TIMEOUT,
    )


def oauth_token_refresh(*, refresh_token: str, login_url: str = "") -> TokenResponse:
    """A new access token for a refresh token, asked of the login address the token
    was issued at (a sandbox's token is unknown to production); OAuthError when
    Salesforce refuses it (revoked, expired, or the Connected App changed)."""
    try:
        response = salesforce_http_session().post(
            f"{login_base_url(login_url)}/services/oauth2/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": refresh_token,
                "client_id": settings.SALESFORCE_CLIENT_ID,
                "client_secret": settings.SALESFORCE_CLIENT_SECRET,
            },
            timeout=settings.SALESFORCE_HTTP_TIMEOUT,
        )
    except requests.RequestException as exc:
        raise OAuthUnavailable(f"Salesforce's token endpoint did not answer: {exc}") from exc
    try:
        body = response.json() if response.content else {}
    except ValueError:
        raise OAuthUnavailable(
            f"Salesforce's token endpoint answered {response.status_code} without JSON."
        ) from None
    if response.status_code >= 500:
        raise OAuthUnavailable(f"Salesforce's token endpoint answered {response.status_code}.")
    if response.status_code != 200:
        why = body.get("error_description") or body.get("error") or response.status_code
        raise OAuthError(f"Salesforce refused to refresh the session: {why}")
    if not _signature_valid(body):
        raise OAuthError("Salesforce's answer carried a signature that does not match.")
    return TokenResponse(
        access_token=body["access_token"],
        refresh_token=body.get("refresh_token", refresh_token),
        instance_url=body["instance_url"],
        identity_url=body["id"],
    )
