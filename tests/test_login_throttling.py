"""Sign-in throttling: guessing passwords on the admin or portal sign-in page stops
after a few tries, and a locked-out account cannot get in even with the right password."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"


@pytest.fixture
def ops_user() -> object:
    return UserFactory(username="ops", is_staff=True, is_superuser=True, password=PASSWORD)


@pytest.mark.parametrize("login_url", ["/accounts/login/", "/admin/login/"])
def test_the_right_password_after_thirty_wrong_ones_is_refused(
    ops_user: object, login_url: str
) -> None:
    client = Client()
    for _ in range(30):
        client.post(login_url, {"username": "ops", "password": "wrong guess"})

    response = client.post(login_url, {"username": "ops", "password": PASSWORD})

    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.content.decode()
    assert f"blocked for {settings.LOGIN_COOLOFF_MINUTES} minutes" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_few_typos_then_the_right_password_signs_in(ops_user: object) -> None:
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = client.post("/accounts/login/", {"username": "ops", "password": "typo"})
        assert response.status_code == 200
        assert "username and password didn" in response.content.decode()

    response = client.post("/accounts/login/", {"username": "ops", "password": PASSWORD})

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(ops_user.pk)  # type: ignore[attr-defined]


def test_a_lockout_holds_one_username_from_one_address_only(ops_user: object) -> None:
    attacker = Client(REMOTE_ADDR="203.0.113.9")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attacker.post("/accounts/login/", {"username": "ops", "password": "wrong"})

    from_the_office = Client(REMOTE_ADDR="198.51.100.7")
    response = from_the_office.post("/accounts/login/", {"username": "ops", "password": PASSWORD})

    assert response.status_code == 302


def test_the_lockout_ends_after_the_cool_off(ops_user: object, settings: object) -> None:
    from datetime import timedelta

    from axes.models import AccessAttempt
    from django.utils import timezone

    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):  # type: ignore[attr-defined]
        client.post("/accounts/login/", {"username": "ops", "password": "wrong"})
    assert (
        client.post("/accounts/login/", {"username": "ops", "password": PASSWORD}).status_code
        == 429
    )

    # The cool-off has passed (the attempts were made long enough ago).
    AccessAttempt.objects.update(
        attempt_time=timezone.now() - timedelta(minutes=settings.LOGIN_COOLOFF_MINUTES + 1)  # type: ignore[attr-defined]
    )

    response = client.post("/accounts/login/", {"username": "ops", "password": PASSWORD})
    assert response.status_code == 302
