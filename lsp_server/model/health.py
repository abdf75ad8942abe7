"""Endpoint health: back off after failures instead of hammering a broken endpoint."""

from __future__ import annotations

import time
from collections.abc import Callable

from lsp_server.model.errors import ErrorKind, ModelError

# Failures that say nothing about the endpoint's state do not trigger a backoff.
_NO_BACKOFF = {ErrorKind.BAD_REQUEST}


class EndpointHealth:
    """Track failures of one endpoint and when it may be called again."""

    def __init__(
        self,
        *,
        base_delay: float = 1.0,
        max_delay: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._base = base_delay
        self._max = max_delay
        self._clock = clock
        self.failures = 0
        self.retry_at = 0.0
        self.last_error: ModelError | None = None

    def available(self) -> bool:
        """Return whether a request may be sent now."""
        return self._clock() >= self.retry_at

    def seconds_until_retry(self) -> float:
        """Return how long requests stay paused."""
        return max(0.0, self.retry_at - self._clock())

    def record_success(self) -> None:
        """Forget past failures."""
        self.failures = 0
        self.retry_at = 0.0
        self.last_error = None

    def record_failure(self, error: ModelError) -> None:
        """Count a failure and pause requests for a growing interval."""
        self.last_error = error
        if error.kind in _NO_BACKOFF:
            return
        self.failures += 1
        delay = min(self._max, self._base * 2 ** (self.failures - 1))
        if error.retry_after is not None:
            delay = min(self._max, max(delay, error.retry_after))
        self.retry_at = self._clock() + delay
