"""The one place that talks HTTP to Salesforce."""

from __future__ import annotations

from typing import Any

import requests
from django.conf import settings


def salesforce_http_session() -> requests.Session:
    """A session that trusts Salesforce's certificate: the system's trust store in
    production, or the CA file of the bundled emulator (SALESFORCE_CA_FILE)."""
    session = requests.Session()
    if settings.SALESFORCE_CA_FILE:
        session.verify = settings.SALESFORCE_CA_FILE
        # requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE from the environment
        # override a session's `verify`; the configured bundle must win.
        session.trust_env = False
    return session


def salesforce_userinfo(*, instance_url: str, access_token: str) -> dict[str, Any]:
    """Who the token belongs to: `organization_id`, `user_id`, `email`, ..."""
    response = salesforce_http_session().get(
        f"{instance_url.rstrip('/')}/services/oauth2/userinfo",
        headers={"Authorization": f"Bearer {access_token}"},
        timeout=settings.SALESFORCE_HTTP_TIMEOUT,
    )
    response.raise_for_status()
    return response.json()
