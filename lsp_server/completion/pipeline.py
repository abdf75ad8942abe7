"""The inline-completion flow: reuse, cancel the stale request, prompt, stream, clean up.

The coordinator of the completion modules: `reuse` (typed-through cache, answers in
flight), `debounce` (when to call the model), `request` (what to ask), `stream` (reading the
answer), `postprocess` (cleaning it up) and `stats` (counters for `qwen/stats`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import logging
import os
import re
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from cachetools import LRUCache

from lsp_server.completion.debounce import TypingPace
from lsp_server.completion.postprocess import PostContext, PostResult, postprocess
from lsp_server.completion.request import ContextSource, RequestBuilder, is_multiline
from lsp_server.completion.reuse import AnswerReuse
from lsp_server.completion.stats import Stats
from lsp_server.completion.stream import limit_lines, stream_answer
from lsp_server.context.scanner import DEFAULT_MAX_FILE_BYTES, is_secret_file
from lsp_server.model.dialects import CompletionRequest
from lsp_server.model.errors import ModelError
from lsp_server.model.pool import EndpointPool, Member
from lsp_server.outbound import Unrestorable, restore
from lsp_server.positions import window
from lsp_server.settings import Settings

log = logging.getLogger(__name__)

# llama.cpp's answer to a prompt over its context: `... exceeds the available context size
# (1024 tokens) ...`; the size it names caps later prompts, should /props have been missed.
_CONTEXT_EXCEEDED = re.compile(r"exceeds the available context size \((\d+) tokens\)")


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
        self._reuse = AnswerReuse()
        self._pace = TypingPace(clock)
        self._request_builder = RequestBuilder(endpoints, context)
        self._inflight: dict[str, asyncio.Task] = {}
        self._shown: LRUCache[str, tuple[CompletionInput, str]] = LRUCache(maxsize=32)
        self._ids = itertools.count(1)
        self._id_prefix = os.urandom(3).hex()
        self._tasks: set[asyncio.Future] = set()  # kept alive until done

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
        self._reuse.document_changed(document_key, text)
        self.cancel(document_key)
        self._pace.keystroke()

    def debounce_seconds(self) -> float:
        """Return how long to wait before calling the model after a keystroke."""
        return self._pace.debounce_seconds(self._settings().completion, self.stats.latencies_ms)

    def _keystroke_delay(self) -> tuple[float, bool]:
        """Return how long to wait before calling the model, and whether the user is typing
        steadily (see `TypingPace.keystroke_delay`)."""
        return self._pace.keystroke_delay(self._settings().completion, self.stats.latencies_ms)

    @property
    def _unanswered_since(self) -> float | None:
        """When the first keystroke no request went out for was typed (None: there is none);
        tests set it to start the steady-typing clock afresh."""
        return self._pace.unanswered_since

    @_unanswered_since.setter
    def _unanswered_since(self, value: float | None) -> None:
        self._pace.unanswered_since = value

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
            cached = self._reuse.from_cache(inp, settings)
            if cached is not None:
                self.stats.cache_hits += 1
            else:
                cached = await self._reuse.from_generation(inp, settings)
                if cached is not None:
                    self.stats.typed_through_in_flight += 1
            if cached is not None:
                self._pace.answered()  # answered: the steady-typing clock restarts
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
        if (inp.document_key in self._inflight
                or self._reuse.from_cache(after, settings) is not None
                or not self._endpoints.candidates()):
            return
        if self._reuse.generating(after):
            return  # already generating what comes after the accepted text
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

    def prompt_for(self, inp: CompletionInput, settings: Settings) -> str:
        """Return the FIM prompt the endpoint is sent for this cursor (`qwen-lsp context`
        prints it through here too, so what it shows is what the server sends)."""
        return self._request_builder.prompt_for(inp, settings)

    async def _request(self, inp: CompletionInput, settings: Settings, multiline: bool,
                       *, prefetch: bool = False, patient: bool = False) -> str:
        """Ask the model for this cursor; the answer goes to the typed-through cache too."""
        self._pace.answered()
        cs = settings.completion
        request = await self._request_builder.request_for(inp, settings, multiline)

        async def produce(progress: list[str]) -> str:
            raw = await self._generate(request, multiline, cs.max_lines, cs.timeout_ms,
                                       inp.received_at, progress)
            # Only what can be shown is kept: the cache must never reveal more than that.
            return limit_lines(raw, multiline, cs.max_lines)

        return await self._reuse.generate(inp, settings, produce, patient=patient,
                                          prefetch=prefetch)

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
                text = await stream_answer(member.client, dataclasses.replace(
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
            text = restore(limit_lines(raw, multiline, max_lines), inp.text)
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
