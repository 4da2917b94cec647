"""Ops staff resolve, retry and resume syncs from the Django admin."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from integrations.models import SyncJob
from salesforce_emulator.testing import OrgHandle
from tests.conftest import Partner
from tests.factories import UserFactory
from tests.sync.conftest import last_job, meeting_push

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def ops() -> Client:
    client = Client()
    client.force_login(UserFactory(username="ops", is_staff=True, is_superuser=True))
    return client


def test_ops_resolve_an_ambiguous_auto_sync_from_the_admin(
    partner: Partner, sf: OrgHandle, ops: Client
) -> None:
    initech = sf.insert("Account", Name="Initech")
    globex = sf.insert("Account", Name="Globex")
    sf.insert("Contact", LastName="Bob", Email="bob@initech.example", AccountId=initech)
    sf.insert("Contact", LastName="Hank", Email="hank@globex.example", AccountId=globex)
    meeting_push(partner, attendees=["bob@initech.example", "hank@globex.example"])
    job = last_job("meeting.processed")
    assert job.state == "needs_review"

    resolve = reverse("admin:integrations_syncjob_resolve", args=[job.pk])
    change = ops.get(reverse("admin:integrations_syncjob_change", args=[job.pk]))
    assert f'href="{resolve}"' in change.content.decode()
    page = ops.get(resolve)
    assert "Globex" in page.content.decode() and "Initech" in page.content.decode()
    answer = ops.post(resolve, {"record": f"Account:{initech}"})

    assert answer.status_code == 302
    job.refresh_from_db()
    assert job.state == "succeeded", job.reason
    links = [r["LinkedEntityId"] for r in sf.records("ContentDocumentLink")]
    assert links == [initech]


def test_ops_retry_failed_jobs_in_bulk(partner: Partner, sf: OrgHandle, ops: Client) -> None:
    account = sf.insert("Account", Name="Initech")
    sf.insert("Contact", LastName="Bob", Email="bob@initech.example", AccountId=account)
    sf.validation_rule("Event", "Events need a location", field="Location")
    meeting_push(partner)
    meeting_push(partner, "m-2")
    failed = list(SyncJob.objects.filter(state="failed").values_list("pk", flat=True))
    assert len(failed) == 2
    sf.org.validation_rules.clear()

    answer = ops.post(
        reverse("admin:integrations_syncjob_changelist"),
        {"action": "retry_failed", "_selected_action": failed},
        follow=True,
    )

    assert "2 jobs queued again." in answer.content.decode()
    assert set(SyncJob.objects.filter(pk__in=failed).values_list("state", flat=True)) == {
        "succeeded"
    }
    assert len(sf.records("Event")) == 2 and len(sf.records("ContentNote")) == 2
