"""The phone settings on the settings page: the country of national numbers and the
company's own numbers, stored in E.164; a bad line is refused by its number."""

from __future__ import annotations

import pytest

from integrations.models import IntegrationSettings
from integrations.salesforce.phones import phone_e164, stored_number_matches
from tenants.models import Tenant
from tests.integrations.test_settings_page import FORM, signed_in

pytestmark = pytest.mark.django_db


def test_an_admin_sets_the_region_and_the_companys_numbers_stored_in_e164(tenant: Tenant) -> None:
    client = signed_in(tenant)

    page = client.post(
        "/settings/",
        {
            **FORM,
            "phone_default_region": "GB",
            "internal_phone_numbers": "020 7946 0000\n\n+1 (415) 555-0199\n+44 20 7946 0000",
        },
        follow=True,
    )

    assert "Settings saved." in page.content.decode()
    row = IntegrationSettings.objects.get(tenant=tenant)
    assert row.phone_default_region == "GB"
    assert row.internal_phone_numbers == ["+442079460000", "+14155550199"]
    # The page shows them back one per line.
    assert "+442079460000\n+14155550199" in client.get("/settings/").content.decode()


def test_a_line_that_is_no_phone_number_is_refused_by_its_line(tenant: Tenant) -> None:
    client = signed_in(tenant)

    page = client.post(
        "/settings/",
        {**FORM, "internal_phone_numbers": "+1 415 555 0199\nreception"},
    )

    assert page.status_code == 200
    assert "Line 2, &#x27;reception&#x27;, is not a phone number" in page.content.decode()
    assert IntegrationSettings.objects.get(tenant=tenant).internal_phone_numbers == []


def test_an_unknown_region_is_refused(tenant: Tenant) -> None:
    client = signed_in(tenant)

    page = client.post("/settings/", {**FORM, "phone_default_region": "XX"})

    assert page.status_code == 200
    assert IntegrationSettings.objects.get(tenant=tenant).phone_default_region == "US"


@pytest.mark.parametrize(
    ("typed", "region", "e164"),
    [
        ("+1 415-555-0100", "GB", "+14155550100"),
        ("(415) 555-0100", "US", "+14155550100"),
        ("00 44 20 7946 0958", "DE", "+442079460958"),
        ("020 7946 0958", "GB", "+442079460958"),
        ("(415) 555-0100", "GB", None),
        ("555-0100", "US", None),
        ("call me", "US", None),
    ],
)
def test_numbers_are_read_in_e164_national_ones_in_the_region(
    typed: str, region: str, e164: str | None
) -> None:
    assert phone_e164(typed, region) == e164


def test_a_stored_national_number_is_read_in_the_country_of_the_number_searched() -> None:
    wanted = {"+14155550100", "+442079460958"}
    regions = ["US", "GB"]
    assert stored_number_matches("(415) 555-0100", wanted, regions) == {"+14155550100"}
    assert stored_number_matches("020 7946 0958", wanted, regions) == {"+442079460958"}
    assert stored_number_matches("(415) 555-0101", wanted, regions) == set()
