from __future__ import annotations

import logging
import re
import secrets
from typing import cast

from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import User
from django.db import transaction

from core.errors import InvalidInput
from core.services import model_update
from tenants.models import Membership, Tenant, TenantAPIKey

logger = logging.getLogger(__name__)

# Labels of letters, digits and inner hyphens, and a top-level label of letters (or an
# internationalised one, "xn--..."): "acme.com", "eu.acme.co.uk".
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_DOMAIN = re.compile(rf"^(?:{_LABEL}\.)+(?:[a-z]{{2,63}}|xn--[a-z0-9-]{{1,59}})$")


def domain_normalise(raw: str) -> str:
    """One internal domain as it is stored: trimmed, lower-cased, without a leading "@"
    or a trailing dot. InvalidInput names the entry when it is not a domain (a bare
    word, an address with a scheme or a path)."""
    domain = raw.strip().lower().lstrip("@").rstrip(".")
    try:
        ascii_form = domain.encode("idna").decode("ascii")
    except UnicodeError:
        ascii_form = ""
    if len(ascii_form) > 253 or not _DOMAIN.match(ascii_form):
        raise InvalidInput(
            f"“{raw.strip()}” is not a domain, e.g. acme.com", field="internal_domains"
        )
    return domain


def domains_normalise(domains: list[str]) -> list[str]:
    """A tenant's internal domains, each normalised, each once, in the order given."""
    return list(dict.fromkeys(domain_normalise(raw) for raw in domains))


@transaction.atomic
def tenant_create(*, name: str, slug: str, internal_domains: list[str]) -> Tenant:
    """A new tenant, with the secret the meeting scheduler signs its webhooks with (the
    caller shows it once: it is stored encrypted and never shown again)."""
    if Tenant.objects.filter(slug=slug).exists():
        raise InvalidInput(f"A tenant with the slug '{slug}' exists already.", field="slug")
    return Tenant.objects.create(
        name=name,
        slug=slug,
        internal_domains=domains_normalise(internal_domains),
        scheduler_webhook_secret=secrets.token_urlsafe(32),
    )


TENANT_FIELDS = ("name", "slug", "internal_domains")


def tenant_update(*, tenant: Tenant, name: str, slug: str, internal_domains: list[str]) -> Tenant:
    """Rename a tenant or change its internal domains (its credentials have services of
    their own: API keys, the webhook secret)."""
    if Tenant.objects.filter(slug=slug).exclude(pk=tenant.pk).exists():
        raise InvalidInput(f"A tenant with the slug '{slug}' exists already.", field="slug")
    data = {"name": name, "slug": slug, "internal_domains": domains_normalise(internal_domains)}
    tenant, _ = model_update(instance=tenant, fields=TENANT_FIELDS, data=data)
    return tenant


def tenant_timezone_set(*, tenant: Tenant, timezone: str) -> Tenant:
    """The zone the tenant's pages show times in; InvalidInput (field "timezone") when
    it is not one the system knows."""
    tenant, _ = model_update(instance=tenant, fields=("timezone",), data={"timezone": timezone})
    return tenant


def membership_add(*, tenant: Tenant, user: User, role: str) -> Membership:
    membership, _ = Membership.objects.update_or_create(
        tenant=tenant, user=user, defaults={"role": role}
    )
    return membership


def credentials_history(*, tenant: Tenant, by: User | None, what: str) -> None:
    """Who did what to a tenant's credentials, in the tenant's admin history and the
    log: never the secret itself."""
    logger.info("tenant %s: %s (by %s)", tenant.slug, what, by.get_username() if by else "-")
    if by is not None:
        LogEntry.objects.log_actions(
            user_id=by.pk,
            queryset=[tenant],
            action_flag=CHANGE,
            change_message=what,
            single_object=True,
        )


def api_key_create(
    *, tenant: Tenant, name: str, by: User | None = None
) -> tuple[TenantAPIKey, str]:
    """A new key for a partner. The plain key is returned once and never stored."""
    api_key, plain_key = TenantAPIKey.objects.create_key(name=name, tenant=tenant)
    credentials_history(
        tenant=tenant, by=by, what=f"Created the API key {api_key.prefix}… ({name})."
    )
    # The library's manager is typed for its abstract model; what it builds and saves is
    # an instance of the model it manages, here TenantAPIKey.
    return cast(TenantAPIKey, api_key), plain_key


def api_key_revoke(*, api_key: TenantAPIKey, by: User | None = None) -> None:
    # The library refuses to un-revoke a key, so revoking is final.
    TenantAPIKey.objects.filter(pk=api_key.pk).update(revoked=True)
    what = f"Revoked the API key {api_key.prefix}… ({api_key.name})."
    credentials_history(tenant=api_key.tenant, by=by, what=what)


def scheduler_webhook_secret_rotate(*, tenant: Tenant, by: User | None = None) -> str:
    tenant.scheduler_webhook_secret = secrets.token_urlsafe(32)
    tenant.save(update_fields=["scheduler_webhook_secret"])
    credentials_history(tenant=tenant, by=by, what="Rotated the scheduler webhook secret.")
    return tenant.scheduler_webhook_secret
