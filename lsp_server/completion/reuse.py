"""Answers the user types through: the typed-through cache and the answers in flight.

Per document: finished answers (the typed-through cache) and ones still streaming
(generations in flight, which outlive the request that started them while the user types
what they generate).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from cachetools import TTLCache

from lsp_server.settings import Settings

if TYPE_CHECKING:
    from lsp_server.completion.pipeline import CompletionInput

_CACHE_TAIL = 2000
_ORPHAN_GRACE_S = 0.25  # an answer nobody waits for is closed after this, unless typed through
_PATIENT_CHARS = 16  # keystrokes a steady-typing answer waits through before its first piece


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


class AnswerReuse:
    """The typed-through cache and the model answers in flight, per document."""

    def __init__(self) -> None:
        self._cache: TTLCache[str, deque[_Entry]] = TTLCache(maxsize=256, ttl=600)
        self._generations: dict[str, _Generation] = {}

    def document_changed(self, document_key: str, text: str | None) -> None:
        """Keep the answer the document is streaming open only if the keystroke typed what
        it is generating (the next request takes it over); otherwise close it now."""
        gen = self._generations.get(document_key)
        if gen is not None and gen.running:
            gen.keep = text is not None and gen.typed_through(text)
            if not gen.keep:
                _stop(gen.task)

    def generating(self, inp: CompletionInput) -> bool:
        """Return whether the document's answer in flight is already generating what comes
        at this cursor; one generating something else is closed."""
        gen = self._generations.get(inp.document_key)
        if gen is None or not gen.running:
            return False
        if gen.typed_through(inp.text, inp.offset):
            return True
        _stop(gen.task)
        return False

    async def generate(self, inp: CompletionInput, settings: Settings,
                       produce: Callable[[list[str]], Awaitable[str]], *,
                       patient: bool = False, prefetch: bool = False) -> str:
        """Run `produce` (which appends each streamed piece to the list it is given) as this
        document's answer in flight, in place of any older one; the answer goes to the
        typed-through cache too."""
        gen = _Generation(_Entry.at(inp, settings), patient=patient)

        async def generate() -> str:
            raw = await produce(gen.partial)
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

    async def from_generation(self, inp: CompletionInput, settings: Settings) -> str | None:
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
        return self.from_cache(inp, settings)

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

    def _generation_done(self, document_key: str, gen: _Generation) -> None:
        if self._generations.get(document_key) is gen:
            del self._generations[document_key]
        task = gen.task
        if task is not None and not task.cancelled():
            task.exception()  # a failure nobody waited for any more is not an error to log

    # -- typed-through cache ---------------------------------------------------------
    def _remember(self, inp: CompletionInput, settings: Settings, raw: str) -> None:
        if not raw.strip():
            return
        entries = self._cache.get(inp.document_key)
        if entries is None:
            entries = self._cache[inp.document_key] = deque(maxlen=8)
        entries.append(_Entry.at(inp, settings, raw))

    def from_cache(self, inp: CompletionInput, settings: Settings) -> str | None:
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
