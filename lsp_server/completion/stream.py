"""Reading a streamed completion: stop once long enough, at a leaked token, runaway or timeout."""

from __future__ import annotations

import asyncio
import contextlib

from lsp_server.model.client import ModelClient
from lsp_server.model.dialects import CompletionRequest
from lsp_server.model.errors import ErrorKind, ModelError
from lsp_server.prompt import STOP_TOKENS, cut_at_special_token

_MAX_CHARS = 20_000  # a runaway answer is cut here whatever the token limit said


async def stream_answer(
    client: ModelClient, request: CompletionRequest, multiline: bool, max_lines: int,
    timeout_ms: int, progress: list[str] | None = None,
) -> str:
    """Read a streamed completion until it is long enough, then close the stream; each
    piece is also appended to `progress` as it arrives."""
    text = ""
    newlines = 0
    # Leaked tokens are looked for in the new piece plus a short overlap, so that a long
    # answer costs linear time.
    overlap = max(len(tok) for tok in STOP_TOKENS)
    try:
        async with asyncio.timeout(timeout_ms / 1000):
            async with contextlib.aclosing(client.stream_completion(request)) as stream:
                async for piece in stream:
                    tail = text[-overlap:]
                    window, leaked = cut_at_special_token(tail + piece)
                    if leaked:
                        return text[: len(text) - len(tail)] + window
                    text += piece
                    if progress is not None:
                        progress.append(piece)
                    newlines += piece.count("\n")
                    if newlines >= (max_lines if multiline else 1):
                        break  # leaving the block closes the stream: generation stops
                    if len(text) > _MAX_CHARS:
                        raise ModelError(ErrorKind.BAD_RESPONSE,
                                         f"{client.endpoint.provider} endpoint "
                                         f"{client.endpoint.base_url} sent a runaway answer "
                                         f"(over {_MAX_CHARS:,} characters on one line); "
                                         "ignored")
    except TimeoutError:
        # What arrived before a stall is usable only up to its last complete line.
        complete = text[: text.rfind("\n") + 1] if multiline else ""
        if not complete.strip():
            raise _timeout_error(client, timeout_ms) from None
        return complete
    return text


def _timeout_error(client: ModelClient, timeout_ms: int) -> ModelError:
    """Return the error for a completion that produced nothing within its time budget."""
    ep = client.endpoint
    return ModelError(ErrorKind.TIMEOUT,
                      f"{ep.provider} endpoint {ep.base_url} gave no completion within "
                      f"{timeout_ms} ms (qwen.completion.timeoutMs)")


def limit_lines(text: str, multiline: bool, max_lines: int) -> str:
    """Return the part of an answer a suggestion may show: its first line, or `max_lines`."""
    if not multiline:
        return text.split("\n", 1)[0]
    return "\n".join(text.split("\n")[:max_lines])
