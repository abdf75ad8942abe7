"""A loopback pass-through in front of llama-server that notes each completion request.

    tap = Tap(upstream_url); url = await tap.start(); ...; tap.requests  # (time, body)

Bytes are forwarded as they come, both ways, one upstream connection per client connection,
so that a hang-up reaches the server (it stops generating) and the cost on loopback stays
well under a millisecond. The client-to-server bytes are also parsed as HTTP/1.1 requests:
each `POST .../completion` body is kept with the moment it arrived, for `bench/replay.py
--real` to send the very same prompts straight to the server afterwards (its floor) and to
tell when a keystroke's request reached the model.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any
from urllib.parse import urlsplit


class Tap:
    """Forward a loopback port to `upstream`; note completion requests."""

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.requests: list[tuple[float, dict[str, Any]]] = []
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task] = set()

    async def start(self) -> str:
        """Listen on a free loopback port; return its base URL."""
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(self.host, self.port)
        except OSError:
            writer.close()
            return
        pumps = [asyncio.ensure_future(self._pump(reader, up_writer, parse=True)),
                 asyncio.ensure_future(self._pump(up_reader, writer, parse=False))]
        self._tasks.update(pumps)
        try:
            # Either side closing ends both: a client hang-up must reach the server.
            await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in pumps:
                task.cancel()
                self._tasks.discard(task)
            for w in (writer, up_writer):
                w.close()

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                    *, parse: bool) -> None:
        pending = b""
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            while chunk := await reader.read(65536):
                writer.write(chunk)
                if parse:
                    pending = self._note(pending + chunk)
                await writer.drain()

    def _note(self, data: bytes) -> bytes:
        """Take every complete request out of `data`; return what is left."""
        loop = asyncio.get_running_loop()
        while (end := data.find(b"\r\n\r\n")) >= 0:
            lines = data[:end].decode("latin-1").split("\r\n")
            length = 0
            for line in lines[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip() or 0)
            if len(data) < end + 4 + length:
                break
            body, data = data[end + 4 : end + 4 + length], data[end + 4 + length :]
            method, _, rest = lines[0].partition(" ")
            path = rest.split(" ", 1)[0]
            if method == "POST" and path.rstrip("/").endswith("/completion"):
                with contextlib.suppress(ValueError):
                    self.requests.append((loop.time(), json.loads(body)))
        return data
