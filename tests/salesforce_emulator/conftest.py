from __future__ import annotations

import pytest
import requests
from simple_salesforce import Salesforce

from salesforce_emulator.testing import EmulatorServer, OrgHandle, trusted_session


@pytest.fixture
def http(salesforce_server: EmulatorServer) -> requests.Session:
    return trusted_session(salesforce_server.ca_file)


@pytest.fixture
def sf(salesforce: OrgHandle, http: requests.Session) -> Salesforce:
    return Salesforce(
        instance_url=salesforce.instance_url, session_id=salesforce.access_token, session=http
    )


@pytest.fixture
def api(salesforce: OrgHandle) -> str:
    """Base URL of the REST API of the test's org."""
    return f"{salesforce.instance_url}/services/data/v59.0"


@pytest.fixture
def auth(salesforce: OrgHandle) -> dict[str, str]:
    return {"Authorization": f"Bearer {salesforce.access_token}"}
