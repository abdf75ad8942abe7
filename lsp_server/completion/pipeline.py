"""The inline-completion flow: reuse, cancel the stale request, prompt, stream, clean up."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import logging
import os
import re
import statistics
import time
from collections import deque
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from cachetools import LRUCache, TTLCache

from lsp_server.completion.postprocess import PostContext, PostResult, postprocess
from lsp_server.context.scanner import DEFAULT_MAX_FILE_BYTES, is_secret_file
from lsp_server.model.client import ModelClient
from lsp_server.model.dialects import CompletionRequest
from lsp_server.model.errors import ErrorKind, ModelError
from lsp_server.model.pool import EndpointPool, Member
from lsp_server.model.tokens import fit_budgets
from lsp_server.outbound import Unrestorable, gate, restore
from lsp_server.positions import window
from lsp_server.prompt import (
    STOP_TOKENS,
    ContextFile,
    cut_at_special_token,
    fit_suffix,
    split_document,
)
from lsp_server.settings import Settings

log = logging.getLogger(__name__)

_BLOCK_OPENERS = (":", "{", "(", "[", "=>", "->", " do", " then", "\\")
_SINGLE_LINE_MAX_TOKENS = 64
_CACHE_TAIL = 2000
_MAX_CHARS = 20_000  # a runaway answer is cut here whatever the token limit said
_TYPING_GAP_MAX = 1.0  # seconds; a longer gap is a pause, not typing speed
# llama.cpp's answer to a prompt over its context: `... exceeds the available context size
# (1024 tokens) ...`; the size it names caps later prompts, should /props have been missed.
_CONTEXT_EXCEEDED = re.compile(r"exceeds the available context size \((\d+) tokens\)")
_DESCRIBE_WAIT_S = 1.0  # how long a first prompt waits to learn the endpoint's context size
_ORPHAN_GRACE_S = 0.25  # an answer nobody waits for is closed after this, unless typed through
_PATIENT_CHARS = 16  # keystrokes a steady-typing answer waits through before its first piece


class ContextSource(Protocol):
    """Cross-file context for a cursor (the repository index implements this)."""

    def context_files(
        self, path: str, text: str, offset: int, budget_chars: int
    ) -> Sequence[ContextFile]: ...

    def may_send(self, path: str) -> bool: ...


@dataclass(frozen=True)
class CompletionInput:
    """One request for a suggestion at a cursor."""

    document_key: str
    text: str
    offset: int
    path: str | None = None
    relative_path: str | None = None
    repo_name: str | None = None
    language: str | None = None
    # The editor's language id in its canonical spelling (`canonical_language`), also for
    # languages without a grammar; `completion.disabledLanguages` is matched against both.
    language_id: str | None = None
    tab_size: int | None = None
    insert_spaces: bool | None = None
    received_at: float | None = None


@dataclass(frozen=True)
class Completion:
    """A suggestion to insert at the cursor."""

    id: str
    text: str
    from_cache: bool = False


@dataclass
class _Entry:
    """Where a suggestion was asked for (the text around the cursor), and what it said."""

    settings_key: tuple
    prefix_len: int
    prefix_tail: str
    suffix_len: int
    suffix_head: str
    text: str

    @classmethod
    def at(cls, inp: CompletionInput, settings: Settings, text: str = "") -> _Entry:
        """Return the anchor of a cursor."""
        return cls(settings.completion_key(), inp.offset,
                   inp.text[max(0, inp.offset - _CACHE_TAIL) : inp.offset],
                   len(inp.text) - inp.offset, inp.text[inp.offset : inp.offset + _CACHE_TAIL],
                   text)

    def typed_since(self, text: str, offset: int | None = None) -> str | None:
        """Return what was typed at this cursor to turn its document into `text` (with the
        cursor after it), or None when the document changed some other way."""
        if offset is None:
            offset = len(text) - self.suffix_len
        typed_len = offset - self.prefix_len
        if typed_len < 0 or len(text) - offset != self.suffix_len:
            return None
        cursor = offset - typed_len
        if not (text.startswith(self.prefix_tail, cursor - len(self.prefix_tail))
                and text.startswith(self.suffix_head, offset)):
            return None
        return text[cursor:offset]


@dataclass
class _Generation:
    """A model answer being streamed for one cursor; it outlives the request that started it
    while the user types exactly what it is generating."""

    anchor: _Entry
    partial: list[str] = field(default_factory=list)  # streamed so far
    task: asyncio.Future[str] | None = None
    waiters: int = 0  # requests waiting for it
    keep: bool = False  # a keystroke typed through it since the last request left
    # Sent while the user typed on without pausing: kept through the keystrokes that come
    # before its first piece (which then says whether they agree with it).
    patient: bool = False

    @property
    def running(self) -> bool:
        return self.task is not None and not self.task.done()

    def agrees(self, typed: str) -> bool:
        """Return whether text typed since it started matches what it streamed so far.

        Before the first piece arrives nothing says it will: the answer is not kept then,
        unless it was sent during steady typing (a few characters typed meanwhile).
        """
        if not typed:
            return True  # nothing typed yet can disagree with it (a prefetch, say)
        so_far = "".join(self.partial)
        if not so_far:
            return self.patient and len(typed) <= _PATIENT_CHARS
        return so_far.startswith(typed) or typed.startswith(so_far)

    def typed_through(self, text: str, offset: int | None = None) -> bool:
        """Return whether the document `text` (cursor at `offset`) differs from where this
        answer was asked for only by typing what it streamed."""
        typed = self.anchor.typed_since(text, offset)
        return typed is not None and self.agrees(typed)


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


def is_multiline(text: str, offset: int) -> bool:
    """Decide whether a suggestion may span lines, from where the cursor is.

    Mid-line (code after the cursor): finish this line only. On a blank line inside an open
    block, or at the end of a line that opens one: allow a few lines.
    """
    line_begin = text.rfind("\n", 0, offset) + 1
    line_end = text.find("\n", offset)
    line_end = len(text) if line_end == -1 else line_end
    before, after = text[line_begin:offset], text[offset:line_end]
    if after.strip():
        return False
    if before.strip():
        return before.rstrip().endswith(_BLOCK_OPENERS)
    # Blank line: open block when indented, or when the previous code line opens one.
    if before:
        return True
    prev = text[:line_begin].rstrip()
    return prev.endswith(_BLOCK_OPENERS)


class CompletionPipeline:
    """Turns a cursor into a suggestion; one instance per server."""

    def __init__(
        self,
        endpoints: EndpointPool,
        settings: Callable[[], Settings],
        *,
        context: Callable[[], ContextSource | None] = lambda: None,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self._endpoints = endpoints
        self._settings = settings
        self._context = context
        self._clock = clock
        self.stats = Stats()
        self._cache: TTLCache[str, deque[_Entry]] = TTLCache(maxsize=256, ttl=600)
        self._inflight: dict[str, asyncio.Task] = {}
        self._generations: dict[str, _Generation] = {}
        self._shown: LRUCache[str, tuple[CompletionInput, str]] = LRUCache(maxsize=32)
        self._typing_gaps: deque[float] = deque(maxlen=30)
        self._last_edit_at: float | None = None
        self._unanswered_since: float | None = None  # first keystroke no request went out for
        self._ids = itertools.count(1)
        self._id_prefix = os.urandom(3).hex()
        self._tasks: set[asyncio.Future] = set()  # kept alive until done
        self._describing: dict[Any, asyncio.Future] = {}

    def cancel(self, document_key: str) -> None:
        """Cancel the in-flight request for a document (its text changed)."""
        task = self._inflight.pop(document_key, None)
        if task is not None and task is not asyncio.current_task() and not task.done():
            task.cancel()

    def document_changed(self, document_key: str, text: str | None = None) -> None:
        """Note a keystroke: the request in flight is stale, and typing speed is measured.

        The model answer it was streaming stays open only if the keystroke typed what that
        answer is generating (the next request takes it over); otherwise it is closed now.
        """
        gen = self._generations.get(document_key)
        if gen is not None and gen.running:
            gen.keep = text is not None and gen.typed_through(text)
            if not gen.keep:
                _stop(gen.task)
        self.cancel(document_key)
        now = self._clock()
        if self._last_edit_at is not None and now - self._last_edit_at < _TYPING_GAP_MAX:
            self._typing_gaps.append(now - self._last_edit_at)
        self._last_edit_at = now
        if self._unanswered_since is None:
            self._unanswered_since = now

    def debounce_seconds(self) -> float:
        """Return how long to wait before calling the model after a keystroke.

        A pause a little longer than this user's usual gap between keystrokes means they
        stopped typing; when the model answers faster than they type, a wasted request is
        cheap, so wait less.
        """
        cs = self._settings().completion
        low, high = cs.debounce_min_ms / 1000, max(cs.debounce_min_ms, cs.debounce_max_ms) / 1000
        if not self._typing_gaps:
            return low
        gap = statistics.median(self._typing_gaps)
        delay = 1.2 * gap
        if self.stats.latencies_ms and statistics.median(self.stats.latencies_ms) / 1000 < gap:
            delay /= 2
        return min(high, max(low, delay))

    def _keystroke_delay(self) -> tuple[float, bool]:
        """Return how long to wait before calling the model, and whether the user is typing
        steadily.

        The debounce waits for a pause; a user typing steadily faster than it never pauses,
        so, at most debounceMaxMs after the first keystroke that no request went out for,
        one goes out anyway, and it is kept through the next keystrokes until its first
        piece shows whether they typed what it writes. Its answer then appears mid-typing,
        as the user types through it.
        """
        delay = self.debounce_seconds()
        if self._unanswered_since is None:
            return delay, False
        cap = self._settings().completion.debounce_max_ms / 1000
        left = max(0.0, cap - (self._clock() - self._unanswered_since))
        return (left, True) if left < delay else (delay, False)

    async def complete(self, inp: CompletionInput, *, explicit: bool = False) -> Completion | None:
        """Return a suggestion for the cursor, or None; raise ModelError when the endpoint fails."""
        settings = self._settings()
        cs = settings.completion
        self.stats.requests += 1
        if not cs.enabled or any(name in cs.disabled_languages
                                 for name in (inp.language, inp.language_id) if name):
            return None
        if len(inp.text) > DEFAULT_MAX_FILE_BYTES:
            # A buffer the index would skip: only the cursor's surroundings are worked on.
            text, offset = window(inp.text, inp.offset, DEFAULT_MAX_FILE_BYTES)
            inp = dataclasses.replace(inp, text=text, offset=offset)
        if "\0" in inp.text:  # a binary file opened as text: nothing sensible to suggest
            return None
        if inp.path and not cs.allow_in_secret_files and not self._may_send(inp.path):
            return None  # a secret or ignored file: its text never leaves the machine
        # A newer request makes older ones stale: for this document, and for any other one,
        # since the user types in one place at a time. It also keeps streams from piling up
        # in the connection pool that chat needs too.
        for key in list(self._inflight):
            self.cancel(key)
        task = asyncio.current_task()
        if task is not None:
            self._inflight[inp.document_key] = task
        try:
            multiline = not cs.single_line_only and is_multiline(inp.text, inp.offset)
            cached = self._from_cache(inp, settings)
            if cached is not None:
                self.stats.cache_hits += 1
            else:
                cached = await self._from_generation(inp, settings)
                if cached is not None:
                    self.stats.typed_through_in_flight += 1
            if cached is not None:
                self._unanswered_since = None  # answered: the steady-typing clock restarts
                # The rest of a suggestion already shown keeps its lines, even where a fresh
                # request would only finish the line (after accepting its first line).
                return self._finish(cached, multiline=multiline or "\n" in cached, inp=inp,
                                    from_cache=True)
            if not explicit:
                if not self._endpoints.candidates():
                    self.stats.skipped_backoff += 1
                    return None
                # Cancelled here by the next keystroke, the request never reaches the model.
                delay, steady = self._keystroke_delay()
                await asyncio.sleep(delay)
            else:
                steady = False
            raw = await self._request(inp, settings, multiline, patient=steady)
            return self._finish(raw, multiline=multiline, inp=inp, from_cache=False)
        except asyncio.CancelledError:
            self.stats.cancelled += 1
            raise
        finally:
            if self._inflight.get(inp.document_key) is task:
                del self._inflight[inp.document_key]

    def _may_send(self, path: str) -> bool:
        context = self._context()
        return context.may_send(path) if context is not None else not is_secret_file(path)

    def accepted(self, completion_id: str) -> None:
        """Count an accepted suggestion and prefetch the next one where the cursor now is."""
        self.stats.accepted += 1
        shown = self._shown.pop(completion_id, None)
        if shown is None:
            return
        inp, text = shown
        after = dataclasses.replace(
            inp, text=inp.text[: inp.offset] + text + inp.text[inp.offset :],
            offset=inp.offset + len(text), received_at=None)
        settings = self._settings()
        if (inp.document_key in self._inflight or self._from_cache(after, settings) is not None
                or not self._endpoints.candidates()):
            return
        gen = self._generations.get(inp.document_key)
        if gen is not None and gen.running:
            if gen.typed_through(after.text, after.offset):
                return  # already generating what comes after the accepted text
            _stop(gen.task)
        self._spawn(self._prefetch(after, settings))

    async def _prefetch(self, inp: CompletionInput, settings: Settings) -> None:
        multiline = (not settings.completion.single_line_only
                     and is_multiline(inp.text, inp.offset))
        try:
            await self._request(inp, settings, multiline, prefetch=True)
        except ModelError as err:
            log.info("prefetch failed: %s", err.message)
            return
        except asyncio.CancelledError:
            return  # the user went elsewhere
        self.stats.prefetches += 1

    async def _from_generation(self, inp: CompletionInput, settings: Settings) -> str | None:
        """Wait for the answer in flight when the user has only typed what it is generating
        (a prefetch after acceptance, or a request an earlier keystroke left running)."""
        gen = self._generations.get(inp.document_key)
        if gen is None or not gen.running:
            return None
        typed = gen.anchor.typed_since(inp.text, inp.offset)
        if typed is None or gen.anchor.settings_key != settings.completion_key():
            return None  # asked for another place (or an older position): not for this one
        if not gen.agrees(typed):
            _stop(gen.task)  # the user typed something else: its answer is for nobody
            return None
        await self._wait(gen)
        return self._from_cache(inp, settings)

    async def _wait(self, gen: _Generation) -> None:
        """Wait for a model answer without cancelling it when this request is cancelled.

        Editors cancel a request as soon as the user types on (often before the keystroke
        arrives), so an answer left without a waiter lives a short grace period: long enough
        for the keystroke to show it is being typed through, and no longer.
        """
        assert gen.task is not None
        gen.waiters += 1
        gen.keep = False
        try:
            await asyncio.wait([gen.task])
        finally:
            gen.waiters -= 1
            if not gen.waiters and gen.running:
                asyncio.get_running_loop().call_later(_ORPHAN_GRACE_S, self._orphaned, gen)

    @staticmethod
    def _orphaned(gen: _Generation) -> None:
        if gen.task is not None and not gen.waiters and not gen.keep:
            _stop(gen.task)  # nobody asked for it again, and nobody typed through it

    def prompt_for(self, inp: CompletionInput, settings: Settings) -> str:
        """Return the FIM prompt the endpoint is sent for this cursor (`qwen-lsp context`
        prints it through here too, so what it shows is what the server sends)."""
        cs = settings.completion
        context = self._context()
        prefix_chars, suffix_chars, context_chars = fit_budgets(
            cs.prefix_chars, cs.suffix_chars, cs.context_chars, prompt_tokens=cs.prompt_tokens,
            answer_tokens=cs.max_tokens, meter=self._endpoints.primary.tokens)
        prefix, suffix = split_document(inp.text, inp.offset, prefix_chars, suffix_chars)
        files: Sequence[ContextFile] = ()
        if context is not None and inp.path:
            files = context.context_files(inp.path, inp.text, inp.offset, context_chars)
        suffix = fit_suffix(suffix, suffix_chars, prefix, files)
        # Keys pasted into the current file leave the machine no more than those elsewhere,
        # and repository text cannot inject control tokens: the one outgoing gate.
        return gate().fim_prompt(prefix, suffix, repo_name=inp.repo_name,
                                 current_path=inp.relative_path, context_files=files)

    async def _request(self, inp: CompletionInput, settings: Settings, multiline: bool,
                       *, prefetch: bool = False, patient: bool = False) -> str:
        """Ask the model for this cursor; the answer goes to the typed-through cache too."""
        self._unanswered_since = None
        cs = settings.completion
        await self._describe(self._endpoints.primary)  # its context size bounds the prompt
        prompt = self.prompt_for(inp, settings)
        request = CompletionRequest(
            prompt=prompt,
            model=cs.model,
            max_tokens=cs.max_tokens if multiline else min(cs.max_tokens,
                                                           _SINGLE_LINE_MAX_TOKENS),
            temperature=cs.temperature,
            stop=STOP_TOKENS,
        )
        gen = _Generation(_Entry.at(inp, settings), patient=patient)

        async def generate() -> str:
            raw = await self._generate(request, multiline, cs.max_lines, cs.timeout_ms,
                                       inp.received_at, gen.partial)
            # Only what can be shown is kept: the cache must never reveal more than that.
            raw = _limit_lines(raw, multiline, cs.max_lines)
            self._remember(inp, settings, raw)
            return raw

        old = self._generations.get(inp.document_key)
        if old is not None and old.task is not None:
            _stop(old.task)
        gen.task = task = asyncio.ensure_future(generate())
        self._generations[inp.document_key] = gen
        task.add_done_callback(lambda t: self._generation_done(inp.document_key, gen))
        if prefetch:
            return await task  # ahead of the user on purpose: no request waits for it yet
        await self._wait(gen)
        return task.result()

    async def _describe(self, member: Member) -> None:
        """Learn the endpoint's context size before its first prompt is built: asked once
        per endpoint, waited for briefly (the answer still lands for later prompts)."""
        if member.described:
            return
        task = self._describing.get(member.settings)
        if task is None or task.done():
            task = self._describing[member.settings] = asyncio.ensure_future(member.describe())
            task.add_done_callback(lambda t: t.cancelled() or t.exception())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(task), _DESCRIBE_WAIT_S)

    def _generation_done(self, document_key: str, gen: _Generation) -> None:
        if self._generations.get(document_key) is gen:
            del self._generations[document_key]
        task = gen.task
        if task is not None and not task.cancelled():
            task.exception()  # a failure nobody waited for any more is not an error to log

    async def _generate(
        self,
        request: CompletionRequest,
        multiline: bool,
        max_lines: int,
        timeout_ms: int,
        received_at: float | None,
        progress: list[str] | None = None,
    ) -> str:
        if received_at is not None:
            self.stats.overheads_ms.append((self._clock() - received_at) * 1000)

        async def attempt(member: Member) -> str:
            self.stats.model_requests += 1
            started = self._clock()
            try:
                if progress is not None:
                    progress.clear()
                text = await _stream(member.client, dataclasses.replace(
                    request, model=member.settings.completion_model),
                    multiline, max_lines, timeout_ms, progress)
            except ModelError as err:
                self.stats.errors += 1
                if (found := _CONTEXT_EXCEEDED.search(err.message)) is not None:
                    member.tokens.max_context = int(found[1])  # the next prompt fits
                raise
            self.stats.latencies_ms.append((self._clock() - started) * 1000)
            if member.tokens.due():
                self._calibrate(member, request.prompt)
            return text

        return await self._endpoints.run(attempt, timed=True)

    def _calibrate(self, member: Member, prompt: str) -> None:
        """Measure characters per token on the prompt just sent, in the background."""
        self._spawn(member.tokens.calibrate(member.client, prompt,
                                            member.settings.completion_model))

    def _spawn(self, coro: Coroutine[Any, Any, object]) -> None:
        """Run a coroutine in the background, holding on to it until it ends."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _finish(self, raw: str, *, multiline: bool, inp: CompletionInput,
                from_cache: bool) -> Completion | None:
        max_lines = self._settings().completion.max_lines
        try:
            # Accepted, a suggestion is written into the file: no placeholder may go with it.
            text = restore(_limit_lines(raw, multiline, max_lines), inp.text)
        except Unrestorable:
            self.stats.empty += 1
            return None
        try:
            result = postprocess(text, PostContext(
                prefix=inp.text[: inp.offset],
                suffix=inp.text[inp.offset :],
                language=inp.language,
                multiline=multiline,
                max_lines=max_lines,
                tab_size=inp.tab_size,
                insert_spaces=inp.insert_spaces,
                document_key=inp.document_key,
            ))
        except Exception:
            # A bug in a cleanup rule must not cost the user the suggestion or the server.
            log.exception("post-processing failed; showing the suggestion as generated")
            result = PostResult(text, ["postprocess_error"])
        for rule in result.rule_hits:
            self.stats.rule_hits[rule] = self.stats.rule_hits.get(rule, 0) + 1
        if not result.text.strip():
            self.stats.empty += 1
            return None
        completion = Completion(f"{self._id_prefix}-{next(self._ids)}", result.text, from_cache)
        self._shown[completion.id] = (inp, completion.text)
        return completion

    # -- typed-through cache ---------------------------------------------------------
    def _remember(self, inp: CompletionInput, settings: Settings, raw: str) -> None:
        if not raw.strip():
            return
        entries = self._cache.get(inp.document_key)
        if entries is None:
            entries = self._cache[inp.document_key] = deque(maxlen=8)
        entries.append(_Entry.at(inp, settings, raw))

    def _from_cache(self, inp: CompletionInput, settings: Settings) -> str | None:
        """Return the rest of a cached suggestion the user has been typing through."""
        entries = self._cache.get(inp.document_key)
        if not entries:
            return None
        key = settings.completion_key()
        for entry in reversed(entries):
            if entry.settings_key != key:
                continue
            typed = entry.typed_since(inp.text, inp.offset)
            if typed is not None and len(typed) < len(entry.text) and entry.text.startswith(
                    typed):
                return entry.text[len(typed):]
        return None


def _stop(task: asyncio.Future) -> None:
    """Cancel a model answer once. A second cancellation that lands while the first unwinds
    through httpx can leave the connection open, and the model generating (seen in tests)."""
    if not task.done() and not (isinstance(task, asyncio.Task) and task.cancelling()):
        task.cancel()


async def _stream(
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


def _limit_lines(text: str, multiline: bool, max_lines: int) -> str:
    if not multiline:
        return text.split("\n", 1)[0]
    return "\n".join(text.split("\n")[:max_lines])
