"""A tenant's integration settings: what is synced, how, and in which match order."""

from __future__ import annotations

from typing import Any

from core.errors import InvalidInput
from core.services import model_update
from integrations.models import IntegrationSettings
from tenants.models import Tenant

SALESFORCE_MATCH_OBJECTS = ("Account", "Opportunity", "Lead", "Contact")

# What a tenant admin may change: everything else on the row (its tenant, its id, its
# timestamp) is not a setting.
INTEGRATION_SETTINGS_FIELDS = (
    "highlights_destination",
    "note_flavour",
    "auto_sync",
    "auto_sync_match_order",
    "log_scheduled_meetings",
    "log_calls_automatically",
    "link_back_base_url",
)


def integration_settings_get_or_create(*, tenant: Tenant) -> IntegrationSettings:
    settings_row, _ = IntegrationSettings.objects.get_or_create(tenant=tenant)
    return settings_row


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
    unknown = next((key for key in values if key not in INTEGRATION_SETTINGS_FIELDS), None)
    if unknown is not None:
        raise InvalidInput(f"'{unknown}' is not an integration setting.", field=unknown)
    row, _ = model_update(instance=row, fields=INTEGRATION_SETTINGS_FIELDS, data=values)
    return row
