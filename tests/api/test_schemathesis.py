"""The partner API against its own OpenAPI schema: generated requests, valid and
invalid, sent to the app in process. No answer may be a server error, and every answer
must be one the schema documents (status code and body)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from salesforce_emulator.testing import OrgHandle
from tests.api.conftest import Known
from tests.conftest import Partner

EXAMPLES_PER_OPERATION = 15
WSGI_APP = get_wsgi_application()
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]


def _known_ids(known: Known, path: str) -> dict[str, list[Any]]:
    """Path parameters that name an object the partner has, for the operation's path."""
    if path.startswith("/api/v1/meetings/"):
        ids = {"external_id": [known.meeting], "highlight_id": [known.highlight]}
    elif path.startswith("/api/v1/activities/"):
        ids = {"external_id": [known.call, known.phone_call]}
    elif path.startswith("/api/v1/bookings/"):
        ids = {"external_id": [known.booking]}
    else:
        ids = {}
    return {**ids, "job_id": known.job_ids, "tenant_slug": [known.tenant_slug]}


@pytest.fixture
def calls(request: pytest.FixtureRequest) -> Iterator[Counter[int]]:
    """The status codes answered to the operation being tested (shown with `-s`)."""
    counts: Counter[int] = Counter()
    yield counts
    answers = ", ".join(f"{code}: {n}" for code, n in sorted(counts.items()))
    print(f"\n{request.node.name}: {sum(counts.values())} requests ({answers})")


def _schema() -> schemathesis.BaseSchema:
    # Generated in process (no request needed), as `manage.py spectacular` makes it.
    spec = SchemaGenerator().get_schema(request=None, public=True)
    loaded = schemathesis.openapi.from_dict(json.loads(OpenApiJsonRenderer().render(spec)))
    loaded.config.generation.update(
        modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
        max_examples=EXAMPLES_PER_OPERATION,
        deterministic=True,
        database="none",
    )
    # Boundary values of every field stay (the coverage phase); other HTTP methods on each
    # path are left to DRF, which answers them 405.
    loaded.config.phases.coverage.unexpected_methods = set()
    return loaded


schema = _schema()
# The objects of the test being run (a fresh database for each operation).
_current: dict[str, Known] = {}


@schema.hook("flatmap_path_parameters")
def _real_objects(ctx: schemathesis.HookContext, path_parameters: Any) -> Any:
    # Part of the requests name objects that exist; the others what was generated.
    known = _current.get("known")
    if known is None or not isinstance(path_parameters, dict):
        return st.just(path_parameters)
    known_ids = _known_ids(known, ctx.operation.path)
    choices = {
        name: st.sampled_from(known_ids[name]) for name in path_parameters if known_ids.get(name)
    }
    return st.one_of(
        st.just(path_parameters),
        st.fixed_dictionaries(choices).map(lambda ids: {**path_parameters, **ids}),
    )


@schema.hook("flatmap_query")
def _real_highlights(ctx: schemathesis.HookContext, query: Any) -> Any:
    # The match preview reads Salesforce only for highlights the meeting has.
    known = _current.get("known")
    if known is None or not isinstance(query, dict) or "highlights" not in query:
        return st.just(query)
    return st.sampled_from([query, {**query, "highlights": known.highlight}])


@pytest.fixture
def objects(sf: OrgHandle, known: Known, settings: Any) -> Iterator[Known]:
    # Every generated request counts against the key's budget; the limits have tests
    # of their own.
    settings.API_RATE_LIMIT_BURST = ""
    settings.API_RATE_LIMIT_SUSTAINED = ""
    _current["known"] = known
    # As Django's test client does: the app must not close the test's connection at the
    # end of each request (it would end the test's transaction).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield known
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
        _current.clear()


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_answers_as_its_schema_says(
    case: schemathesis.Case, partner: Partner, objects: Known, calls: Counter[int]
) -> None:
    response = case.call_and_validate(
        app=WSGI_APP,
        headers={"Authorization": f"Api-Key {partner.plain_key}"},
        checks=CHECKS,
    )
    calls[response.status_code] += 1
