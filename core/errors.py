"""Domain errors raised by services; the API turns each into a clear HTTP answer."""

from __future__ import annotations


class DomainError(Exception):
    """A request the product refuses, with a message a partner or member can act on."""

    status_code = 400
    code = "invalid"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(DomainError):
    status_code = 400
    code = "invalid"


class NotFound(DomainError):
    status_code = 404
    code = "not_found"


class Conflict(DomainError):
    status_code = 409
    code = "conflict"


class Unauthorized(DomainError):
    status_code = 401
    code = "unauthorized"


class Unavailable(DomainError):
    """Something we depend on (Salesforce) cannot answer now; trying later may work."""

    status_code = 503
    code = "unavailable"
