"""Under /api/, an address that is no endpoint answers JSON like the endpoints do."""

from __future__ import annotations

import pytest

from tests.conftest import Partner

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/api/v1/nothing-here/", "/api/v2/meetings/", "/api/x"])
def test_an_unknown_api_address_answers_json_404(partner: Partner, path: str) -> None:
    answer = partner.client.get(path)

    assert answer.status_code == 404
    assert answer["Content-Type"] == "application/json"
    assert answer.json() == {"detail": "No such API endpoint.", "code": "not_found"}


def test_the_endpoints_and_the_schema_still_answer(partner: Partner) -> None:
    assert partner.client.get("/api/v1/meetings/").status_code == 200
    assert partner.client.get("/api/schema/").status_code == 200
