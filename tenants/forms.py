"""Forms for tenant pages: ops edit a tenant's internal domains as a list; tenant admins
name their API keys."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from core.errors import InvalidInput
from tenants.models import Tenant, TenantAPIKey
from tenants.services import domain_normalise, domains_normalise

# One domain per line; commas and spaces between domains work too (a pasted list).
_SEPARATORS = re.compile(r"[\s,;]+")


class DomainListField(forms.CharField):
    """A list of domains, one per line. Each entry is checked and normalised by
    `tenants.services.domains_normalise`; every bad entry is named in its own error."""

    widget = forms.Textarea(attrs={"rows": 4, "cols": 40, "placeholder": "acme.com"})

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return "\n".join(str(domain) for domain in value)
        return value

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        if isinstance(value, list | tuple):
            return [str(domain) for domain in value]
        text = super().to_python(value) or ""
        return [entry for entry in _SEPARATORS.split(text) if entry]

    def clean(self, value: Any) -> list[str]:
        entries = self.to_python(value)
        self.validate(entries)
        errors: list[str] = []
        for entry in entries:
            try:
                domain_normalise(entry)
            except InvalidInput as error:
                errors.append(error.message)
        if errors:
            raise ValidationError(errors)
        return domains_normalise(entries)

    def validate(self, value: Any) -> None:
        if self.required and not value:
            raise ValidationError(self.error_messages["required"], code="required")


class TenantForm(forms.ModelForm[Tenant]):
    internal_domains = DomainListField(
        label="Internal domains",
        required=False,
        help_text="One domain per line, e.g. acme.com. People with an address on one of "
        "these domains, or on a subdomain of one, are the tenant's own people.",
    )

    class Meta:
        model = Tenant
        fields = ["name", "slug", "internal_domains"]


API_KEY_NAME_MAX = TenantAPIKey._meta.get_field("name").max_length or 50


class APIKeyCreateForm(forms.Form):
    """The name of a new API key: who or what uses it, so that the key can be told apart
    from the others when it is time to revoke one."""

    name = forms.CharField(
        label="Name",
        max_length=API_KEY_NAME_MAX,
        help_text="Who or what uses the key, e.g. “CRM sync” or the partner's name.",
        error_messages={
            "required": "Give the key a name, e.g. “CRM sync”.",
            "max_length": "A key's name is at most %(limit_value)d characters; "
            "this one has %(show_value)d.",
        },
    )
