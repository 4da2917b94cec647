"""Chaos: a seeded share of an org's REST requests meets a random kind of failure, so a
fault campaign can run a whole sync against an unreliable org and be run again the same."""

from __future__ import annotations

import time

import pytest
import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceExpiredSession

from salesforce_emulator.faults import CHAOS_KINDS, DEFAULT_KINDS, Faults
from salesforce_emulator.testing import EmulatorServer, OrgHandle

pytestmark = pytest.mark.emulator


def _kinds_drawn(seed: int, requests_seen: int, rate: float = 0.5) -> list[str | None]:
    faults = Faults()
    faults.chaos(rate, seed, kinds=CHAOS_KINDS, slow_ms=1)
    hits = (faults.take_chaos() for _ in range(requests_seen))
    return [hit.kind if hit else None for hit in hits]


def _statuses(api: str, token: str, http: requests.Session, count: int) -> list[int]:
    headers = {"Authorization": f"Bearer {token}"}
    return [http.get(f"{api}/limits", headers=headers).status_code for _ in range(count)]


# ----- Drawing ---------------------------------------------------------------------------


def test_the_same_seed_draws_the_same_failures_for_the_same_requests() -> None:
    drawn = _kinds_drawn(seed=7, requests_seen=300)

    assert drawn == _kinds_drawn(seed=7, requests_seen=300)
    assert drawn != _kinds_drawn(seed=8, requests_seen=300)
    assert set(drawn) == {None, *CHAOS_KINDS}


def test_the_order_kinds_are_given_in_does_not_change_the_draws() -> None:
    one, other = Faults(), Faults()
    one.chaos(0.5, 3, kinds=["lock", "unavailable", "drop"])
    other.chaos(0.5, 3, kinds=("drop", "unavailable", "lock", "lock"))

    assert [one.take_chaos() for _ in range(100)] == [other.take_chaos() for _ in range(100)]


def test_rate_zero_draws_nothing_and_rate_one_hits_every_request() -> None:
    assert _kinds_drawn(seed=1, requests_seen=200, rate=0) == [None] * 200
    assert None not in _kinds_drawn(seed=1, requests_seen=200, rate=1)


def test_the_share_of_hit_requests_follows_the_rate() -> None:
    drawn = _kinds_drawn(seed=11, requests_seen=2000, rate=0.2)

    assert 0.15 < sum(kind is not None for kind in drawn) / len(drawn) < 0.25


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({"rate": 1.5, "seed": 1}, "rate"),
        ({"rate": -0.1, "seed": 1}, "rate"),
        ({"rate": 0.5, "seed": 1, "kinds": ["meteor"]}, "kinds"),
        ({"rate": 0.5, "seed": 1, "kinds": []}, "kinds"),
        ({"rate": 0.5, "seed": 1, "kinds": ["slow"]}, "slow_ms"),
    ],
)
def test_chaos_refuses_settings_it_cannot_honour(options: dict, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        Faults().chaos(**options)


def test_slow_is_only_drawn_when_asked_for() -> None:
    assert "slow" not in DEFAULT_KINDS
    faults = Faults()
    faults.chaos(1, 5)

    assert {faults.take_chaos().kind for _ in range(200)} == set(DEFAULT_KINDS)


def test_chaos_off_and_clear_end_it_and_the_counts_stay_readable() -> None:
    faults = Faults()
    faults.chaos(1, 5, kinds=["lock"])
    faults.take_chaos()
    faults.chaos_off()

    assert faults.take_chaos() is None
    assert faults.chaos_settings() is None
    assert faults.chaos_stats()["lock"] == 1
    faults.chaos(1, 5, kinds=["lock"])
    assert faults.chaos_stats()["lock"] == 0
    faults.clear()
    assert faults.take_chaos() is None


# ----- Over HTTP -------------------------------------------------------------------------


def test_two_orgs_with_the_same_seed_fail_the_same_requests(
    salesforce_server: EmulatorServer, http: requests.Session
) -> None:
    outcomes = []
    for name in ("First run", "Second run"):
        org = salesforce_server.create_org(name)
        org.faults.chaos(0.5, seed=2024, kinds=["unavailable", "lock"])
        outcomes.append(
            _statuses(f"{org.instance_url}/services/data/v59.0", org.access_token, http, 40)
        )

    assert outcomes[0] == outcomes[1]
    assert {200, 400, 503} <= set(outcomes[0])


def test_rate_zero_lets_every_request_through(
    salesforce: OrgHandle, api: str, http: requests.Session
) -> None:
    salesforce.faults.chaos(0, seed=1)

    assert _statuses(api, salesforce.access_token, http, 30) == [200] * 30
    assert salesforce.faults.chaos_stats() == {"requests": 30, **dict.fromkeys(CHAOS_KINDS, 0)}


def test_unavailable_answers_503_and_writes_nothing(
    salesforce: OrgHandle, api: str, auth: dict[str, str], http: requests.Session
) -> None:
    salesforce.faults.chaos(1, seed=1, kinds=["unavailable"])

    response = http.post(f"{api}/sobjects/Account", json={"Name": "Acme"}, headers=auth)

    assert response.status_code == 503
    assert response.json() == [
        {"message": "Server unavailable; please try again later", "errorCode": "SERVER_UNAVAILABLE"}
    ]
    assert salesforce.records("Account") == []


def test_lock_answers_unable_to_lock_row_as_a_dml_error_and_writes_nothing(
    salesforce: OrgHandle, api: str, auth: dict[str, str], http: requests.Session
) -> None:
    salesforce.faults.chaos(1, seed=1, kinds=["lock"])

    response = http.post(f"{api}/sobjects/Account", json={"Name": "Acme"}, headers=auth)

    assert response.status_code == 400
    assert response.json() == [
        {
            "message": "unable to obtain exclusive access to this record",
            "errorCode": "UNABLE_TO_LOCK_ROW",
            "fields": [],
        }
    ]
    assert salesforce.records("Account") == []


def test_drop_applies_the_write_but_never_answers(sf: Salesforce, salesforce: OrgHandle) -> None:
    salesforce.faults.chaos(1, seed=1, kinds=["drop"])

    with pytest.raises(requests.exceptions.ConnectionError):
        sf.Account.create({"Name": "Written"})

    assert [r["Name"] for r in salesforce.records("Account")] == ["Written"]
    salesforce.faults.chaos_off()
    assert sf.Account.create({"Name": "Next"})["success"]


def test_slow_delays_the_answer(sf: Salesforce, salesforce: OrgHandle) -> None:
    salesforce.faults.chaos(1, seed=1, kinds=["slow"], slow_ms=300)

    started = time.perf_counter()
    assert sf.Account.create({"Name": "Late"})["success"]

    assert time.perf_counter() - started >= 0.3


def test_slow_past_the_client_timeout_still_writes(
    salesforce: OrgHandle, api: str, auth: dict[str, str], http: requests.Session
) -> None:
    salesforce.faults.chaos(1, seed=1, kinds=["slow"], slow_ms=800)

    with pytest.raises(requests.exceptions.Timeout):
        http.post(f"{api}/sobjects/Account", json={"Name": "Late"}, headers=auth, timeout=0.2)

    # The server goes on after the client gave up, as a real one does.
    deadline = time.monotonic() + 5
    while not salesforce.records("Account") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [r["Name"] for r in salesforce.records("Account")] == ["Late"]


def test_expire_ends_the_session_and_a_refresh_goes_on(
    salesforce: OrgHandle, http: requests.Session
) -> None:
    salesforce.add_connected_app("chaos-app", "s3cret", "https://localhost/cb")
    sf = Salesforce(
        instance_url=salesforce.instance_url, session_id=salesforce.access_token, session=http
    )
    salesforce.faults.chaos(1, seed=1, kinds=["expire"])

    with pytest.raises(SalesforceExpiredSession) as exc:
        sf.Account.create({"Name": "Acme"})
    assert exc.value.content == [
        {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
    ]
    assert salesforce.records("Account") == []

    salesforce.faults.chaos_off()
    with pytest.raises(SalesforceExpiredSession):  # the session stays ended
        sf.limits()
    token = http.post(
        f"{salesforce.instance_url}/services/oauth2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": salesforce.refresh_token,
            "client_id": "chaos-app",
            "client_secret": "s3cret",
        },
    ).json()
    fresh = Salesforce(
        instance_url=token["instance_url"], session_id=token["access_token"], session=http
    )
    assert fresh.Account.create({"Name": "Acme"})["success"]
    # An ended session is refused before it is counted, as Salesforce does.
    assert [(e.status, e.api_calls) for e in salesforce.request_log] == [
        (401, 0),
        (401, 0),
        (201, 1),
    ]


def test_oauth_and_control_requests_are_never_hit(
    salesforce_server: EmulatorServer, salesforce: OrgHandle, http: requests.Session
) -> None:
    salesforce.add_connected_app("chaos-app", "s3cret", "https://localhost/cb")
    salesforce.faults.chaos(1, seed=1, kinds=["unavailable"])

    token = http.post(
        f"{salesforce.instance_url}/services/oauth2/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "chaos-app",
            "client_secret": "s3cret",
        },
    )
    control = http.get(f"{salesforce_server.base_url}/_emulator/orgs/{salesforce.id}")
    versions = http.get(f"{salesforce.instance_url}/services/data")

    assert (token.status_code, control.status_code, versions.status_code) == (200, 200, 200)
    assert salesforce.faults.chaos_stats()["requests"] == 0


def test_stats_count_requests_and_each_kind_injected(
    salesforce: OrgHandle, api: str, http: requests.Session
) -> None:
    salesforce.faults.chaos(0.6, seed=99, kinds=["unavailable", "lock"])

    statuses = _statuses(api, salesforce.access_token, http, 50)

    stats = salesforce.faults.chaos_stats()
    assert stats["requests"] == 50
    assert stats["unavailable"] == statuses.count(503)
    assert stats["lock"] == statuses.count(400)
    assert stats["drop"] == stats["slow"] == stats["expire"] == 0


def test_rules_still_apply_alongside_chaos(sf: Salesforce, salesforce: OrgHandle) -> None:
    salesforce.faults.chaos(0, seed=1)
    salesforce.faults.drop_after_commit(1, method="POST", path=r"/sobjects/Account")

    with pytest.raises(requests.exceptions.ConnectionError):
        sf.Account.create({"Name": "Written"})
    assert len(salesforce.records("Account")) == 1


# ----- Control API -----------------------------------------------------------------------


def test_control_api_turns_chaos_on_and_off_and_reports_its_counts(
    salesforce_server: EmulatorServer, salesforce: OrgHandle, api: str, http: requests.Session
) -> None:
    chaos = f"{salesforce_server.base_url}/_emulator/orgs/{salesforce.id}/faults/chaos"

    started = http.post(chaos, json={"rate": 1, "seed": 5, "kinds": ["unavailable"]})
    assert started.status_code == 200
    assert started.json()["chaos"] == {
        "rate": 1.0,
        "seed": 5,
        "kinds": ["unavailable"],
        "slow_ms": 0.0,
    }
    assert _statuses(api, salesforce.access_token, http, 3) == [503] * 3
    assert http.get(f"{chaos}/stats").json() == {
        "requests": 3,
        "unavailable": 3,
        "lock": 0,
        "drop": 0,
        "slow": 0,
        "expire": 0,
    }
    summary = http.get(f"{salesforce_server.base_url}/_emulator/orgs/{salesforce.id}").json()
    assert summary["chaos"]["seed"] == 5

    stopped = http.delete(chaos)
    assert stopped.json() == {"ok": True, "stats": http.get(f"{chaos}/stats").json()}
    assert _statuses(api, salesforce.access_token, http, 2) == [200, 200]
    assert http.get(chaos).json() == {
        "chaos": None,
        "stats": {"requests": 3, "unavailable": 3, "lock": 0, "drop": 0, "slow": 0, "expire": 0},
    }


def test_control_api_post_off_and_defaults(
    salesforce_server: EmulatorServer, salesforce: OrgHandle, http: requests.Session
) -> None:
    chaos = f"{salesforce_server.base_url}/_emulator/orgs/{salesforce.id}/faults/chaos"

    http.post(chaos, json={"rate": 0.1, "seed": 3})
    assert salesforce.faults.chaos_settings() == {
        "rate": 0.1,
        "seed": 3,
        "kinds": sorted(DEFAULT_KINDS),
        "slow_ms": 0.0,
    }
    assert http.post(f"{chaos}/off").json()["ok"] is True
    assert salesforce.faults.chaos_settings() is None


def test_control_api_refuses_bad_chaos_settings(
    salesforce_server: EmulatorServer, salesforce: OrgHandle, http: requests.Session
) -> None:
    chaos = f"{salesforce_server.base_url}/_emulator/orgs/{salesforce.id}/faults/chaos"

    for body in ({"rate": 2, "seed": 1}, {"seed": 1}, {"rate": 0.5, "seed": 1, "kinds": ["x"]}):
        response = http.post(chaos, json=body)
        assert response.status_code == 400, body
        assert response.json()["error"].startswith("bad control request")
    assert salesforce.faults.chaos_settings() is None


def test_clearing_faults_through_the_control_api_ends_chaos(
    salesforce_server: EmulatorServer, salesforce: OrgHandle, http: requests.Session
) -> None:
    faults = f"{salesforce_server.base_url}/_emulator/orgs/{salesforce.id}/faults"
    salesforce.faults.chaos(1, seed=1)

    assert http.delete(faults).status_code == 200

    assert salesforce.faults.chaos_settings() is None
