"""Replay typing of real functions over LSP into qwen-lsp, behind an oracle endpoint; print figures.

    python bench/replay.py [--quick] [--steady] [--real]

A simulated user types selected functions from real files (Python stdlib, RxJS TypeScript, Go
stdlib) at about 8 characters a second, pausing at line ends, into an open document of the real
server (stdio). The endpoint answers every FIM request with the file's true continuation up to
the end of the current block, after 150 ms + 8 ms per token. A suggestion that agrees with what
comes next is accepted (Tab): its edit is applied with didChange and its command executed.
Then the same replay runs against an endpoint that answers wrong text a third of the time.
With --steady the user never pauses at line ends.

With --real the endpoint is a real llama-server with a small model (not Qwen: its suggestions
rarely match the file, so acceptance figures mean nothing there). The same functions are typed
twice, with pauses at line ends and steadily (--steady: steadily only). For each keystroke the
replay notes whether its request reached the model (a loopback pass-through,
`bench/llama_tap.py`, records each `/completion` body and when it came), whether an answer
came before the next keystroke and after how long (from didChange + inlineCompletion to the
answer at the client), and the first non-empty suggestion shown after it. The floor, in the
same run: the model requests of the keystrokes answered in time are sent again straight to
the same server's `/completion`, each right after the request before it, with no LSP in
between; the figure is printed as a ratio to it per keystroke (only answers that came in
time are timed, the faster ones, and the floor runs after the typing, so on a shared machine
the load may differ: read the ratio with that in mind). Also printed: what the server reports
of its prompt cache (tokens taken from it vs evaluated) and its /metrics counters.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import json
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lsprotocol import types
from pygls.lsp.client import LanguageClient

from bench.corpus import Task, default_root, select_tasks
from bench.fidelity import _is_multiline, _limit, measure, wrong_text
from bench.oracle_endpoint import _TAIL, Oracle, tokens_of
from lsp_server.context.languages import editor_language_id
from testkit.session import end

KEY_S = 0.125  # 8 characters a second
LINE_PAUSE_S = 1.0  # a look at the screen after each line
MAX_LINES = 8


def _position(text: str, offset: int) -> types.Position:
    """Return the LSP position (UTF-16 columns) of a str offset."""
    line = text.count("\n", 0, offset)
    start = text.rfind("\n", 0, offset) + 1
    return types.Position(line, len(text[start:offset].encode("utf-16-le")) // 2)


def _offset(text: str, position: types.Position) -> int:
    """Return the str offset of an LSP position (UTF-16 columns)."""
    start = 0
    for _ in range(position.line):
        start = text.index("\n", start) + 1
    end = text.find("\n", start)
    line = text[start : end if end >= 0 else len(text)]
    units = line.encode("utf-16-le")[: position.character * 2].decode("utf-16-le", "ignore")
    return start + len(units)


class Locator:
    """Find the cursor of a FIM prompt in the tasks' files; give the true and a wrong answer."""

    def __init__(self, tasks: list[Task]) -> None:
        self.tasks = tasks
        self.current: Task | None = None
        self.rng = random.Random(5)

    def __call__(self, prefix: str, suffix: str) -> tuple[str, str] | None:
        tail = prefix[-_TAIL:]
        head = suffix[:200]
        order = [self.current] if self.current else []
        for task in order + [t for t in self.tasks if t is not self.current]:
            lo = max(0, task.start - len(tail))
            at = task.text.find(tail, lo, task.end)
            while at >= 0:
                pos = at + len(tail)
                if task.start <= pos <= task.end and (
                    not head or task.text.startswith(head, task.end)
                ):
                    truth = task.truth(pos)
                    return truth, wrong_text(task, pos, max(len(truth), 20), self.rng)
                at = task.text.find(tail, at + 1, task.end)
        return None


@dataclass
class Pending:
    """An inline completion request in flight."""

    msg_id: str
    version: int
    pos: int
    key_time: float
    future: asyncio.Future
    cancelled: bool = False
    done_at: float | None = None  # when its answer (empty or not) reached the client
    shown_at: float | None = None  # when that answer had a suggestion


@dataclass
class KeyRecord:
    """One keystroke that sent an inline completion request, for --real."""

    task: int  # which function was being typed
    key_time: float
    next_key: float  # the next keystroke, or the end of the function
    done_at: float | None
    shown_at: float | None
    body: dict[str, Any] | None = None  # the model request it caused, if any
    previous: dict[str, Any] | None = None  # the model request before that one
    to_model: float | None = None  # seconds from the keystroke to that request


@dataclass
class Figures:
    """What one replay measured."""

    label: str
    tasks: int = 0
    files: int = 0
    languages: set[str] = field(default_factory=set)
    total_chars: int = 0
    keystrokes: int = 0
    tabs: int = 0
    accepted_chars: int = 0
    requests_lsp: int = 0
    lsp_cancelled: int = 0
    shown: int = 0
    shown_wrong: int = 0
    stale: int = 0
    late_answers: int = 0
    errors: int = 0
    latencies: list[float] = field(default_factory=list)
    oracle: dict[str, Any] = field(default_factory=dict)
    server: dict[str, Any] = field(default_factory=dict)
    real: dict[str, float] | None = None  # llama-server's /metrics counters during the run
    keys: list[KeyRecord] = field(default_factory=list)  # --real: every keystroke's request
    floor: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0


def _plain(value: Any) -> Any:
    """Turn a pygls result object (named tuples for unknown methods) into plain JSON data."""
    if hasattr(value, "_asdict"):
        return {k: _plain(v) for k, v in value._asdict().items()}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return json.loads(json.dumps(value, default=lambda o: getattr(o, "__dict__", str(o))))


class Replayer:
    """Drive one server through the typing of every task."""

    def __init__(self, tasks: list[Task], args: argparse.Namespace, wrong_share: float) -> None:
        self.tasks = tasks
        self.args = args
        self.speed = args.speed
        self.locator = Locator(tasks)
        self.oracle = Oracle(self.locator, wrong_share=wrong_share)
        self.oracle.document = lambda: self.locator.current.name if self.locator.current else ""
        label = "oracle" if not wrong_share else f"oracle, wrong {wrong_share:.0%} of the time"
        self.fig = Figures(label)
        self.client = LanguageClient("qwen-replay", "0.1")
        self._ids = 0
        self.sync_full = False

    async def run(self) -> Figures:
        started = time.perf_counter()
        real = getattr(self.args, "llama", None)
        if real is not None:  # a real llama-server instead of the oracle
            base_url, provider, model = self.args.llama_base, "llamacpp", ""
            metrics_before = await asyncio.to_thread(_metrics, real.url)
        else:
            base_url, provider, model = await self.oracle.start(), "openai", "oracle"
        workspace = Path(tempfile.mkdtemp(prefix="qwen-replay-"))
        self._register_client_handlers()
        server_args = self.args.server_args
        if server_args is None:
            server_args = ["-m", "lsp_server"] if self.args.server == sys.executable else []
        await self.client.start_io(self.args.server, *server_args)
        log = (workspace / "server-stderr.log").open("wb")
        drain = asyncio.ensure_future(self._drain(log))
        try:
            result = await self.client.initialize_async(types.InitializeParams(
                process_id=None,
                root_uri=workspace.as_uri(),
                workspace_folders=[types.WorkspaceFolder(workspace.as_uri(), "replay")],
                capabilities=types.ClientCapabilities(
                    text_document=types.TextDocumentClientCapabilities(
                        inline_completion=types.InlineCompletionClientCapabilities(),
                        synchronization=types.TextDocumentSyncClientCapabilities(),
                    ),
                    general=types.GeneralClientCapabilities(position_encodings=["utf-16"]),
                ),
                initialization_options={
                    "endpoint": {"baseUrl": base_url, "provider": provider},
                    "completion": {"model": model, **self.args.completion},
                },
            ))
            sync = result.capabilities.text_document_sync
            kind = getattr(sync, "change", sync)
            self.sync_full = kind == types.TextDocumentSyncKind.Full
            self.client.initialized(types.InitializedParams())
            for index, task in enumerate(self.tasks):
                await self._replay(task, workspace, index)
            with contextlib.suppress(Exception):
                stats = await asyncio.wait_for(
                    self.client.protocol.send_request_async("qwen/stats", None), 10
                )
                self.fig.server = _plain(stats)
        finally:
            await end(self.client)
            drain.cancel()
            log.close()
            if real is None:
                await self.oracle.stop()
            else:
                after = await asyncio.to_thread(_metrics, real.url)
                self.fig.real = {k: after.get(k, 0) - metrics_before.get(k, 0) for k in after}
        s = self.oracle.stats
        if self.args.dump_prompts:
            with self.args.dump_prompts.open("a", encoding="utf-8") as out:
                for prompt in s.prompts:
                    out.write(json.dumps({"run": self.fig.label, "prompt": prompt}) + "\n")
        self.fig.oracle = {
            "requests": s.requests, "completed": s.completed, "cancelled": s.cancelled,
            "wrong": s.wrong, "unknown_cursor": s.unknown_cursor, "tokens": s.tokens,
            "prefix_reuse": s.prefix_reuse(),
            "prefix_reuse_same_document": s.prefix_reuse(same_document=True),
            "prompt_bytes": s.computed_bytes(),
        }
        self.fig.seconds = time.perf_counter() - started
        return self.fig

    def _register_client_handlers(self) -> None:
        @self.client.feature(types.WORKSPACE_CONFIGURATION)
        def configuration(params: types.ConfigurationParams) -> list[Any]:
            return [None for _ in params.items]

        @self.client.feature(types.WINDOW_WORK_DONE_PROGRESS_CREATE)
        def progress_create(params: Any) -> None:
            return None

        for method in (types.WINDOW_LOG_MESSAGE, types.WINDOW_SHOW_MESSAGE, types.PROGRESS,
                       types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS, "qwen/status"):
            self.client.feature(method)(lambda params: None)

    async def _drain(self, log: Any) -> None:
        server = getattr(self.client, "_server", None)
        if server is None or server.stderr is None:
            return
        while chunk := await server.stderr.read(65536):
            log.write(chunk)

    def _send(self, uri: str, doc: str, pos: int, version: int, key_time: float) -> Pending:
        self._ids += 1
        msg_id = f"replay-{self._ids}"
        params = types.InlineCompletionParams(
            context=types.InlineCompletionContext(
                trigger_kind=types.InlineCompletionTriggerKind.Automatic
            ),
            text_document=types.TextDocumentIdentifier(uri),
            position=_position(doc, pos),
        )
        self.fig.requests_lsp += 1
        future = asyncio.ensure_future(self.client.protocol.send_request_async(
            types.TEXT_DOCUMENT_INLINE_COMPLETION, params, msg_id=msg_id
        ))
        pending = Pending(msg_id, version, pos, key_time, future)
        loop = asyncio.get_running_loop()

        def answered(f: asyncio.Future) -> None:
            pending.done_at = loop.time()
            if not f.cancelled() and f.exception() is None and _items(f.result()):
                pending.shown_at = pending.done_at

        future.add_done_callback(answered)
        return pending

    def _cancel(self, pending: Pending | None) -> None:
        if pending is None or pending.future.done() or pending.cancelled:
            return
        pending.cancelled = True
        self.fig.lsp_cancelled += 1
        self.client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id=pending.msg_id))
        # Whatever it answers now, an editor would not show it; count it if it has items.
        pending.future.add_done_callback(self._late)

    def _late(self, future: asyncio.Future) -> None:
        if not future.cancelled() and future.exception() is None and _items(future.result()):
            self.fig.late_answers += 1

    def _change(self, uri: str, doc: str, pos: int, text: str, version: int) -> None:
        if self.sync_full:
            change: Any = types.TextDocumentContentChangeWholeDocument(doc)
        else:
            where = _position(doc, pos)  # doc is the new text; the insert starts at pos
            change = types.TextDocumentContentChangePartial(
                range=types.Range(where, where), text=text
            )
        self.client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[change],
        ))

    async def _replay(self, task: Task, workspace: Path, index: int) -> None:
        loop = asyncio.get_running_loop()
        fig = self.fig
        self.locator.current = task
        fig.tasks += 1
        fig.languages.add(task.language)
        fig.total_chars += task.end - task.start
        path = workspace / task.language / f"{index:02d}-{task.path.name}"
        path.parent.mkdir(parents=True, exist_ok=True)
        pos, version = task.start, 1
        doc = task.document(pos)
        path.write_text(doc, encoding="utf-8")
        uri = path.as_uri()
        self.client.text_document_did_open(types.DidOpenTextDocumentParams(
            types.TextDocumentItem(uri, editor_language_id(task.language), version, doc)
        ))
        key_s, pause_s = KEY_S / self.speed, self.args.line_pause / self.speed
        pending: Pending | None = None
        sent: list[Pending] = []
        ghost: tuple[int, str, Any] | None = None  # (version, text, item)
        next_key = loop.time() + pause_s
        while pos < task.end:
            while (remaining := next_key - loop.time()) > 0:
                if pending is not None and not pending.future.done():
                    await asyncio.wait([pending.future], timeout=remaining)
                else:
                    await asyncio.sleep(remaining)
                if pending is not None and pending.future.done():
                    ghost = self._shown(pending, task, doc, pos, version, loop.time()) or ghost
                    pending = None
            truth = task.text[pos : task.end]
            now = loop.time()
            agrees = ghost is not None and ghost[1] and truth.startswith(ghost[1])
            if ghost is not None and ghost[0] == version and agrees:
                text, item = ghost[1], ghost[2]
                fig.tabs += 1
                fig.accepted_chars += len(text)
                key = ("tab", text)
                if item is not None and getattr(item, "command", None) is not None:
                    command = item.command
                    asyncio.ensure_future(self.client.workspace_execute_command_async(
                        types.ExecuteCommandParams(command.command, command.arguments)
                    )).add_done_callback(lambda f: f.cancelled() or f.exception())
            else:
                end = pos + 1
                if task.text[pos] == "\n":  # the editor indents the new line
                    while end < task.end and task.text[end] in " \t":
                        end += 1
                text = task.text[pos:end]
                fig.keystrokes += 1
                key = ("key", text)
            self._cancel(pending)
            pending, ghost = None, None
            doc = doc[:pos] + text + doc[pos:]
            version += 1
            self._change(uri, doc, pos, text, version)
            pos += len(text)
            if pos < task.end:
                pending = self._send(uri, doc, pos, version, now)
                sent.append(pending)
            pause = pause_s if key[0] == "key" and "\n" in text else key_s
            next_key = now + pause
        self._cancel(pending)
        await asyncio.sleep(0.2)
        self._per_keystroke(sent, loop.time())
        self.client.text_document_did_close(
            types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri))
        )
        fig.files += 1

    def _per_keystroke(self, sent: list[Pending], end: float) -> None:
        """Note, per keystroke, when its answer came, and whether before the next one."""
        for i, p in enumerate(sent):
            next_key = sent[i + 1].key_time if i + 1 < len(sent) else end
            self.fig.keys.append(KeyRecord(self.fig.files, p.key_time, next_key, p.done_at,
                                           p.shown_at))

    def _shown(
        self, pending: Pending, task: Task, doc: str, pos: int, version: int, now: float
    ) -> tuple[int, str, Any] | None:
        """Judge an answer to the latest request: return the ghost text it shows, if any."""
        fig = self.fig
        future = pending.future
        if future.cancelled() or future.exception() is not None:
            fig.errors += 1
            return None
        items = _items(future.result())
        if not items:
            return None
        item = items[0]
        text = item.insert_text if isinstance(item.insert_text, str) else item.insert_text.value
        if pending.version != version:
            fig.stale += 1  # an answer for older text, shown anyway
            return None
        start = pos
        if item.range is not None:
            start = _offset(doc, item.range.start)
            replaced = doc[start:pos]
            if start > pos or not text.startswith(replaced):
                fig.stale += 1
                return None
            text = text[len(replaced) :]
        fig.shown += 1
        fig.latencies.append(now - pending.key_time)
        truth = task.text[pos : task.end]
        if not truth.startswith(text):
            fig.shown_wrong += 1
            # Text that was right a few characters ago is a stale suggestion.
            earlier = range(max(task.start, pos - 40), pos)
            if any(task.text.startswith(text, q) for q in earlier) and len(text) > 3:
                fig.stale += 1
        return version, text, item


def _metrics(url: str) -> dict[str, float]:
    """Return llama-server's Prometheus counters (`/metrics`, started with --metrics)."""
    import httpx

    out: dict[str, float] = {}
    for line in httpx.get(f"{url}/metrics", timeout=10).text.splitlines():
        if line.startswith("llamacpp:") and " " in line:
            name, value = line.rsplit(" ", 1)
            with contextlib.suppress(ValueError):
                out[name.removeprefix("llamacpp:")] = float(value)
    return out


def _items(result: Any) -> list[Any]:
    if result is None:
        return []
    if isinstance(result, list):
        return result
    return list(getattr(result, "items", None) or [])


def upper_bound(tasks: list[Task], key_s: float, pause_s: float) -> tuple[int, int, int]:
    """Return (chars, keystrokes, accepted chars) with an ideal server in front of the oracle.

    It asks the model at every keystroke, never cancels, and shows any answer that has
    arrived and still reaches past the cursor: the most this pace and latency allow.
    """
    chars = keys = accepted = 0
    for task in tasks:
        chars += task.end - task.start
        pos, now = task.start, 0.0
        issued: list[tuple[float, int]] = []  # (arrival time, end of its suggestion)
        while pos < task.end:
            reach = max((end for at, end in issued if at <= now and end > pos), default=None)
            if reach is not None:
                accepted += reach - pos
                pos, pause = reach, key_s
            else:
                end = pos + 1
                if task.text[pos] == "\n":
                    while end < task.end and task.text[end] in " \t":
                        end += 1
                keys += 1
                pause = pause_s if "\n" in task.text[pos:end] else key_s
                pos = end
            if pos < task.end:
                doc = task.document(pos)
                text = _limit(task.truth(pos), _is_multiline(doc, pos), MAX_LINES)
                issued.append((now + 0.150 + 0.008 * len(tokens_of(text)), pos + len(text)))
            now += pause
    return chars, keys, accepted


def _pct(part: float, whole: float) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "n/a"


def report(fig: Figures, bound: tuple[int, int, int]) -> None:
    """Print every figure of one replay."""
    o, srv = fig.oracle, fig.server
    print(f"\n== replay against the {fig.label} ==")
    print(f"functions typed                  {fig.tasks} in {fig.files} files, "
          f"languages: {', '.join(sorted(fig.languages))}; {fig.seconds:.0f} s wall")
    print(f"characters in those functions    {fig.total_chars}")
    print(f"keystrokes typed                 {fig.keystrokes} (+ {fig.tabs} Tab acceptances)")
    print(f"characters accepted              {fig.accepted_chars}")
    print(f"share of characters not typed    {_pct(fig.accepted_chars, fig.total_chars)} "
          f""
          f"(upper bound at this pace and latency: {_pct(bound[2], bound[0])})")
    keys = fig.keystrokes + fig.tabs
    print(f"model requests sent              {o.get('requests')} "
          f"({o.get('requests', 0) / max(1, keys):.2f} per keystroke; "
          f"{fig.requests_lsp} inlineCompletion requests)")
    print(f"requests cancelled               {o.get('cancelled')} at the endpoint (hang-ups); "
          f"server says {srv.get('cancelled', 'n/a')}; "
          f"{fig.lsp_cancelled} LSP requests cancelled by the editor")
    print(f"cache hits                       {srv.get('cache_hits', srv.get('cacheHits', 'n/a'))}")
    print(f"suggestions shown                {fig.shown} ({fig.shown_wrong} not matching the file)")
    print(f"stale suggestions shown          {fig.stale}")
    print(f"late answers to cancelled reqs   {fig.late_answers} (not shown)")
    median = statistics.median(fig.latencies) * 1000 if fig.latencies else float("nan")
    print(f"median keystroke-to-ghost-text   {median:.0f} ms")
    reuse, same = o.get("prefix_reuse"), o.get("prefix_reuse_same_document")
    print(f"prefix reuse                     {'n/a' if same is None else f'{100 * same:.1f}%'}"
          " with the previous prompt for the same file (each file's first prompt has none); "
          f"{'n/a' if reuse is None else f'{100 * reuse:.1f}%'} with the previous prompt "
          "whatever its file")
    sent, computed = o.get("prompt_bytes") or (0, 0)
    print(f"prompt bytes to compute          {computed} of {sent} sent ({_pct(computed, sent)}; "
          f"{computed / max(1, keys):.0f} per keystroke) with one cached prompt per file")
    print(f"oracle answers wrong / no cursor {o.get('wrong')} / {o.get('unknown_cursor')}")
    hits = srv.get("rule_hits") or srv.get("ruleHits") or {}
    if hits:
        print("post-processing rule hits        "
              + ", ".join(f"{k} {v}" for k, v in sorted(hits.items())))
    print(f"request errors                   {fig.errors}")
    lat = srv.get("modelLatencyMs") or {}
    if lat:
        print(f"model latency (server)           p50 {lat.get('p50')} ms, p95 {lat.get('p95')} ms")
    if fig.real is not None:
        report_real(fig)


def report_real(fig: Figures) -> None:
    """Print what llama-server itself says of the run: its prompt cache and its work."""
    srv, real = fig.server, fig.real or {}
    endpoint = (srv.get("endpoints") or [{}])[0]
    cache = endpoint.get("promptCache") or {}
    cached, evaluated = cache.get("cachedTokens", 0), cache.get("evaluatedTokens", 0)
    print(f"prompt tokens (llama-server)     {cached} from its cache, {evaluated} evaluated "
          f"over {cache.get('requests', 0)} requests: "
          f"{_pct(cached, cached + evaluated)} reused (timings.cache_n / prompt_n)")
    print(f"server work (/metrics)           {real.get('prompt_tokens_total', 0):.0f} prompt "
          f"tokens evaluated, {real.get('tokens_predicted_total', 0):.0f} generated, "
          f"{real.get('n_decode_total', 0):.0f} decode calls")
    print(f"context window / model           {endpoint.get('contextWindow')} tokens, "
          f"{endpoint.get('model') or 'served model'}; token counts: "
          f"{endpoint.get('tokenCounts')}")
    keys = fig.keys
    asked = [k for k in keys if k.body is not None]
    answered = [k for k in asked if k.done_at is not None and k.done_at <= k.next_key]
    shown = [k for k in keys if k.shown_at is not None and k.shown_at <= k.next_key]
    print(f"keystrokes reaching the model    {len(asked)} of {len(keys)} "
          f"({_pct(len(asked), len(keys))}); keystroke-to-model-request "
          f"{_p5090([k.to_model for k in asked if k.to_model is not None])} "
          "(debounce + prompt)")
    print(f"answered before the next key    {len(answered)} of those {len(asked)}: "
          f"keystroke-to-answer {_p5090([k.done_at - k.key_time for k in answered])} "
          "(didChange + inlineCompletion to the answer at the client, empty or not)")
    floor = fig.floor
    if floor.get("pairs"):
        pairs = floor["pairs"]  # (qwen-lsp seconds, direct whole answer, direct first token)
        print(f"floor: those prompts, direct     {_p5090([b for _, b, _ in pairs])} to the "
              f"whole answer, {_p5090([c for _, _, c in pairs if c is not None])} to its "
              f"first token ({len(pairs)} prompts sent again to /completion, each after "
              "the prompt before it, no LSP; "
              f"{_pct(floor['cached'], floor['cached'] + floor['evaluated'])} of their "
              "prompt tokens from the cache)")
        print(f"keystroke-to-answer / floor      "
              f"{_ratios([a / c for a, _, c in pairs if c])} against the same prompt's "
              f"first token, {_ratios([a / b for a, b, _ in pairs])} against its whole "
              "answer, per keystroke (qwen-lsp stops reading once a suggestion is complete, "
              "so its answer falls between the two)")
    else:
        print("floor                            n/a: no model-backed answer came before "
              "the next keystroke")
    firsts = _first_suggestions(keys)
    print(f"first suggestion after asking    {_p5090(firsts)} from a keystroke that reached "
          f"the model to the next suggestion shown, whichever request it answered "
          f"({len(firsts)} of {len(asked)})")
    print(f"suggestions before the next key  {len(shown)} of {len(keys)} keystrokes "
          f"({_pct(len(shown), len(keys))}): keystroke-to-suggestion "
          f"{_p5090([k.shown_at - k.key_time for k in shown])} (non-empty answers: this "
          "model's text is mostly dropped as not fitting the code)")


def _first_suggestions(keys: list[KeyRecord]) -> list[float]:
    """Return, for each keystroke that reached the model, the seconds until the next
    suggestion was shown (an answer to it or to a later keystroke, before the key after)."""
    out = []
    for i, key in enumerate(keys):
        if key.body is None:
            continue
        for later in keys[i:]:
            if later.task != key.task:
                break
            if later.shown_at is not None and later.shown_at <= later.next_key:
                out.append(later.shown_at - key.key_time)
                break
    return out


def _ratios(values: list[float]) -> str:
    values = sorted(values)
    if not values:
        return "n/a"
    return f"p50 {_median(values):.2f}x, p90 {values[int(len(values) * 0.9)]:.2f}x"


def _median(values: list[float]) -> float:
    return values[len(values) // 2]


def _p5090(values: list[float]) -> str:
    """Return 'p50 X ms, p90 Y ms' of seconds."""
    values = sorted(values)
    if not values:
        return "n/a"
    return (f"p50 {1000 * _median(values):.0f} ms, "
            f"p90 {1000 * values[int(len(values) * 0.9)]:.0f} ms")


async def measure_floor(url: str, keys: list[KeyRecord], limit: int) -> dict[str, Any]:
    """Send the model requests of the keystrokes answered in time straight to llama-server,
    each right after the request before it (as in the run, so that its cache holds the same
    prefix); return (qwen-lsp's keystroke-to-answer, direct whole answer, direct first token)
    per keystroke."""
    import httpx

    chosen = [k for k in keys if k.body is not None and k.done_at is not None
              and k.done_at <= k.next_key]
    if len(chosen) > limit:  # an even sample
        chosen = [chosen[i * len(chosen) // limit] for i in range(limit)]
    out: dict[str, Any] = {"pairs": [], "cached": 0, "evaluated": 0}
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        for key in chosen:
            if key.previous is not None:  # the cache as the run left it
                await _direct(http, {**key.previous, "n_predict": 1})
            whole, first, timings = await _direct(http, key.body or {})
            out["pairs"].append((key.done_at - key.key_time, whole, first))
            out["cached"] += timings.get("cache_n", 0)
            out["evaluated"] += timings.get("prompt_n", 0)
    return out


async def _direct(http: Any, body: dict[str, Any]) -> tuple[float, float | None, dict]:
    """Stream one /completion; return (seconds to its end, to its first text, timings)."""
    started, first, timings = time.perf_counter(), None, {}
    async with http.stream("POST", "/completion", json=body) as response:
        async for line in response.aiter_lines():
            if not line.startswith("data: "):
                continue
            event = json.loads(line[6:])
            if event.get("content") and first is None:
                first = time.perf_counter() - started
            timings = event.get("timings") or timings
            if event.get("stop"):
                break
    return time.perf_counter() - started, first, timings


def report_fidelity(tasks: list[Task]) -> None:
    """Print what the post-processor does to true and to wrong suggestions, offline."""
    f = measure(tasks)
    total = sum(f.correct.values())
    wrong = sum(f.wrong.values())
    times = sorted(f.timings_ms)
    print("\n== post-processor on every cursor of these functions (offline) ==")
    print(f"true continuations               {total}: "
          + ", ".join(f"{k} {v} ({_pct(v, total)})" for k, v in f.correct.most_common())
          + f"; characters kept {_pct(f.chars_kept, f.chars_offered)}")
    print(f"wrong continuations              {wrong}: "
          + ", ".join(f"{k} {v} ({_pct(v, wrong)})" for k, v in f.wrong.most_common()))
    print("rule hits on true continuations  "
          + (", ".join(f"{k} {v}" for k, v in f.hits.most_common()) or "none"))
    if times:
        print(f"postprocess time                 p50 {times[len(times) // 2]:.1f} ms, "
              f"p95 {times[int(len(times) * 0.95)]:.1f} ms, max {times[-1]:.1f} ms")


async def main_async(args: argparse.Namespace) -> int:
    if args.quick:
        tasks = select_tasks(args.corpus, 1, 8)
    else:
        tasks = select_tasks(args.corpus, args.files_per_language, args.max_body_lines)
    if not tasks:
        print("no tasks: could not find any source files", file=sys.stderr)
        return 1
    languages = sorted({t.language for t in tasks})
    print(f"tasks: {len(tasks)} functions in {len({t.path for t in tasks})} files "
          f"({', '.join(languages)})")
    for task in tasks:
        print(f"  {task.language:10} {task.name:40} {task.end - task.start:5} chars")
    report_fidelity(tasks)
    if args.real:
        return await _replay_real(tasks, args)
    bound = upper_bound(tasks, KEY_S, args.line_pause)
    args.completion = {}
    shares = [0.0] if args.no_wrong else [0.0, 1 / 3]
    for share in shares:
        fig = await Replayer(tasks, args, share).run()
        report(fig, bound)
    return 0


async def _replay_real(tasks: list[Task], args: argparse.Namespace) -> int:
    """Type the same functions against a real llama-server (scripts/provision-llama.sh),
    with pauses and steadily; measure each run's floor against the same server after it."""
    from bench.llama_tap import Tap
    from testkit.llama import LlamaServer, llama_tools

    tools = llama_tools()
    if not tools.get("QWEN_TEST_LLAMA_SERVER") or not tools.get("QWEN_TEST_LLAMA_MODEL"):
        print("no llama-server: run scripts/provision-llama.sh", file=sys.stderr)
        return 1
    log = Path(tempfile.mkdtemp(prefix="qwen-replay-llama-")) / "server.log"
    server = LlamaServer(tools["QWEN_TEST_LLAMA_SERVER"], tools["QWEN_TEST_LLAMA_MODEL"], log)
    await asyncio.to_thread(server.start)
    args.llama = server
    # A small model on a shared CPU: short answers keep the latency about a real setup's.
    args.completion = {"maxTokens": args.max_tokens, "timeoutMs": 20000}
    paces = [("steady typing", KEY_S)] if args.steady else [
        ("pauses at line ends", args.line_pause), ("steady typing", KEY_S)]
    try:
        for label, line_pause in paces:
            args.line_pause = line_pause
            tap = Tap(server.url)
            args.llama_base = await tap.start()
            try:
                fig = await Replayer(tasks, args, 0.0).run()
            finally:
                await tap.stop()
            fig.label = f"real llama-server ({Path(server.model).name}, {label})"
            _attach_requests(fig.keys, tap.requests)
            fig.oracle.update(requests=len(tap.requests), cancelled="n/a")
            fig.floor = await measure_floor(server.url, fig.keys, args.floor_max)
            report(fig, upper_bound(tasks, KEY_S, line_pause))
    finally:
        server.stop()
    print(f"(server log: {log})")
    return 0


def _attach_requests(keys: list[KeyRecord],
                     requests: list[tuple[float, dict[str, Any]]]) -> None:
    """Give each model request to the keystroke just before it reached the server."""
    times = [k.key_time for k in keys]
    previous = None
    for at, body in requests:
        i = bisect.bisect_right(times, at)
        if i:
            key = keys[i - 1]
            key.body, key.previous, key.to_model = body, previous, at - key.key_time
        previous = body


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one short function per language")
    parser.add_argument("--files-per-language", type=int, default=7)
    parser.add_argument("--max-body-lines", type=int, default=14)
    parser.add_argument("--server", default=sys.executable,
                        help="the server's command (default: this Python, with -m lsp_server)")
    parser.add_argument("--server-args", nargs="*", default=None)
    parser.add_argument("--line-pause", type=float, default=LINE_PAUSE_S,
                        help="seconds the user pauses after each line")
    parser.add_argument("--speed", type=float, default=1.0, help="typing speed multiplier")
    parser.add_argument("--corpus", type=Path, default=default_root())
    parser.add_argument("--no-wrong", action="store_true", help="skip the wrong-answer run")
    parser.add_argument("--dump-prompts", type=Path, help="append every prompt (JSON lines)")
    parser.add_argument("--real", action="store_true",
                        help="type against a real llama-server and a small model instead of "
                             "the oracle (scripts/provision-llama.sh builds them)")
    parser.add_argument("--steady", action="store_true",
                        help="never pause at line ends: 8 characters a second throughout "
                             "(with --real: only this pace, not both)")
    parser.add_argument("--floor-max", type=int, default=80,
                        help="with --real: at most this many prompts sent again for the floor")
    parser.add_argument("--max-tokens", type=int, default=16,
                        help="completion.maxTokens with --real")
    args = parser.parse_args(argv)
    if args.steady and not args.real:
        args.line_pause = KEY_S  # no look at the screen after a line: typing never pauses
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
