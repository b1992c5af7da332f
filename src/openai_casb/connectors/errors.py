"""Errors raised by the connectors. Messages name the endpoint, never a key."""

from __future__ import annotations


class ConnectorError(Exception):
    """Base class: something went wrong reading an API."""


class ReadOnlyViolation(ConnectorError):
    """Code tried to send a request other than GET. Raised before anything leaves the process."""


class ApiError(ConnectorError):
    """The API answered with an error, or did not answer usefully within the retry budget."""

    def __init__(self, endpoint: str, message: str, status: int | None = None, code: str | None = None) -> None:
        self.endpoint = endpoint
        self.status = status
        self.code = code
        self.detail = message
        status_text = f"HTTP {status}" if status is not None else "no response"
        super().__init__(f"GET {endpoint}: {status_text}: {message}")

    @property
    def unauthorized(self) -> bool:
        return self.status in (401, 403)

    @property
    def not_found(self) -> bool:
        return self.status == 404


class PaginationError(ConnectorError):
    """The API's pagination went wrong (a cursor repeated, or `has_more` without a cursor)."""
