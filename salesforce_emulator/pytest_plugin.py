"""pytest fixtures that serve the emulator over HTTPS for the test suite.

``salesforce_server`` is one server per test session; ``salesforce`` is a fresh org on it
per test (creating an org costs well under a millisecond, so hundreds are fine).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .testing import EmulatorServer, OrgHandle


@pytest.fixture(scope="session")
def salesforce_server() -> Iterator[EmulatorServer]:
    server = EmulatorServer.start(host="127.0.0.1", port=0)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def salesforce(salesforce_server: EmulatorServer, request: pytest.FixtureRequest) -> OrgHandle:
    return salesforce_server.create_org(name=request.node.name[:80])
