"""Ops staff use the Django admin: every model's list, search and detail pages work,
and an API key is shown once when created."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission, User
from django.test import Client
from django.urls import reverse

from core.errors import Conflict
from integrations.admin import SyncAttemptInline, SyncJobInline, SyncMappingInline
from integrations.models import SyncAttempt, SyncMapping
from integrations.services.mappings import sync_mapping_reassign
from meetings.models import Activity, Highlight, Meeting, Transcript
from salesforce_emulator.testing import OrgHandle
from scheduler.models import Booking, SchedulerWebhookEvent
from tenants.models import Tenant, TenantAPIKey
from tests.conftest import Partner
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
from tests.sync.conftest import meeting_push, sf  # noqa: F401  (sf: a fixture)

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
        {"action": "create_api_key", "_selected_action": [tenant.pk], "index": 0},
    )

    text = page.content.decode()
    api_key = TenantAPIKey.objects.get(tenant=tenant)
    shown = text.split('<code id="secret-1">')[1].split("</code>")[0]
    assert TenantAPIKey.objects.get_from_key(shown) == api_key
    assert shown not in ops.get(reverse("admin:tenants_tenantapikey_changelist")).content.decode()


def test_revoking_a_key_from_the_admin_locks_the_partner_out(ops: Client, partner) -> None:  # type: ignore[no-untyped-def]
    ops.post(
        reverse("admin:tenants_tenantapikey_changelist"),
        {"action": "revoke", "_selected_action": [partner.api_key.pk], "index": 0},
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


# --- no page answers 500 ---------------------------------------------------------------


@pytest.mark.parametrize("model", MODELS, ids=[m._meta.label for m in MODELS])
def test_every_add_and_change_page_answers_without_an_error(
    ops: Client, everything: None, model: type
) -> None:
    """GET and an empty POST, on the add page and on an object's page: a form with its
    errors, a view page, or 403 where adding or changing is not allowed; never a 500."""
    opts = model._meta
    urls = [reverse(f"admin:{opts.app_label}_{opts.model_name}_add")]
    obj = model._default_manager.first()
    if obj is not None:
        urls.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]))

    for url in urls:
        for answer in (ops.get(url), ops.post(url, {})):
            assert answer.status_code in (200, 302, 403), (url, answer.status_code)


@pytest.mark.parametrize(
    "model", [Meeting, Transcript, Highlight, Activity, Booking, SchedulerWebhookEvent, SyncMapping]
)
def test_records_the_product_writes_are_read_only_in_the_admin(
    ops: Client, everything: None, model: type
) -> None:
    opts = model._meta
    obj = model._default_manager.first()
    change = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    delete = reverse(f"admin:{opts.app_label}_{opts.model_name}_delete", args=[obj.pk])

    assert ops.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_add")).status_code == 403
    assert 'name="_save"' not in ops.get(change).content.decode()
    assert ops.post(change, {}).status_code == 403
    assert ops.post(delete, {"post": "yes"}).status_code == 403
    assert model._default_manager.filter(pk=obj.pk).exists()


def test_sync_attempts_cannot_be_deleted_through_their_inline() -> None:
    inline = SyncAttemptInline(SyncAttempt, admin.site)

    assert not inline.can_delete
    assert not inline.has_delete_permission(None)


# --- the Salesforce connection and the integration settings --------------------------------


def test_the_instance_url_cannot_be_changed_in_the_admin(
    ops: Client, everything: None, tenant: Tenant
) -> None:
    connection = tenant.salesforce_connection
    change = reverse("admin:integrations_salesforceconnection_change", args=[connection.pk])

    answer = ops.post(
        change,
        {"tenant": tenant.pk, "instance_url": "https://attacker.example", "status": "connected"},
    )

    assert answer.status_code == 403
    connection.refresh_from_db()
    assert connection.instance_url == "https://127.0.0.1:8765"
    assert 'name="instance_url"' not in ops.get(change).content.decode()


def settings_form(**values: str) -> dict[str, str]:
    return {
        "highlights_destination": "notes_and_events",
        "note_flavour": "content_note",
        "auto_sync_match_order": "Account, Opportunity, Lead, Contact",
        "log_scheduled_meetings": "on",
        "link_back_base_url": "https://portal.acme.test",
        **values,
    }


def test_integration_settings_are_saved_through_the_settings_rules(
    ops: Client, everything: None, tenant: Tenant
) -> None:
    row = tenant.integration_settings
    change = reverse("admin:integrations_integrationsettings_change", args=[row.pk])

    refused = ops.post(change, settings_form(auto_sync_match_order="Account, Lead"))
    saved = ops.post(change, settings_form(auto_sync="on", note_flavour="classic_note"))

    assert "must list Account, Opportunity, Lead and Contact" in refused.content.decode()
    assert saved.status_code == 302
    row.refresh_from_db()
    assert row.auto_sync and row.note_flavour == "classic_note"
    assert row.auto_sync_match_order == ["Account", "Opportunity", "Lead", "Contact"]
    assert ops.get(reverse("admin:integrations_integrationsettings_add")).status_code == 403


# --- reassigning a record the portal owns ----------------------------------------------------

OTHER_NOTE = "069000000000043AAA"


@pytest.fixture
def operator() -> Client:
    user = UserFactory(username="operator", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(codename__startswith="view_")
        | Permission.objects.filter(codename="operate_syncs")
    )
    client = Client()
    client.force_login(User.objects.get(pk=user.pk))
    return client


@pytest.fixture
def view_only() -> Client:
    user = UserFactory(username="viewer", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__startswith="view_"))
    client = Client()
    client.force_login(User.objects.get(pk=user.pk))
    return client


@pytest.fixture
def confirmed_note(everything: None) -> SyncMapping:
    SyncMapping.objects.update(state=SyncMapping.State.CONFIRMED, pushed_version=3)
    return SyncMapping.objects.get()


def reassign_url(mapping: SyncMapping) -> str:
    return reverse("admin:integrations_syncmapping_reassign", args=[mapping.pk])


def test_an_operator_reassigns_a_record_to_another_salesforce_record(
    operator: Client, confirmed_note: SyncMapping
) -> None:
    page = operator.get(reverse("admin:integrations_syncmapping_change", args=[confirmed_note.pk]))
    assert "Reassign to another Salesforce record" in page.content.decode()

    answer = operator.post(reassign_url(confirmed_note), {"salesforce_id": OTHER_NOTE[:15]})

    assert answer.status_code == 302
    confirmed_note.refresh_from_db()
    assert confirmed_note.salesforce_id == OTHER_NOTE
    assert confirmed_note.state == SyncMapping.State.CONFIRMED
    assert confirmed_note.pushed_version == 0  # the new record has nothing of ours yet


def test_a_view_only_user_cannot_reassign_a_record(
    view_only: Client, confirmed_note: SyncMapping
) -> None:
    page = view_only.get(reverse("admin:integrations_syncmapping_change", args=[confirmed_note.pk]))

    assert reassign_url(confirmed_note) not in page.content.decode()
    assert (
        view_only.post(reassign_url(confirmed_note), {"salesforce_id": OTHER_NOTE}).status_code
        == 403
    )
    confirmed_note.refresh_from_db()
    assert confirmed_note.salesforce_id == "069000000000042AAA"


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("069", "is not a Salesforce Id"),
        ("001000000000043AAA", "is not the Id of a ContentNote: ContentNote Ids start with 069"),
        ("069000000000043ABC", "its last three characters do not match"),
        ("069000000000042AAA", "already"),
    ],
)
def test_a_wrong_id_is_refused_with_a_clear_message(
    operator: Client, confirmed_note: SyncMapping, typed: str, says: str
) -> None:
    answer = operator.post(reassign_url(confirmed_note), {"salesforce_id": typed})

    assert answer.status_code == 200
    assert says in answer.content.decode()
    confirmed_note.refresh_from_db()
    assert confirmed_note.salesforce_id == "069000000000042AAA"


def test_only_a_record_in_salesforce_is_reassigned(
    operator: Client, confirmed_note: SyncMapping
) -> None:
    SyncMapping.objects.update(state=SyncMapping.State.SENT)

    answer = operator.post(reassign_url(confirmed_note), {"salesforce_id": OTHER_NOTE})

    assert "Only a record that is in Salesforce can be reassigned" in answer.content.decode()
    assert SyncMapping.objects.get().salesforce_id == "069000000000042AAA"


def test_a_reassignment_from_a_stale_page_changes_nothing(confirmed_note: SyncMapping) -> None:
    stale = SyncMapping.objects.get(pk=confirmed_note.pk)
    SyncMapping.objects.update(salesforce_id="069000000000044AAA")  # a sync moved it meanwhile

    with pytest.raises(Conflict):
        sync_mapping_reassign(
            mapping=stale, salesforce_id=OTHER_NOTE, by=UserFactory(username="operator")
        )

    assert SyncMapping.objects.get().salesforce_id == "069000000000044AAA"


@pytest.mark.django_db(transaction=True)
def test_the_next_sync_writes_to_the_note_a_meeting_was_reassigned_to(
    partner: Partner,
    sf: OrgHandle,  # noqa: F811 (the fixture imported above)
) -> None:
    account = sf.insert("Account", Name="Initech")
    sf.insert("Contact", LastName="Bob", Email="bob@initech.example", AccountId=account)
    meeting_push(partner)
    note = SyncMapping.objects.get(purpose="meeting_note")
    old_note = note.salesforce_id
    by_hand = sf.insert("ContentNote", Title="Made by hand", Content="aGVsbG8=")

    sync_mapping_reassign(mapping=note, salesforce_id=by_hand, by=UserFactory(username="ops"))
    partner.client.patch(
        "/api/v1/meetings/m-1/highlights/h1/", {"text": "Budget doubled"}, format="json"
    )

    assert "Budget doubled" in sf.note_content(by_hand).decode()
    assert "Budget doubled" not in sf.note_content(old_note).decode()
    # Its link to the Account is made again for the note the meeting now owns.
    links = {
        (r["ContentDocumentId"], r["LinkedEntityId"]) for r in sf.records("ContentDocumentLink")
    }
    assert (by_hand, account) in links
