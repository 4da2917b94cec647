"""A tenant's integration settings: what is synced, how, and in which match order."""

from __future__ import annotations

from typing import Any

from core.errors import InvalidInput
from core.services import model_update
from integrations.models import IntegrationSettings
from integrations.outbox.sweeper import tenant_jobs_capable_again
from integrations.salesforce.domains import DOMAIN_LEVEL
from integrations.salesforce.phones import phone_e164, region_is_known, region_label
from tenants.models import Tenant
from tenants.services import domains_normalise

SALESFORCE_MATCH_OBJECTS = ("Account", "Opportunity", "Lead", "Contact")
# Steps a match order may add to those objects: an Account found by the attendee's
# company domain (see README, "Company domain").
OPTIONAL_MATCH_STEPS = (DOMAIN_LEVEL,)

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
    "free_mail_domains_extra",
    "phone_default_region",
    "internal_phone_numbers",
)


def integration_settings_get_or_create(*, tenant: Tenant) -> IntegrationSettings:
    settings_row, _ = IntegrationSettings.objects.get_or_create(tenant=tenant)
    return settings_row


def integration_settings_update(*, tenant: Tenant, **values: Any) -> IntegrationSettings:
    """Change a tenant's integration settings; the match order must name each of
    Account, Opportunity, Lead and Contact exactly once."""
    order = values.get("auto_sync_match_order")
    if order is not None and not _match_order_valid(order):
        raise InvalidInput(
            "The match order must list Account, Opportunity, Lead and Contact, each once; "
            f"it may add {DOMAIN_LEVEL} (an Account whose website is on an attendee's "
            "company domain) once.",
            field="auto_sync_match_order",
        )
    if "free_mail_domains_extra" in values:
        values["free_mail_domains_extra"] = _extra_free_mail(values["free_mail_domains_extra"])
    row = integration_settings_get_or_create(tenant=tenant)
    unknown = next((key for key in values if key not in INTEGRATION_SETTINGS_FIELDS), None)
    if unknown is not None:
        raise InvalidInput(f"'{unknown}' is not an integration setting.", field=unknown)
    values = _phone_settings(row, values)
    row, _ = model_update(instance=row, fields=INTEGRATION_SETTINGS_FIELDS, data=values)
    # Jobs held for what the org does not allow look again (another note type, say).
    tenant_jobs_capable_again(tenant=tenant)
    return row


def _match_order_valid(order: Any) -> bool:
    if not isinstance(order, list | tuple):
        return False
    required = [name for name in order if name not in OPTIONAL_MATCH_STEPS]
    optional = [name for name in order if name in OPTIONAL_MATCH_STEPS]
    return sorted(required) == sorted(SALESFORCE_MATCH_OBJECTS) and len(optional) == len(
        set(optional)
    )


def _extra_free_mail(domains: Any) -> list[str]:
    """The tenant's own free-mail domains, each checked and normalised as a domain."""
    if not isinstance(domains, list | tuple) or not all(isinstance(d, str) for d in domains):
        raise InvalidInput("Give a list of domains.", field="free_mail_domains_extra")
    try:
        return domains_normalise(list(domains))
    except InvalidInput as error:
        raise InvalidInput(error.message, field="free_mail_domains_extra") from error


def _phone_settings(row: IntegrationSettings, values: dict[str, Any]) -> dict[str, Any]:
    """The phone settings checked and normalised: the default region is a region
    libphonenumber knows (upper-cased), and each of the tenant's own numbers is stored in
    E.164, a national one read in that region. A bad entry is refused by its line."""
    values = dict(values)
    region = str(values.get("phone_default_region", row.phone_default_region) or "")
    region = region.strip().upper()
    if "phone_default_region" in values:
        if not region_is_known(region):
            raise InvalidInput(
                f"'{region}' is not a region code (two letters, e.g. US or GB).",
                field="phone_default_region",
            )
        values["phone_default_region"] = region
    lines = values.get("internal_phone_numbers")
    if lines is not None:
        if not isinstance(lines, list | tuple):
            raise InvalidInput("Give a list of phone numbers.", field="internal_phone_numbers")
        numbers: list[str] = []
        for index, line in enumerate(lines, start=1):
            text = str(line).strip()
            if not text:
                continue
            number = phone_e164(text, region)
            if number is None:
                raise InvalidInput(
                    f"Line {index}, '{text}', is not a phone number (a national number is "
                    f"read in region {region_label(region)}; otherwise start with + and "
                    "the country code).",
                    field="internal_phone_numbers",
                )
            if number not in numbers:
                numbers.append(number)
        values["internal_phone_numbers"] = numbers
    return values
