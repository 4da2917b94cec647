"""Sync jobs as ops find and read them (the list, the job page). What ops do to a job
(resolve, retry, dismiss, ...) is in `job_actions`."""

from __future__ import annotations

from django.contrib import admin

from integrations.admin.history import SyncAttemptInline
from integrations.admin.job_actions import SyncJobActionsMixin
from integrations.models import SyncJob


@admin.register(SyncJob)
class SyncJobAdmin(SyncJobActionsMixin):
    list_display = [
        "id",
        "tenant",
        "operation",
        "content_type",
        "object_id",
        "state",
        "attempt_count",
        "next_attempt_at",
        "created_at",
    ]
    list_filter = ["state", "operation", "tenant"]
    list_select_related = ["tenant", "content_type"]
    search_fields = ["=id", "reason", "tenant__name"]
    readonly_fields = [f.name for f in SyncJob._meta.fields] + ["resolve"]
    inlines = [SyncAttemptInline]
    date_hierarchy = "created_at"
    actions = ["retry_failed", "run_now"]
