"""The ops console for syncing: one module per thing ops work with. Importing them
registers their ModelAdmins; the synced models' own admins get their sync history, and
the workers' task lists are made safe for ops."""

from __future__ import annotations

from integrations.admin import connection, jobs, mappings
from integrations.admin.history import (
    SyncAttemptInline,
    SyncJobInline,
    SyncMappingInline,
    synced_admins_register,
)
from integrations.admin.tasks import task_admins_register

synced_admins_register()
task_admins_register()

__all__ = [
    "SyncAttemptInline",
    "SyncJobInline",
    "SyncMappingInline",
    "connection",
    "jobs",
    "mappings",
]
