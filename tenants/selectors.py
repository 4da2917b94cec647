from __future__ import annotations

from django.contrib.auth.models import User
from django.db.models import QuerySet

from core.errors import NotFound
from tenants.models import Membership, Tenant, TenantAPIKey


def membership_for_user(*, user: User) -> Membership | None:
    """The tenant membership a signed-in member works in (the first, by tenant name)."""
    return (
        Membership.objects.select_related("tenant")
        .filter(user=user)
        .order_by("tenant__name")
        .first()
    )


def tenant_list() -> QuerySet[Tenant]:
    return Tenant.objects.all()


def tenant_by_slug(*, slug: str) -> Tenant:
    tenant = Tenant.objects.filter(slug=slug).first()
    if tenant is None:
        raise NotFound("No such tenant.")
    return tenant


def api_key_list(*, tenant: Tenant) -> QuerySet[TenantAPIKey]:
    """The tenant's partner API keys, newest first, revoked ones included (a revoked key
    still explains why a partner's calls stopped)."""
    return TenantAPIKey.objects.filter(tenant=tenant).order_by("-created")


def api_key_get(*, tenant: Tenant, prefix: str) -> TenantAPIKey:
    """One of the tenant's keys, by its prefix (the public start of the key). A key of
    another tenant is not found, exactly as a key that does not exist.

    The prefix, not the primary key, names a key in pages and URLs: the library's
    primary key is "<prefix>.<hash of the key>", and the hash is never shown."""
    api_key = TenantAPIKey.objects.filter(tenant=tenant, prefix=prefix).first()
    if api_key is None:
        raise NotFound("No such API key.")
    return api_key
