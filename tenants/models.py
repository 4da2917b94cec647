from __future__ import annotations

import zoneinfo
from functools import cache

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from rest_framework_api_key.models import AbstractAPIKey

from tenants.emails import email_is_internal
from tenants.fields import EncryptedTextField


@cache
def timezone_names() -> frozenset[str]:
    """The IANA zones this system knows ("Europe/Berlin", "UTC"), read once."""
    return frozenset(zoneinfo.available_timezones())


def validate_timezone_name(value: str) -> None:
    if value not in timezone_names():
        raise ValidationError(
            "“%(value)s” is not a timezone; choose one such as Europe/Berlin.",
            params={"value": value},
        )


class Tenant(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True)
    # Lower-cased domains; an address on one of them (or a subdomain) is "internal".
    internal_domains = models.JSONField(default=list, blank=True)
    # Shared with the meeting scheduler to sign its webhooks (HMAC-SHA256).
    scheduler_webhook_secret = EncryptedTextField(blank=True, default="")
    # The zone the tenant's pages show every time in (an IANA name such as
    # "Europe/Berlin"); what is stored stays in UTC.
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone_name])
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        permissions = [
            (
                "manage_tenant_credentials",
                "Can manage tenant credentials (API keys, webhook secrets)",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def is_internal_email(self, email: str) -> bool:
        return email_is_internal(email, self.internal_domains)


class Membership(models.Model):
    class Role(models.TextChoices):
        ADMIN = "admin", "Admin"
        MEMBER = "member", "Member"

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "user"], name="membership_unique_user")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.tenant} ({self.role})"


class TenantAPIKey(AbstractAPIKey):
    """A partner's key: stored hashed (prefix + hash), shown once at creation."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="api_keys")

    class Meta(AbstractAPIKey.Meta):
        verbose_name = "API key"
        verbose_name_plural = "API keys"
