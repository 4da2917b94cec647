"""Who is internal to a tenant: the one rule, as a pure function."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tenants.emails import email_domain, email_is_internal, email_normalise

# Lower-case DNS labels: what tenants' domains and most addresses are made of.
label = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)
domain = st.lists(label, min_size=2, max_size=4).map(".".join)
local_part = st.from_regex(r"[a-z0-9][a-z0-9._+-]{0,15}", fullmatch=True)


@pytest.mark.parametrize(
    ("email", "internal"),
    [
        ("ana@acme.example", True),
        ("ana@eu.acme.example", True),
        (" Ana@ACME.Example ", True),
        ("ana@notacme.example", False),
        ("ana@acme.example.evil.test", False),
        ("ana@initech.example", False),
        ("acme.example", False),
        ("ana@", False),
        ("", False),
    ],
)
def test_internal_means_on_a_tenant_domain_or_a_subdomain_of_one(
    email: str, internal: bool
) -> None:
    assert email_is_internal(email, ["acme.example", "acme.test"]) is internal


def test_domains_are_compared_lower_cased_without_a_leading_at() -> None:
    assert email_is_internal("ana@eu.acme.example", ["@ACME.Example"])


def test_a_blank_domain_makes_nobody_internal() -> None:
    assert not email_is_internal("ana@foo.", ["", " "])
    assert not email_is_internal("ana@acme.example", [])


def test_email_domain_is_the_part_after_the_last_at() -> None:
    assert email_domain(' "a@b"@Acme.Example ') == "acme.example"
    assert email_domain("no-at-sign.example") == ""


@given(local_part, domain, st.lists(label, max_size=3))
def test_an_address_on_a_domain_or_any_subdomain_of_it_is_internal(
    local: str, tenant_domain: str, subdomains: list[str]
) -> None:
    host = ".".join([*subdomains, tenant_domain])

    assert email_is_internal(f"{local}@{host}", [tenant_domain])
    assert email_is_internal(f"  {local}@{host.upper()} ", [tenant_domain.upper()])


@given(local_part, label, domain)
def test_a_domain_that_only_ends_with_the_same_letters_is_not_internal(
    local: str, prefix: str, tenant_domain: str
) -> None:
    # "notacme.example" ends with "acme.example" but is someone else's domain.
    assert not email_is_internal(f"{local}@{prefix}{tenant_domain}", [tenant_domain])


@given(st.text().filter(lambda s: "@" not in s), st.lists(domain, max_size=3))
def test_an_address_without_an_at_sign_is_never_internal(text: str, domains: list[str]) -> None:
    assert not email_is_internal(text, domains)
    assert not email_is_internal(text, [text])


@given(st.text())
def test_normalising_twice_changes_nothing(email: str) -> None:
    once = email_normalise(email)

    assert email_normalise(once) == once
    assert once == once.strip()
