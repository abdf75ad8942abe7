"""Next-edit predictions: history in, prompt out, model answer back to the smallest edits.

One instance per server. A newer request (or a change to the document) cancels the model
request in flight; the inline-completion bridge shares the prediction of the same cursor
instead of asking the model twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import logging
import os
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from cachetools import LRUCache

from lsp_server.completion.stats import percentiles
from lsp_server.context.scanner import is_secret_path
from lsp_server.edits import TextChange, apply_changes
from lsp_server.model.dialects import ChatRequest, CompletionRequest
from lsp_server.model.errors import ErrorKind, ModelError
from lsp_server.model.pool import EndpointPool, Member
from lsp_server.nextedit.formats import (
    ModelPrompt,
    NextEditInput,
    get_format,
)
from lsp_server.nextedit.history import EditHistory, Hunk
from lsp_server.nextedit.parse import region_changes, syntax_errors
from lsp_server.nextedit.region import Region, choose_region
from lsp_server.outbound import gate
from lsp_server.prompt import ContextFile
from lsp_server.settings import NextEditSettings, Settings

log = logging.getLogger(__name__)

_CHARS_PER_TOKEN = 3.0  # rough, for bounding the region the model must write back
_CONTEXT_CHARS = 3000  # cross-file context, for the formats that have room for it
_MAX_ANSWER_CHARS = 40_000
REFUSED_FILE = "secret or ignored file: its text is never sent"


@dataclass(frozen=True)
class NextEditRequest:
    """A request for the next edit at a cursor."""

    key: str  # the document's URI
    text: str
    version: int | None
    offset: int
    path: str | None = None  # on disk, when it is a file
    rel: str = "untitled"  # as the model sees it
    language: str | None = None
    received_at: float | None = None
    explicit: bool = False


@dataclass(frozen=True)
class NextEdit:
    """Replace text[start:end] of the request's text with `text`."""

    id: str
    start: int
    end: int
    text: str


@dataclass
class Prediction:
    """The edits predicted for one request (empty: nothing to suggest)."""

    request: NextEditRequest
    edits: list[NextEdit]
    prompt: ModelPrompt | None = None
    region: Region | None = None
    answer: str = ""
    dropped: str = ""  # why the answer gave no edit
    refused: str = ""  # why no request for this document is ever sent (its file may not be)


@dataclass
class NextEditStats:
    """Counters for `qwen/stats` (key `nextEdit`)."""

    requests: int = 0
    model_requests: int = 0
    shared: int = 0
    cancelled: int = 0
    errors: int = 0
    suggested: int = 0
    shown: int = 0
    accepted: int = 0
    rejected: int = 0
    rejected_reasons: dict[str, int] = field(default_factory=dict)
    dropped: dict[str, int] = field(default_factory=dict)
    overheads_ms: deque[float] = field(default_factory=lambda: deque(maxlen=1000))

    def as_dict(self) -> dict[str, Any]:
        return {"requests": self.requests, "modelRequests": self.model_requests,
                "shared": self.shared, "cancelled": self.cancelled, "errors": self.errors,
                "suggested": self.suggested, "shown": self.shown, "accepted": self.accepted,
                "rejected": self.rejected, "rejectedReasons": dict(self.rejected_reasons),
                "dropped": dict(self.dropped),
                "overheadMs": percentiles(self.overheads_ms)}


@dataclass
class _Shared:
    """A prediction in flight and how many requests wait for it."""

    task: asyncio.Task
    waiters: int = 0


class NextEditService:
    """Turns a cursor and the user's recent edits into suggested edits."""

    def __init__(
        self,
        pool: Callable[[], EndpointPool],
        settings: Callable[[], Settings],
        *,
        context: Callable[[], Any] = lambda: None,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self._pool = pool
        self._settings = settings
        self._context = context
        self._clock = clock
        self.history = EditHistory()
        self.stats = NextEditStats()
        self._inflight: dict[str, asyncio.Task] = {}
        self._shared: dict[tuple[str, int | None, int], _Shared] = {}
        self._texts: dict[str, str] = {}  # open documents as of their last change
        self._offered: LRUCache[str, tuple[str, int | None]] = LRUCache(maxsize=64)
        self._ids = itertools.count(1)
        self._id_prefix = os.urandom(3).hex()

    @property
    def settings(self) -> NextEditSettings:
        return self._settings().next_edit

    # -- what leaves the machine ------------------------------------------------------
    def outgoing(self, text: str) -> str:
        """The one gate every piece of next-edit prompt text passes: key-shaped strings
        redacted, Qwen control tokens and the formats' markers neutralised."""
        return gate().text(text)  # every `<|name|>`, the formats' markers included

    def may_send(self, path: str | None) -> bool:
        """Return whether a file's text may leave the machine (secret and ignored: no)."""
        if path is None:
            return True
        context = self._context()
        try:
            return bool(context.may_send(path)) if context is not None else (
                not is_secret_path(path))
        except Exception:  # when unsure, send nothing
            log.exception("may_send failed for %s", path)
            return False

    # -- document events ----------------------------------------------------------------
    def document_opened(self, key: str, text: str) -> None:
        """Remember an opened document's text: its next change is diffed against it (also
        while next edits are off: settings often arrive after the first documents)."""
        self._texts[key] = text

    def remember(self, key: str, text: str) -> None:
        """Note a document's new text without recording an edit (next edits are off)."""
        self.cancel(key)
        if key in self._texts:
            self._texts[key] = text

    def document_changed(self, key: str, path: str | None, rel: str, after: str) -> None:
        """Record the user's edit and cancel what was being predicted for the old text."""
        self.cancel(key)
        before = self._texts.get(key)
        self._texts[key] = after
        if before is None or "\0" in after:
            return
        if not self.may_send(path):
            self.history.forget(key)
            return
        self.history.record(key, rel, before, after)

    def document_closed(self, key: str) -> None:
        """Stop predicting for a closed document (its edits stay in the history)."""
        self.cancel(key)
        self._texts.pop(key, None)

    def cancel(self, key: str) -> None:
        """Cancel the prediction in flight for a document."""
        task = self._inflight.pop(key, None)
        if task is not None and task is not asyncio.current_task() and not task.done():
            task.cancel()

    # -- predicting -----------------------------------------------------------------------
    def enabled(self) -> bool:
        return self.settings.enabled

    async def predict(self, req: NextEditRequest) -> Prediction:
        """Return the predicted edits for a cursor; raise ModelError when the endpoint fails.

        A request for the same document version and cursor as one in flight (the inline
        completion and the next-edit request of one keystroke) shares its model request.
        """
        self.stats.requests += 1
        key = (req.key, req.version, req.offset)
        shared = self._shared.get(key)
        if shared is not None and (not shared.task.done() or (
                not shared.task.cancelled() and shared.task.exception() is None)):
            # In flight, or answered already for this very text and cursor.
            self.stats.shared += 1
        else:
            for other in list(self._inflight):
                self.cancel(other)  # the user types in one place at a time
            task = asyncio.ensure_future(self._predict(req))
            shared = _Shared(task)
            self._shared = {key: shared}
            self._inflight[req.key] = task
            task.add_done_callback(lambda t: self._done(req.key, t))
        shared.waiters += 1
        try:
            return await asyncio.shield(shared.task)
        except asyncio.CancelledError:
            self.stats.cancelled += 1
            me = asyncio.current_task()
            if me is not None and me.cancelling():
                raise  # this request was cancelled ($/cancelRequest)
            # The text changed, or a newer request replaced this one: an answer, empty.
            return self._drop(Prediction(req, []), "superseded")
        finally:
            shared.waiters -= 1
            # Cancelled ($/cancelRequest): the model request goes too, unless another
            # request still waits for the same prediction.
            if not shared.waiters and not shared.task.done():
                shared.task.cancel()

    def _done(self, key: str, task: asyncio.Task) -> None:
        if self._inflight.get(key) is task:
            del self._inflight[key]
        if not task.cancelled():
            task.exception()  # retrieved: a failure nobody awaited is not logged twice

    def prepare(self, req: NextEditRequest) -> tuple[NextEditInput, ModelPrompt] | None:
        """Build the format's input and prompt for a request (None: nothing may be sent)."""
        ns = self.settings
        if "\0" in req.text or not self.may_send(req.path):
            return None
        max_chars = int(ns.max_tokens * _CHARS_PER_TOKEN * 0.8)
        region = choose_region(req.text, req.offset, language=req.language,
                               region_lines=ns.region_lines, max_chars=max_chars)
        region_text = req.text[region.start : region.end]
        if self.outgoing(region_text) != region_text:
            return None  # the model would write back redacted text over the user's own
        hunks = self.history.hunks()
        last = self.history.last(req.key)
        original = self._original_region(req.text, region, last)
        fmt = get_format(ns.format)
        # Paths reach the prompt too (a file name can hold `<|file_sep|>`): they pass the gate
        # here, once, for every format; the formats gate the texts they place.
        clean = gate().path
        inp = NextEditInput(
            path=clean(req.rel), language=req.language, text=req.text, offset=req.offset,
            region=region, original_region=original,
            history=[dataclasses.replace(h, path=clean(h.path)) for h in hunks],
            context_files=[ContextFile(clean(cf.path), cf.text) for cf in
                           (self._context_files(req) if fmt.name != "zeta" else ())],
            gate=self.outgoing)
        return inp, fmt.build(inp)

    @staticmethod
    def _original_region(text: str, region: Region, last: Hunk | None) -> str:
        """Return the region as it was before the user's last edit inside it."""
        current = text[region.start : region.end]
        if last is None or not (region.start_line <= last.line < region.end_line):
            return current
        rows = current.splitlines(keepends=True)
        at = last.line - region.start_line
        count = last.new.count("\n") + (0 if last.new.endswith("\n") or not last.new else 1)
        if "".join(rows[at : at + count]) != last.new:
            return current
        return "".join(rows[:at]) + last.old + "".join(rows[at + count :])

    def _context_files(self, req: NextEditRequest) -> Sequence[ContextFile]:
        context = self._context()
        if context is None or req.path is None:
            return ()
        try:
            files = context.context_files(req.path, req.text, req.offset, _CONTEXT_CHARS)
        except Exception:  # context is an enhancement
            log.exception("repository context failed for %s", req.path)
            return ()
        return [f for f in files if not is_secret_path(f.path)]

    async def _predict(self, req: NextEditRequest) -> Prediction:
        ns = self.settings
        if not self.may_send(req.path):
            # Final for this file, unlike a region holding key-shaped text: clients stop asking.
            return self._drop(Prediction(req, [], refused=REFUSED_FILE), "not_sendable")
        prepared = self.prepare(req)
        if prepared is None:
            return self._drop(Prediction(req, []), "not_sendable")
        inp, prompt = prepared
        if not req.explicit and ns.debounce_ms:
            if req.received_at is not None:
                self.stats.overheads_ms.append((self._clock() - req.received_at) * 1000)
            await asyncio.sleep(ns.debounce_ms / 1000)  # a keystroke cancels it here
        elif req.received_at is not None:
            self.stats.overheads_ms.append((self._clock() - req.received_at) * 1000)
        answer = await self._ask(prompt, ns)
        return self.finish(req, inp, prompt, answer)

    def finish(self, req: NextEditRequest, inp: NextEditInput, prompt: ModelPrompt,
               answer: str) -> Prediction:
        """Turn a model answer into edits, or into a reason to show nothing."""
        pred = Prediction(req, [], prompt, inp.region, answer)
        fmt = get_format(self.settings.format)
        region_text = inp.region_text
        try:
            new = fmt.parse(answer, inp)
        except Exception:  # a parse bug costs the suggestion, never the server
            log.exception("could not read the next-edit answer")
            new = None
        if new is None or (not new.strip() and region_text.strip()):
            return self._drop(pred, "empty")
        if new == region_text:
            return self._drop(pred, "no_op")
        changes = region_changes(region_text, new, inp.region.start)
        if not changes:
            return self._drop(pred, "no_op")
        after = apply_changes(req.text, changes)
        if self._undoes_last(req, after):
            return self._drop(pred, "undo")
        if self._breaks_syntax(req, inp.region, after, new):
            return self._drop(pred, "syntax")
        # One edit per prediction: the smallest range covering every change, so that the
        # editor applies it in one step against the version it names.
        start, end = changes[0].start, changes[-1].end
        pred.edits = [NextEdit(f"{self._id_prefix}-{next(self._ids)}", start, end,
                               after[start : end + len(after) - len(req.text)])]
        self.stats.suggested += 1
        for edit in pred.edits:
            self._offered[edit.id] = (req.key, req.version)
        return pred

    def _drop(self, pred: Prediction, reason: str) -> Prediction:
        pred.dropped = reason
        self.stats.dropped[reason] = self.stats.dropped.get(reason, 0) + 1
        return pred

    def _undoes_last(self, req: NextEditRequest, after: str) -> bool:
        last = self.history.last(req.key)
        return last is not None and self.history.before_last(req.key, req.text) == after

    @staticmethod
    def _breaks_syntax(req: NextEditRequest, region: Region, after: str, new: str) -> bool:
        """Return whether the edit adds syntax errors around the region that parsed before."""
        lo = req.text.rfind("\n", 0, max(0, region.start - 4000)) + 1
        hi_old = req.text.find("\n", region.end + 4000)
        hi_old = len(req.text) if hi_old < 0 else hi_old
        delta = len(after) - len(req.text)
        before_errors = syntax_errors(req.text[lo:hi_old], req.language)
        if not before_errors and before_errors is not None:
            after_errors = syntax_errors(after[lo : hi_old + delta], req.language)
            return bool(after_errors)
        return False

    async def _ask(self, prompt: ModelPrompt, ns: NextEditSettings) -> str:
        """Send the prompt to the next-edit endpoints (with failover); return the answer."""

        async def attempt(member: Member) -> str:
            self.stats.model_requests += 1
            model = ns.model or (member.settings.chat_model if prompt.kind == "chat"
                                 else member.settings.completion_model)
            pieces: list[str] = []
            try:
                async with asyncio.timeout(ns.timeout_ms / 1000):
                    if prompt.kind == "completion":
                        stream = member.client.stream_completion(CompletionRequest(
                            prompt.prompt, model, ns.max_tokens, 0.0, prompt.stop))
                        async with contextlib.aclosing(stream):
                            async for piece in stream:
                                pieces.append(piece)
                                _check_size(pieces, member)
                    else:
                        chat = member.client.stream_chat(ChatRequest(
                            prompt.messages, model, ns.max_tokens, 0.0, thinking=False))
                        async with contextlib.aclosing(chat):
                            async for delta in chat:
                                if not delta.reasoning:
                                    pieces.append(delta.text)
                                    _check_size(pieces, member)
            except TimeoutError:
                ep = member.settings
                raise ModelError(ErrorKind.TIMEOUT,
                                 f"{ep.provider} endpoint {ep.base_url} gave no next edit "
                                 f"within {ns.timeout_ms} ms") from None
            except ModelError:
                self.stats.errors += 1
                raise
            return "".join(pieces)

        return await self._pool().run(attempt)

    # -- what the editor did with a suggestion ---------------------------------------------
    def accepted(self, edit_id: str) -> None:
        """Count an accepted suggestion."""
        self.stats.accepted += 1
        self._offered.pop(edit_id, None)

    def shown(self, edit_id: str) -> None:
        """Count a suggestion the editor showed."""
        self.stats.shown += 1

    def rejected(self, edit_id: str, reason: str | None) -> None:
        """Count a suggestion the user dismissed (or typed over, or that a newer replaced)."""
        self.stats.rejected += 1
        key = reason or "dismissed"
        self.stats.rejected_reasons[key] = self.stats.rejected_reasons.get(key, 0) + 1
        self._offered.pop(edit_id, None)


def _check_size(pieces: list[str], member: Member) -> None:
    if sum(len(p) for p in pieces) > _MAX_ANSWER_CHARS:
        raise ModelError(ErrorKind.BAD_RESPONSE,
                         f"{member.label} sent a runaway next-edit answer; ignored")


def changes_of(edits: Sequence[NextEdit]) -> list[TextChange]:
    """Return next edits as text changes (for applying them in tests and benchmarks)."""
    return [TextChange(e.start, e.end, e.text) for e in edits]

