"""Paging a list: `page_size` is a whole number from 1 (above 200 gives 200), `page` a
whole number from 1 (past the last page: 404). Anything else is a 400 naming the
parameter, not a silently different page."""

from __future__ import annotations

import json
from typing import Any

import pytest
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer

from tests.api.test_openapi_contract import operation
from tests.conftest import Partner
from tests.factories import MeetingFactory

pytestmark = pytest.mark.django_db

LISTS = [
    "/api/v1/meetings/",
    "/api/v1/activities/",
    "/api/v1/bookings/",
    "/api/v1/meetings/m-0/highlights/",
]


@pytest.fixture
def three_meetings(partner: Partner) -> None:
    for n in range(3):
        MeetingFactory(tenant=partner.tenant, external_id=f"m-{n}")


@pytest.mark.usefixtures("three_meetings")
@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize("page_size", ["0", "-5", "abc", "1.5", "", " 2", "+2", "1e2"])
def test_a_page_size_that_is_no_whole_number_from_1_is_a_400(
    partner: Partner, path: str, page_size: str
) -> None:
    answer = partner.client.get(path, {"page_size": page_size})

    assert answer.status_code == 400
    assert answer.json()["code"] == "invalid"
    assert set(answer.json()) == {"page_size", "code"}
    assert answer.json()["page_size"][0]


@pytest.mark.usefixtures("three_meetings")
@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize("page", ["abc", "0", "-1", "1.5", ""])
def test_a_page_that_is_no_whole_number_from_1_is_a_400(
    partner: Partner, path: str, page: str
) -> None:
    answer = partner.client.get(path, {"page": page})

    assert answer.status_code == 400
    assert answer.json()["code"] == "invalid"
    assert set(answer.json()) == {"page", "code"}


@pytest.mark.usefixtures("three_meetings")
def test_valid_page_sizes_and_pages_are_served(partner: Partner) -> None:
    one = partner.client.get("/api/v1/meetings/", {"page_size": "1", "page": "3"}).json()
    capped = partner.client.get("/api/v1/meetings/", {"page_size": "100000"}).json()

    assert len(one["results"]) == 1 and one["next"] is None and one["previous"]
    assert len(capped["results"]) == 3


@pytest.mark.usefixtures("three_meetings")
def test_a_page_past_the_last_is_still_a_404(partner: Partner) -> None:
    answer = partner.client.get("/api/v1/meetings/", {"page": "2"})

    assert answer.status_code == 404
    assert answer.json()["code"] == "not_found"


def test_the_schema_says_what_paging_accepts() -> None:
    generated = SchemaGenerator().get_schema(request=None, public=True)
    spec: dict[str, Any] = json.loads(OpenApiJsonRenderer().render(generated))
    op = operation(spec, "meetings_list")
    parameters = {p["name"]: p for p in op["parameters"] if p["in"] == "query"}

    assert parameters["page_size"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 200}
    assert "a larger one than 200 gives 200" in parameters["page_size"]["description"]
    assert "400" in parameters["page_size"]["description"]
    assert "400" in parameters["page"]["description"]
    for list_id in ["activities_list", "bookings_list", "highlights_list", "sync_jobs_list"]:
        assert "400" in operation(spec, list_id)["responses"], list_id
