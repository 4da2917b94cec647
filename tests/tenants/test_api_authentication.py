from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tenants import services
from tests.conftest import Partner

pytestmark = pytest.mark.django_db


def test_no_key_answers_401_and_says_how_to_authenticate(db: None) -> None:
    response = APIClient().get("/api/v1/meetings/")

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Api-Key"


def test_an_unknown_key_answers_401(db: None) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Api-Key abcdefgh.notarealkeyatall")

    assert client.get("/api/v1/meetings/").status_code == 401


def test_a_revoked_key_is_refused(partner: Partner) -> None:
    assert partner.client.get("/api/v1/meetings/").status_code == 200

    services.api_key_revoke(api_key=partner.api_key)

    response = partner.client.get("/api/v1/meetings/")
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]


def test_keys_are_stored_hashed(partner: Partner) -> None:
    partner.api_key.refresh_from_db()

    assert partner.plain_key not in partner.api_key.hashed_key
    assert partner.api_key.is_valid(partner.plain_key)


def test_a_bearer_token_is_not_an_api_key(partner: Partner) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {partner.plain_key}")

    assert client.get("/api/v1/meetings/").status_code == 401
