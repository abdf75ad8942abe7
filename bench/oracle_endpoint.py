"""A loopback OpenAI-compatible /v1/completions endpoint that answers with the file's true text.

It finds the cursor from the FIM prompt, answers the true continuation up to the end of the
current block, streamed as SSE after 150 ms + 8 ms per token, and stops generating when the
client hangs up. With `wrong_share` it answers a piece of the file from elsewhere instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from lsp_server.affixes import common_prefix

FIM_PREFIX, FIM_SUFFIX, FIM_MIDDLE = "<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>"
_TOKEN = re.compile(r"\s+|\w+|[^\w\s]")
_TAIL = 600  # how much of the prompt's prefix must match the file before the cursor


@dataclass
class OracleStats:
    """What the endpoint saw: requests, hang-ups, tokens, and the prompts in order."""

    requests: int = 0
    completed: int = 0
    cancelled: int = 0
    wrong: int = 0
    unknown_cursor: int = 0
    tokens: int = 0
    prompts: list[str] = field(default_factory=list)
    documents: list[str] = field(default_factory=list)  # which document each prompt was for

    def _pairs(self, same_document: bool) -> list[tuple[bytes | None, bytes]]:
        """Return (earlier prompt or None, prompt) for every prompt, as bytes.

        The earlier prompt is the one just before; with same_document, the one before for the
        same document (None for a document's first prompt).
        """
        docs = self.documents if len(self.documents) == len(self.prompts) else None
        last: dict[str, bytes] = {}
        pairs: list[tuple[bytes | None, bytes]] = []
        for i, prompt in enumerate(self.prompts):
            data = prompt.encode()
            if same_document and docs is not None:
                pairs.append((last.get(docs[i]), data))
                last[docs[i]] = data
            else:
                pairs.append((self.prompts[i - 1].encode() if i else None, data))
        return pairs

    def prefix_reuse(self, same_document: bool = False) -> float | None:
        """Return the mean share of each prompt equal, byte for byte, to an earlier one's start.

        The earlier prompt is the previous one; with same_document, the previous one for the
        same document, which is what a server still holds for that user and file while
        several share it. A prompt with no earlier one is left out.
        """
        shares = [common_prefix(a, b) / max(1, len(b)) for a, b in self._pairs(same_document) if a]
        return sum(shares) / len(shares) if shares else None

    def computed_bytes(self) -> tuple[int, int]:
        """Return (bytes of every prompt, bytes not shared with that document's previous
        prompt): what the server must compute anew when it caches one prompt per document."""
        pairs = self._pairs(same_document=True)
        total = sum(len(b) for _, b in pairs)
        return total, total - sum(common_prefix(a, b) for a, b in pairs if a)


def split_fim(prompt: str) -> tuple[str, str] | None:
    """Return (prefix, suffix) of a FIM prompt, or None when it is not one."""
    start = prompt.rfind(FIM_PREFIX)
    if start < 0:
        return None
    body = prompt[start + len(FIM_PREFIX) :]
    prefix, sep, rest = body.partition(FIM_SUFFIX)
    if not sep:
        return None
    suffix, _, _ = rest.partition(FIM_MIDDLE)
    return prefix, suffix


def tokens_of(text: str) -> list[str]:
    """Split text roughly as a BPE tokenizer would count it: words, blank runs, punctuation."""
    return _TOKEN.findall(text)


class Oracle:
    """Answer completions from a truth function: `locate(prefix, suffix) -> (truth, wrong)`."""

    def __init__(
        self,
        locate: Callable[[str, str], tuple[str, str] | None],
        *,
        first_token_ms: float = 150.0,
        per_token_ms: float = 8.0,
        wrong_share: float = 0.0,
        seed: int = 11,
    ) -> None:
        self.locate = locate
        self.document: Callable[[], str] = lambda: ""
        self.first_token_s = first_token_ms / 1000
        self.per_token_s = per_token_ms / 1000
        self.wrong_share = wrong_share
        self.seed = seed
        self.stats = OracleStats()
        self._server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> str:
        """Listen on a free loopback port; return the base URL."""
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{self.port}/v1"

    async def stop(self) -> None:
        """Stop listening and drop open connections."""
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)

    def answer(self, prompt: str) -> str:
        """Return the text to generate for a prompt (true, or wrong for a share of prompts)."""
        fim = split_fim(prompt)
        found = self.locate(*fim) if fim else None
        if found is None:
            self.stats.unknown_cursor += 1
            return ""
        truth, wrong = found
        if self.wrong_share:
            # The same prompt gets the same answer: a retry or cache cannot launder a wrong one.
            digest = hashlib.sha256(prompt.encode()).digest()
            if random.Random(digest + bytes([self.seed])).random() < self.wrong_share:
                self.stats.wrong += 1
                return wrong
        return truth

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                headers = {
                    k.strip().lower(): v.strip()
                    for k, _, v in (line.partition(":") for line in lines[1:] if line)
                }
                body = await reader.readexactly(int(headers.get("content-length", "0") or 0))
                if method == "GET" and path.rstrip("/").endswith("/models"):
                    await self._json(writer, {"object": "list", "data": [{"id": "oracle"}]})
                elif method == "POST" and path.rstrip("/").endswith("/completions"):
                    # One completion per connection: a hang-up is then unambiguous.
                    await self._complete(reader, writer, json.loads(body or b"{}"))
                    break
                else:
                    await self._json(writer, {"error": {"message": "not found"}}, 404)
                if headers.get("connection", "").lower() == "close":
                    break
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _json(self, writer: asyncio.StreamWriter, data: object, status: int = 200) -> None:
        payload = json.dumps(data).encode()
        writer.write(
            f"HTTP/1.1 {status} OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
            f"Content-Length: {len(payload)}\r\n\r\n".encode() + payload
        )
        await writer.drain()

    async def _complete(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: dict
    ) -> bool:
        """Generate one completion; return False when the client hung up."""
        started = time.perf_counter()
        prompt = request.get("prompt") or ""
        if isinstance(prompt, list):
            prompt = prompt[0] if prompt else ""
        self.stats.requests += 1
        self.stats.prompts.append(prompt)
        self.stats.documents.append(self.document())
        text = self.answer(prompt)
        pieces = tokens_of(text)[: int(request.get("max_tokens") or 16)]
        for stop in request.get("stop") or []:
            joined = "".join(pieces)
            if stop and stop in joined:
                pieces = tokens_of(joined[: joined.index(stop)])
        stream = bool(request.get("stream"))
        # Hanging up is the only way a client cancels: watch the socket while generating.
        hangup = asyncio.ensure_future(reader.read(1))
        try:
            if stream:
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                    b"Cache-Control: no-cache\r\nConnection: close\r\n"
                    b"Transfer-Encoding: chunked\r\n\r\n"
                )
                await writer.drain()
            deadline = started + self.first_token_s
            out: list[str] = []
            for piece in pieces:
                if not await self._wait(deadline, hangup):
                    self.stats.cancelled += 1
                    return False
                deadline += self.per_token_s
                out.append(piece)
                self.stats.tokens += 1
                if stream:
                    await self._chunk(writer, self._event(piece, None))
            if not await self._wait(deadline, hangup):
                self.stats.cancelled += 1
                return False
            finish = "length" if len(pieces) < len(tokens_of(text)) else "stop"
            if stream:
                await self._chunk(writer, self._event("", finish))
                await self._chunk(writer, b"data: [DONE]\n\n")
                writer.write(b"0\r\n\r\n")
                await writer.drain()
            else:
                await self._json(writer, {
                    "id": "cmpl-oracle", "object": "text_completion", "model": "oracle",
                    "choices": [{"index": 0, "text": "".join(out), "finish_reason": finish}],
                })
            self.stats.completed += 1
            return True
        except ConnectionError:
            self.stats.cancelled += 1
            return False
        finally:
            if not hangup.done():
                hangup.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await hangup

    @staticmethod
    async def _wait(deadline: float, hangup: asyncio.Future) -> bool:
        delay = deadline - time.perf_counter()
        if delay > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(hangup), delay)
        return not hangup.done()

    @staticmethod
    def _event(text: str, finish: str | None) -> bytes:
        data = {
            "id": "cmpl-oracle", "object": "text_completion", "model": "oracle",
            "choices": [{"index": 0, "text": text, "finish_reason": finish}],
        }
        return b"data: " + json.dumps(data).encode() + b"\n\n"

    @staticmethod
    async def _chunk(writer: asyncio.StreamWriter, data: bytes) -> None:
        writer.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        await writer.drain()
