"""Inline-completion counters and latency percentiles, kept in memory for `qwen/stats`."""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass
class Stats:
    """Counters kept in memory; nothing leaves the machine."""

    requests: int = 0
    model_requests: int = 0
    cache_hits: int = 0
    typed_through_in_flight: int = 0
    cancelled: int = 0
    errors: int = 0
    empty: int = 0
    shown: int = 0
    accepted: int = 0
    partially_accepted: int = 0
    skipped_backoff: int = 0
    prefetches: int = 0
    rule_hits: dict[str, int] = field(default_factory=dict)
    latencies_ms: deque[float] = field(default_factory=lambda: deque(maxlen=1000))
    overheads_ms: deque[float] = field(default_factory=lambda: deque(maxlen=1000))

    def as_dict(self) -> dict[str, object]:
        """Return the counters with latency percentiles, for `qwen/stats`."""
        return {
            "requests": self.requests,
            "modelRequests": self.model_requests,
            "cacheHits": self.cache_hits,
            "typedThroughInFlight": self.typed_through_in_flight,
            "cancelled": self.cancelled,
            "errors": self.errors,
            "empty": self.empty,
            "shown": self.shown,
            "accepted": self.accepted,
            "partiallyAccepted": self.partially_accepted,
            "skippedBackoff": self.skipped_backoff,
            "prefetches": self.prefetches,
            "ruleHits": dict(self.rule_hits),
            "modelLatencyMs": percentiles(self.latencies_ms),
            "overheadMs": percentiles(self.overheads_ms),
        }


def percentiles(values: Sequence[float]) -> dict[str, float | None]:
    """Return p50, p95 and the count of latency samples."""
    if not values:
        return {"p50": None, "p95": None, "count": 0}
    ordered = sorted(values)
    pick = lambda q: round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 3)  # noqa: E731
    return {"p50": pick(0.5), "p95": pick(0.95), "count": len(ordered)}
