"""The company-domain rules (which domains may name a company, what a Website's domain
is) and the settings that turn the Domain step on and extend the free-mail list."""

from __future__ import annotations

import pytest
from django.test import Client

from core.errors import InvalidInput
from integrations.models import IntegrationSettings
from integrations.salesforce.domains import company_domain, website_domain
from integrations.services.settings import integration_settings_update
from tenants.models import Membership, Tenant
from tests.factories import MembershipFactory, UserFactory


@pytest.mark.parametrize(
    ("website", "domain"),
    [
        ("https://www.initech.example/", "initech.example"),
        ("HTTP://WWW.Initech.Example:8080/about?x=1", "initech.example"),
        ("initech.example/contact", "initech.example"),
        ("www.initech.co.uk", "initech.co.uk"),
        ("https://shop.initech.example", "shop.initech.example"),
        ("", ""),
        ("n/a", ""),
        ("https://co.uk", ""),
    ],
)
def test_a_websites_domain(website: str, domain: str) -> None:
    assert website_domain(website) == domain


@pytest.mark.parametrize(
    ("email", "domain"),
    [
        ("New.Person@Initech.Example", "initech.example"),
        ("a@mail.initech.example", "mail.initech.example"),
        ("someone@gmail.com", ""),
        ("someone@GMX.de", ""),
        ("someone@web.de", ""),
        ("someone@eu.proton.me", ""),  # a free-mail domain's subdomain is free-mail too
        ("someone@freelancers.example", ""),  # the tenant's own addition
        ("ana@acme.test", ""),  # the tenant's internal domain
        ("ana@eu.acme.test", ""),
        ("nobody", ""),
        ("x@co.uk", ""),
    ],
)
def test_which_addresses_name_a_company(email: str, domain: str) -> None:
    found = company_domain(
        email, internal_domains=["acme.test"], free_mail_extra=["freelancers.example"]
    )
    assert found == domain


@pytest.mark.django_db
def test_the_domain_step_is_an_optional_part_of_the_match_order(tenant: Tenant) -> None:
    row = integration_settings_update(
        tenant=tenant, auto_sync_match_order=["Account", "Domain", "Opportunity", "Lead", "Contact"]
    )
    assert row.auto_sync_match_order[1] == "Domain"

    for refused in (
        ["Account", "Opportunity", "Lead", "Domain"],
        [*row.auto_sync_match_order, "Domain"],
    ):
        with pytest.raises(InvalidInput) as error:
            integration_settings_update(tenant=tenant, auto_sync_match_order=refused)
        assert error.value.field == "auto_sync_match_order"


@pytest.mark.django_db
def test_extra_free_mail_domains_are_checked_and_normalised(tenant: Tenant) -> None:
    row = integration_settings_update(
        tenant=tenant, free_mail_domains_extra=["@Freelancers.Example.", "freelancers.example"]
    )
    assert row.free_mail_domains_extra == ["freelancers.example"]

    with pytest.raises(InvalidInput) as error:
        integration_settings_update(tenant=tenant, free_mail_domains_extra=["not a domain"])
    assert error.value.field == "free_mail_domains_extra"


@pytest.mark.django_db
def test_an_admin_adds_the_step_and_free_mail_domains_on_the_settings_page(tenant: Tenant) -> None:
    user = UserFactory()
    MembershipFactory(tenant=tenant, user=user, role=Membership.Role.ADMIN)
    client = Client()
    client.force_login(user)
    form = {
        "highlights_destination": "notes_and_events",
        "note_flavour": "content_note",
        "auto_sync": "on",
        "auto_sync_match_order": "account, opportunity, lead, contact, domain",
        "free_mail_domains_extra": "Freelancers.example\ncontractors.example",
    }

    page = client.post("/settings/", form, follow=True)

    assert "Settings saved." in page.content.decode()
    row = IntegrationSettings.objects.get(tenant=tenant)
    assert row.auto_sync_match_order[-1] == "Domain"
    assert row.free_mail_domains_extra == ["freelancers.example", "contractors.example"]
    assert "contractors.example" in client.get("/settings/").content.decode()

    refused = client.post("/settings/", {**form, "free_mail_domains_extra": "https://x.example/"})
    assert refused.status_code == 200 and "is not a domain" in refused.content.decode()
    assert IntegrationSettings.objects.get(tenant=tenant).free_mail_domains_extra == [
        "freelancers.example",
        "contractors.example",
    ]
