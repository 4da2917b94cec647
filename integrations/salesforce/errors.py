"""One classification of what Salesforce answers into what the sync does next.

- retry: the same request may work later (timeouts, 5xx, a locked row, the API limit);
- reauth: the session expired and could not be refreshed; a person must reconnect;
- deleted: the record we mapped is gone from Salesforce; it is re-created once;
- permanent: the request itself is refused (validation, access, duplicates, a bad
  field); retrying changes nothing, so the job fails with Salesforce's message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import requests

Kind = Literal["retry", "reauth", "deleted", "permanent"]

RETRYABLE_CODES = frozenset(
    {
        "UNABLE_TO_LOCK_ROW",
        "REQUEST_LIMIT_EXCEEDED",
        "SERVER_UNAVAILABLE",
        "REQUEST_RUNNING_TOO_LONG",
        "QUERY_TIMEOUT",
        "UNKNOWN_EXCEPTION",
        "TXN_SECURITY_METERING_ERROR",
    }
)
REAUTH_CODES = frozenset({"INVALID_SESSION_ID", "INVALID_AUTH_HEADER"})
DELETED_CODES = frozenset({"ENTITY_IS_DELETED", "NOT_FOUND"})
# The request may or may not have been applied: the answer never arrived.
OUTCOME_UNKNOWN_CODES = frozenset({"CONNECTION_ERROR", "TIMEOUT", "HTTP_ERROR"})
# "It exists already": a link that joins the same two records, or a duplicate rule.
ALREADY_EXISTS_CODES = frozenset({"DUPLICATE_VALUE", "DUPLICATES_DETECTED"})


@dataclass
class SalesforceError(Exception):
    """What went wrong, in Salesforce's words, and what to do about it."""

    kind: Kind
    code: str
    message: str
    status: int | None = None
    # Not refused itself: another part of the same all-or-none request was (or it was
    # never sent because the record it hangs on was not made). Nothing was applied.
    halted: bool = False

    def __str__(self) -> str:
        return f"{self.code}: {self.message}" if self.code else self.message

    @property
    def outcome_unknown(self) -> bool:
        """Whether Salesforce may have applied the request although we got no answer:
        the connection broke, or a 5xx came without Salesforce's own error code (a
        gateway's answer, sent whatever happened behind it)."""
        gateway = self.code.startswith("HTTP_5")
        return (self.code in OUTCOME_UNKNOWN_CODES or gateway) and not self.halted

    @property
    def already_exists(self) -> bool:
        return self.code in ALREADY_EXISTS_CODES and not self.halted


def classify(*, code: str, status: int | None) -> Kind:
    if code in REAUTH_CODES:
        return "reauth"
    if code in RETRYABLE_CODES:
        return "retry"
    if code in DELETED_CODES:
        return "deleted"
    if status is not None and status >= 500:
        return "retry"
    return "permanent"


def error_from_body(body: Any, status: int | None) -> SalesforceError:
    """Salesforce's error bodies are a list of {errorCode, message, fields}; a composite
    subrequest's body has the same shape."""
    first: dict[str, Any] = {}
    if isinstance(body, list) and body and isinstance(body[0], dict):
        first = body[0]
    elif isinstance(body, dict):
        first = body
    code = str(first.get("errorCode") or first.get("statusCode") or "")
    message = str(first.get("message") or body or "")
    fields = first.get("fields") or []
    if fields:
        message = f"{message} (fields: {', '.join(map(str, fields))})"
    if not code and status is not None:
        code = f"HTTP_{status}"
    return SalesforceError(
        classify(code=code, status=status),
        code,
        message,
        status,
    )


def error_from_exception(exc: BaseException) -> SalesforceError:
    """simple-salesforce and requests exceptions, turned into one classified error."""
    if isinstance(exc, SalesforceError):
        return exc
    # simple-salesforce's exceptions carry the parsed body and the HTTP status.
    if hasattr(exc, "content") and hasattr(exc, "status") and hasattr(exc, "resource_name"):
        return error_from_body(exc.content, exc.status)
    if isinstance(exc, requests.Timeout):
        return SalesforceError("retry", "TIMEOUT", "Salesforce did not answer in time.")
    if isinstance(exc, requests.ConnectionError):
        return SalesforceError(
            "retry", "CONNECTION_ERROR", "The connection to Salesforce was lost."
        )
    if isinstance(exc, requests.RequestException):
        return SalesforceError("retry", "HTTP_ERROR", f"{type(exc).__name__}: {exc}")
    raise exc


# What a person does about each kind of refusal. `{m}` is Salesforce's message.
_ADVICE: dict[str, str] = {
    "FIELD_CUSTOM_VALIDATION_EXCEPTION": (
        "Salesforce refused it: {m}. Ask your Salesforce admin, or choose another record."
    ),
    "DUPLICATES_DETECTED": (
        "Salesforce's duplicate rules took it for a record that is already there: {m}. "
        "Choose that existing record, or ask your Salesforce admin to allow the duplicate."
    ),
    "DUPLICATE_VALUE": (
        "Salesforce already has a record with this unique value: {m}. Choose the existing "
        "record, or ask your Salesforce admin which field must be unique."
    ),
    "REQUIRED_FIELD_MISSING": (
        "Salesforce requires a field the portal does not fill: {m}. Ask your Salesforce "
        "admin to give the field a default (or make it optional), then retry."
    ),
    "INSUFFICIENT_ACCESS_OR_READONLY": (
        "The connected Salesforce user may not change this record: {m}. Ask your "
        "Salesforce admin for access, or choose a record that user can edit; then retry."
    ),
    "INSUFFICIENT_ACCESS": (
        "The connected Salesforce user lacks a permission: {m}. Ask your Salesforce admin "
        "for it, then retry."
    ),
    "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY": (
        "An automation in Salesforce (a trigger or flow) refused the change: {m}. Ask your "
        "Salesforce admin to look at it, then retry."
    ),
    "INVALID_CROSS_REFERENCE_KEY": (
        "The record it links to does not exist or is of the wrong kind: {m}. Choose another record."
    ),
    "STRING_TOO_LONG": (
        "A value is longer than the Salesforce field allows: {m}. Shorten it where it "
        "comes from (a title, a note), or ask your Salesforce admin to lengthen the "
        "field; then retry."
    ),
    "REQUEST_LIMIT_EXCEEDED": (
        "The org used up its daily Salesforce API calls. Syncing for this tenant pauses "
        "and resumes by itself; resume it by hand only once Salesforce allows calls again."
    ),
}
_DELETED_ADVICE = (
    "The Salesforce record is gone (deleted, or never there): {m}. Retry to make it again, "
    "or choose another record."
)
_REAUTH_ADVICE = (
    "The Salesforce connection has expired or was revoked. A tenant admin reconnects "
    "Salesforce on the settings page; the waiting jobs then run by themselves."
)
_PASSING_ADVICE = (
    "A passing problem on Salesforce's side or on the way there{m}. The job retries by "
    "itself; if it keeps failing, retry it later."
)
_DEFAULT_ADVICE = (
    "{what}: {m}. Retry once the cause is fixed; if it keeps failing, ask your Salesforce "
    "admin what the message means."
)


def error_advice(code: str, message: str) -> str:
    """A Salesforce error in plain words, with the next step a person takes ("" when
    there was no error). Follows the classification above, so the advice never says
    "retry" for what retrying cannot fix."""
    if not code and not message:
        return ""
    said = message.strip()
    # Attempts keep the error as `str(SalesforceError)`: "CODE: message".
    if code and said.startswith(f"{code}: "):
        said = said[len(code) + 2 :]
    said = said.rstrip(".")
    m = said or "no message given"
    if code in _ADVICE:
        return _ADVICE[code].format(m=m)
    if code in DELETED_CODES:
        return _DELETED_ADVICE.format(m=m)
    if code in REAUTH_CODES:
        return _REAUTH_ADVICE
    if code in RETRYABLE_CODES or code in OUTCOME_UNKNOWN_CODES or code.startswith("HTTP_5"):
        return _PASSING_ADVICE.format(m=f" ({said})" if said else "")
    what = f"Salesforce answered {code}" if code else "The sync stopped"
    return _DEFAULT_ADVICE.format(what=what, m=m)
