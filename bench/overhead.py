"""Measure the server's own time per completion request: request received -> HTTP request sent.

Drives the real `qwen-lsp` over stdio with a real LSP client against the fake endpoint (which
answers at once), types one character before each request so nothing comes from cache, and
prints p50/p95 of the in-server overhead (from `qwen/stats`) and of the client round trip.

    python bench/overhead.py [--requests 300] [--file PATH] [--root DIR]

With --root the server indexes DIR first (say, CPython's standard library) and --file is a
file inside it, so the figure includes retrieval from a real index.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.fake_endpoint import FakeEndpoint, Reply


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _run(requests: int, source: str, root: Path, path: Path) -> None:
    with FakeEndpoint(default=Reply(text="zz")) as ep:
        client = LanguageClient("overhead-bench", "1")
        ready = asyncio.Event()

        def on_status(_ls: object, params: object) -> None:
            if getattr(params, "message", None) == "index ready":
                ready.set()

        client.feature("qwen/status")(on_status)
        env = {**os.environ, "XDG_CACHE_HOME": tempfile.mkdtemp()}
        for var in ("DASHSCOPE_API_KEY", "OPENAI_API_KEY", "OPENAI_BASE_URL"):
            env.pop(var, None)
        await client.start_io(sys.executable, "-m", "lsp_server", env=env)
        await client.initialize_async(types.InitializeParams(
            capabilities=types.ClientCapabilities(),
            root_uri=root.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name=root.name)],
            initialization_options={"endpoint": {"baseUrl": f"{ep.url}/v1"},
                                    "completion": {"model": "qwen-test"}}))
        client.initialized(types.InitializedParams())
        index_started = time.perf_counter()
        await asyncio.wait_for(ready.wait(), 600)
        index_s = time.perf_counter() - index_started
        uri = path.as_uri()
        text = source + "\nvalue = "
        line = text.count("\n")
        col = len(text) - text.rfind("\n") - 1
        client.text_document_did_open(types.DidOpenTextDocumentParams(
            types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)))
        round_trips: list[float] = []
        for i in range(requests):
            pos = types.Position(line=line, character=col)
            client.text_document_did_change(types.DidChangeTextDocumentParams(
                types.VersionedTextDocumentIdentifier(uri=uri, version=i + 2),
                [types.TextDocumentContentChangePartial(range=types.Range(pos, pos), text="a")]))
            col += 1
            started = time.perf_counter()
            await client.text_document_inline_completion_async(types.InlineCompletionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                position=types.Position(line=line, character=col),
                context=types.InlineCompletionContext(
                    trigger_kind=types.InlineCompletionTriggerKind.Invoked)))
            round_trips.append((time.perf_counter() - started) * 1000)
        stats = await client.protocol.send_request_async("qwen/stats", {})
        await client.shutdown_async(None)
        client.exit(None)
        await client.stop()
    overhead = stats.overheadMs
    print(f"workspace: {root} (indexed in {index_s:.1f} s)")
    print(f"document: {len(text):,} chars, {text.count(chr(10)) + 1:,} lines; "
          f"requests: {requests}; model requests: {stats.modelRequests}; "
          f"cache hits: {stats.cacheHits}")
    print(f"server overhead (received -> HTTP sent): p50 {overhead.p50:.2f} ms, "
          f"p95 {overhead.p95:.2f} ms over {overhead.count} requests")
    print(f"client round trip (incl. fake endpoint): p50 {_pct(round_trips, 0.5):.2f} ms, "
          f"p95 {_pct(round_trips, 0.95):.2f} ms, mean {statistics.mean(round_trips):.2f} ms")


def main() -> None:
    """Parse arguments and run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--file", help="source file to complete in (default: a stdlib module)")
    parser.add_argument("--root", help="workspace to index (default: an empty temporary one)")
    args = parser.parse_args()
    source_path = args.file or os.path.join(os.path.dirname(os.__file__), "argparse.py")
    source = Path(source_path).read_text(encoding="utf-8", errors="replace")
    if args.root:
        root = Path(args.root).resolve()
        asyncio.run(_run(args.requests, source, root, Path(source_path).resolve()))
        return
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(_run(args.requests, source, Path(tmp), Path(tmp) / "bench_target.py"))


if __name__ == "__main__":
    main()
