"""Regions of other files worth showing besides definitions: what the user just edited,
and windows that share most identifiers with the lines above the cursor (whose calls also
tell the ranking what may come next)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from cachetools import LRUCache

from lsp_server.context.chunks import WINDOW_LINES, query_tokens
from lsp_server.context.index import RepoIndex
from lsp_server.context.languages import language_for_path
from lsp_server.context.retrieve.cursor import _ID, _KEYWORDS
from lsp_server.context.retrieve.model import RecentEdit, Snippet, context_cost
from lsp_server.context.windows import whole_units
from lsp_server.positions import newline_above

SIMILAR_WINDOW = 20
SIMILAR_MIN_JACCARD = 0.3
# Windows like the function being written, whose calls tell what it may call next: the
# likeliest few, matched on the lines just above the cursor and the function's head.
_ANALOGUES = 6
_ANALOGUE_LINES = 8


class SimilarWindows:
    """Find windows of other files like the code above a cursor (open files' windows cached)."""

    def __init__(self, index: RepoIndex,
                 chunk_text: Callable[[str, int], str | None] | None = None) -> None:
        self.index = index
        self._chunk_text = chunk_text
        self._window_cache: LRUCache[tuple[str, int], list] = LRUCache(maxsize=64)

    def find(self, path: str, text: str, offset: int, open_texts: Mapping[str, str],
             budget: int, taken: set[tuple[str, int]]) -> list[Snippet]:
        """Return windows of other files that share most identifiers with the lines above the
        cursor: open files by Jaccard over 20-line windows (as RepoCoder and llama.vim do),
        the rest of the repository by BM25 over the index's windows."""
        if budget <= 200:
            return []
        start = newline_above(text, offset, SIMILAR_WINDOW)
        query = set(_ID.findall(text, start, offset)) - _KEYWORDS
        if len(query) < 4:
            return []
        scored: list[tuple[float, str, int, int, str]] = []
        for p, other in open_texts.items():
            if p == path:
                continue
            for a, b, toks, chunk in self._windows(p, other):
                inter = len(query & toks)
                if inter:
                    j = inter / (len(query) + len(toks) - inter)
                    if j >= SIMILAR_MIN_JACCARD:
                        scored.append((j, p, a, b, chunk))
        if self._chunk_text is not None and self.index.chunks.ready:
            for share, p, a in self.index.chunks.search(
                    query_tokens(text, offset), exclude={path, *open_texts}, limit=4):
                chunk = self._chunk_text(p, a)
                if chunk:
                    scored.append((share, p, a, a + chunk.count("\n") - 1, chunk))
        scored.sort(key=lambda x: -x[0])
        out: list[Snippet] = []
        used = 0
        for j, p, a, b, chunk in scored[:4]:
            if (p, a) in taken or any(s.path == p and abs(s.start_line - a) < 10 for s in out):
                continue
            snippet = Snippet(p, self.index.relpath(p), a, b, chunk, round(j, 3), "similar")
            cost = context_cost(snippet)
            if used + cost > budget:
                continue
            used += cost
            out.append(snippet)
        return out

    def analogues(self, path: str, text: str, offset: int, head: str
                  ) -> list[tuple[float, str, str]]:
        """Return (share, path, text) of the repository's windows most like the lines just
        above the cursor and the head of the function around it (BM25), whose text is at
        hand."""
        if self._chunk_text is None or not self.index.chunks.ready:
            return []
        query = query_tokens(text, offset, _ANALOGUE_LINES) | query_tokens(head, len(head))
        out = []
        for share, p, a in self.index.chunks.search(query, exclude={path}, limit=_ANALOGUES):
            chunk = self._chunk_text(p, a)
            if chunk:
                # What follows the match, too: it may end where the window does.
                after = self._chunk_text(p, a + WINDOW_LINES)
                if after:
                    chunk += "\n" + "\n".join(after.split("\n")[:WINDOW_LINES // 2])
                out.append((share, p, chunk))
        return out

    def bodies(self, defs: list[tuple[float, str, int]]) -> list[tuple[float, str, str]]:
        """Return (weight, path, text) of a window from the first line of each of `defs`
        (weight, path, first line), whose text is at hand. (Not the index's windows around
        it: a window holds only whole units, so a function across two windows was in
        neither.)"""
        if self._chunk_text is None:
            return []
        out = []
        for weight, p, line in defs:
            text = self._chunk_text(p, line)
            if text:
                out.append((weight, p, text))
        return out

    def _windows(self, path: str, text: str) -> list[tuple[int, int, frozenset[str], str]]:
        key = (path, hash(text))
        found = self._window_cache.get(key)
        if found is None:
            lines = text.split("\n")
            found = []
            step = SIMILAR_WINDOW // 2
            language = language_for_path(path)
            for a in range(0, max(1, len(lines) - step), step):
                chunk = whole_units(text, language, a, a + SIMILAR_WINDOW - 1)
                if chunk is None:
                    continue
                found.append((a, min(len(lines), a + SIMILAR_WINDOW) - 1,
                              frozenset(_ID.findall(chunk)) - _KEYWORDS, chunk))
            self._window_cache[key] = found
        return found


def recent_snippets(index: RepoIndex, path: str, edits: Sequence[RecentEdit],
                    open_texts: Mapping[str, str], budget: int) -> list[Snippet]:
    """Return the regions just edited in other open files, newest first, within budget."""
    out: list[Snippet] = []
    used = 0
    seen: set[tuple[str, int]] = set()
    for edit in sorted(edits, key=lambda e: -e.stamp):
        if edit.path == path or (edit.path, edit.start_line) in seen:
            continue
        text = open_texts.get(edit.path)
        if text is None:
            continue
        seen.add((edit.path, edit.start_line))
        lines = text.split("\n")
        a = max(0, edit.start_line - 3)
        b = min(len(lines), max(edit.end_line, edit.start_line) + 4, a + 14)
        body = whole_units(text, language_for_path(edit.path), a, b - 1)
        if body is None:
            continue
        snippet = Snippet(edit.path, index.relpath(edit.path), a, b - 1, body, 0.5, "recent")
        cost = context_cost(snippet)
        if used + cost > budget:
            continue
        used += cost
        out.append(snippet)
    return out
