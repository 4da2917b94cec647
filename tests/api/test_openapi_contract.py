"""The OpenAPI schema says what the partner API really does: pages, errors, numbers,
blank strings, external ids, and that every operation is named and described."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.test import Client
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from jsonschema import Draft4Validator, FormatChecker

from core.api.schema import EXTERNAL_ID_PATTERN
from core.validators import external_id_validator
from tests.conftest import Partner
from tests.factories import (
    ActivityFactory,
    ActivityParticipantFactory,
    HighlightFactory,
    MeetingFactory,
)

METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    generated = SchemaGenerator().get_schema(request=None, public=True)
    loaded: dict[str, Any] = json.loads(OpenApiJsonRenderer().render(generated))
    return loaded


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def operation(spec: dict[str, Any], operation_id: str) -> dict[str, Any]:
    return next(op for _p, _m, op in operations(spec) if op["operationId"] == operation_id)


def component(spec: dict[str, Any], ref: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = spec["components"]["schemas"][ref["$ref"].rsplit("/", 1)[1]]
    return found


def _json_schema(schema: Any) -> Any:
    """OpenAPI 3.0's `nullable` as JSON Schema says it."""
    if isinstance(schema, list):
        return [_json_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    converted = {key: _json_schema(value) for key, value in schema.items()}
    if converted.pop("nullable", False):
        if isinstance(converted.get("type"), str):
            converted["type"] = [converted["type"], "null"]
        else:
            converted = {"anyOf": [converted, {"type": "null"}]}
    return converted


def conforms(spec: dict[str, Any], schema: dict[str, Any], body: Any) -> list[str]:
    """The messages of everything in `body` that `schema` does not allow."""
    validator = Draft4Validator(
        _json_schema({**schema, "components": spec["components"]}),
        format_checker=FormatChecker(),
    )
    return [error.message for error in validator.iter_errors(body)]


def response_schema(spec: dict[str, Any], operation_id: str, code: str) -> dict[str, Any]:
    found: dict[str, Any] = operation(spec, operation_id)["responses"][code]["content"][
        "application/json"
    ]["schema"]
    return found


# --- every operation is named, tagged, summarised -----------------------------------------


def test_every_operation_has_an_id_a_tag_and_a_summary(spec: dict[str, Any]) -> None:
    found = operations(spec)
    assert len(found) >= 36
    for path, method, op in found:
        assert op.get("operationId"), (method, path)
        assert op.get("tags"), (method, path)
        assert op.get("summary"), (method, path)
        # No description inherited from the code's base view.
        assert "Base of every partner API view" not in op.get("description", "")
    assert len({op["operationId"] for _p, _m, op in found}) == len(found)


@pytest.mark.parametrize(
    "operation_id",
    ["meetings_upsert", "highlights_upsert", "activities_upsert", "bookings_upsert"],
)
def test_upserts_carry_an_example(spec: dict[str, Any], operation_id: str) -> None:
    body = operation(spec, operation_id)["requestBody"]["content"]["application/json"]
    assert body["examples"]
    example = next(iter(body["examples"].values()))["value"]
    assert not conforms(spec, body["schema"], example)


# --- pages ----------------------------------------------------------------------------


LISTS = ["meetings_list", "highlights_list", "activities_list", "bookings_list", "sync_jobs_list"]


@pytest.mark.parametrize("operation_id", LISTS)
def test_lists_are_documented_as_the_page_envelope(spec: dict[str, Any], operation_id: str) -> None:
    op = operation(spec, operation_id)
    page = component(spec, op["responses"]["200"]["content"]["application/json"]["schema"])
    assert page["type"] == "object"
    assert set(page["properties"]) == {"count", "next", "previous", "results"}
    assert page["properties"]["results"]["type"] == "array"
    parameters = {p["name"]: p for p in op["parameters"] if p["in"] == "query"}
    assert parameters["page"]["schema"] == {"type": "integer", "minimum": 1}
    assert parameters["page_size"]["schema"]["maximum"] == 200
    # Past the last page the API answers 404.
    assert "404" in op["responses"]


def test_a_real_page_matches_the_documented_envelope(
    spec: dict[str, Any], partner: Partner
) -> None:
    for n in range(3):
        MeetingFactory(tenant=partner.tenant, external_id=f"m-{n}")
    answer = partner.client.get("/api/v1/meetings/?page_size=2")
    assert answer.status_code == 200
    body = answer.json()
    assert body["count"] == 3 and len(body["results"]) == 2 and body["previous"] is None
    assert not conforms(spec, response_schema(spec, "meetings_list", "200"), body)
    past = partner.client.get("/api/v1/meetings/?page=9")
    assert past.status_code == 404
    assert past.json()["code"] == "not_found"


# --- errors ---------------------------------------------------------------------------


def test_errors_are_documented_with_the_one_error_schema(spec: dict[str, Any]) -> None:
    error_ref = {"$ref": "#/components/schemas/Error"}
    for path, method, op in operations(spec):
        responses = op["responses"]
        expected = {"429"}
        if path != "/api/v1/scheduler/webhooks/{tenant_slug}/":
            expected.add("401")
        if "{" in path:
            expected.add("404")
        if "requestBody" in op:
            expected |= {"400", "413"}
        assert expected <= set(responses), (method, path, sorted(responses))
        for code, response in responses.items():
            if code.startswith(("4", "5")):
                assert response["content"]["application/json"]["schema"] == error_ref
        assert "Retry-After" in responses["429"]["headers"]
    assert "409" in operation(spec, "meetings_update")["responses"]
    assert "409" in operation(spec, "scheduler_webhook")["responses"]
    assert "400" in operation(spec, "meetings_list")["responses"]  # its filters


def test_the_error_schema_allows_field_errors_and_requires_a_code(spec: dict[str, Any]) -> None:
    error = {"$ref": "#/components/schemas/Error"}
    assert not conforms(spec, error, {"detail": "No such meeting.", "code": "not_found"})
    assert not conforms(
        spec,
        error,
        {
            "title": ["This field is required."],
            "attendees": [{}, {"email": ["Bad."]}],
            "code": "invalid",
        },
    )
    assert conforms(spec, error, {"detail": "No code."})


@pytest.mark.parametrize(
    ("headers", "code"),
    [({}, "not_authenticated"), ({"HTTP_AUTHORIZATION": "Api-Key nope"}, "authentication_failed")],
)
def test_authentication_errors_carry_a_code(
    partner: Partner, headers: dict[str, str], code: str
) -> None:
    answer = Client().get("/api/v1/meetings/", **headers)
    assert answer.status_code == 401
    assert answer.json() == {"detail": answer.json()["detail"], "code": code}


def test_malformed_json_and_other_media_types_carry_a_code(api_client: Any) -> None:
    answer = api_client.post("/api/v1/meetings/", "{bad", content_type="application/json")
    assert answer.status_code == 400
    assert answer.json()["code"] == "parse_error"
    answer = api_client.post("/api/v1/meetings/", "title", content_type="text/plain")
    assert answer.status_code == 415
    assert answer.json()["code"] == "unsupported_media_type"


def test_validation_errors_name_the_fields_and_carry_a_code(api_client: Any) -> None:
    answer = api_client.post("/api/v1/meetings/", {"title": ""}, format="json")
    assert answer.status_code == 400
    body = answer.json()
    assert body["code"] == "invalid"
    assert body["title"] and all(isinstance(message, str) for message in body["title"])
    assert "external_id" in body


def test_a_throttled_client_is_told_when_to_come_back(api_client: Any, settings: Any) -> None:
    settings.API_RATE_LIMIT_BURST = "1/min"
    settings.API_RATE_LIMIT_SUSTAINED = ""
    cache.clear()
    try:
        api_client.get("/api/v1/meetings/")
        answer = api_client.get("/api/v1/meetings/")
    finally:
        cache.clear()
    assert answer.status_code == 429
    assert answer.json()["code"] == "throttled"
    assert int(answer["Retry-After"]) >= 0


def test_a_post_to_an_unknown_api_address_answers_json_404(partner: Partner) -> None:
    # With CSRF checks on, as for any client that is not a browser session.
    client = Client(enforce_csrf_checks=True)
    answer = client.post(
        "/api/v1/sync-jobs/abc/retry/", HTTP_AUTHORIZATION=f"Api-Key {partner.plain_key}"
    )
    assert answer.status_code == 404
    assert answer.json() == {"detail": "No such API endpoint.", "code": "not_found"}


# --- bodies over the upload limit ------------------------------------------------------


def _too_big() -> str:
    return json.dumps({"title": "x" * (django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)})


def test_an_oversized_body_answers_json_413(partner: Partner) -> None:
    answer = Client().post(
        "/api/v1/meetings/",
        _too_big(),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Api-Key {partner.plain_key}",
    )
    assert answer.status_code == 413
    assert answer["Content-Type"] == "application/json"
    assert answer.json()["code"] == "payload_too_large"


def test_an_oversized_webhook_delivery_answers_json_413(partner: Partner) -> None:
    answer = Client().post(
        f"/api/v1/scheduler/webhooks/{partner.tenant.slug}/",
        _too_big(),
        content_type="application/json",
        HTTP_SCHEDULER_SIGNATURE="t=1,v1=00",
    )
    assert answer.status_code == 413
    assert answer.json()["code"] == "payload_too_large"


# --- numbers, blank strings, external ids ------------------------------------------------


def test_offset_seconds_is_a_number_in_the_schema_and_in_answers(
    spec: dict[str, Any], api_client: Any, partner: Partner
) -> None:
    output = spec["components"]["schemas"]["HighlightOutput"]["properties"]["offset_seconds"]
    request = spec["components"]["schemas"]["HighlightInputRequest"]["properties"]
    assert output["type"] == "number"
    assert request["offset_seconds"]["type"] == "number"
    MeetingFactory(tenant=partner.tenant, external_id="m-1")
    answer = api_client.post(
        "/api/v1/meetings/m-1/highlights/",
        {"external_id": "h-1", "text": "Budget approved", "offset_seconds": 95},
        format="json",
    )
    assert answer.status_code == 201
    assert answer.json()["offset_seconds"] == 95
    listed = api_client.get("/api/v1/meetings/m-1/highlights/").json()["results"]
    assert listed[0]["offset_seconds"] == 95


def test_a_highlight_answer_conforms_to_its_schema(spec: dict[str, Any], partner: Partner) -> None:
    highlight = HighlightFactory(meeting__tenant=partner.tenant)
    path = f"/api/v1/meetings/{highlight.meeting.external_id}/highlights/{highlight.external_id}/"
    body = partner.client.get(path).json()
    assert body["offset_seconds"] == 12.5
    assert not conforms(spec, response_schema(spec, "highlights_retrieve", "200"), body)


def test_a_phone_only_participant_conforms_to_the_schema(
    spec: dict[str, Any], partner: Partner
) -> None:
    activity = ActivityFactory(tenant=partner.tenant, external_id="call-9")
    ActivityParticipantFactory(activity=activity, email="", phone="+1 555 0100")
    body = partner.client.get("/api/v1/activities/call-9/").json()
    assert body["participants"][0]["email"] == ""  # unchanged for existing clients
    assert not conforms(spec, response_schema(spec, "activities_retrieve", "200"), body)


def test_fields_that_may_not_be_blank_are_not_blank_in_the_schema(
    spec: dict[str, Any], api_client: Any
) -> None:
    meeting = spec["components"]["schemas"]["MeetingInputRequest"]["properties"]
    assert meeting["title"]["minLength"] == 1
    assert meeting["external_id"]["minLength"] == 1
    for title in ("", "   "):
        assert conforms(spec, meeting["title"], title)
        answer = api_client.post(
            "/api/v1/meetings/",
            {
                "external_id": "m-1",
                "title": title,
                "start": "2026-11-20T15:00:00Z",
                "end": "2026-11-20T15:45:00Z",
            },
            format="json",
        )
        assert answer.status_code == 400
    # A blank optional field the schema allows is accepted.
    answer = api_client.post(
        "/api/v1/meetings/",
        {
            "external_id": "m-1",
            "title": "Intro",
            "start": "2026-11-20T15:00:00Z",
            "end": "2026-11-20T15:45:00Z",
            "organizer_email": "",
            "recording_url": "",
        },
        format="json",
    )
    assert answer.status_code == 201
    assert not conforms(spec, meeting["organizer_email"], "")


@pytest.mark.parametrize(
    "external_id", ["m-1", "zoom:88.12@x", "a_b", ".a", "a.", "..", ".", "a b", "a/b", "é", ""]
)
def test_external_ids_in_paths_have_the_safe_alphabet(
    spec: dict[str, Any], external_id: str
) -> None:
    from django.core.exceptions import ValidationError

    try:
        external_id_validator(external_id)
        accepted = bool(external_id)
    except ValidationError:
        accepted = False
    parameter = next(
        p for p in operation(spec, "meetings_retrieve")["parameters"] if p["name"] == "external_id"
    )
    assert parameter["schema"]["pattern"] == EXTERNAL_ID_PATTERN
    assert (not conforms(spec, parameter["schema"], external_id)) == accepted
