from __future__ import annotations

# The connected emulator org, for the tests that follow a booking into Salesforce.
from tests.sync.conftest import sf  # noqa: F401
