"""Tenant pages of the integration, one module per page family."""

from __future__ import annotations

from integrations.views.connection import (
    integration_settings,
    salesforce_callback,
    salesforce_connect,
    salesforce_disconnect,
)
from integrations.views.meetings import meeting_detail, meeting_highlights_send
from integrations.views.sync_log import sync_job_resolve, sync_job_retry, sync_log

__all__ = [
    "integration_settings",
    "meeting_detail",
    "meeting_highlights_send",
    "salesforce_callback",
    "salesforce_connect",
    "salesforce_disconnect",
    "sync_job_resolve",
    "sync_job_retry",
    "sync_log",
]
