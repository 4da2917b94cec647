"""How field values compare in SOQL: one normal form per family of field types."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

# Families of describe types that compare alike. Text compares ignoring case, ids on
# their first 15 characters (the 18-character form only adds a case-safe suffix).
STRING = "string"
ID = "id"
NUMBER = "number"
BOOLEAN = "boolean"
DATE = "date"
DATETIME = "datetime"
OTHER = "other"

_FAMILIES = {
    "id": ID,
    "reference": ID,
    "boolean": BOOLEAN,
    "int": NUMBER,
    "long": NUMBER,
    "double": NUMBER,
    "currency": NUMBER,
    "percent": NUMBER,
    "date": DATE,
    "datetime": DATETIME,
    "base64": OTHER,
    "address": OTHER,
    "location": OTHER,
}

# The literal kinds a field of each family accepts in a WHERE clause.
ACCEPTED_LITERALS = {
    STRING: {"string", "null"},
    ID: {"string", "null"},
    NUMBER: {"number", "null"},
    BOOLEAN: {"boolean", "null"},
    DATE: {"date", "date_range", "null"},
    DATETIME: {"datetime", "date_range", "null"},
    OTHER: {"null"},
}

# How Salesforce names a type in "value of filter criterion ... must be of type X".
_TYPE_IN_MESSAGES = {
    "int": "integer",
    "long": "long",
    "double": "double",
    "currency": "double",
    "percent": "double",
    "boolean": "boolean",
    "date": "date",
    "datetime": "dateTime",
    "id": "id",
    "reference": "id",
}


def family(field_type: str) -> str:
    """The comparison family of a describe type; anything textual is STRING."""
    return _FAMILIES.get(field_type, STRING)


def type_in_messages(field_type: str) -> str:
    return _TYPE_IN_MESSAGES.get(field_type, "string")


def is_valid_id(text: str) -> bool:
    return len(text) in (15, 18) and text.isascii() and text.isalnum()


def parse_datetime(value: str) -> datetime:
    """A stored (``...000+0000``) or literal datetime, made timezone-aware in UTC."""
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def normalize(fam: str, value: Any) -> Any:
    """A record's value in the form it compares and sorts in; None stays None."""
    if value is None:
        return None
    if fam == STRING:
        return str(value).lower()
    if fam == ID:
        return str(value)[:15]
    if fam == NUMBER:
        return float(value)
    if fam == BOOLEAN:
        return bool(value)
    if fam == DATE:
        return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
    if fam == DATETIME:
        if isinstance(value, datetime):
            return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
        return parse_datetime(str(value))
    return value


def date_range(keyword: str, n: int | None, today: date) -> tuple[date, date]:
    """A relative date literal as the half-open range of days [start, end).

    Weeks start on Sunday (the en_US locale), and the org's time zone is taken as UTC.
    LAST_N_DAYS:n includes today, so it spans n + 1 days; NEXT_N_DAYS:n starts tomorrow.
    """
    day = timedelta(days=1)
    week_start = today - timedelta(days=(today.weekday() + 1) % 7)
    month_start = today.replace(day=1)
    if keyword == "TODAY":
        return today, today + day
    if keyword == "YESTERDAY":
        return today - day, today
    if keyword == "TOMORROW":
        return today + day, today + 2 * day
    if keyword in ("LAST_N_DAYS", "LAST_90_DAYS"):
        count = 90 if n is None else n
        return today - count * day, today + day
    if keyword in ("NEXT_N_DAYS", "NEXT_90_DAYS"):
        count = 90 if n is None else n
        return today + day, today + (count + 1) * day
    if keyword == "N_DAYS_AGO":
        count = n or 0
        return today - count * day, today - (count - 1) * day
    if keyword.endswith("_WEEK"):
        shift = {"LAST_WEEK": -7, "THIS_WEEK": 0, "NEXT_WEEK": 7}[keyword]
        start = week_start + timedelta(days=shift)
        return start, start + 7 * day
    if keyword.endswith("_MONTH"):
        shift = {"LAST_MONTH": -1, "THIS_MONTH": 0, "NEXT_MONTH": 1}[keyword]
        start = _add_months(month_start, shift)
        return start, _add_months(start, 1)
    shift = {"LAST_YEAR": -1, "THIS_YEAR": 0, "NEXT_YEAR": 1}[keyword]
    start = date(today.year + shift, 1, 1)
    return start, date(start.year + 1, 1, 1)


def _add_months(first_of_month: date, months: int) -> date:
    index = first_of_month.year * 12 + first_of_month.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, 1)


def range_for(fam: str, days: tuple[date, date]) -> tuple[date, date]:
    """A range of days in the field's own terms: dates, or UTC midnights for datetimes
    (a ``datetime`` is a ``date``)."""
    if fam == DATETIME:
        first, after = days
        return (
            datetime.combine(first, time(), tzinfo=UTC),
            datetime.combine(after, time(), tzinfo=UTC),
        )
    return days
