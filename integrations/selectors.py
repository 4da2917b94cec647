"""Reads of sync state, always within one tenant."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import QuerySet

from integrations.models import IntegrationSettings, SalesforceConnection, SyncJob, SyncMapping
from tenants.models import Tenant


def sync_jobs_for_object(*, tenant: Tenant, local_object: models.Model) -> QuerySet[SyncJob]:
    return SyncJob.objects.filter(
        tenant=tenant,
        content_type=ContentType.objects.get_for_model(local_object),
        object_id=local_object.pk,
    ).order_by("-created_at", "-id")


def sync_mappings_for_object(
    *, tenant: Tenant, local_object: models.Model
) -> QuerySet[SyncMapping]:
    return SyncMapping.objects.filter(
        tenant=tenant,
        content_type=ContentType.objects.get_for_model(local_object),
        object_id=local_object.pk,
    ).order_by("purpose")


def sync_job_list(*, tenant: Tenant, state: str | None = None) -> QuerySet[SyncJob]:
    jobs = SyncJob.objects.filter(tenant=tenant).select_related("content_type")
    if state:
        jobs = jobs.filter(state=state)
    return jobs.order_by("-created_at", "-id")


def salesforce_connection_for_tenant(*, tenant: Tenant) -> SalesforceConnection | None:
    return SalesforceConnection.objects.filter(tenant=tenant).first()


def integration_settings_for_tenant(*, tenant: Tenant) -> IntegrationSettings | None:
    return IntegrationSettings.objects.filter(tenant=tenant).first()
