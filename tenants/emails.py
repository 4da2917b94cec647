"""Email addresses as the product compares them, and the one rule that says who is
internal to a tenant.

Pure Python on purpose (no Django): whatever decides who is internal (the tenant's
`is_internal_email`, the API's `is_internal` flag, the sync's matching) asks
`email_is_internal`, so no two places can disagree, and the rule is tested without a
database.
"""

from __future__ import annotations

from collections.abc import Sequence


def email_normalise(email: str) -> str:
    """Trimmed and lower-cased: the one form every email is stored and compared in."""
    return (email or "").strip().lower()


def email_domain(email: str) -> str:
    """The part after the last "@", normalised; "" when there is no "@" (a bare word or
    a phone number typed into an email field has no domain)."""
    _local, at, domain = email_normalise(email).rpartition("@")
    return domain if at else ""


def email_is_internal(email: str, internal_domains: Sequence[str]) -> bool:
    """True when the address is on one of the tenant's domains or on a subdomain of one.

    "ana@acme.example" and "ana@eu.acme.example" are internal to "acme.example";
    "ana@notacme.example" is not (the match is on whole labels). An address without
    "@" is never internal.
    """
    domain = email_domain(email)
    if not domain:
        return False
    for raw in internal_domains:
        # Stored domains are clean already (tenants.services.domains_normalise), but
        # callers may pass what a person typed: "@ACME.example" means acme.example.
        internal = raw.strip().lower().lstrip("@")
        # A blank entry is skipped: it would otherwise make "x@foo." look internal.
        if internal and (domain == internal or domain.endswith("." + internal)):
            return True
    return False
