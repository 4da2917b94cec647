"""Webhook deliveries per tenant are limited, counting only deliveries whose signature
checks out: a flood without the tenant's secret is refused with 401 and never uses up
the budget of the tenant's real deliveries."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.test import override_settings

from scheduler.models import Booking, SchedulerWebhookEvent
from tenants.api import throttling
from tenants.models import Tenant
from tests.conftest import Partner
from tests.scheduler.test_webhook_edges import post_signed
from tests.scheduler.test_webhooks import deliver, event
from tests.tenants.test_api_rate_limits import Clock

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _two_deliveries_a_minute(settings: Any) -> Iterator[None]:
    settings.SCHEDULER_WEBHOOK_RATE_LIMIT = "2/min"
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    # 20 seconds into a minute: the window has 40 seconds left.
    clock = Clock(1_800_000_000.0 + 20)
    monkeypatch.setattr(throttling.WindowRateThrottle, "timer", staticmethod(clock))
    return clock


def test_signed_deliveries_over_the_limit_answer_429_and_are_not_applied(
    tenant: Tenant, clock: Clock
) -> None:
    assert deliver(tenant, event("evt-1")).status_code == 200
    assert deliver(tenant, event("evt-2", "booking.cancelled", version=2)).status_code == 200

    response = deliver(tenant, event("evt-3", "booking.rescheduled", version=3))

    assert response.status_code == 429
    assert response["Content-Type"] == "application/json"
    assert response["Retry-After"] == "40"
    assert response.json()["code"] == "throttled"
    assert "40 seconds" in response.json()["detail"]
    assert not SchedulerWebhookEvent.objects.filter(event_id="evt-3").exists()
    assert Booking.objects.get(tenant=tenant).version == 2


def test_a_refused_delivery_is_taken_when_sent_again_after_retry_after(
    tenant: Tenant, clock: Clock
) -> None:
    deliver(tenant, event("evt-1"))
    deliver(tenant, event("evt-2", version=2))
    refused = deliver(tenant, event("evt-3", version=3))
    assert refused.status_code == 429

    clock.now += int(refused["Retry-After"])
    again = deliver(tenant, event("evt-3", version=3))

    assert again.status_code == 200, again.json()
    assert Booking.objects.get(tenant=tenant).version == 3


def test_badly_signed_deliveries_do_not_spend_the_tenants_budget(
    tenant: Tenant, clock: Clock
) -> None:
    wrong_secret = [deliver(tenant, event(f"evt-x{n}"), secret="guessed") for n in range(10)]
    unsigned = [post_signed(tenant.slug, "").status_code for _ in range(10)]
    replayed = [
        post_signed(tenant.slug, f"t={int(time.time()) - 3600},v1={'ab' * 32}").status_code
        for _ in range(10)
    ]

    assert {r.status_code for r in wrong_secret} == set(unsigned) == set(replayed) == {401}
    assert deliver(tenant, event("evt-1")).status_code == 200
    assert deliver(tenant, event("evt-2", version=2)).status_code == 200


def test_a_tenant_over_its_limit_is_not_revealed_to_senders_without_its_secret(
    tenant: Tenant, clock: Clock
) -> None:
    deliver(tenant, event("evt-1"))
    deliver(tenant, event("evt-2", version=2))
    header = f"t={int(time.time())},v1={'ab' * 32}"

    known = post_signed(tenant.slug, header)
    unknown = post_signed("no-such-tenant", header)

    assert known.status_code == unknown.status_code == 401
    assert known.json() == unknown.json()


def test_each_tenant_has_its_own_budget(
    tenant: Tenant, other_partner: Partner, clock: Clock
) -> None:
    other = other_partner.tenant
    deliver(tenant, event("evt-1"))
    deliver(tenant, event("evt-2", version=2))
    assert deliver(tenant, event("evt-3", version=3)).status_code == 429

    assert deliver(other, event("evt-1")).status_code == 200
    assert deliver(other, event("evt-2", version=2)).status_code == 200


def test_webhooks_are_not_limited_by_the_partner_api_rates(tenant: Tenant, clock: Clock) -> None:
    with override_settings(
        SCHEDULER_WEBHOOK_RATE_LIMIT="", API_RATE_LIMIT_BURST="1/min", API_RATE_LIMIT_SUSTAINED=""
    ):
        codes = [deliver(tenant, event(f"evt-{n}", version=n)).status_code for n in range(1, 6)]

    assert codes == [200] * 5
