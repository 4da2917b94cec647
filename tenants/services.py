from __future__ import annotations

import secrets
from typing import cast

from django.contrib.auth.models import User
from django.db import transaction

from core.errors import InvalidInput
from tenants.models import Membership, Tenant, TenantAPIKey


def domains_normalise(domains: list[str]) -> list[str]:
    cleaned: list[str] = []
    for raw in domains:
        domain = raw.strip().lower().lstrip("@").rstrip(".")
        if not domain or "." not in domain or " " in domain:
            raise InvalidInput(f"'{raw}' is not a domain name.", field="internal_domains")
        if domain not in cleaned:
            cleaned.append(domain)
    return cleaned


@transaction.atomic
def tenant_create(*, name: str, slug: str, internal_domains: list[str]) -> Tenant:
    if Tenant.objects.filter(slug=slug).exists():
        raise InvalidInput(f"A tenant with the slug '{slug}' exists already.", field="slug")
    return Tenant.objects.create(
        name=name,
        slug=slug,
        internal_domains=domains_normalise(internal_domains),
        scheduler_webhook_secret=secrets.token_urlsafe(32),
    )


def membership_add(*, tenant: Tenant, user: User, role: str) -> Membership:
    membership, _ = Membership.objects.update_or_create(
        tenant=tenant, user=user, defaults={"role": role}
    )
    return membership


def api_key_create(*, tenant: Tenant, name: str) -> tuple[TenantAPIKey, str]:
    """A new key for a partner. The plain key is returned once and never stored."""
    api_key, plain_key = TenantAPIKey.objects.create_key(name=name, tenant=tenant)
    # The library's manager is typed for its abstract model; what it builds and saves is
    # an instance of the model it manages, here TenantAPIKey.
    return cast(TenantAPIKey, api_key), plain_key


def api_key_revoke(*, api_key: TenantAPIKey) -> None:
    # The library refuses to un-revoke a key, so revoking is final.
    TenantAPIKey.objects.filter(pk=api_key.pk).update(revoked=True)


def scheduler_webhook_secret_rotate(*, tenant: Tenant) -> str:
    tenant.scheduler_webhook_secret = secrets.token_urlsafe(32)
    tenant.save(update_fields=["scheduler_webhook_secret"])
    return tenant.scheduler_webhook_secret
