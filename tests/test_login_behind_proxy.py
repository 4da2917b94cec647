"""Sign-in throttling behind a reverse proxy: with TRUSTED_PROXY_COUNT set, the lockout
holds the address the proxy saw (X-Forwarded-For), not the proxy's own, so somebody
guessing a password does not lock the account out for everyone else."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.test.utils import override_settings

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"
PROXY = "10.0.0.2"


@pytest.fixture
def ops_user() -> object:
    return UserFactory(username="ops", password=PASSWORD)


def _sign_in(forwarded_for: str, password: str) -> int:
    client = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded_for)
    response = client.post("/accounts/login/", {"username": "ops", "password": password})
    return response.status_code


@override_settings(TRUSTED_PROXY_COUNT=1)
@pytest.mark.usefixtures("ops_user")
def test_behind_one_proxy_a_guesser_does_not_lock_out_the_office() -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _sign_in("203.0.113.9", "wrong")

    assert _sign_in("198.51.100.7", PASSWORD) == 302
    assert _sign_in("203.0.113.9", PASSWORD) == 429


@override_settings(TRUSTED_PROXY_COUNT=1)
@pytest.mark.usefixtures("ops_user")
def test_a_forged_forwarded_address_does_not_escape_the_lockout() -> None:
    # The proxy appends the address it saw; what the client wrote before it is ignored.
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        _sign_in(f"192.0.2.{attempt}, 203.0.113.9", "wrong")

    assert _sign_in("192.0.2.99, 203.0.113.9", PASSWORD) == 429


@override_settings(TRUSTED_PROXY_COUNT=2)
@pytest.mark.usefixtures("ops_user")
def test_behind_two_proxies_the_address_before_them_counts() -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _sign_in("203.0.113.9, 10.0.0.1", "wrong")

    assert _sign_in("198.51.100.7, 10.0.0.1", PASSWORD) == 302
    assert _sign_in("203.0.113.9, 10.0.0.1", PASSWORD) == 429


@pytest.mark.usefixtures("ops_user")
def test_without_trusted_proxies_the_forwarded_header_is_ignored() -> None:
    assert settings.TRUSTED_PROXY_COUNT == 0
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        _sign_in(f"203.0.113.{attempt}", "wrong")

    # Every attempt came from the proxy's address as far as the portal can tell.
    assert _sign_in("198.51.100.7", PASSWORD) == 429


@override_settings(TRUSTED_PROXY_COUNT=1)
@pytest.mark.parametrize("forwarded_for", ["", "not-an-address", "203.0.113.9\x00"])
@pytest.mark.usefixtures("ops_user")
def test_a_missing_or_malformed_forwarded_address_counts_as_the_proxy(
    forwarded_for: str,
) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT):
        assert _sign_in(forwarded_for, "wrong") in (200, 429)

    assert _sign_in("", PASSWORD) == 429
