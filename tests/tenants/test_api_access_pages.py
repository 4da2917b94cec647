"""Tenant admins manage their own API keys and the scheduler's signing secret on the
"API & webhooks" page; a new key or secret is shown once, in the answer to its POST."""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import sys

import pytest
from django.contrib.auth.models import Permission, User
from django.http import HttpResponse
from django.test import Client
from rest_framework.test import APIClient

from scheduler.models import Booking
from scheduler.services import SIGNATURE_HEADER
from tenants.models import Membership, Tenant, TenantAPIKey
from tests.conftest import Partner
from tests.factories import MembershipFactory, UserFactory
from tests.scheduler.test_webhooks import deliver, event

pytestmark = pytest.mark.django_db

PAGE = "/api-access/"
CREATE = "/api-access/keys/new/"
ROTATE = "/api-access/scheduler-secret/rotate/"


def revoke_url(api_key: TenantAPIKey) -> str:
    return f"/api-access/keys/{api_key.prefix}/revoke/"


def signed_in(tenant: Tenant, role: str = Membership.Role.ADMIN) -> Client:
    user = UserFactory()
    MembershipFactory(tenant=tenant, user=user, role=role)
    client = Client()
    client.force_login(user)
    return client


def shown_value(response: HttpResponse) -> str:
    """The key or secret on a shown-once page."""
    found = re.search(r'<code id="shown-value"[^>]*>([^<]+)</code>', response.content.decode())
    assert found, response.content.decode()
    return html.unescape(found.group(1))


def api_answers(plain_key: str) -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {plain_key}")
    return int(client.get("/api/v1/meetings/").status_code)


def session_and_cookies(client: Client) -> str:
    """Everything the browser and the session hold after a request, as text."""
    cookies = " ".join(f"{m.key}={m.value}" for m in client.cookies.values())
    return cookies + repr(dict(client.session.items()))


def test_an_admin_creates_a_key_that_works_until_it_is_revoked(tenant: Tenant) -> None:
    admin = signed_in(tenant)

    created = admin.post(CREATE, {"name": "CRM sync"})

    assert created.status_code == 200
    assert "Copy it now; it is not shown again." in created.content.decode()
    assert "no-store" in created["Cache-Control"]
    plain_key = shown_value(created)
    api_key = TenantAPIKey.objects.get(tenant=tenant, name="CRM sync")
    assert plain_key.startswith(f"{api_key.prefix}.")
    assert api_answers(plain_key) == 200

    listed = admin.get(PAGE).content.decode()
    assert "CRM sync" in listed and api_key.prefix in listed and "In use" in listed

    confirm = admin.get(revoke_url(api_key)).content.decode()
    assert "Revoke key “CRM sync”?" in confirm
    assert "Partners using it are refused within a few seconds" in confirm
    assert api_answers(plain_key) == 200  # asking first changes nothing

    revoked = admin.post(revoke_url(api_key), follow=True)

    assert revoked.redirect_chain == [(PAGE, 302)]
    assert "Key “CRM sync” is revoked" in revoked.content.decode()
    assert "Revoked" in revoked.content.decode()
    assert api_answers(plain_key) == 401


def test_the_new_key_is_only_in_the_answer_to_its_post(tenant: Tenant) -> None:
    admin = signed_in(tenant)

    created = admin.post(CREATE, {"name": "CRM sync"})
    plain_key = shown_value(created)
    api_key = TenantAPIKey.objects.get(tenant=tenant)
    secret_part = plain_key.split(".", 1)[1]

    kept = session_and_cookies(admin) + " ".join(m.value for m in created.cookies.values())
    assert secret_part not in kept and api_key.hashed_key not in kept
    later = admin.get(PAGE)
    for page in (later.content.decode(), session_and_cookies(admin)):
        assert secret_part not in page
        assert api_key.hashed_key not in page


def test_a_key_needs_a_name_and_a_refused_name_stays_in_the_form(tenant: Tenant) -> None:
    admin = signed_in(tenant)
    too_long = "Partner integration for the quarterly CRM export job"  # 52 characters

    empty = admin.post(CREATE, {"name": "   "})
    long = admin.post(CREATE, {"name": too_long})

    assert empty.status_code == 200
    assert "Give the key a name" in empty.content.decode()
    assert long.status_code == 200
    assert "at most 50 characters; this one has 52" in long.content.decode()
    assert f'value="{too_long}"' in long.content.decode()
    assert not TenantAPIKey.objects.exists()


def test_a_member_who_is_not_an_admin_is_refused(tenant: Tenant, partner: Partner) -> None:
    member = signed_in(tenant, role=Membership.Role.MEMBER)
    secret = tenant.scheduler_webhook_secret

    answers = [
        member.get(PAGE),
        member.post(CREATE, {"name": "Mine"}),
        member.get(revoke_url(partner.api_key)),
        member.post(revoke_url(partner.api_key)),
        member.post(ROTATE),
    ]

    assert [a.status_code for a in answers] == [403] * 5
    assert "Only an admin of Acme" in answers[0].content.decode()
    assert list(TenantAPIKey.objects.values_list("name", "revoked")) == [("partner", False)]
    tenant.refresh_from_db()
    assert tenant.scheduler_webhook_secret == secret


def test_another_tenants_key_cannot_be_reached(tenant: Tenant, other_partner: Partner) -> None:
    admin = signed_in(tenant)
    theirs = other_partner.api_key

    page = admin.get(PAGE).content.decode()
    confirm = admin.get(revoke_url(theirs))
    revoke = admin.post(revoke_url(theirs))

    assert theirs.prefix not in page and "No API keys yet." in page
    assert confirm.status_code == 404 and revoke.status_code == 404
    theirs.refresh_from_db()
    assert not theirs.revoked
    assert other_partner.client.get("/api/v1/meetings/").status_code == 200


def test_rotating_shows_the_new_secret_once_and_the_old_one_stops_signing(
    tenant: Tenant,
) -> None:
    admin = signed_in(tenant)
    old_secret = tenant.scheduler_webhook_secret

    confirm = admin.get(ROTATE).content.decode()
    assert "Rotate the scheduler's signing secret?" in confirm
    assert "refuses every delivery signed with the old secret" in confirm
    rotated = admin.post(ROTATE)

    assert rotated.status_code == 200
    assert "no-store" in rotated["Cache-Control"]
    assert "Copy it now; it is not shown again." in rotated.content.decode()
    new_secret = shown_value(rotated)
    tenant.refresh_from_db()
    assert new_secret == tenant.scheduler_webhook_secret != old_secret
    assert new_secret not in session_and_cookies(admin)
    assert new_secret not in admin.get(PAGE).content.decode()

    assert deliver(tenant, event("evt-old"), secret=old_secret).status_code == 401
    assert deliver(tenant, event("evt-new"), secret=new_secret).status_code == 200
    assert Booking.objects.filter(tenant=tenant).count() == 1


def test_who_rotated_the_secret_or_revoked_a_key_is_in_the_tenants_history(
    tenant: Tenant, partner: Partner
) -> None:
    from django.contrib.admin.models import LogEntry

    admin = signed_in(tenant)
    admin.post(ROTATE)
    admin.post(revoke_url(partner.api_key))

    history = list(LogEntry.objects.values_list("user_id", "change_message"))
    admin_id = int(admin.session["_auth_user_id"])
    assert (admin_id, "Rotated the scheduler webhook secret.") in history
    assert any(uid == admin_id and "Revoked the API key" in m for uid, m in history)
    tenant.refresh_from_db()
    assert not any(tenant.scheduler_webhook_secret in m for _, m in history)


def test_reading_the_pages_changes_nothing(tenant: Tenant, partner: Partner) -> None:
    admin = signed_in(tenant)
    secret = tenant.scheduler_webhook_secret

    answers = [
        admin.get(PAGE),
        admin.get(revoke_url(partner.api_key)),
        admin.get(ROTATE),
        admin.get(CREATE),
    ]

    assert [a.status_code for a in answers] == [200, 200, 200, 405]
    assert list(TenantAPIKey.objects.values_list("name", "revoked")) == [("partner", False)]
    tenant.refresh_from_db()
    assert tenant.scheduler_webhook_secret == secret


def test_ops_viewing_as_the_tenant_see_the_page_but_change_nothing(
    tenant: Tenant, partner: Partner
) -> None:
    ops_user: User = UserFactory(is_staff=True)
    ops_user.user_permissions.add(
        *Permission.objects.filter(
            codename__in=[
                "view_tenant",
                "view_meeting",
                "view_activity",
                "view_booking",
                "view_syncjob",
            ]
        )
    )
    ops = Client()
    ops.force_login(ops_user)
    ops.post(f"/ops/view-as/{tenant.pk}/")
    secret = tenant.scheduler_webhook_secret

    page = ops.get(PAGE)
    refused = [
        ops.post(CREATE, {"name": "Sneaky"}),
        ops.post(revoke_url(partner.api_key)),
        ops.post(ROTATE),
    ]

    assert page.status_code == 200
    assert "Viewing as Acme" in page.content.decode()
    assert partner.api_key.prefix in page.content.decode()
    assert [r.status_code for r in refused] == [403] * 3
    assert "Read-only while you view as Acme" in refused[0].content.decode()
    assert list(TenantAPIKey.objects.values_list("name", "revoked")) == [("partner", False)]
    tenant.refresh_from_db()
    assert tenant.scheduler_webhook_secret == secret


def test_the_page_gives_the_webhook_url_and_how_to_sign_but_never_the_secret(
    tenant: Tenant,
) -> None:
    page = signed_in(tenant).get(PAGE).content.decode()

    assert "http://testserver/api/v1/scheduler/webhooks/acme/" in page
    assert f"{SIGNATURE_HEADER}: t=" in html.unescape(page)
    assert tenant.scheduler_webhook_secret not in page
    assert "paste your signing secret here" in page


def example(page: str, which: str, *, secret: str, url: str) -> str:
    found = re.search(rf'<code id="signing-{which}">(.*?)</code>', page, re.DOTALL)
    assert found, which
    code = html.unescape(found.group(1))
    return code.replace("paste your signing secret here", secret).replace("http://testserver", url)


@pytest.mark.django_db(transaction=True)
def test_the_signing_examples_deliver_a_booking_as_printed(
    live_server: object, tenant: Tenant
) -> None:
    """The shell and Python examples, pasted with the secret filled in, are accepted."""
    bash = shutil.which("bash")
    if not (bash and shutil.which("curl") and shutil.which("openssl")):
        pytest.skip("the shell example needs bash, curl and openssl")
    page = signed_in(tenant).get(PAGE).content.decode()
    url = str(live_server.url)  # type: ignore[attr-defined]
    secret = tenant.scheduler_webhook_secret

    # The examples as the page prints them, run against the live portal.
    shell = subprocess.run(  # noqa: S603 - our own page's example
        [bash, "-c", example(page, "shell", secret=secret, url=url)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    python = subprocess.run(  # noqa: S603 - our own page's example
        [sys.executable, "-c", example(page, "python", secret=secret, url=url)],
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert '"outcome":"created"' in shell.stdout.replace(" ", ""), shell
    assert '"outcome":"created"' in python.stdout.replace(" ", ""), python
    titles = Booking.objects.filter(tenant=tenant).values_list("title", flat=True)
    assert list(titles) == ["Example booking", "Example booking"]
