"""A web process remembers the API keys it has checked for API_KEY_CACHE_SECONDS, so a
partner's requests need no key lookup; a revoked key stops working once that time has
passed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from tenants import services
from tenants.api import authentication
from tests.conftest import Partner

pytestmark = pytest.mark.django_db

LIST = "/api/v1/meetings/"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    settings.API_KEY_CACHE_SECONDS = 2.0
    clock = Clock()
    monkeypatch.setattr(authentication, "clock", clock)
    authentication._checked.clear()
    yield clock
    authentication._checked.clear()


def key_lookups(client: APIClient) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(LIST).status_code == 200
    return sum('"tenants_tenantapikey"' in q["sql"] for q in queries.captured_queries)


def test_a_key_checked_lately_is_not_looked_up_again(partner: Partner, clock: Clock) -> None:
    assert key_lookups(partner.client) == 1
    assert key_lookups(partner.client) == 0

    clock.now += 2.5

    assert key_lookups(partner.client) == 1


def test_a_revoked_key_stops_working_within_seconds(partner: Partner, clock: Clock) -> None:
    assert partner.client.get(LIST).status_code == 200

    services.api_key_revoke(api_key=partner.api_key)
    clock.now += 2.5

    refused = partner.client.get(LIST)
    assert refused.status_code == 401
    assert "revoked" in refused.json()["detail"]
    clock.now += 60
    assert partner.client.get(LIST).status_code == 401


def test_a_known_prefix_with_a_wrong_secret_is_refused(partner: Partner, clock: Clock) -> None:
    assert partner.client.get(LIST).status_code == 200
    prefix = partner.plain_key.split(".", 1)[0]
    forged = APIClient()
    forged.credentials(HTTP_AUTHORIZATION=f"Api-Key {prefix}.{'x' * 32}")

    assert forged.get(LIST).status_code == 401


def test_each_request_gets_its_own_copy_of_the_tenant(partner: Partner, clock: Clock) -> None:
    first = authentication.api_key_find(partner.plain_key)
    first.tenant.name = "Changed by one request"

    second = authentication.api_key_find(partner.plain_key)

    assert second.tenant.name == "Acme"
    assert second.tenant.pk == partner.tenant.pk


def test_without_memory_a_revocation_shows_at_once(partner: Partner, settings: Any) -> None:
    settings.API_KEY_CACHE_SECONDS = 0
    assert partner.client.get(LIST).status_code == 200

    services.api_key_revoke(api_key=partner.api_key)

    assert partner.client.get(LIST).status_code == 401
