"""Errors in the shapes Salesforce answers them."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error answered as ``[{"message", "errorCode", "fields"}]`` with an HTTP status.

    ``fields`` is None for errors Salesforce sends without a ``fields`` key (session,
    query and routing errors); DML errors always carry the list, even empty.
    """

    def __init__(self, status: int, error_code: str, message: str,
                 fields: list[str] | None = None, extra: dict[str, Any] | None = None) -> None:
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
        item.update({"statusCode": self.error_code, "message": self.message,
                     "fields": self.fields or []})
        return item


def dml(error_code: str, message: str, fields: list[str] | None = None,
        extra: dict[str, Any] | None = None) -> ApiError:
    return ApiError(400, error_code, message, fields if fields is not None else [], extra)


def not_found() -> ApiError:
    return ApiError(404, "NOT_FOUND", "The requested resource does not exist")


def invalid_session() -> ApiError:
    return ApiError(401, "INVALID_SESSION_ID", "Session expired or invalid")


def limit_exceeded() -> ApiError:
    return ApiError(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")


def deleted() -> ApiError:
    return ApiError(404, "ENTITY_IS_DELETED", "entity is deleted", [])
