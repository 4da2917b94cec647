"""integration_settings_update: an allow-list of settings, each value checked by the
model before it is saved."""

from __future__ import annotations

import pytest

from core.errors import InvalidInput
from integrations.models import IntegrationSettings
from integrations.services.settings import integration_settings_update
from tenants.models import Tenant

pytestmark = pytest.mark.django_db


def test_a_setting_is_saved(tenant: Tenant) -> None:
    integration_settings_update(tenant=tenant, auto_sync=True, note_flavour="classic_note")

    row = IntegrationSettings.objects.get(tenant=tenant)
    assert row.auto_sync is True
    assert row.note_flavour == "classic_note"


@pytest.mark.parametrize("key", ["tenant_id", "id", "updated_at", "auto_synk"])
def test_what_is_not_a_setting_is_refused_by_name(tenant: Tenant, key: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        integration_settings_update(tenant=tenant, **{key: 1})

    assert refused.value.field == key
    assert f"'{key}' is not an integration setting." == refused.value.message


def test_a_value_outside_the_choices_is_refused_and_not_saved(tenant: Tenant) -> None:
    with pytest.raises(InvalidInput) as refused:
        integration_settings_update(tenant=tenant, note_flavour="post_it")

    assert refused.value.field == "note_flavour"
    assert IntegrationSettings.objects.get(tenant=tenant).note_flavour == "content_note"


def test_the_match_order_names_each_object_once(tenant: Tenant) -> None:
    with pytest.raises(InvalidInput) as refused:
        integration_settings_update(
            tenant=tenant, auto_sync_match_order=["Account", "Account", "Lead", "Contact"]
        )

    assert refused.value.field == "auto_sync_match_order"


def test_settings_that_do_not_change_write_nothing(tenant: Tenant) -> None:
    row = integration_settings_update(tenant=tenant, auto_sync=True)
    before = row.updated_at

    again = integration_settings_update(tenant=tenant, auto_sync=True)

    assert IntegrationSettings.objects.get(pk=again.pk).updated_at == before
