"""The one exception the SOQL engine raises, shaped like Salesforce's query errors."""

from __future__ import annotations

# The error codes Salesforce's query resource answers with for the mistakes we detect.
MALFORMED_QUERY = "MALFORMED_QUERY"
INVALID_FIELD = "INVALID_FIELD"
INVALID_TYPE = "INVALID_TYPE"
INVALID_QUERY_FILTER_OPERATOR = "INVALID_QUERY_FILTER_OPERATOR"
# Only for OFFSET above 2000, where Salesforce uses this code rather than MALFORMED_QUERY.
NUMBER_OUTSIDE_VALID_RANGE = "NUMBER_OUTSIDE_VALID_RANGE"


class SoqlError(Exception):
    """A query Salesforce would refuse; the server turns it into a 400 response body."""

    def __init__(self, error_code: str, message: str) -> None:
        super().__init__(f"{error_code}: {message}")
        self.error_code = error_code
        self.message = message


def located_message(soql: str, line: int, column: int, message: str) -> str:
    """Salesforce's shape for an error it can point at in the query text.

    Salesforce echoes the offending row of the query, a caret under the column, then
    ``ERROR at Row:r:Column:c`` and the reason, each on its own line.
    """
    rows = soql.split("\n")
    row = rows[line - 1] if 0 < line <= len(rows) else ""
    caret = " " * max(column - 1, 0) + "^"
    return f"\n{row}\n{caret}\nERROR at Row:{line}:Column:{column}\n{message}"
