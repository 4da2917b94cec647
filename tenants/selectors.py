from __future__ import annotations

from django.contrib.auth.models import User
from django.db.models import QuerySet

from core.errors import NotFound
from tenants.models import Membership, Tenant


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
