"""Inflict every endpoint fault on the real server and print what the user experienced.

For each mode: did the server survive, the one message shown, and the time from the endpoint
healing to the next suggestion (the backoff decides it). Then the big inputs, each on a
fresh server: a 20 MB didOpen, a 50 MB buffer with completions, one 100 MB SSE data line and
a 100 MB model list, with the server's peak memory (VmHWM), the longest time `qwen/stats`
waited meanwhile (it queues behind the big message, which must be read first), the longest
time the server's event loop was held (a watchdog callback the loop runs every 2 ms logs each
gap over 7 ms), the memory left after didClose, and hangs.
Loopback only.

    python bench/faults.py            # both tables
    python bench/faults.py --big      # the big inputs only
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import multiprocessing
import re
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lsprotocol import types
from pytest_lsp import ClientServerConfig

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from testkit.env import CLEAN_ENV
from testkit.fake_endpoint import FakeEndpoint, Reply
from testkit.fault_modes import FAULT_MODES, FAULT_OPTIONS, exercise


async def _run(root: Path) -> None:
    with FakeEndpoint() as ep:
        config = ClientServerConfig([sys.executable, "-m", "lsp_server"], server_env=CLEAN_ENV)
        client = await config.start()
        client.feature("qwen/status")(lambda _ls, _params: None)
        options = {"endpoint": {"baseUrl": f"{ep.url}/v1", **FAULT_OPTIONS["endpoint"]},
                   "completion": {"model": "qwen-test", **FAULT_OPTIONS["completion"]}}
        await client.initialize_session(types.InitializeParams(
            capabilities=types.ClientCapabilities(), initialization_options=options,
            root_uri=root.as_uri()))
        rows = []
        for i, mode in enumerate(FAULT_MODES):
            uri = (root / f"fault{i}.py").as_uri()
            client.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(
                uri=uri, language_id="python", version=1, text="value = \n")))
            rows.append(await exercise(client, ep, uri, mode))
        await client.shutdown_session()
        await client.stop()
    print(f"{'mode':<28} {'survived':<9} {'recover ms':>10}  message shown")
    for r in rows:
        recover = f"{r.recover_ms:.0f}" if r.recover_ms is not None else "-"
        message = r.message if r.messages else "(none: answered or silently empty)"
        print(f"{r.mode:<28} {'yes' if r.survived else 'NO':<9} {recover:>10}  {message[:110]}")
    print(f"\n{sum(r.survived for r in rows)}/{len(rows)} modes survived; "
          f"{sum(len(r.messages) <= 1 for r in rows)}/{len(rows)} showed at most one message")


# -- big inputs -------------------------------------------------------------------------------
HANG_S = 120
LINE = "value_{0} = compute({0}, other)  # a line of ordinary code\n"


@dataclass
class BigResult:
    case: str
    peak_mb: float = 0.0
    blocked_ms: float = 0.0
    loop_ms: float = 0.0
    after_close_mb: float | None = None
    answer_ms: float | None = None
    outcome: str = ""
    hangs: int = 0
    notes: list[str] = field(default_factory=list)


def _status_mb(pid: int, key: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def _big_text(size: int) -> tuple[str, int]:
    """Ordinary Python of about `size` characters and its last line (left open: "result = ")."""
    one = len(LINE.format(0))
    lines = size // one
    return "".join(LINE.format(i) for i in range(lines)) + "result = ", lines


class _Probe:
    """Asks `qwen/stats` over and over; the longest wait is how long the server was deaf."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.longest = 0.0
        self.hangs = 0
        self._stop = False
        self._task: asyncio.Task | None = None

    async def _loop(self) -> None:
        while not self._stop:
            t0 = time.perf_counter()
            try:
                await asyncio.wait_for(
                    self.client.protocol.send_request_async("qwen/stats", {}), HANG_S)
            except TimeoutError:
                self.hangs += 1
            self.longest = max(self.longest, time.perf_counter() - t0)
            await asyncio.sleep(0.02)

    async def __aenter__(self) -> _Probe:
        self._task = asyncio.ensure_future(self._loop())
        return self

    async def __aexit__(self, *exc: object) -> None:
        # Let the request in flight finish: a cancelled one upsets the client's bookkeeping.
        self._stop = True
        assert self._task is not None
        await self._task


# The server with a watchdog: a callback its event loop runs every 2 ms, which logs each gap
# between two runs over 7 ms (the loop was held by something else for the difference).
_WATCHED = """
import asyncio.base_events as b, logging, runpy, threading, time
init = b.BaseEventLoop.__init__
def watch(loop):
    log, last = logging.getLogger("bench.watchdog"), [0.0]
    def tick():
        now = time.perf_counter()
        if last[0] and now - last[0] > 0.007:
            log.warning("event loop held for %.1f ms", (now - last[0] - 0.002) * 1000)
        last[0] = now
        loop.call_later(0.002, tick)
    while not loop.is_running():  # the loop is still being set up
        time.sleep(0.01)
    loop.call_soon_threadsafe(tick)
def watched(self, *args, **kwargs):
    init(self, *args, **kwargs)
    threading.Thread(target=watch, args=(self,), daemon=True).start()
b.BaseEventLoop.__init__ = watched
runpy.run_module("lsp_server", run_name="__main__")
"""
_HELD = re.compile(r"event loop held for (\d+\.\d+) ms")


def _log_size(log: Path) -> int:
    return log.stat().st_size if log.exists() else 0


def loop_blocked_ms(log: Path, since: int = 0) -> float:
    """Return the longest time the server's event loop was held that its watchdog logged
    after byte `since` of the server's log (0: never over 5 ms)."""
    with contextlib.suppress(FileNotFoundError), log.open("rb") as f:
        f.seek(since)
        text = f.read().decode(errors="replace")
        return max((float(ms) for ms in _HELD.findall(text)), default=0.0)
    return 0.0


@contextlib.asynccontextmanager
async def _server(ep: FakeEndpoint, root: Path, model: str | None = "qwen-test"
                  ) -> AsyncIterator[Any]:
    log = root / f"server-{time.monotonic_ns()}.log"
    config = ClientServerConfig([sys.executable, "-c", _WATCHED, "--log-file", str(log)],
                                server_env=CLEAN_ENV)
    client = await config.start()
    client.server_log = log
    client.feature("qwen/status")(lambda _ls, _params: None)
    options: dict[str, Any] = {"endpoint": {"baseUrl": f"{ep.url}/v1", "provider": "openai"},
                               "completion": {"model": model} if model else {}}
    await client.initialize_session(types.InitializeParams(
        capabilities=types.ClientCapabilities(), initialization_options=options,
        root_uri=root.as_uri()))
    try:
        yield client
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(client.shutdown_session(), 30)
        await client.stop()


def _open(client: Any, uri: str, text: str) -> None:
    client.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(
        uri=uri, language_id="python", version=1, text=text)))


def _close(client: Any, uri: str) -> None:
    client.text_document_did_close(types.DidCloseTextDocumentParams(
        types.TextDocumentIdentifier(uri=uri)))


async def _timed(result: BigResult, request: Awaitable[Any]) -> Any:
    t0 = time.perf_counter()
    try:
        answer = await asyncio.wait_for(request, HANG_S)
    except TimeoutError:
        result.hangs += 1
        return None
    except Exception as exc:
        answer = exc
    result.answer_ms = (time.perf_counter() - t0) * 1000
    return answer


def _complete(client: Any, uri: str, line: int, col: int) -> Awaitable[Any]:
    return client.text_document_inline_completion_async(types.InlineCompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        position=types.Position(line=line, character=col),
        context=types.InlineCompletionContext(
            trigger_kind=types.InlineCompletionTriggerKind.Invoked)))


def _answer_text(answer: Any) -> str:
    if isinstance(answer, Exception):
        return f"error: {str(answer)[:90]}"
    items = answer.items if isinstance(answer, types.InlineCompletionList) else answer
    return f"suggestion {items[0].insert_text!r}" if items else "no suggestion"


async def _settle(client: Any) -> None:
    for _ in range(3):  # a few round trips: whatever was queued has been handled
        await asyncio.wait_for(client.protocol.send_request_async("qwen/stats", {}), HANG_S)
    await asyncio.sleep(1.0)


async def _big_open(ep: FakeEndpoint, root: Path, size_mb: int, complete: bool) -> BigResult:
    name = f"{size_mb} MB didOpen" + (" + completion, edit, completion" if complete else "")
    result = BigResult(name)
    text, last = _big_text(size_mb * 1_000_000)
    async with _server(ep, root) as client:
        pid = client._server.pid
        uri = (root / f"big{size_mb}.py").as_uri()
        ep.default = Reply(text="value_1 + 1")
        await _settle(client)  # start-up's own work is over
        since = _log_size(client.server_log)
        _open(client, uri, text)  # serialised here; the probe starts once it is written
        async with _Probe(client) as probe:
            await _settle(client)
            if complete:
                first = await _timed(result, _complete(client, uri, last, 9))
                pos = types.Position(line=last, character=9)
                client.text_document_did_change(types.DidChangeTextDocumentParams(
                    text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
                    content_changes=[types.TextDocumentContentChangePartial(
                        range=types.Range(start=pos, end=pos), text="value_2")]))
                ep.default = Reply(text=" * 2")
                second = await _timed(result, _complete(client, uri, last, 16))
                result.outcome = f"{_answer_text(first)}, then {_answer_text(second)}"
                sent = max(len(json.dumps(r.body)) for r in ep.generation_requests())
                result.notes.append(f"largest request body sent: {sent} bytes")
            else:
                result.outcome = "opened"
            result.blocked_ms = probe.longest * 1000
            result.hangs += probe.hangs
        result.peak_mb = _status_mb(pid, "VmHWM")
        result.loop_ms = loop_blocked_ms(client.server_log, since)
        del text
        since = _log_size(client.server_log)
        _close(client, uri)
        await _settle(client)
        result.after_close_mb = _status_mb(pid, "VmRSS")
        closing = loop_blocked_ms(client.server_log, since)
        result.notes.append(f"didClose: loop blocked {closing:.0f} ms")
    return result


def _hostile_endpoint(case: str, urls: Any) -> None:
    """Serve one oversized answer from a process of its own: building 100 MB of JSON must
    not stall the benchmark's own client and skew the times measured."""
    if case == "model list":
        ep = FakeEndpoint(models=tuple(f"model-{i:09d}-" + "m" * 80 for i in range(1_000_000)))
    else:  # one SSE data line of 100 MB
        ep = FakeEndpoint(default=Reply(chunks=["x" * 100_000_000]))
    urls.put(ep.url)
    threading.Event().wait()


async def _big_answer(root: Path, case: str) -> BigResult:
    result = BigResult(f"100 MB {case}")
    model = None if case == "model list" else "qwen-test"
    ctx = multiprocessing.get_context("fork")
    urls = ctx.Queue()
    proc = ctx.Process(target=_hostile_endpoint, args=(case, urls), daemon=True)
    proc.start()
    try:
        ep = _Remote(urls.get(timeout=60))
        return await _measure_answer(ep, root, model, result)
    finally:
        proc.kill()
        proc.join()


@dataclass
class _Remote:
    url: str


async def _measure_answer(ep: Any, root: Path, model: str | None,
                          result: BigResult) -> BigResult:
    async with _server(ep, root, model) as client:
        pid = client._server.pid
        uri = (root / "small.py").as_uri()
        _open(client, uri, "value = \n")
        await _settle(client)
        since = _log_size(client.server_log)
        async with _Probe(client) as probe:
            answer = await _timed(result, _complete(client, uri, 0, 8))
            result.blocked_ms = probe.longest * 1000
            result.hangs += probe.hangs
        result.loop_ms = loop_blocked_ms(client.server_log, since)
        shown = [m.message for m in client.messages]
        result.outcome = _answer_text(answer) + (f"; shown: {shown[-1][:100]}" if shown else "")
        result.peak_mb = _status_mb(pid, "VmHWM")
        since = _log_size(client.server_log)
        _close(client, uri)
        await _settle(client)
        result.after_close_mb = _status_mb(pid, "VmRSS")
        closing = loop_blocked_ms(client.server_log, since)
        result.notes.append(f"didClose: loop blocked {closing:.0f} ms")
    return result


async def _run_big(root: Path) -> None:
    rows = []
    with FakeEndpoint() as ep:
        # The same server, idle, for scale.
        async with _server(ep, root) as client:
            await _settle(client)
            idle = _status_mb(client._server.pid, "VmHWM")
            # The floor: how long the loop is held with nothing to do (the machine's noise).
            since = _log_size(client.server_log)
            async with _Probe(client):
                await asyncio.sleep(5)
            idle_loop = loop_blocked_ms(client.server_log, since)
        rows.append(await _big_open(ep, root, 20, complete=False))
        rows.append(await _big_open(ep, root, 50, complete=True))
    rows.append(await _big_answer(root, "SSE data line"))
    rows.append(await _big_answer(root, "model list"))
    print(f"\nbig inputs (server idle after start: {idle:.0f} MB; its event loop held for at "
          f"most {idle_loop:.0f} ms over 5 s of qwen/stats requests with nothing else to do)")
    print(f"{'case':<52} {'peak MB':>8} {'stats wait ms':>14} {'loop blocked ms':>16} "
          f"{'after close MB':>15} {'answer ms':>10}  outcome")
    for r in rows:
        after = f"{r.after_close_mb:.0f}" if r.after_close_mb is not None else "-"
        answer = f"{r.answer_ms:.0f}" if r.answer_ms is not None else "-"
        print(f"{r.case:<52} {r.peak_mb:>8.0f} {r.blocked_ms:>14.0f} {r.loop_ms:>16.0f} "
              f"{after:>15} {answer:>10}  {r.outcome}")
        for note in r.notes:
            print(f"{'':<52} {note}")
    print(f"hangs: {sum(r.hangs for r in rows)}")


def main() -> None:
    """Run the fault table, then the big inputs (only those with --big)."""
    with tempfile.TemporaryDirectory() as root:
        if "--big" not in sys.argv[1:]:
            asyncio.run(_run(Path(root)))
        asyncio.run(_run_big(Path(root)))


if __name__ == "__main__":
    main()
