"""Sync services: the outbox of sync jobs and their dispatch to the task queue."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import requests
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.utils import timezone
from django_q.tasks import async_task

from integrations.models import IntegrationSettings, SalesforceConnection, SyncJob
from integrations.salesforce.client import salesforce_userinfo
from integrations.salesforce.oauth import oauth_code_exchange, oauth_token_revoke
from tenants.errors import InvalidInput
from tenants.models import Tenant

logger = logging.getLogger(__name__)

# Operations the outbox carries, one per kind of local change.
OPERATION_HIGHLIGHT_SYNC = "highlight.sync"
OPERATION_MEETING_PROCESSED = "meeting.processed"
OPERATION_MEETING_SYNC = "meeting.sync"
OPERATION_ACTIVITY_SYNC = "activity.sync"
OPERATION_BOOKING_SYNC = "booking.sync"

# operation -> the service that carries it out for one job. The sync engine registers
# its executors here; an operation without one leaves its jobs pending.
SyncExecutor = Callable[[SyncJob], None]
SYNC_EXECUTORS: dict[str, SyncExecutor] = {}


def sync_job_dispatch(*, job_id: int) -> None:
    """Hand a job id to the task queue (called after commit, never inside a transaction)."""
    async_task("integrations.tasks.sync_job_run", job_id, task_name=f"sync-job-{job_id}")


def sync_job_enqueue(
    *, tenant: Tenant, operation: str, local_object: models.Model, params: dict | None = None
) -> SyncJob:
    """Write a sync job in the caller's transaction; queue it once that commits.

    A job for the same object and operation that is still pending and not started is
    reused: it will read the object's latest state when it runs, so a burst of edits
    makes one push.
    """
    content_type = ContentType.objects.get_for_model(local_object)
    if not params:
        pending = (
            SyncJob.objects.select_for_update()
            .filter(
                tenant=tenant,
                operation=operation,
                content_type=content_type,
                object_id=local_object.pk,
                state=SyncJob.State.PENDING,
                attempt_count=0,
                params={},
            )
            .first()
        )
        if pending is not None:
            logger.info(
                "sync job %s already pending for %s; not queued twice", pending.pk, operation
            )
            return pending
    job = SyncJob.objects.create(
        tenant=tenant,
        operation=operation,
        content_type=content_type,
        object_id=local_object.pk,
        params=params or {},
    )
    logger.info(
        "sync job %s queued: %s of %s %s", job.pk, operation, content_type.model, local_object.pk
    )
    transaction.on_commit(lambda: sync_job_dispatch(job_id=job.pk))
    return job


def sync_job_run(*, job_id: int) -> None:
    """Run one job with the executor of its operation."""
    job = SyncJob.objects.filter(pk=job_id).first()
    if job is None:
        logger.warning("sync job %s no longer exists; nothing to do", job_id)
        return
    executor = SYNC_EXECUTORS.get(job.operation)
    if executor is None:
        logger.info("sync job %s (%s) stays pending: no executor for it", job.pk, job.operation)
        return
    executor(job)


def integration_settings_get_or_create(*, tenant: Tenant) -> IntegrationSettings:
    settings_row, _ = IntegrationSettings.objects.get_or_create(tenant=tenant)
    return settings_row


def salesforce_connection_get_or_create(*, tenant: Tenant) -> SalesforceConnection:
    connection, _ = SalesforceConnection.objects.get_or_create(tenant=tenant)
    return connection


def salesforce_connection_connect(
    *,
    tenant: Tenant,
    instance_url: str,
    access_token: str,
    refresh_token: str = "",
    installed_by: AbstractBaseUser | None = None,
) -> SalesforceConnection:
    """Store a tenant's tokens after asking Salesforce whose they are: the org id and
    the installing user's Salesforce User Id come from the userinfo endpoint."""
    identity = salesforce_userinfo(instance_url=instance_url, access_token=access_token)
    connection = salesforce_connection_get_or_create(tenant=tenant)
    connection.instance_url = instance_url.rstrip("/")
    connection.access_token = access_token
    if refresh_token:
        connection.refresh_token = refresh_token
    connection.org_id = identity["organization_id"]
    connection.installer_salesforce_user_id = identity["user_id"]
    connection.installed_by = installed_by
    connection.status = SalesforceConnection.Status.CONNECTED
    connection.status_reason = ""
    connection.connected_at = timezone.now()
    connection.save()
    logger.info("tenant %s connected to Salesforce org %s", tenant.slug, connection.org_id)
    return connection


def salesforce_oauth_complete(
    *,
    tenant: Tenant,
    code: str,
    code_verifier: str,
    redirect_uri: str,
    installed_by: AbstractBaseUser,
) -> SalesforceConnection:
    """Finish the OAuth web-server flow: trade the code for tokens, then store them."""
    tokens = oauth_code_exchange(code=code, code_verifier=code_verifier, redirect_uri=redirect_uri)
    return salesforce_connection_connect(
        tenant=tenant,
        instance_url=tokens.instance_url,
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token,
        installed_by=installed_by,
    )


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


SALESFORCE_MATCH_OBJECTS = ("Account", "Opportunity", "Lead", "Contact")


def integration_settings_update(*, tenant: Tenant, **values: Any) -> IntegrationSettings:
    """Change a tenant's integration settings; the match order must name each of
    Account, Opportunity, Lead and Contact exactly once."""
    order = values.get("auto_sync_match_order")
    if order is not None and sorted(order) != sorted(SALESFORCE_MATCH_OBJECTS):
        raise InvalidInput(
            "The match order must list Account, Opportunity, Lead and Contact, each once.",
            field="auto_sync_match_order",
        )
    row = integration_settings_get_or_create(tenant=tenant)
    for key, value in values.items():
        if not hasattr(row, key) or key in {"id", "tenant", "tenant_id", "updated_at"}:
            raise InvalidInput(f"'{key}' is not an integration setting.", field=key)
        setattr(row, key, value)
    row.save()
    return row
