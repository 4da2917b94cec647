"""Ops staff use the Django admin: every model's list, search and detail pages work,
and an API key is shown once when created."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from integrations.admin import SyncJobInline, SyncMappingInline
from meetings.models import Activity, Highlight, Meeting
from scheduler.models import Booking
from tenants.models import Tenant, TenantAPIKey
from tests.factories import (
    ActivityParticipantFactory,
    AttendeeFactory,
    BookingFactory,
    IntegrationSettingsFactory,
    MembershipFactory,
    SalesforceConnectionFactory,
    SchedulerWebhookEventFactory,
    SyncAttemptFactory,
    SyncMappingFactory,
    TenantAPIKeyFactory,
    TranscriptFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def ops() -> Client:
    user = UserFactory(username="ops", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def everything(tenant: Tenant) -> None:
    attendee = AttendeeFactory(meeting__tenant=tenant, email="bob@initech.example")
    TranscriptFactory(meeting=attendee.meeting)
    ActivityParticipantFactory(activity__tenant=tenant)
    BookingFactory(tenant=tenant)
    SchedulerWebhookEventFactory(tenant=tenant)
    mapping = SyncMappingFactory(
        local_object__meeting=attendee.meeting, salesforce_id="069000000000042AAA"
    )
    SyncAttemptFactory(job__local_object=mapping.local_object)
    SalesforceConnectionFactory(tenant=tenant)
    IntegrationSettingsFactory(tenant=tenant)
    MembershipFactory(tenant=tenant)
    TenantAPIKeyFactory(tenant=tenant)


MODELS = sorted(admin.site._registry, key=lambda m: m._meta.label)


@pytest.mark.parametrize("model", MODELS, ids=[m._meta.label for m in MODELS])
def test_every_admin_list_search_and_detail_page_opens(
    ops: Client, everything: None, model: type
) -> None:
    opts = model._meta
    changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")

    assert ops.get(changelist).status_code == 200
    assert ops.get(changelist, {"q": "initech"}).status_code == 200
    obj = model._default_manager.first()
    if obj is not None:
        change = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
        assert ops.get(change).status_code == 200


def test_ops_find_a_meeting_by_attendee_email(ops: Client, everything: None) -> None:
    found = ops.get(reverse("admin:meetings_meeting_changelist"), {"q": "BOB@initech.example"})
    missed = ops.get(reverse("admin:meetings_meeting_changelist"), {"q": "nobody@initech.example"})

    assert found.context["cl"].result_count == 1
    assert missed.context["cl"].result_count == 0


def test_ops_find_a_sync_mapping_by_salesforce_id(ops: Client, everything: None) -> None:
    page = ops.get(
        reverse("admin:integrations_syncmapping_changelist"), {"q": "069000000000042AAA"}
    )

    assert "069000000000042AAA" in page.content.decode()


def test_the_admin_never_shows_oauth_tokens(ops: Client, everything: None, tenant: Tenant) -> None:
    connection = tenant.salesforce_connection
    page = ops.get(reverse("admin:integrations_salesforceconnection_change", args=[connection.pk]))

    assert connection.access_token not in page.content.decode()
    assert connection.refresh_token not in page.content.decode()


def test_creating_an_api_key_from_the_admin_shows_it_once(ops: Client, tenant: Tenant) -> None:
    page = ops.post(
        reverse("admin:tenants_tenant_changelist"),
        {"action": "create_api_key", "_selected_action": [tenant.pk]},
        follow=True,
    )

    text = page.content.decode()
    api_key = TenantAPIKey.objects.get(tenant=tenant)
    shown = text.split(f"New API key for {tenant}: ")[1].split(" ")[0]
    assert TenantAPIKey.objects.get_from_key(shown) == api_key
    assert shown not in ops.get(reverse("admin:tenants_tenantapikey_changelist")).content.decode()


def test_revoking_a_key_from_the_admin_locks_the_partner_out(ops: Client, partner) -> None:  # type: ignore[no-untyped-def]
    ops.post(
        reverse("admin:tenants_tenantapikey_changelist"),
        {"action": "revoke", "_selected_action": [partner.api_key.pk]},
    )

    assert partner.client.get("/api/v1/meetings/").status_code == 401


def test_a_highlight_page_shows_what_was_synced_for_it(ops: Client, everything: None) -> None:
    # meetings' admin knows nothing of syncing; integrations' admin adds the history.
    highlight = Highlight.objects.get()
    page = ops.get(reverse("admin:meetings_highlight_change", args=[highlight.pk]))

    assert "069000000000042AAA" in page.content.decode()


@pytest.mark.parametrize("model", [Meeting, Highlight, Activity, Booking])
def test_every_synced_object_shows_its_sync_mappings_and_jobs(model: type) -> None:
    inlines = admin.site._registry[model].inlines

    assert SyncMappingInline in inlines and SyncJobInline in inlines
