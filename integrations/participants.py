"""Who took part in an activity, as the portal keys them: by address, or (for someone
known only by phone) by number in E.164 read in the tenant's region; and whether they
are of the tenant's team (its domains, or its own numbers)."""

from __future__ import annotations

from dataclasses import dataclass

from integrations.models import IntegrationSettings
from integrations.salesforce.phones import phone_e164
from integrations.selectors import integration_settings_for_tenant
from meetings.models import ActivityParticipant
from tenants.models import Tenant


@dataclass(frozen=True)
class PhoneBook:
    """How a tenant's calls read phone numbers: a national number in `region`, and the
    tenant's own numbers (E.164), which are its team's, never someone outside."""

    region: str
    own_numbers: frozenset[str]


def phone_book(tenant: Tenant) -> PhoneBook:
    found = integration_settings_for_tenant(tenant=tenant) or IntegrationSettings()
    return PhoneBook(found.phone_default_region, frozenset(found.internal_phone_numbers or []))


def participant_key(participant: ActivityParticipant, book: PhoneBook) -> str:
    """What a participant is looked up by, as the log job keys them: their address, or
    for someone known only by phone their number in E.164; "" when neither is usable (a
    phone that is no phone number)."""
    if participant.email:
        return participant.email
    return phone_e164(participant.phone, book.region) or ""


def participant_internal(participant: ActivityParticipant, tenant: Tenant, book: PhoneBook) -> bool:
    """Whether a participant is of the tenant's team: an address of its domains, or (known
    only by phone) one of its own numbers."""
    if participant.email:
        return tenant.is_internal_email(participant.email)
    return participant_key(participant, book) in book.own_numbers
