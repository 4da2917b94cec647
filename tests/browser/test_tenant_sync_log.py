"""The sync log and a job's page in a real browser: a member resolves a meeting waiting
for review by choosing a readable candidate; a tenant admin points a failed job at a
record found by name, and when Salesforce refuses that one too, dismisses the job with
a reason. The log and the job page are checked at desktop and phone widths."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from integrations.enums import Operation
from integrations.models import SyncJob
from salesforce_emulator.testing import OrgHandle
from tenants.models import Membership, Tenant
from tests.browser.conftest import page_check, sign_in
from tests.conftest import Partner
from tests.factories import MembershipFactory, UserFactory
from tests.sync.conftest import meeting_push
from tests.sync.conftest import sf as sf  # the emulator-connected tenant fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def person(tenant: Tenant, username: str, role: str) -> Any:
    user = UserFactory(username=username, first_name=username.title(), last_name="Lopez")
    MembershipFactory(tenant=tenant, user=user, role=role)
    return user


def test_a_member_resolves_a_review_by_choosing_a_readable_candidate(
    page: Page, live_server: Any, partner: Partner, sf: OrgHandle
) -> None:
    initech = sf.insert("Account", Name="Initech")
    initrode = sf.insert("Account", Name="Initrode")
    sf.insert("Contact", LastName="Bob", Email="bob@initech.example", AccountId=initech)
    sf.insert("Contact", LastName="Carol", Email="carol@initrode.example", AccountId=initrode)
    meeting_push(
        partner, attendees=["ana@acme.test", "bob@initech.example", "carol@initrode.example"]
    )
    job = SyncJob.objects.get(operation=Operation.MEETING_PROCESSED)
    assert job.state == SyncJob.State.NEEDS_REVIEW, job.reason
    sign_in(page, live_server.url, person(partner.tenant, "mia", Membership.Role.MEMBER))

    page.goto(f"{live_server.url}/sync/?state=needs_review")
    row = page.locator(f"#job-{job.pk}")
    expect(row).to_contain_text("Meeting “Discovery with Initech” (m-1)")
    expect(row).to_contain_text("Needs review")
    page_check(page, "tenant-sync-log")
    row.get_by_role("link", name="Choose the record").click()

    expect(page.get_by_role("heading", name="Choose the record")).to_be_visible()
    candidates = page.locator("#record-choice table").first.locator("tbody tr")
    expect(candidates).to_have_count(2)
    page_check(page, "tenant-sync-job-review")
    page.get_by_label("Initrode").check()
    page.get_by_role("button", name="Link to the chosen record and run again").click()

    expect(page.get_by_role("status").first).to_contain_text("linked to Account “Initrode”")
    expect(page.locator(".page-head .state")).to_have_text("Succeeded")
    job.refresh_from_db()
    assert job.state == SyncJob.State.SUCCEEDED, job.reason
    assert [e["WhatId"] for e in sf.records("Event")] == [initrode]


def refusing(sf: OrgHandle, *account_ids: str) -> None:
    """The org refuses Events on these Accounts (a validation rule of its admin)."""
    refused = set(account_ids)

    def when(record: Mapping[str, Any]) -> bool:
        return record.get("WhatId") in refused

    sf.validation_rule("Event", "This customer takes no new meetings", field="WhatId", when=when)


def test_a_tenant_admin_points_a_failed_job_at_another_record_then_dismisses_it(
    page: Page, live_server: Any, partner: Partner, sf: OrgHandle
) -> None:
    initech = sf.insert("Account", Name="Initech")
    globex = sf.insert("Account", Name="Globex Corporation")
    sf.insert("Contact", LastName="Bob", Email="bob@initech.example", AccountId=initech)
    refusing(sf, initech, globex)
    meeting_push(partner)
    job = SyncJob.objects.get(operation=Operation.MEETING_PROCESSED)
    assert job.state == SyncJob.State.FAILED, job.reason
    sign_in(page, live_server.url, person(partner.tenant, "ana", Membership.Role.ADMIN))

    page.goto(f"{live_server.url}/sync/?state=failed")
    row = page.locator(f"#job-{job.pk}")
    expect(row).to_contain_text("Salesforce refused it: This customer takes no new meetings")
    row.get_by_role("link", name="More choices").click()
    expect(page.get_by_role("heading", name="Choose another record")).to_be_visible()
    page_check(page, "tenant-sync-job-failed")

    # Found by typing part of its name, not by pasting its Id.
    page.get_by_label("Name contains").fill("glob")
    page.get_by_role("button", name="Search").click()
    found = page.locator("#found tbody tr")
    expect(found).to_have_count(1)
    expect(found).to_contain_text("Globex Corporation")
    page_check(page, "tenant-sync-job-found")
    page.get_by_label("Globex Corporation").check()
    page.get_by_role("button", name="Link to the chosen record and run again").click()

    # Salesforce refuses that customer too: the job failed again, now linked there.
    expect(page.locator(".flash").first).to_contain_text("Globex Corporation")
    expect(page.locator(".page-head .state")).to_have_text("Failed")
    expect(page.get_by_text("Record chosen")).to_be_visible()

    page.get_by_label("Why is it dismissed?").fill("Both customers refuse meetings for now.")
    page.get_by_role("button", name="Dismiss the job").click()

    expect(page.locator(".page-head .state")).to_have_text("Dismissed")
    expect(page.get_by_text("Both customers refuse meetings for now.").first).to_be_visible()
    page_check(page, "tenant-sync-job-dismissed")
    job.refresh_from_db()
    assert job.state == SyncJob.State.DISMISSED
    assert job.params["target"]["id"] == globex
    assert sf.records("Event") == []
