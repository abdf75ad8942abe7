"""One error type for everything that can go wrong talking to an endpoint."""

from __future__ import annotations

from enum import StrEnum

from lsp_server.logs import mask


class ErrorKind(StrEnum):
    """What went wrong, coarsely: each kind has its own advice and backoff."""

    UNREACHABLE = "unreachable"
    TIMEOUT = "timeout"
    TLS = "tls"
    AUTH = "auth"
    NOT_FOUND = "not_found"
    RATE_LIMITED = "rate_limited"
    SERVER = "server_error"
    BAD_REQUEST = "bad_request"
    BAD_RESPONSE = "bad_response"


class ModelError(Exception):
    """A failed model request, with a message that tells the user what to do."""

    def __init__(
        self,
        kind: ErrorKind,
        message: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        # Shown to the user, logged, returned in chat errors: never with a key or password.
        message = mask(message)
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.status = status
        self.retry_after = retry_after

    def __repr__(self) -> str:
        return f"ModelError({self.kind.value}, {self.message!r}, status={self.status})"
