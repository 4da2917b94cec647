"""SOQL the sync sends: every value escaped with simple-salesforce's `format_soql`, IN
lists split so that no query's URL passes Salesforce's 16 KB limit."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from urllib.parse import quote_plus

from integrations.salesforce.client import format_soql

# Salesforce refuses a request URL over 16,384 bytes. The query travels URL-encoded
# (inside a composite subrequest's url, or as ?q=); leave room for the path.
MAX_QUERY_URL_BYTES = 15_000


def in_list_queries(template: str, values: Iterable[str]) -> Iterator[str]:
    """`template` holds one `{values}` where the IN list goes, e.g.
    "SELECT Id FROM Contact WHERE Email IN {values}". Yields as many queries as it
    takes to carry every value, each short enough to send in a URL."""
    pending: list[str] = []
    base = len(quote_plus(template.replace("{values}", "()")))
    size = base
    for value in dict.fromkeys(values):
        literal = format_soql("{}", value)
        cost = len(quote_plus(literal)) + 3  # the comma between literals, encoded
        if pending and size + cost > MAX_QUERY_URL_BYTES:
            yield _fill(template, pending)
            pending, size = [], base
        pending.append(value)
        size += cost
    if pending:
        yield _fill(template, pending)


def _fill(template: str, values: list[str]) -> str:
    return template.replace("{values}", format_soql("{}", values))


def query_url(api_base_path: str, soql: str) -> str:
    return f"{api_base_path}/query?q={quote_plus(soql)}"
