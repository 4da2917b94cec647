"""A tenant's Salesforce session: built from its stored connection, refreshed once on
an expired session, and marked "needs re-authorisation" when the refresh is refused."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.utils import timezone

from integrations.models import SalesforceConnection
from integrations.salesforce.client import SalesforceClient
from integrations.salesforce.errors import SalesforceError
from integrations.salesforce.oauth import OAuthError, OAuthUnavailable, oauth_token_refresh

logger = logging.getLogger(__name__)


def connection_client(
    connection: SalesforceConnection, *, on_call: Callable[[], None] | None = None
) -> SalesforceClient:
    def refresh() -> str:
        if not connection.refresh_token:
            raise SalesforceError(
                "reauth", "INVALID_SESSION_ID", "The session expired and there is no refresh token."
            )
        try:
            tokens = oauth_token_refresh(
                refresh_token=connection.refresh_token, login_url=connection.login_url
            )
        except OAuthUnavailable as exc:
            raise SalesforceError("retry", "TOKEN_ENDPOINT_UNAVAILABLE", str(exc)) from exc
        except OAuthError as exc:
            raise SalesforceError("reauth", "INVALID_SESSION_ID", str(exc)) from exc
        connection.access_token = tokens.access_token
        connection.refresh_token = tokens.refresh_token or connection.refresh_token
        # Stored only if nobody reconnected meanwhile: a batch holding the old connection
        # must not put the previous user's tokens back.
        SalesforceConnection.objects.filter(
            pk=connection.pk,
            connected_at=connection.connected_at,
            status=SalesforceConnection.Status.CONNECTED,
        ).update(
            access_token=connection.access_token,
            refresh_token=connection.refresh_token,
            updated_at=timezone.now(),
        )
        logger.info("tenant %s: Salesforce session refreshed", connection.tenant_id)
        return tokens.access_token

    return SalesforceClient(
        instance_url=connection.instance_url,
        access_token=connection.access_token,
        api_version=connection.api_version or settings.SALESFORCE_API_VERSION,
        refresh=refresh,
        on_call=on_call,
    )


def connection_needs_reauth(connection: SalesforceConnection, why: str) -> None:
    """The session this connection held was refused: unless somebody reconnected since
    (a new session, which this says nothing about), a person must reconnect."""
    SalesforceConnection.objects.filter(
        pk=connection.pk,
        connected_at=connection.connected_at,
        status=SalesforceConnection.Status.CONNECTED,
    ).update(
        status=SalesforceConnection.Status.NEEDS_REAUTH,
        status_reason=f"Salesforce refused the stored session: {why} Reconnect Salesforce "
        "on the settings page; waiting syncs resume then.",
        updated_at=timezone.now(),
    )
    logger.warning("tenant %s: Salesforce connection needs re-authorisation", connection.tenant_id)
