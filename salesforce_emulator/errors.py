"""Errors in the shapes Salesforce answers them."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error answered as ``[{"message", "errorCode", "fields"}]`` with an HTTP status.

    ``fields`` is None for errors Salesforce sends without a ``fields`` key (session,
    query and routing errors); DML errors always carry the list, even empty.
    """

    def __init__(
        self,
        status: int,
        error_code: str,
        message: str,
        fields: list[str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error_code = error_code
        self.message = message
        self.fields = fields
        self.extra = extra or {}

    def body(self) -> list[dict[str, Any]]:
        item: dict[str, Any] = dict(self.extra)
        item.update({"message": self.message, "errorCode": self.error_code})
        if self.fields is not None:
            item["fields"] = self.fields
        return [item]

    def save_error(self) -> dict[str, Any]:
        """The form used inside SaveResults of sObject Collections."""
        item: dict[str, Any] = dict(self.extra)
        item.update(
            {"statusCode": self.error_code, "message": self.message, "fields": self.fields or []}
        )
        return item


class DuplicatesDetected(ApiError):
    """DUPLICATES_DETECTED: a duplicate rule blocked the save; ``duplicate_result`` names
    the rule and the records it matched.

    Salesforce answers it in two forms. As the answer of a request (an sObject create or
    update, or a composite subrequest's body, which is that same answer), the matches come
    under the key ``duplicateResut`` -- misspelt, as real orgs answer it (API 48.0 to
    56.0 at least; the SOAP API and Apex spell it duplicateResult) -- and with no
    ``fields`` key:
    ``[{"duplicateResut": {..., "matchResults": [{"matchRecords": [{"record": {"Id"}}]}]},
    "errorCode": "DUPLICATES_DETECTED", "message": "..."}]``. In an sObject Collections
    result the entry of ``errors`` is a plain save error, ``{"statusCode":
    "DUPLICATES_DETECTED", "message": "...", "fields": []}``, without the matches (REST
    API Developer Guide, sObject Collections create, its example of a failed record): a
    client that needs the matched records sends that record alone.
    """

    def __init__(self, duplicate_result: dict[str, Any]) -> None:
        super().__init__(400, "DUPLICATES_DETECTED", str(duplicate_result["errorMessage"]), [])
        self.duplicate_result = duplicate_result

    def body(self) -> list[dict[str, Any]]:
        return [
            {
                "duplicateResut": self.duplicate_result,
                "errorCode": self.error_code,
                "message": self.message,
            }
        ]


def dml(
    error_code: str,
    message: str,
    fields: list[str] | None = None,
    extra: dict[str, Any] | None = None,
) -> ApiError:
    return ApiError(400, error_code, message, fields if fields is not None else [], extra)


def not_found() -> ApiError:
    return ApiError(404, "NOT_FOUND", "The requested resource does not exist")


def invalid_session() -> ApiError:
    return ApiError(401, "INVALID_SESSION_ID", "Session expired or invalid")


def limit_exceeded() -> ApiError:
    return ApiError(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")


def deleted() -> ApiError:
    return ApiError(404, "ENTITY_IS_DELETED", "entity is deleted", [])
