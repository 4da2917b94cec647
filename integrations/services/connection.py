"""A tenant's Salesforce connection: connect (tokens in hand or through OAuth), check
what the org allows, and disconnect."""

from __future__ import annotations

import logging

import requests
from django.contrib.auth.models import User
from django.utils import timezone

from core.errors import InvalidInput
from integrations.models import SalesforceConnection
from integrations.outbox.sweeper import tenant_jobs_capable_again, tenant_jobs_reconnected
from integrations.salesforce.capabilities import ConnectionCheck, capabilities_read
from integrations.salesforce.client import salesforce_userinfo
from integrations.salesforce.errors import SalesforceError
from integrations.salesforce.oauth import oauth_code_exchange, oauth_token_revoke
from integrations.sync.connection import connection_client, connection_needs_reauth
from tenants.models import Tenant

logger = logging.getLogger(__name__)


def salesforce_connection_get_or_create(*, tenant: Tenant) -> SalesforceConnection:
    connection, _ = SalesforceConnection.objects.get_or_create(tenant=tenant)
    return connection


def salesforce_connection_connect(
    *,
    tenant: Tenant,
    instance_url: str,
    access_token: str,
    refresh_token: str = "",
    installed_by: User | None = None,
    login_url: str = "",
) -> SalesforceConnection:
    """Store a tenant's tokens after asking Salesforce whose they are: the org id and
    the installing user's Salesforce User Id come from the userinfo endpoint.
    `login_url` is where the tokens were issued (checked by `login_url_clean`; "" for
    production): the refresh token is traded there later."""
    identity = salesforce_userinfo(instance_url=instance_url, access_token=access_token)
    connection = salesforce_connection_get_or_create(tenant=tenant)
    connection.instance_url = instance_url.rstrip("/")
    connection.login_url = login_url
    connection.access_token = access_token
    if refresh_token:
        connection.refresh_token = refresh_token
    elif connection.installer_salesforce_user_id != identity["user_id"]:
        # Another Salesforce user's refresh token would bring back their sessions: the
        # records the sync makes must be made as the user it says sent them.
        connection.refresh_token = ""
    connection.org_id = identity["organization_id"]
    connection.installer_salesforce_user_id = identity["user_id"]
    connection.installed_by = installed_by
    connection.status = SalesforceConnection.Status.CONNECTED
    connection.status_reason = ""
    connection.connected_at = timezone.now()
    # An API-limit pause stays: the org's daily limit does not reset with a new session.
    connection.save()
    logger.info("tenant %s connected to Salesforce org %s", tenant.slug, connection.org_id)
    resumed = tenant_jobs_reconnected(tenant=tenant)
    if resumed:
        logger.info("tenant %s: %s waiting sync jobs resume", tenant.slug, resumed)
    return connection


def salesforce_oauth_complete(
    *,
    tenant: Tenant,
    code: str,
    code_verifier: str,
    redirect_uri: str,
    installed_by: User,
    login_url: str = "",
) -> SalesforceConnection:
    """Finish the OAuth web-server flow: trade the code for tokens at the login address
    the admin signed in at, store them, then check what the org allows."""
    tokens = oauth_code_exchange(
        code=code, code_verifier=code_verifier, redirect_uri=redirect_uri, login_url=login_url
    )
    connection = salesforce_connection_connect(
        tenant=tenant,
        instance_url=tokens.instance_url,
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token,
        installed_by=installed_by,
        login_url=login_url,
    )
    salesforce_connection_check(tenant=tenant)
    connection.refresh_from_db()
    return connection


def salesforce_connection_check(*, tenant: Tenant) -> ConnectionCheck:
    """Read what the org lets the installing user do (describe and limits, two API
    calls) and record it on the connection with the time. When Salesforce cannot be
    read, the check records why; a refused session also marks the connection as
    needing re-authorisation, as a sync would."""
    connection = salesforce_connection_get_or_create(tenant=tenant)
    if connection.status != SalesforceConnection.Status.CONNECTED:
        raise InvalidInput("Connect Salesforce before checking the connection.")
    client = connection_client(connection)
    try:
        check = capabilities_read(client)
    except SalesforceError as exc:
        if exc.kind == "reauth":
            connection_needs_reauth(connection, str(exc))
        check = ConnectionCheck(
            api_calls=client.api_calls, error=f"Salesforce could not be read: {exc}"
        )
    now = timezone.now()
    updates: dict[str, object] = {"capabilities": check.to_json(), "checked_at": now}
    if client.usage.limit:
        updates.update(
            api_usage_used=client.usage.used, api_usage_limit=client.usage.limit, api_usage_at=now
        )
    SalesforceConnection.objects.filter(pk=connection.pk).update(**updates, updated_at=now)
    if not check.error:
        tenant_jobs_capable_again(tenant=tenant)
    logger.info(
        "tenant %s: connection checked (%s API calls)%s",
        tenant.slug,
        check.api_calls,
        f": {check.error}" if check.error else "",
    )
    return check


def salesforce_disconnect(*, tenant: Tenant) -> SalesforceConnection:
    """Revoke the tokens at Salesforce (best effort) and forget them here."""
    connection = salesforce_connection_get_or_create(tenant=tenant)
    token = connection.refresh_token or connection.access_token
    if token and connection.instance_url:
        try:
            oauth_token_revoke(instance_url=connection.instance_url, token=token)
        except requests.RequestException as exc:
            # The tokens are dropped here anyway; Salesforce expires them on its own.
            logger.warning(
                "tenant %s: token revocation failed: %s", tenant.slug, type(exc).__name__
            )
    connection.access_token = ""
    connection.refresh_token = ""
    connection.status = SalesforceConnection.Status.DISCONNECTED
    connection.status_reason = "Disconnected by a tenant admin."
    connection.save()
    logger.info("tenant %s disconnected from Salesforce", tenant.slug)
    return connection
