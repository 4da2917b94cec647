"""Forms for ops' tenant pages: a tenant's internal domains as a list people edit."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from core.errors import InvalidInput
from tenants.models import Tenant
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
