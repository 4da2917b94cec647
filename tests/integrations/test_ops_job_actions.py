"""What ops do to sync jobs from the Django admin: dismiss (one, or many through a
confirmation page), retry in bulk, point a failed sync at another record, resolve a
review with a record found by name. Jobs fail or wait for review for real, against the
emulator; only people who may operate syncs can do any of it."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import reverse

from integrations.models import SyncJob, SyncMapping
from integrations.services.jobs import sync_job_dismiss, sync_jobs_retry
from integrations.services.settings import integration_settings_update
from salesforce_emulator.testing import OrgHandle
from tenants.models import Tenant
from tests.conftest import Partner
from tests.factories import MeetingFactory, MembershipFactory, UserFactory
from tests.sync.conftest import last_job, meeting_push
from tests.sync.conftest import sf as sf  # the emulator-connected tenant fixture

pytestmark = pytest.mark.django_db(transaction=True)

CHANGELIST = "admin:integrations_syncjob_changelist"
JOB_PAGES = ("resolve", "retarget", "retry", "dismiss")
OUR_ACTIONS = ("retry_failed", "run_now", "dismiss_selected")


def page(name: str, job: SyncJob, **query: str) -> str:
    url = reverse(f"admin:integrations_syncjob_{name}", args=[job.pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def text(response: Any) -> str:
    assert response.status_code == 200, response.status_code
    return str(response.content.decode())


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


@pytest.fixture
def operator(db: None) -> User:
    return UserFactory(username="olivia", first_name="Olivia", last_name="Ops", is_staff=True)


@pytest.fixture
def ops(operator: User) -> Client:
    operator.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="integrations")
    )
    client = Client()
    client.force_login(operator)
    return client


@pytest.fixture
def viewer(db: None) -> Client:
    """Staff who may read every page and change nothing."""
    user = UserFactory(username="victor", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__startswith="view_"))
    client = Client()
    client.force_login(user)
    return client


def failed_auto_sync(partner: Partner, sf: OrgHandle, external_id: str = "m-1") -> SyncJob:
    """An auto-sync Salesforce refuses: Notes may not be attached to Initech."""
    initech = sf.insert("Account", Name="Initech")
    sf.insert("Contact", LastName="Bob", Email="bob@initech.example", AccountId=initech)
    sf.validation_rule(
        "ContentDocumentLink",
        "Initech takes no notes",
        when={"LinkedEntityId": initech},
    )
    meeting_push(partner, external_id)
    job = last_job("meeting.processed")
    assert job.state == "failed", job.reason
    return job


def needs_review(partner: Partner, sf: OrgHandle, external_id: str = "m-1") -> SyncJob:
    """An auto-sync whose attendees belong to two Accounts."""
    initech = sf.insert("Account", Name="Initrode")
    globex = sf.insert("Account", Name="Globex")
    sf.insert("Contact", LastName="Ann", Email="ann@initrode.example", AccountId=initech)
    sf.insert("Contact", LastName="Hank", Email="hank@globex.example", AccountId=globex)
    meeting_push(partner, external_id, attendees=["ann@initrode.example", "hank@globex.example"])
    job = last_job("meeting.processed")
    assert job.state == "needs_review", job.reason
    return job


def note_links(sf: OrgHandle) -> list[str]:
    return [r["LinkedEntityId"] for r in sf.records("ContentDocumentLink")]


def changelist_post(client: Client, action: str, jobs: list[SyncJob], **more: str) -> Any:
    return client.post(
        reverse(CHANGELIST),
        {"action": action, "_selected_action": [j.pk for j in jobs], **more},
        follow=True,
    )


# --- dismiss --------------------------------------------------------------------------


def test_ops_dismiss_a_failed_job_with_a_reason(
    partner: Partner, sf: OrgHandle, ops: Client, operator: User
) -> None:
    job = failed_auto_sync(partner, sf)
    mappings = list(SyncMapping.objects.values_list("pk", "state", "salesforce_id"))
    change = text(ops.get(reverse("admin:integrations_syncjob_change", args=[job.pk])))
    assert f'href="{page("dismiss", job)}"' in change

    form = text(ops.get(page("dismiss", job)))
    assert "Why is it dismissed?" in form and "<textarea" in form
    answer = ops.post(
        page("dismiss", job), {"reason": "  Initech asked us to stop.  "}, follow=True
    )

    assert f"Job {job.pk} dismissed." in messages_of(answer)
    job.refresh_from_db()
    assert job.state == "dismissed" and job.dismissed_by == operator
    assert job.reason == "Dismissed by Olivia Ops: Initech asked us to stop."
    assert job.finished_at is not None
    assert "Dismissed by Olivia Ops: Initech asked us to stop." in text(answer)
    # Only the job stopped: what the sync had recorded is as it was.
    assert list(SyncMapping.objects.values_list("pk", "state", "salesforce_id")) == mappings


def test_the_tenant_sync_log_shows_a_dismissed_job_with_its_reason(
    partner: Partner, sf: OrgHandle, ops: Client
) -> None:
    job = failed_auto_sync(partner, sf)
    ops.post(page("dismiss", job), {"reason": "Test meeting."})
    member = UserFactory()
    MembershipFactory(tenant=partner.tenant, user=member)
    tenant_client = Client()
    tenant_client.force_login(member)

    log = text(tenant_client.get(reverse("integrations:sync-log")))
    failed_only = text(tenant_client.get(reverse("integrations:sync-log") + "?state=failed"))

    assert "Dismissed" in log and "Dismissed by Olivia Ops: Test meeting." in log
    assert 'action="/integrations/sync/' not in log  # no Retry offered for it
    assert f"#{job.pk}" not in failed_only


def test_dismiss_refuses_a_job_that_already_ended(
    partner: Partner, sf: OrgHandle, ops: Client
) -> None:
    account = sf.insert("Account", Name="Initech")
    sf.insert("Contact", LastName="Bob", Email="bob@initech.example", AccountId=account)
    meeting_push(partner)
    job = last_job("meeting.processed")
    assert job.state == "succeeded"

    offered = ops.get(page("dismiss", job), follow=True)
    refused = ops.post(page("dismiss", job), {"reason": "Not wanted."})

    why = (
        "This job has already ended (succeeded); only failed jobs and jobs waiting for a "
        "review are dismissed."
    )
    assert f"Job {job.pk}: {why}" in messages_of(offered)
    assert why in messages_of(refused)
    job.refresh_from_db()
    assert job.state == "succeeded" and job.dismissed_by is None


def test_dismiss_needs_a_reason(partner: Partner, sf: OrgHandle, ops: Client) -> None:
    job = failed_auto_sync(partner, sf)

    answer = ops.post(page("dismiss", job), {"reason": "   "})

    assert answer.status_code == 200
    assert any("required" in m for m in messages_of(answer))
    job.refresh_from_db()
    assert job.state == "failed"


def test_bulk_dismiss_asks_for_a_reason_on_a_page_of_its_own(
    partner: Partner, sf: OrgHandle, ops: Client
) -> None:
    first = failed_auto_sync(partner, sf)
    meeting_push(partner, "m-2")
    second = last_job("meeting.processed")
    sf.org.validation_rules.clear()
    meeting_push(partner, "m-3")
    done = last_job("meeting.processed")
    assert (second.state, done.state) == ("failed", "succeeded")
    chosen = [first, second, done]

    confirm = changelist_post(ops, "dismiss_selected", chosen)

    body = text(confirm)
    assert "Why are they dismissed?" in body and 'name="apply"' in body
    assert "Dismiss 2 jobs" in body and "1 of the selected jobs is left as it is" in body
    assert all(f"#{j.pk}" in body for j in chosen)
    assert set(SyncJob.objects.values_list("state", flat=True)) == {"failed", "succeeded"}

    answer = changelist_post(ops, "dismiss_selected", chosen, apply="1", reason="Test data.")

    assert "2 jobs dismissed; 1 skipped: already ended." in messages_of(answer)
    states = dict(SyncJob.objects.filter(pk__in=[j.pk for j in chosen]).values_list("pk", "state"))
    assert states == {first.pk: "dismissed", second.pk: "dismissed", done.pk: "succeeded"}


def test_bulk_dismiss_of_every_failed_job_after_an_outage_takes_them_all(
    tenant: Tenant, ops: Client
) -> None:
    """More jobs than a form may carry: with "select all" the confirmation page posts
    the selection (the list's filters), not an id per job."""
    meeting = MeetingFactory(tenant=tenant)
    content_type = ContentType.objects.get_for_model(meeting)
    SyncJob.objects.bulk_create(
        SyncJob(
            tenant=tenant,
            operation="meeting.processed",
            content_type=content_type,
            object_id=meeting.pk,
            state=state,
        )
        for state in ["failed"] * 1010 + ["succeeded"] * 5
    )
    url = reverse(CHANGELIST) + "?state__exact=failed"
    chosen = {"action": "dismiss_selected", "select_across": "1", "index": "0"}

    confirm = ops.post(url, {**chosen, "_selected_action": ["1"]})

    body = text(confirm)
    assert "Dismiss 1010 jobs" in body and "910 more selected jobs" in body
    assert body.count('name="_selected_action"') == 1  # not one per job
    first = SyncJob.objects.filter(state="failed").order_by("-created_at", "-pk")[0].pk

    answer = ops.post(
        url,
        {
            "action": "dismiss_selected",
            "select_across": "1",
            "_selected_action": [str(first)],
            "apply": "1",
            "reason": "Outage test data.",
        },
        follow=True,
    )

    assert "1010 jobs dismissed." in messages_of(answer)
    assert SyncJob.objects.filter(state="dismissed").count() == 1010
    assert SyncJob.objects.filter(state="succeeded").count() == 5


# --- retry ----------------------------------------------------------------------------


def test_bulk_retry_skips_jobs_that_did_not_fail(
    partner: Partner, sf: OrgHandle, ops: Client
) -> None:
    failed = failed_auto_sync(partner, sf)
    review = needs_review(partner, sf, "m-2")
    sf.org.validation_rules.clear()

    answer = changelist_post(ops, "retry_failed", [failed, review])

    assert "1 job queued again; 1 skipped: not failed." in messages_of(answer)
    failed.refresh_from_db()
    review.refresh_from_db()
    assert failed.state == "succeeded" and review.state == "needs_review"


def test_retry_one_failed_job_from_its_page(partner: Partner, sf: OrgHandle, ops: Client) -> None:
    job = failed_auto_sync(partner, sf)
    sf.org.validation_rules.clear()

    confirm = text(ops.get(page("retry", job)))
    job.refresh_from_db()
    assert job.state == "failed"  # looking at the page changes nothing
    assert "Retry the job now" in confirm
    ops.post(page("retry", job))

    job.refresh_from_db()
    assert job.state == "succeeded", job.reason
    assert len(note_links(sf)) == 1


def test_a_job_dismissed_after_it_was_listed_is_skipped_not_retried(
    partner: Partner, sf: OrgHandle, operator: User
) -> None:
    first = failed_auto_sync(partner, sf)
    meeting_push(partner, "m-2")
    second = last_job("meeting.processed")
    listed = [first, second]  # as a list page read them: both failed
    sync_job_dismiss(job=second, reason="Duplicate meeting.", dismissed_by=operator)
    sf.org.validation_rules.clear()

    result = sync_jobs_retry(jobs=listed)

    assert result.done == [first.pk] and result.skipped == {"not failed": [second.pk]}
    second.refresh_from_db()
    assert second.state == "dismissed"


def test_run_now_skips_the_backoff_of_pending_jobs_only(
    partner: Partner, sf: OrgHandle, ops: Client
) -> None:
    account = sf.insert("Account", Name="Initech")
    sf.insert("Contact", LastName="Bob", Email="bob@initech.example", AccountId=account)
    sf.faults.fail_next(1, method="POST", path=r"/composite$", error_code="SERVER_UNAVAILABLE")
    meeting_push(partner)
    waiting = last_job("meeting.processed")
    assert waiting.state == "pending" and waiting.next_attempt_at is not None
    meeting_push(partner, "m-2")
    done = last_job("meeting.processed")
    assert done.state == "succeeded"

    answer = changelist_post(ops, "run_now", [waiting, done])

    assert "1 job handed to the workers; 1 skipped: not pending." in messages_of(answer)
    waiting.refresh_from_db()
    assert waiting.state == "succeeded", waiting.reason


# --- point at another record, resolve by search -----------------------------------------


def test_point_a_failed_auto_sync_at_another_record(
    partner: Partner, sf: OrgHandle, ops: Client
) -> None:
    job = failed_auto_sync(partner, sf)
    globex = sf.insert("Account", Name="Globex Corporation")
    change = text(ops.get(reverse("admin:integrations_syncjob_change", args=[job.pk])))
    assert f'href="{page("retarget", job)}"' in change

    search = text(ops.get(page("retarget", job, q="globex")))
    assert "Globex Corporation" in search and f"{sf.instance_url}/{globex}" in search
    answer = ops.post(
        page("retarget", job, q="globex"),
        {"record": f"Account:{globex}:Globex Corporation"},
        follow=True,
    )

    assert f"Job {job.pk} runs again, linked to Account Globex Corporation." in messages_of(answer)
    job.refresh_from_db()
    assert job.state == "succeeded", job.reason
    assert note_links(sf) == [globex]
    assert [e["WhatId"] for e in sf.records("Event")] == [globex]


def test_pointing_at_a_record_refused_by_salesforce_shows_why(
    partner: Partner, sf: OrgHandle, ops: Client
) -> None:
    job = failed_auto_sync(partner, sf)

    bad_id = ops.post(
        page("retarget", job),
        {"record": "other", "other_object": "Account", "other_id": "not-an-id"},
    )

    assert bad_id.status_code == 200
    assert any("15 or 18 character Salesforce Id" in m for m in messages_of(bad_id))
    job.refresh_from_db()
    assert job.state == "failed"


def test_resolve_a_review_with_a_record_found_by_name(
    partner: Partner, sf: OrgHandle, ops: Client
) -> None:
    job = needs_review(partner, sf)
    umbrella = sf.insert("Account", Name="Umbrella Holdings")

    offered = text(ops.get(page("resolve", job)))
    assert "Initrode" in offered and "Globex" in offered
    assert "ann@initrode.example" in offered  # candidates tell records apart
    found = text(ops.get(page("resolve", job, q="umbrella")))
    assert "Umbrella Holdings" in found
    ops.post(
        page("resolve", job, q="umbrella"), {"record": f"Account:{umbrella}:Umbrella Holdings"}
    )

    job.refresh_from_db()
    assert job.state == "succeeded", job.reason
    assert note_links(sf) == [umbrella]


def test_search_by_name_escapes_quotes_and_wildcards(
    partner: Partner, sf: OrgHandle, ops: Client
) -> None:
    job = needs_review(partner, sf)
    wanted = sf.insert("Account", Name="O'Brien 100% Widgets")
    sf.insert("Account", Name="O'Brien 1000 Widgets")  # what an unescaped % would match
    sf.insert("Contact", LastName="Under_Score", Email="u@x.example")
    sf.insert("Contact", LastName="UnderXScore", Email="v@x.example")  # what _ would match
    before = sf.api_calls

    quoted = text(ops.get(page("resolve", job, q="O%27Brien%20100%25")))
    underscore = text(ops.get(page("resolve", job, q="der_Sc")))

    assert sf.api_calls - before == 2  # one Composite request per search
    assert f"Account:{wanted}:O&#x27;Brien 100% Widgets" in quoted
    assert "O&#x27;Brien 1000 Widgets" not in quoted
    assert "Under_Score" in underscore and "UnderXScore" not in underscore
    assert not any("could not be searched" in m for m in [quoted, underscore])


def test_an_activity_review_is_still_answered_per_address(
    partner: Partner, sf: OrgHandle, ops: Client
) -> None:
    integration_settings_update(tenant=partner.tenant, log_calls_automatically=True)
    first = sf.insert("Contact", LastName="A", Email="lead@prospect.example")
    sf.insert("Lead", LastName="B", Company="P", Email="lead@prospect.example")
    answer = partner.client.post(
        "/api/v1/activities/",
        {
            "external_id": "call-1",
            "kind": "call",
            "direction": "outbound",
            "started_at": "2026-11-20T09:00:00Z",
            "duration_seconds": 60,
            "subject": "Pricing",
            "logged_by_email": "agent@acme.test",
            "participants": [{"email": "agent@acme.test"}, {"email": "lead@prospect.example"}],
        },
        format="json",
    )
    assert answer.status_code in (200, 201)
    job = last_job("activity.sync")
    assert job.state == "needs_review"

    form = text(ops.get(page("resolve", job)))
    assert "lead@prospect.example" in form and "Create a Lead" in form
    ops.post(page("resolve", job), {f"job{job.pk}-choice_0": f"Contact:{first}"})

    job.refresh_from_db()
    assert job.state == "succeeded", job.reason
    assert [t["WhoId"] for t in sf.records("Task")] == [first]


# --- only operators act -------------------------------------------------------------------


def test_view_only_staff_get_no_action_and_no_page(
    partner: Partner, sf: OrgHandle, viewer: Client
) -> None:
    failed = failed_auto_sync(partner, sf)
    review = needs_review(partner, sf, "m-2")
    before = list(SyncJob.objects.order_by("pk").values_list("pk", "state", "reason", "params"))

    listing = text(viewer.get(reverse(CHANGELIST)))
    job_page = text(viewer.get(reverse("admin:integrations_syncjob_change", args=[failed.pk])))
    for action in OUR_ACTIONS:
        assert f'value="{action}"' not in listing
        changelist_post(viewer, action, [failed, review], apply="1", reason="No.")
    for job in (failed, review):
        for name in JOB_PAGES:
            assert viewer.get(page(name, job)).status_code == 403
            posted = viewer.post(
                page(name, job), {"record": f"Account:{'0' * 15}", "reason": "No."}
            )
            assert posted.status_code == 403

    assert "operate syncs" in job_page and page("retry", failed) not in job_page
    after = list(SyncJob.objects.order_by("pk").values_list("pk", "state", "reason", "params"))
    assert after == before


def test_operators_see_every_action_in_the_list(
    partner: Partner, sf: OrgHandle, ops: Client
) -> None:
    failed_auto_sync(partner, sf)

    listing = text(ops.get(reverse(CHANGELIST)))

    assert all(f'value="{action}"' in listing for action in OUR_ACTIONS)


def test_a_job_run_again_no_longer_carries_its_last_error(tenant: Tenant) -> None:
    """Else it stays listed under that error code while it runs again."""
    job = SyncJob.objects.create(
        tenant=tenant,
        operation="meeting.processed",
        content_type=ContentType.objects.get_for_model(MeetingFactory(tenant=tenant)),
        object_id=1,
        state="failed",
        last_error_code="FIELD_CUSTOM_VALIDATION_EXCEPTION",
    )

    result = sync_jobs_retry(jobs=SyncJob.objects.filter(pk=job.pk))

    assert result.done == [job.pk]
    job.refresh_from_db()
    # Run at once: this tenant has no Salesforce yet, so it waits for a connection.
    assert job.state == "pending" and job.last_error_code == ""
