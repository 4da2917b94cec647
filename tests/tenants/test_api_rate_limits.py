"""Partner API rate limits: each API key has its own budget; over it the API answers
429 with Retry-After, and the key works again once that many seconds have passed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import cache
from django.test import override_settings
from rest_framework.test import APIClient

from tenants.api import throttling
from tests.conftest import Partner, partner_for

pytestmark = pytest.mark.django_db


class Clock:
    """The time the rate limits see, moved by hand."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    # 20 seconds into a minute (and an hour): a per-minute window has 40 seconds left.
    clock = Clock(1_800_000_000.0 + 20)
    monkeypatch.setattr(throttling.WindowRateThrottle, "timer", staticmethod(clock))
    return clock


def spend(client: APIClient, times: int) -> list[int]:
    return [client.get("/api/v1/meetings/").status_code for _ in range(times)]


@override_settings(API_RATE_LIMIT_BURST="3/min", API_RATE_LIMIT_SUSTAINED="")
def test_a_key_over_its_limit_is_answered_429_with_retry_after(
    partner: Partner, clock: Clock
) -> None:
    assert spend(partner.client, 3) == [200, 200, 200]

    response = partner.client.get("/api/v1/meetings/")

    assert response.status_code == 429
    assert response["Content-Type"] == "application/json"
    assert response["Retry-After"] == "40"
    assert response.json()["code"] == "throttled"
    assert "40 seconds" in response.json()["detail"]


@override_settings(API_RATE_LIMIT_BURST="3/min", API_RATE_LIMIT_SUSTAINED="")
def test_after_retry_after_seconds_the_key_works_again(partner: Partner, clock: Clock) -> None:
    spend(partner.client, 3)
    refused = partner.client.get("/api/v1/meetings/")
    assert refused.status_code == 429

    clock.now += int(refused["Retry-After"]) - 1
    assert partner.client.get("/api/v1/meetings/").status_code == 429
    clock.now += 1
    assert spend(partner.client, 3) == [200, 200, 200]
    assert partner.client.get("/api/v1/meetings/").status_code == 429


@override_settings(API_RATE_LIMIT_BURST="3/min", API_RATE_LIMIT_SUSTAINED="")
def test_each_key_of_a_tenant_has_its_own_budget(
    partner: Partner, other_partner: Partner, clock: Clock
) -> None:
    spend(partner.client, 3)
    assert partner.client.get("/api/v1/meetings/").status_code == 429

    second_key = partner_for(partner.tenant)
    assert spend(second_key.client, 3) == [200, 200, 200]
    assert spend(other_partner.client, 3) == [200, 200, 200]


@override_settings(API_RATE_LIMIT_BURST="3/min", API_RATE_LIMIT_SUSTAINED="")
def test_every_endpoint_and_method_draws_on_the_same_budget(partner: Partner, clock: Clock) -> None:
    assert partner.client.get("/api/v1/bookings/").status_code == 200
    assert partner.client.get("/api/v1/activities/").status_code == 200
    assert partner.client.post("/api/v1/meetings/", {}, format="json").status_code == 400

    assert partner.client.get("/api/v1/meetings/").status_code == 429


@override_settings(API_RATE_LIMIT_BURST="5/min", API_RATE_LIMIT_SUSTAINED="7/hour")
def test_the_sustained_limit_holds_across_burst_windows(partner: Partner, clock: Clock) -> None:
    assert spend(partner.client, 5) == [200] * 5
    # Refused requests spend nothing: 5 of the hour's 7 are used after these.
    assert spend(partner.client, 4) == [429] * 4

    clock.now += 60  # a new minute: the burst budget is back
    assert spend(partner.client, 3) == [200, 200, 429]

    refused = partner.client.get("/api/v1/meetings/")
    # 80 seconds into the hour: the sustained window, not the minute, decides.
    assert refused["Retry-After"] == str(3600 - 80)


@override_settings(API_RATE_LIMIT_BURST="1/min", API_RATE_LIMIT_SUSTAINED="1/min")
def test_requests_without_a_valid_key_answer_401_not_429(clock: Clock) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Api-Key abcdefgh.notarealkeyatall")

    assert [client.get("/api/v1/meetings/").status_code for _ in range(3)] == [401] * 3
    assert [APIClient().get("/api/v1/meetings/").status_code for _ in range(3)] == [401] * 3


@override_settings(API_RATE_LIMIT_BURST="", API_RATE_LIMIT_SUSTAINED="")
def test_empty_rates_mean_no_limit(partner: Partner, clock: Clock) -> None:
    assert set(spend(partner.client, 30)) == {200}
