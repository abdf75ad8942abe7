"""RepoContext: the repository context engine the server owns (index, buffers, retrieval)."""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from cachetools import LRUCache

from lsp_server.affixes import common_prefix, common_suffix
from lsp_server.context.chunks import WINDOW_LINES
from lsp_server.context.files import read_text_or_none
from lsp_server.context.index import BuildStats, FileEntry, RepoIndex
from lsp_server.context.languages import language_for_path
from lsp_server.context.redact import redact
from lsp_server.context.retrieve import (
    WINDOW_LINES_ABOVE,
    WINDOW_LINES_BELOW,
    ContextBlock,
    RecentEdit,
    Retriever,
    Snippet,
    context_cost,
    typed_receiver,
)
from lsp_server.context.scanner import (
    DEFAULT_MAX_FILE_BYTES,
    content_skip_reason,
    is_secret_file,
)
from lsp_server.context.symbols import FileSymbols, extract
from lsp_server.context.windows import whole_units
from lsp_server.positions import newline_above, newline_below, window
from lsp_server.prompt import ContextFile

log = logging.getLogger(__name__)

REPARSE_DELAY_S = 0.2
MAX_RECENT_EDITS = 24


@dataclass
class _OpenDoc:
    text: str
    language: str | None
    symbols: FileSymbols | None = None
    parsed_text: str | None = None
    handle: asyncio.TimerHandle | None = None


@dataclass
class Explained:
    """The context chosen for one cursor, with what the CLI's --json shows."""

    files: list[ContextFile]
    snippets: list[Snippet]
    timings_ms: dict[str, float] = field(default_factory=dict)
    blocks: list[ContextBlock] = field(default_factory=list)  # what `files` was made from


@dataclass
class _Epoch:
    """The context of a stretch of editing in one file: grown, never rewritten, while the
    cursor stays near where it started, so the prompt's cached prefix stays valid."""

    line: int
    budget: int
    blocks: list[ContextBlock]
    entries: dict[str, FileEntry | None]  # path -> the index entry its block came from
    config_version: int = 0  # the index's import configuration it was chosen under


def changed_lines(old: str, new: str) -> tuple[int, int]:
    """Return the first and last line of `new` that differ from `old` (0-based, inclusive)."""
    prefix = common_prefix(old, new)
    lo = common_suffix(old, new, min(len(old), len(new)) - prefix)
    start = new.count("\n", 0, prefix)
    end = new.count("\n", 0, max(prefix, len(new) - lo))
    return start, end


def keep_order(previous: Sequence[ContextFile], current: Sequence[ContextFile]
               ) -> list[ContextFile]:
    """Return `current` with the blocks unchanged since `previous` first, in their old order,
    then the new or changed ones in their own order."""
    now = set(current)
    kept = [f for f in previous if f in now]
    seen = set(kept)
    return kept + [f for f in current if f not in seen]


# Within this many lines of where a stretch of editing started, a file's context only grows:
# it starts at a share of the budget and is chosen afresh once nearly full.
STICKY_LINES = 40
EPOCH_START_SHARE = 0.75
EPOCH_FULL_SHARE = 0.92


class RepoContext:
    """Index the workspace in the background and answer context queries for cursors."""

    def __init__(
        self,
        roots: list[str],
        *,
        cache_dir: str | None = None,
        max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
        max_files: int = 50_000,
        workers: int = 2,
        persist: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.index = RepoIndex(roots, cache_dir=cache_dir, max_file_bytes=max_file_bytes,
                               max_files=max_files, persist=persist)
        self.retriever = Retriever(self.index, self._chunk_text)
        self.workers = workers
        self.clock = clock
        self.stats: BuildStats | None = None
        self.ready = False
        self._open: dict[str, _OpenDoc] = {}
        # Open buffers the index leaves out, as it leaves such files on disk out: too large.
        self._oversize: set[str] = set()
        self._recent: deque[RecentEdit] = deque(maxlen=MAX_RECENT_EDITS)
        # Disk refreshes after file events run here, one at a time, off the event loop.
        self._maintenance = ThreadPoolExecutor(max_workers=1, thread_name_prefix="qwen-index")
        # Open buffers are re-parsed here after a pause (tens of ms for a large file), so
        # that the event loop stays free for the completion request the pause brings.
        self._reparser = ThreadPoolExecutor(max_workers=1, thread_name_prefix="qwen-reparse")
        self._closed = False
        self._follow_disk = False  # whether poll_disk will be asked for changes
        # Blocks repeat from keystroke to keystroke: redact each distinct text once.
        self._redacted: LRUCache[str, str] = LRUCache(maxsize=512)
        # Answers by cursor surroundings (see _result_key), and edit counters that key them.
        self._results: LRUCache[tuple, Explained] = LRUCache(maxsize=64)
        self._edits: dict[str, int] = {}
        self._edits_total = 0
        # Window texts of files not open, for similar-code snippets: read off the hot path
        # (a miss is read in the background for the next request) unless reads may block.
        self._chunks: LRUCache[tuple[str, int, str], str] = LRUCache(maxsize=256)
        self._chunk_reads: set[tuple[str, int, str]] = set()
        self._chunk_lock = threading.Lock()  # the cache is filled from the maintenance thread
        # The context last given for each file, in the order it was given, and the stretch
        # of editing it belongs to.
        self._last_given: list[ContextFile] = []
        self._epochs: LRUCache[str, _Epoch] = LRUCache(maxsize=64)
        self.blocking_reads = False
        self.last_explained: Explained | None = None  # what context_files last chose

    # --- lifecycle ----------------------------------------------------------------------------

    async def build(self, report: Callable[[int, int], None]) -> None:
        """Build or refresh the index in the background, reporting (files done, total)."""
        loop = asyncio.get_running_loop()

        def threadsafe_report(done: int, total: int) -> None:
            if not loop.is_closed():
                loop.call_soon_threadsafe(report, done, total)

        def run() -> BuildStats:
            # The index starts a process pool only when there is enough to parse.
            stats = self.index.build(threadsafe_report, workers=self.workers)
            if self._follow_disk:
                self.index.changes_on_disk()  # what later looks compare with
            return stats

        try:
            self.stats = await loop.run_in_executor(self._maintenance, run)
        except asyncio.CancelledError:
            self.index.cancel()
            raise
        self.ready = True
        log.info("index ready: %s", self.stats.as_dict())
        # Similar code from the whole repository comes after, without holding anything up.
        self._background(self._fill_chunks)

    def _background(self, fn: Callable[..., object], *args: object) -> None:
        """Run fn on the maintenance thread, unless the engine is closing."""
        try:
            self._maintenance.submit(fn, *args)
        except RuntimeError:  # shut down meanwhile
            pass

    def _fill_chunks(self) -> None:
        started = time.perf_counter()
        windows = self.index.fill_chunks()
        log.info("similar-code index ready: %d windows in %.2f s", windows,
                 time.perf_counter() - started)

    def build_sync(self, report: Callable[[int, int], None] | None = None) -> BuildStats:
        """Build or refresh the index in this thread (CLI and benchmarks)."""
        self.stats = self.index.build(report, workers=self.workers)
        self.ready = True
        self.blocking_reads = True  # one-shot callers (CLI, benchmarks) wait for what they need
        return self.stats

    def close(self) -> None:
        """Stop background work and close the persistent index."""
        if self._closed:
            return
        self._closed = True
        self.index.cancel()
        for doc in self._open.values():
            if doc.handle is not None:
                doc.handle.cancel()
        self._reparser.shutdown(wait=True, cancel_futures=True)
        self._maintenance.shutdown(wait=True, cancel_futures=True)
        self.index.close()

    # --- documents ----------------------------------------------------------------------------

    def document_oversize(self, path: str) -> None:
        """Note that an open buffer is too large for the index (its text is not given)."""
        self._set_oversize(os.path.abspath(path))

    def document_changed(self, path: str, text: str) -> None:
        """Record an open buffer's new text; it wins over disk. Reparses after a short pause."""
        path = os.path.abspath(path)
        if len(text) > self.index.max_file_bytes:
            self._set_oversize(path)
            return
        self._oversize.discard(path)
        doc = self._open.get(path)
        if doc is not None and doc.text == text:
            return
        allowed = self.may_send(path)
        if doc is None:
            doc = self._open[path] = _OpenDoc(text, language_for_path(path))
            self._edits[path] = self._edits.get(path, 0) + 1
            self._edits_total += 1
        else:
            if allowed:  # never remember edits of secret or ignored files
                start, end = changed_lines(doc.text, text)
                self._note_edit(path, start, end)
            self._edits[path] = self._edits.get(path, 0) + 1
            self._edits_total += 1
            doc.text = text
        if doc.language is None or not allowed:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._reparse(path)
            return
        if doc.handle is not None:
            doc.handle.cancel()
        doc.handle = loop.call_later(REPARSE_DELAY_S, self._reparse_in_background, path, loop)

    def _reparse_in_background(self, path: str, loop: asyncio.AbstractEventLoop) -> None:
        """Re-parse an open buffer on the reparse thread; adopt its symbols on the loop."""
        doc = self._open.get(path)
        if doc is None or doc.language is None or self._closed:
            return
        doc.handle = None
        if doc.parsed_text is doc.text and doc.symbols is not None:
            return
        text, language = doc.text, doc.language

        def parsed(future: Future[FileEntry]) -> None:
            if not future.cancelled() and future.exception() is None:
                loop.call_soon_threadsafe(self._adopt, path, text, future.result())

        try:
            future = self._reparser.submit(self.index.set_overlay, path, text, language)
        except RuntimeError:  # shut down meanwhile
            return
        future.add_done_callback(parsed)

    def _adopt(self, path: str, text: str, entry: FileEntry) -> None:
        doc = self._open.get(path)
        if doc is None:  # closed while it was parsed: the disk version is what counts
            if not self._closed:
                self.index.clear_overlay(path)
            return
        doc.symbols = entry.symbols
        doc.parsed_text = text

    def _set_oversize(self, path: str) -> None:
        """Leave a buffer over the file-size limit out of the index, as a file on disk is."""
        if path not in self._oversize:
            self._oversize.add(path)
            log.info("not indexing %s: the buffer is over %d bytes", path,
                     self.index.max_file_bytes)
        doc = self._open.pop(path, None)
        if doc is not None:
            if doc.handle is not None:
                doc.handle.cancel()
            self._edits_total += 1
            self.index.clear_overlay(path)

    def _note_edit(self, path: str, start: int, end: int) -> None:
        now = self.clock()
        for i, e in enumerate(self._recent):
            if e.path == path and e.start_line - 3 <= end and start <= e.end_line + 3:
                self._recent[i] = RecentEdit(path, min(start, e.start_line),
                                             max(end, e.end_line), now)
                return
        self._recent.append(RecentEdit(path, start, end, now))

    def _reparse(self, path: str) -> FileSymbols | None:
        doc = self._open.get(path)
        if doc is None or doc.language is None:
            return None
        if doc.handle is not None:
            doc.handle.cancel()
            doc.handle = None
        if doc.parsed_text is doc.text and doc.symbols is not None:
            return doc.symbols
        text = doc.text
        reason = content_skip_reason(text.encode("utf-8", "surrogatepass"))
        if reason is not None:  # minified or binary: the index leaves such files out too
            self.index.clear_overlay(path)
            doc.symbols, doc.parsed_text = None, text
            return None
        entry = self.index.set_overlay(path, text, doc.language)
        doc.symbols = entry.symbols
        doc.parsed_text = text
        return doc.symbols

    def document_closed(self, path: str) -> None:
        """Forget an open buffer; the file on disk is what the index knows again."""
        path = os.path.abspath(path)
        self._oversize.discard(path)
        doc = self._open.pop(path, None)
        self._edits_total += 1  # other buffers' open text is part of every answer
        if doc is not None and doc.handle is not None:
            doc.handle.cancel()
        self.index.clear_overlay(path)

    def files_changed(self, changes: list[tuple[str, str]]) -> None:
        """Apply file-watcher events ("created" | "changed" | "deleted") in the background."""
        if self._closed or not changes:
            return
        work = [(os.path.abspath(p), kind) for p, kind in changes]
        try:
            self._maintenance.submit(self._apply_changes, work)
        except RuntimeError:  # executor already shut down
            pass

    def _apply_changes(self, work: list[tuple[str, str]]) -> None:
        rules_changed = False
        for path, kind in work:
            if self.index.config_changed(path):  # import resolution follows the new config
                continue
            if os.path.basename(path) in (".gitignore", ".qwenignore"):
                rules_changed = True
                scanner = self.index.scanner_for(path)
                if scanner is not None:
                    scanner.rules.invalidate()
                continue
            if kind == "deleted":
                self.index.remove_file(path)
            elif language_for_path(path) is not None:
                self.index.refresh_file(path)
        if rules_changed:
            self.index.build()  # cheap: everything unchanged comes from the cache

    @property
    def closed(self) -> bool:
        return self._closed

    def follow_disk(self) -> None:
        """Note the disk's state when the index is built (or now, if it is), for poll_disk
        to compare with: for clients that report no file events."""
        self._follow_disk = True
        if self.ready:
            self._background(self.index.changes_on_disk)

    async def poll_disk(self) -> int:
        """Follow files changed on disk since follow_disk or the last call (a `git checkout`,
        a generator, another editor), off the event loop; return how many changed."""
        if self._closed or not self.ready or not self._follow_disk:
            return 0

        def poll() -> int:
            changes = self.index.changes_on_disk()
            self._apply_changes(changes)
            return len(changes)

        try:
            return await asyncio.wrap_future(self._maintenance.submit(poll))
        except RuntimeError:  # executor already shut down
            return 0

    # --- queries ------------------------------------------------------------------------------

    def may_send(self, path: str) -> bool:
        """Return False for secret-bearing, git-ignored or .qwenignore'd files."""
        path = os.path.abspath(path)
        scanner = self.index.scanner_for(path)
        if scanner is None:
            return not is_secret_file(path)
        return scanner.may_send(path)

    def _current_symbols(self, path: str, text: str) -> FileSymbols | None:
        if path in self._oversize or len(text) > self.index.max_file_bytes:
            return None
        doc = self._open.get(path)
        if doc is None:
            lang = language_for_path(path)
            if lang is None:
                return None
            doc = self._open[path] = _OpenDoc(text, lang)
            if self.may_send(path):
                return self._reparse(path)
            doc.symbols = extract(text.encode("utf-8", "surrogatepass"), lang,
                                  with_references=False)
            return doc.symbols
        if doc.text != text:
            self.document_changed(path, text)
        if doc.symbols is None and doc.language is not None:
            return self._reparse(path)
        return doc.symbols

    def _chunk_text(self, path: str, line: int) -> str | None:
        """Return lines [line, line + WINDOW_LINES) of an indexed file as it is on disk."""
        entry = self.index.entry(path)
        if entry is None or not entry.hash:
            return None
        key = (path, line, entry.hash)
        with self._chunk_lock:
            text = self._chunks.get(key)
            if text is not None or self._closed:
                return text
            if not self.blocking_reads:
                if key not in self._chunk_reads:
                    self._chunk_reads.add(key)
                    self._background(self._read_chunk, key)
                return None
        return self._read_chunk(key)

    def _read_chunk(self, key: tuple[str, int, str]) -> str | None:
        path, line, _ = key
        text = read_text_or_none(path, self.index.max_file_bytes)
        with self._chunk_lock:
            self._chunk_reads.discard(key)
            if text is None:
                return None
            text = whole_units(text[: self.index.max_file_bytes], language_for_path(path), line,
                               line + WINDOW_LINES - 1) or ""
            self._chunks[key] = text
        return text or None

    def explain(self, path: str, text: str, offset: int, budget_chars: int, *,
                sticky: frozenset[tuple[str, int]] = frozenset(),
                pinned: Sequence[ContextBlock] = ()) -> Explained:
        """Choose context for a cursor and say what was chosen, why, and how long it took.

        `pinned` blocks come first, as they are; `sticky` definitions win ties (see
        `context_files`, which keeps them from one request to the next).
        """
        t0 = time.perf_counter()
        path = os.path.abspath(path)
        offset = max(0, min(offset, len(text)))
        current = self._current_symbols(path, text)
        # Past the file-size limit only the cursor's surroundings are read.
        text, offset = window(text, offset, self.index.max_file_bytes)
        t1 = time.perf_counter()
        key = (*self._result_key(path, text, offset, budget_chars), sticky,
               tuple(id(b) for b in pinned))
        cached = self._results.get(key)
        if cached is not None:
            t2 = time.perf_counter()
            return Explained(cached.files, cached.snippets, {
                "parse_current": round((t1 - t0) * 1e3, 3), "retrieve": 0.0, "redact": 0.0,
                "total": round((t2 - t0) * 1e3, 3), "cached": 1.0}, cached.blocks)
        if self.blocking_reads and not self.index.chunks.ready:
            self.index.fill_chunks()
        open_texts = {p: d.text for p, d in self._open.items() if p != path}
        blocks: list[ContextBlock] = self.retriever.retrieve(
            path, text, offset, budget_chars, current=current,
            recent_edits=list(self._recent), open_texts=open_texts, sticky=sticky,
            pinned=pinned,
        )
        t2 = time.perf_counter()
        files: list[ContextFile] = []
        snippets: list[Snippet] = []
        sent: list[ContextBlock] = []
        for b in blocks:
            if not self.may_send(b.path):
                continue
            sent.append(b)
            clean = self._redacted.get(b.text)
            if clean is None:
                clean = self._redacted[b.text] = redact(b.text)
            files.append(ContextFile(b.rel, clean))
            snippets.extend(b.snippets)
        t3 = time.perf_counter()
        timings = {"parse_current": (t1 - t0) * 1e3, "retrieve": (t2 - t1) * 1e3,
                   "redact": (t3 - t2) * 1e3, "total": (t3 - t0) * 1e3}
        result = Explained(files, snippets, {k: round(v, 3) for k, v in timings.items()}, sent)
        self._results[key] = result
        return result

    def _result_key(self, path: str, text: str, offset: int, budget: int) -> tuple:
        """Key a retrieval by everything it reads except the cursor's own line: typing along a
        line then reuses the answer, which also keeps the prompt prefix byte-stable. Except
        the receiver of a member being typed: `Chunk.` after `Effect.` on the same line asks
        for Chunk's members, and `Chunk.ma` still for the same."""
        start = text.rfind("\n", 0, offset)
        end = text.find("\n", offset)
        end = len(text) if end < 0 else end
        above = newline_above(text, max(start, 0), WINDOW_LINES_ABOVE + 1)
        below = newline_below(text, end, WINDOW_LINES_BELOW)
        indent = text[start + 1:offset]
        indent = indent[: len(indent) - len(indent.lstrip())]
        receiver = typed_receiver(text[max(start + 1, offset - 200):offset])
        return (path, budget, self.index.generation, self._others_version(path),
                text.count("\n", 0, offset), indent, hash(text[max(0, above):max(0, start)]),
                hash(text[end:below]), receiver and receiver[0])

    def _others_version(self, path: str) -> int:
        return self._edits_total - self._edits.get(path, 0)

    def context_files(self, path: str, text: str, offset: int,
                      budget_chars: int) -> list[ContextFile]:
        """Return redacted cross-file context for a cursor, in prompt order (no disk I/O).

        Blocks the previous answer for this file also had come first, in the same order:
        servers reuse the longest prompt prefix they have cached, so a block that appears or
        changes goes after every block that did not.
        """
        path = os.path.abspath(path)
        line = text.count("\n", 0, offset)
        epoch = self._epochs.get(path)
        if epoch is not None and not self._still_valid(epoch, line, budget_chars):
            epoch = None
        try:
            if epoch is not None:  # grow the context of this stretch of editing
                explained = self.explain(path, text, offset, budget_chars,
                                         pinned=epoch.blocks)
                epoch.blocks = explained.blocks
            else:  # start one, leaving room to grow, preferring what was chosen before
                previous = self._epochs.get(path)
                sticky = frozenset((s.path, s.start_line) for b in previous.blocks
                                   for s in b.snippets) if previous is not None and abs(
                    line - previous.line) <= STICKY_LINES else frozenset()
                explained = self.explain(path, text, offset,
                                         int(budget_chars * EPOCH_START_SHARE), sticky=sticky)
                epoch = self._epochs[path] = _Epoch(line, budget_chars, explained.blocks, {},
                                                        self.index.config_version)
            epoch.entries = {b.path: self.index.entry(b.path) for b in epoch.blocks}
        except Exception:  # context is an enhancement: never fail a completion over it
            log.exception("context retrieval failed for %s", path)
            return []
        # Whatever file it was for: moving to another file keeps what both share in front.
        files = self._last_given = keep_order(self._last_given, explained.files)
        self.last_explained = explained
        return files

    def forget_cursors(self) -> None:
        """Forget the context given before, so the next request chooses as a first one."""
        self._epochs.clear()
        self._last_given = []
        self._results.clear()

    def _still_valid(self, epoch: _Epoch, line: int, budget: int) -> bool:
        """Return whether a file's context may keep growing for a cursor on `line`."""
        if abs(line - epoch.line) > STICKY_LINES or epoch.budget != budget:
            return False
        if epoch.config_version != self.index.config_version:
            return False  # imports may lead elsewhere now: a block may no longer be imported
        used = sum(map(context_cost, epoch.blocks))
        if used > budget * EPOCH_FULL_SHARE:
            return False  # no room left for what the cursor needs now: choose afresh
        # A block rendered from a file that changed since is stale.
        return all(self.index.entry(p) is e for p, e in epoch.entries.items())
