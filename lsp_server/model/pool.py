"""Several endpoints in order of preference: skip one that fails or is too slow, come back later."""

from __future__ import annotations

import statistics
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import httpx

from lsp_server.model.client import ModelClient
from lsp_server.model.dialects import ServerInfo
from lsp_server.model.errors import ErrorKind, ModelError
from lsp_server.model.health import EndpointHealth
from lsp_server.model.tokens import TokenMeter
from lsp_server.settings import EndpointSettings

# A slow endpoint is skipped for this long before it gets another chance.
_SLOW_PAUSE = 30.0
_LATENCY_WINDOW = 8
# Failures worth trying the next endpoint for, within the same request: a malformed or
# broken answer from one endpoint says nothing about the next one.
FAILOVER_KINDS = {ErrorKind.UNREACHABLE, ErrorKind.TLS, ErrorKind.AUTH, ErrorKind.NOT_FOUND,
                  ErrorKind.RATE_LIMITED, ErrorKind.SERVER, ErrorKind.BAD_RESPONSE}


T = TypeVar("T")


@dataclass
class Member:
    """One endpoint of the pool with its client and health."""

    settings: EndpointSettings
    health: EndpointHealth
    client: ModelClient
    latencies_ms: deque[float] = field(default_factory=lambda: deque(maxlen=_LATENCY_WINDOW))
    tokens: TokenMeter = field(default_factory=TokenMeter)

    @property
    def label(self) -> str:
        """Return a short name for status messages."""
        return f"{self.settings.provider} {self.settings.base_url}"

    @property
    def described(self) -> bool:
        """Return whether the endpoint already said what it serves."""
        return self.client.info is not None

    async def describe(self) -> ServerInfo:
        """Ask the endpoint (once) what it serves and how long its context is; prompts are
        then fitted under that context."""
        info = await self.client.server_info(self.settings.completion_model)
        if info.context:
            self.tokens.max_context = info.context
        return info


class EndpointPool:
    """The configured endpoints, in order; one pooled HTTP client each."""

    def __init__(
        self,
        endpoints: Sequence[EndpointSettings],
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._transport = transport
        self._clock = clock
        self.members: list[Member] = []
        self._retired: list[ModelClient] = []
        self.serving: Member | None = None
        # Whether the last request that reached an endpoint failed: the outage lasts until
        # one succeeds, whatever answers (cached, skipped while paused) came meanwhile.
        self.failing = False
        self.update(endpoints)

    def update(self, endpoints: Sequence[EndpointSettings]) -> None:
        """Adopt a new endpoint list, keeping clients (and health) of unchanged endpoints."""
        old = {m.settings: m for m in self.members}
        members = []
        for ep in endpoints:
            member = old.pop(ep, None) or Member(
                ep, EndpointHealth(clock=self._clock),
                ModelClient(ep, transport=self._transport))
            members.append(member)
        self._retired.extend(m.client for m in old.values())
        self.members = members
        if self.serving not in members:
            self.serving = None

    @property
    def primary(self) -> Member:
        """Return the first usable endpoint (the first one when all are paused)."""
        return next((m for m in self.members if m.health.available()), self.members[0])

    def candidates(self, *, explicit: bool = False) -> list[Member]:
        """Return the endpoints to try now, in order; an explicit request tries them all."""
        ready = [m for m in self.members if m.health.available()]
        return ready if ready or not explicit else list(self.members)

    def seconds_until_retry(self) -> float:
        """Return how long until some endpoint may be called again."""
        return min(m.health.seconds_until_retry() for m in self.members)

    def record_success(self, member: Member, latency_ms: float | None = None) -> None:
        """Note a good answer; an endpoint slower than its budget is skipped for a while."""
        member.health.record_success()
        self.serving = member
        self.failing = False
        if latency_ms is None:
            return
        member.latencies_ms.append(latency_ms)
        budget = member.settings.latency_budget_ms
        if (budget and len(self.members) > 1 and len(member.latencies_ms) >= 3
                and statistics.median(member.latencies_ms) > budget):
            member.latencies_ms.clear()
            member.health.record_failure(ModelError(
                ErrorKind.TIMEOUT, f"{member.label} is slower than its latency budget "
                f"({budget} ms)", retry_after=_SLOW_PAUSE))

    async def run(
        self,
        attempt: Callable[[Member], Awaitable[T]],
        *,
        may_fail_over: Callable[[], bool] = lambda: True,
        timed: bool = False,
    ) -> T:
        """Call `attempt` on each endpoint in turn until one answers; return its answer.

        A failure of a kind another endpoint may not share moves on to the next endpoint,
        unless `may_fail_over` says the attempt already showed something to the user. With
        `timed`, the answer's latency counts against the endpoint's latency budget.
        """
        error: ModelError | None = None
        for member in self.candidates(explicit=True):
            started = self._clock()
            try:
                result = await attempt(member)
            except ModelError as err:
                self.record_failure(member, err)
                error = err
                if err.kind in FAILOVER_KINDS and may_fail_over():
                    continue
                raise
            self.record_success(member, (self._clock() - started) * 1000 if timed else None)
            return result
        assert error is not None
        raise error

    def record_failure(self, member: Member, error: ModelError) -> None:
        """Note a failure: the endpoint pauses for a growing interval."""
        member.health.record_failure(error)
        self.failing = True

    @property
    def last_error(self) -> ModelError | None:
        """Return the most recent failure of the endpoint that would be called next."""
        return self.primary.health.last_error

    async def aclose(self) -> None:
        """Close every HTTP client, current and retired."""
        clients = [*self._retired, *(m.client for m in self.members)]
        self._retired = []
        for client in clients:
            await client.aclose()
