"""The overview leads with what needs the member: jobs to review or that failed, the
connection's trouble, a backlog's progress, the last success and the API calls used."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone

from integrations.models import SalesforceConnection, SyncJob
from integrations.overview import backlog_progress
from tenants.models import Membership, Tenant
from tests.factories import (
    MembershipFactory,
    SalesforceConnectionFactory,
    SyncJobFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

State = SyncJob.State


def signed_in(tenant: Tenant, role: str = Membership.Role.ADMIN) -> Client:
    user = UserFactory()
    MembershipFactory(tenant=tenant, user=user, role=role)
    client = Client()
    client.force_login(user)
    return client


def text(html: str) -> str:
    """The page's words, one space between them."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def jobs(tenant: Tenant, state: str, count: int, **fields: object) -> list[SyncJob]:
    made = [SyncJobFactory(local_object__meeting__tenant=tenant, state=state) for _ in range(count)]
    if fields:
        SyncJob.objects.filter(pk__in=[j.pk for j in made]).update(**fields)
    return made


def test_the_overview_counts_jobs_to_review_and_failed_ones_with_links_to_them(
    tenant: Tenant,
) -> None:
    SalesforceConnectionFactory(tenant=tenant)
    jobs(tenant, State.NEEDS_REVIEW, 2)
    jobs(tenant, State.FAILED, 3)
    jobs(tenant, State.SUCCEEDED, 4)

    html = signed_in(tenant, Membership.Role.MEMBER).get("/").content.decode()

    assert re.search(r'href="/sync/\?state=needs_review">\s*<span[^>]*>2</span>', html)
    assert re.search(r'href="/sync/\?state=failed">\s*<span[^>]*>3</span>', html)
    assert "2 jobs need your review" in text(html)
    assert "3 failed jobs" in text(html)


def test_another_tenants_jobs_are_not_counted(tenant: Tenant, other_partner) -> None:  # type: ignore[no-untyped-def]
    jobs(other_partner.tenant, State.FAILED, 2)

    html = signed_in(tenant).get("/").content.decode()

    assert re.search(r'data-testid="failed-count">0<', html)


def test_a_paused_connection_is_not_called_connected(tenant: Tenant) -> None:
    tenant.timezone = "Europe/Berlin"
    tenant.save()
    # Tomorrow at 13:05 UTC: always ahead, and shown in the tenant's zone.
    until = (timezone.now() + timedelta(days=1)).replace(hour=13, minute=5, second=0, microsecond=0)
    local = until.astimezone(ZoneInfo("Europe/Berlin"))
    shown = f"{local.day} {local:%b %Y, %H:%M} {local.tzname()}"
    SalesforceConnectionFactory(tenant=tenant, paused_until=until)
    client = signed_in(tenant, Membership.Role.MEMBER)

    for page in ("/", "/settings/"):
        words = text(client.get(page).content.decode())
        assert (
            f"Syncing is paused until {shown} because Salesforce's daily "
            "API limit was reached" in words
        ), page
        assert f"Connected — syncing paused until {shown}" in words, page
        assert "Connected to org" not in words, page


def test_an_admin_may_resume_a_paused_tenant_and_a_member_is_told_when_it_resumes(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    SalesforceConnectionFactory(tenant=tenant, paused_until=timezone.now() + timedelta(hours=2))
    waiting = jobs(tenant, State.PENDING, 1, waiting_for=SyncJob.Wait.API_LIMIT)[0]
    # Resuming hands the waiting jobs to the queue; here it is enough that they are due.
    monkeypatch.setattr("integrations.outbox.sweeper._tenant_dispatch", lambda tenant_id: None)

    member_page = text(signed_in(tenant, Membership.Role.MEMBER).get("/").content.decode())
    assert "It resumes by itself then." in member_page and "Resume now" not in member_page
    admin = signed_in(tenant)
    assert "Resume now" in admin.get("/").content.decode()

    resumed = admin.post("/salesforce/resume/", follow=True)

    assert "Syncing resumed: 1 waiting job runs now." in text(resumed.content.decode())
    assert SalesforceConnection.objects.get(tenant=tenant).paused_until is None
    waiting.refresh_from_db()
    assert waiting.waiting_for == "" and waiting.next_attempt_at is None
    assert signed_in(tenant, Membership.Role.MEMBER).post("/salesforce/resume/").status_code == 403


def test_a_refused_session_shows_a_reconnect_banner_with_the_connect_button(
    tenant: Tenant,
) -> None:
    SalesforceConnectionFactory(
        tenant=tenant,
        status=SalesforceConnection.Status.NEEDS_REAUTH,
        status_reason="The refresh token was revoked.",
    )

    admin = signed_in(tenant).get("/").content.decode()
    member = text(signed_in(tenant, Membership.Role.MEMBER).get("/").content.decode())

    assert re.search(
        r'class="banner banner-danger" role="alert">.*Reconnect Salesforce', admin, re.S
    )
    assert "The refresh token was revoked." in admin
    assert '<a class="button" href="/salesforce/connect/">Reconnect Salesforce</a>' in admin
    assert "Ask an admin of Acme to reconnect it." in member
    assert 'href="/salesforce/connect/"' not in member


def test_the_backlog_counts_jobs_done_since_the_oldest_open_one(tenant: Tenant) -> None:
    now = timezone.now()
    start = now - timedelta(minutes=10)
    jobs(tenant, State.SUCCEEDED, 1, created_at=start - timedelta(minutes=1))  # before it
    jobs(tenant, State.PENDING, 6, created_at=start)
    jobs(tenant, State.SUCCEEDED, 3, created_at=start, finished_at=now - timedelta(minutes=1))
    jobs(tenant, State.FAILED, 1, created_at=start, finished_at=now - timedelta(minutes=20))

    backlog = backlog_progress(tenant=tenant, now=now)

    assert backlog is not None
    assert (backlog.total, backlog.done, backlog.remaining, backlog.percent) == (10, 4, 6, 40)
    # 3 finished over the last 5 minutes: 0.6 a minute, so the 6 open take 10 minutes.
    assert backlog.rate_per_minute == pytest.approx(0.6)
    assert backlog.expected_end == now + timedelta(minutes=10)


def test_no_backlog_without_open_jobs(tenant: Tenant) -> None:
    jobs(tenant, State.SUCCEEDED, 2)

    assert backlog_progress(tenant=tenant) is None
    assert "backlog" not in signed_in(tenant).get("/").content.decode().lower()


def test_jobs_held_by_the_api_limit_or_a_lost_connection_are_no_backlog(tenant: Tenant) -> None:
    """They wait for the banner's action or time, not for the workers: a bar polling
    them would poll for hours."""
    jobs(tenant, State.PENDING, 2, waiting_for=SyncJob.Wait.API_LIMIT)
    jobs(tenant, State.PENDING, 1, waiting_for=SyncJob.Wait.CONNECTION)

    assert backlog_progress(tenant=tenant) is None


def test_the_overview_shows_the_backlog_and_polls_it_while_jobs_are_open(tenant: Tenant) -> None:
    jobs(tenant, State.SUCCEEDED, 1, created_at=timezone.now() - timedelta(hours=1))
    jobs(tenant, State.PENDING, 3)
    client = signed_in(tenant, Membership.Role.MEMBER)

    html = client.get("/").content.decode()
    poll = re.search(r'hx-get="(/overview/live/\?since=[^"]+)" hx-trigger="every 3s"', html)

    assert poll and "0 of 3" in text(html)
    # The fragment alone, from the same start: once the jobs are done, it stops polling.
    # The counts come along: a job that failed meanwhile is counted without a reload.
    open_jobs = list(SyncJob.objects.filter(state=State.PENDING))
    SyncJob.objects.filter(pk=open_jobs[0].pk).update(
        state=State.FAILED, finished_at=timezone.now()
    )
    SyncJob.objects.filter(state=State.PENDING).update(
        state=State.SUCCEEDED, finished_at=timezone.now()
    )
    fragment = client.get(poll.group(1).replace("&amp;", "&"), HTTP_HX_REQUEST="true")
    body = fragment.content.decode()
    assert fragment.status_code == 200 and "<html" not in body
    assert "3 of 3" in text(body) and "Backlog synced" in body
    assert re.search(r'data-testid="failed-count">1<', body)
    assert "hx-trigger" not in body


def test_the_live_fragment_ignores_a_start_that_is_not_a_time(tenant: Tenant) -> None:
    jobs(tenant, State.PENDING, 2)
    client = signed_in(tenant)

    for since in ("yesterday", "2026-13-45T10:00:00Z", "2026-11-30T10:00:00"):
        body = text(client.get("/overview/live/", {"since": since}).content.decode())
        assert "0 of 2" in body, since


def test_last_success_and_api_calls_used_today_read_in_the_tenants_timezone(
    tenant: Tenant,
) -> None:
    tenant.timezone = "America/New_York"
    tenant.save()
    reported = datetime(2026, 7, 1, 16, 30, tzinfo=UTC)
    SalesforceConnectionFactory(
        tenant=tenant, api_usage_used=1234, api_usage_limit=15000, api_usage_at=timezone.now()
    )
    jobs(tenant, State.SUCCEEDED, 1, finished_at=reported)

    words = text(signed_in(tenant).get("/").content.decode())

    assert "Last successful sync 1 Jul 2026, 12:30 EDT" in words
    assert "Salesforce API calls used today 1,234 of 15,000 (8%)" in words


def test_a_tenant_without_salesforce_is_asked_to_connect(tenant: Tenant) -> None:
    admin = signed_in(tenant).get("/").content.decode()

    assert "Salesforce is not connected." in admin
    assert '<a class="button" href="/salesforce/connect/">Connect Salesforce</a>' in admin


def test_the_navigation_marks_the_current_page_and_shows_api_to_admins_only(
    tenant: Tenant,
) -> None:
    member = signed_in(tenant, Membership.Role.MEMBER)
    admin = signed_in(tenant)

    overview = member.get("/").content.decode()
    settings = member.get("/settings/").content.decode()

    nav = re.search(r'<nav class="site-nav" aria-label="Main">(.*?)</nav>', overview, re.S)
    assert nav is not None
    labels = re.findall(r">([^<>]+)</a>", nav.group(1))
    assert labels[:2] == ["Overview", "Meetings"] and "Sync log" in labels
    assert "Settings" in labels and "API &amp; webhooks" not in labels
    assert '<a href="/" aria-current="page">Overview</a>' in overview
    assert '<a href="/settings/" aria-current="page">Settings</a>' in settings
    assert settings.count('aria-current="page"') == 1
    assert '<a class="skip-link" href="#content">' in overview
    assert '<a href="/api-access/">API &amp; webhooks</a>' in admin.get("/").content.decode()


def test_the_disconnect_confirmation_page_is_for_admins(tenant: Tenant) -> None:
    # (Disconnecting itself is tested with the emulator in test_salesforce_connect.)
    SalesforceConnectionFactory(tenant=tenant)
    admin = signed_in(tenant)

    settings = admin.get("/settings/").content.decode()
    confirm = admin.get("/salesforce/disconnect/")

    assert '<a class="button danger" href="/salesforce/disconnect/">Disconnect…</a>' in settings
    assert confirm.status_code == 200 and "Disconnect Salesforce?" in confirm.content.decode()
    assert SalesforceConnection.objects.get(tenant=tenant).status == "connected"
    member = signed_in(tenant, Membership.Role.MEMBER)
    assert member.get("/salesforce/disconnect/").status_code == 403
