"""What a keystroke costs before the model sees it: client request -> HTTP request at the endpoint.

Measured the way an editor feels it: an LSP client sends `textDocument/inlineCompletion`
(triggerKind Invoked, so no debounce applies) over stdio, and a loopback endpoint in the same
process stamps the moment the completion request reaches it. That span covers everything
the server does: reading and decoding the message, dispatch, logging, the event loop shared
with background work, context retrieval, prompt building and the HTTP request.

Two servers are timed in the same run, against the same endpoint, with the same keystrokes
sent to each in turn: qwen-lsp (with its workspace indexed first), and the floor,
`bench/bare_forwarder.py`, a pygls server that only reads the document and forwards a
file-level FIM prompt. Between keystrokes: typing-like pauses, a quarter of them long enough
(150-600 ms) for background work to start. Printed: p50/p95 of each, and the ratios.

    python bench/overhead.py [--requests 300] [--root DIR] [--file PATH] [--profile OUT]

By default the workspace is the Python standard library and the document `argparse.py` in it
(the index is kept in the usual cache directory, so later runs reuse it). With --profile,
qwen-lsp runs under cProfile and writes its stats to OUT (read with `python -m pstats OUT`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.corpus import stdlib_root  # noqa: E402

_SSE = (
    b'data: {"id":"c","object":"text_completion","model":"qwen-test","choices":'
    b'[{"index":0,"text":"zz","finish_reason":"stop"}]}\n\ndata: [DONE]\n\n'
)


@dataclass
class Endpoint:
    """A minimal OpenAI-compatible endpoint on loopback that stamps each arrival."""

    arrivals: list[float] = field(default_factory=list)
    connections: int = 0
    port: int = 0
    server: asyncio.Server | None = None

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while line := await reader.readline():
                stamp = time.perf_counter()
                method, path, _ = line.decode("latin-1").split(" ", 2)
                length = 0
                while (header := await reader.readline()) not in (b"\r\n", b"\n", b""):
                    name, _, value = header.decode("latin-1").partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value)
                if length:
                    await reader.readexactly(length)
                if method == "POST" and path.endswith("/completions"):
                    self.arrivals.append(stamp)
                    self._reply(writer, 200, "text/event-stream", _SSE)
                elif path.endswith("/models"):
                    body = json.dumps({"data": [{"id": "qwen-test"}]}).encode()
                    self._reply(writer, 200, "application/json", body)
                else:  # /tokenize and the rest: not served, as on many endpoints
                    self._reply(writer, 404, "application/json", b'{"error":"not found"}')
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            writer.close()

    @staticmethod
    def _reply(writer: asyncio.StreamWriter, status: int, kind: str, body: bytes) -> None:
        reason = "OK" if status == 200 else "Not Found"
        writer.write(
            f"HTTP/1.1 {status} {reason}\r\nContent-Type: {kind}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Session:
    """One server under test: its LSP client and the document being typed into."""

    def __init__(self, name: str, command: list[str], endpoint: Endpoint) -> None:
        self.name, self.command, self.endpoint = name, command, endpoint
        self.client = LanguageClient("overhead-bench", "1")
        self.spans: list[float] = []
        self.uri, self.line, self.col, self.version = "", 0, 0, 1

    async def start(self, root: Path, path: Path, source: str, wait_for_index: bool) -> None:
        ready = asyncio.Event()

        def on_status(_ls: object, params: object) -> None:
            if getattr(params, "message", None) == "index ready":
                ready.set()

        self.client.feature("qwen/status")(on_status)
        env = dict(os.environ)
        for var in (
            "DASHSCOPE_API_KEY",
            "OPENAI_API_KEY",
            "OPENAI_BASE_URL",
            "QWEN_LSP_BASE_URL",
            "QWEN_LSP_API_KEY",
        ):
            env.pop(var, None)
        await self.client.start_io(*self.command, env=env)
        await self.client.initialize_async(
            types.InitializeParams(
                capabilities=types.ClientCapabilities(),
                root_uri=root.as_uri(),
                workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name=root.name)],
                initialization_options={
                    "endpoint": {"baseUrl": f"http://127.0.0.1:{self.endpoint.port}/v1"},
                    "completion": {"model": "qwen-test"},
                },
            )
        )
        self.client.initialized(types.InitializedParams())
        if wait_for_index:
            started = time.perf_counter()
            await asyncio.wait_for(ready.wait(), 900)
            print(f"{self.name}: workspace {root} indexed in {time.perf_counter() - started:.1f} s")
        self.uri = path.as_uri()
        text = source + "\nvalue = "
        self.line = text.count("\n")
        self.col = len(text) - text.rfind("\n") - 1
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                types.TextDocumentItem(uri=self.uri, language_id="python", version=1, text=text)
            )
        )

    async def keystroke(self, measured: bool) -> None:
        """Type one character, then ask at once (as VS Code does); record the span."""
        pos = types.Position(line=self.line, character=self.col)
        self.version += 1
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                types.VersionedTextDocumentIdentifier(uri=self.uri, version=self.version),
                [types.TextDocumentContentChangePartial(range=types.Range(pos, pos), text="a")],
            )
        )
        self.col += 1
        arrivals = self.endpoint.arrivals
        before = len(arrivals)
        started = time.perf_counter()
        await self.client.text_document_inline_completion_async(
            types.InlineCompletionParams(
                text_document=types.TextDocumentIdentifier(uri=self.uri),
                position=types.Position(line=self.line, character=self.col),
                context=types.InlineCompletionContext(
                    trigger_kind=types.InlineCompletionTriggerKind.Invoked
                ),
            )
        )
        if measured and len(arrivals) > before:
            self.spans.append((arrivals[before] - started) * 1000)

    async def stop(self) -> None:
        await self.client.shutdown_async(None)
        self.client.exit(None)
        await self.client.stop()
        print(f"{self.name}: {self.endpoint.connections} HTTP connections opened")


def _pauses(count: int) -> list[float]:
    """Gaps between keystrokes, seconds: mostly typing pace, sometimes a pause to think
    (long enough for background work, such as re-parsing the buffer, to start)."""
    rnd = random.Random(19)
    return [
        rnd.uniform(0.15, 0.6) if rnd.random() < 0.25 else rnd.uniform(0.03, 0.12)
        for _ in range(count)
    ]


def _summary(name: str, spans: list[float]) -> tuple[float, float]:
    p50, p95 = _pct(spans, 0.5), _pct(spans, 0.95)
    print(
        f"{name:>14}: p50 {p50:6.2f} ms  p95 {p95:6.2f} ms  mean "
        f"{statistics.mean(spans):6.2f} ms  ({len(spans)} requests reached the endpoint)"
    )
    return p50, p95


async def _run(args: argparse.Namespace, source: str, root: Path, path: Path) -> None:
    endpoints = Endpoint(), Endpoint()  # one each: connections and arrivals kept apart
    for endpoint in endpoints:
        await endpoint.start()
    python = sys.executable
    server = [python, "-m", "lsp_server"]
    if args.profile:
        server = [python, "-m", "cProfile", "-o", args.profile, "-m", "lsp_server"]
    floor_cmd = [
        python,
        str(ROOT / "bench" / "bare_forwarder.py"),
        f"http://127.0.0.1:{endpoints[1].port}/v1",
        "qwen-test",
    ]
    qwen = Session("qwen-lsp", server, endpoints[0])
    floor = Session("bare forwarder", floor_cmd, endpoints[1])
    try:
        await qwen.start(root, path, source, wait_for_index=True)
        await floor.start(root, path, source, wait_for_index=False)
        # The same keystrokes and pauses to both, alternately: load on the machine falls on
        # both alike.
        for i, pause in enumerate(_pauses(args.requests + 10)):
            for session in (qwen, floor) if i % 2 else (floor, qwen):
                await session.keystroke(measured=i >= 10)  # the first ten warm up
            await asyncio.sleep(pause)
        await qwen.stop()
        await floor.stop()
    finally:
        for endpoint in endpoints:
            await endpoint.close()
    print(
        f"document: {len(source):,} chars; {args.requests} invoked requests each, one typed "
        "character before each, typing-like pauses between them; span = client sends the "
        "request -> endpoint receives the HTTP request"
    )
    q50, q95 = _summary("qwen-lsp", qwen.spans)
    f50, f95 = _summary("bare forwarder", floor.spans)
    print(
        f"{'ratio':>14}: p50 {q50 / f50:.2f}x  p95 {q95 / f95:.2f}x  "
        "(target: p50 within 2x, p95 within 3x)"
    )


def main() -> None:
    """Parse arguments and run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--root", help="workspace to index (default: the standard library)")
    parser.add_argument("--file", help="document to type in (default: argparse.py in --root)")
    parser.add_argument("--profile", help="run qwen-lsp under cProfile, write stats here")
    args = parser.parse_args()
    root = Path(args.root or stdlib_root()).resolve()
    path = Path(args.file).resolve() if args.file else root / "argparse.py"
    source = path.read_text(encoding="utf-8", errors="replace")
    asyncio.run(_run(args, source, root, path))


if __name__ == "__main__":
    main()
