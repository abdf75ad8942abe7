"""Every endpoint fault we survive, and a driver that checks one against a running server.

Used by tests/e2e/test_faults.py (pass/fail) and bench/faults.py (the printed table).
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

from lsprotocol import types
from pygls.lsp.client import LanguageClient

from testkit.fake_endpoint import FakeEndpoint, Reply


def _sse(obj: Any) -> str:
    return f"data: {json.dumps(obj)}\n\n"


@dataclass(frozen=True)
class FaultMode:
    """A way an endpoint can fail, and a word the user's message must contain."""

    name: str
    reply: Reply
    expect: str


FAULT_MODES: tuple[FaultMode, ...] = (
    FaultMode("401 unauthorized", Reply(status=401), "api key"),
    FaultMode("403 forbidden", Reply(status=403), "api key"),
    FaultMode("404 model not found", Reply(status=404, body=json.dumps(
        {"error": {"message": "The model `qwen-test` does not exist", "code": "not_found"}})),
        "doctor"),
    FaultMode("429 with Retry-After", Reply(status=429, headers={"Retry-After": "1"},
                                            body=json.dumps(
        {"error": {"message": "Requests rate limit exceeded"}})), "rate limit"),
    FaultMode("429 without Retry-After", Reply(status=429, body=json.dumps(
        {"error": {"message": "Allocated quota exceeded"}})), "rate limit"),
    FaultMode("500 internal error", Reply(status=500), "500"),
    FaultMode("502 bad gateway", Reply(status=502, body="<html>Bad Gateway</html>"), "502"),
    FaultMode("503 unavailable", Reply(status=503), "503"),
    FaultMode("timeout before headers", Reply(delay=3.0), "in time"),
    FaultMode("stall mid-stream", Reply(text="abc def ghi", chunk_size=3, chunk_delay=3.0),
              "in time"),
    FaultMode("reset mid-stream", Reply(text="abcdefghijkl", chunk_size=2, cut_after=2),
              "closed the connection"),
    FaultMode("malformed JSON body", Reply(body="{this is not json", status=200), "malformed"),
    FaultMode("malformed SSE event", Reply(raw_frames=["data: {\"choices\": [{\"te\n\n"]),
              "malformed"),
    FaultMode("truncated SSE (no [DONE])", Reply(raw_frames=[_sse(
        {"choices": [{"text": "partial", "finish_reason": None}]})]), ""),
    FaultMode("empty choices", Reply(raw_frames=[_sse({"choices": []}), "data: [DONE]\n\n"]),
              ""),
    FaultMode("gigantic response", Reply(text="x" * 400_000, chunk_size=50_000), "runaway"),
)

# Short timeouts so that the slow modes fail fast.
FAULT_OPTIONS = {"endpoint": {"timeoutMs": 1000}, "completion": {"timeoutMs": 2500}}


@dataclass
class FaultResult:
    """What happened to the server under one fault."""

    mode: str
    survived: bool
    messages: list[str] = field(default_factory=list)
    recover_ms: float | None = None

    @property
    def message(self) -> str:
        """Return the one message shown (or a summary when there were several)."""
        return self.messages[0] if len(self.messages) == 1 else f"{len(self.messages)} messages"


async def ask(client: LanguageClient, uri: str, line: int, col: int, *,
              invoked: bool = True) -> str | None:
    """Ask for a suggestion and return its text (None when there is none)."""
    kind = (types.InlineCompletionTriggerKind.Invoked if invoked
            else types.InlineCompletionTriggerKind.Automatic)
    result = await asyncio.wait_for(client.text_document_inline_completion_async(
        types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=line, character=col),
            context=types.InlineCompletionContext(trigger_kind=kind))), 20)
    items = result.items if isinstance(result, types.InlineCompletionList) else result
    return items[0].insert_text if items else None


async def exercise(client: Any, endpoint: FakeEndpoint, uri: str, mode: FaultMode,
                   *, attempts: int = 3) -> FaultResult:
    """Inflict one fault for a few requests, then heal the endpoint and time the recovery.

    `uri` must be a document opened with the text "value = " and used for no other mode,
    so that no answer comes from the cache.
    """
    seen = len(client.messages)
    endpoint.reset()
    endpoint.default = mode.reply
    for i in range(attempts):
        # Alternate automatic and explicit requests, as a typing user would make them.
        try:
            await ask(client, uri, 0, 8, invoked=bool(i % 2))
        except Exception:
            return FaultResult(mode.name, False)
    messages = [m.message for m in client.messages[seen:]]
    endpoint.default = Reply(text="recovered")
    healed = time.perf_counter()
    recover_ms = None
    deadline = healed + 20
    while time.perf_counter() < deadline:
        try:
            # Another column than the faulty requests, so no earlier answer comes from cache.
            text = await ask(client, uri, 0, 7, invoked=False)
        except Exception:
            return FaultResult(mode.name, False, messages)
        if text == "recovered":
            recover_ms = (time.perf_counter() - healed) * 1000
            break
        await asyncio.sleep(0.1)
    return FaultResult(mode.name, recover_ms is not None, messages, recover_ms)
