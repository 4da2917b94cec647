"""The ops console for syncing: one module per thing ops work with. Importing them
registers their ModelAdmins; the synced models' own admins get their sync history."""

from __future__ import annotations

from integrations.admin import connection, jobs, mappings
from integrations.admin.history import (
    SyncAttemptInline,
    SyncJobInline,
    SyncMappingInline,
    synced_admins_register,
)

synced_admins_register()

__all__ = [
    "SyncAttemptInline",
    "SyncJobInline",
    "SyncMappingInline",
    "connection",
    "jobs",
    "mappings",
]
