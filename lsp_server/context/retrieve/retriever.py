"""The coordinator: bind the scope, infer types, rank candidates, select within a budget."""

from __future__ import annotations

import heapq
from collections.abc import Callable, Mapping, Sequence

from lsp_server.context.index import RepoIndex
from lsp_server.context.retrieve.budget import select
from lsp_server.context.retrieve.cursor import _Cursor
from lsp_server.context.retrieve.infer import Types
from lsp_server.context.retrieve.model import ContextBlock, RecentEdit, Snippet, context_cost
from lsp_server.context.retrieve.query import Query
from lsp_server.context.retrieve.rank import Ranker
from lsp_server.context.retrieve.scope import Scope, _is_test
from lsp_server.context.retrieve.similar import SimilarWindows, recent_snippets
from lsp_server.context.symbols import FileSymbols

_MUST_HAVE = 3  # pinned context is extended only when one of this many best is missing
_KEPT_ENTRIES = 50_000  # per-definition memos carried across index generations, at most


class Retriever:
    """Choose, for one cursor, the definitions and regions of other files worth showing."""

    def __init__(self, index: RepoIndex,
                 chunk_text: Callable[[str, int], str | None] | None = None) -> None:
        self.index = index
        # chunk_text: the text of a window of a file that is not open, when it is at hand
        # (no disk I/O).
        self._similar = SimilarWindows(index, chunk_text)
        self._generation = -1
        self._caches: dict[str, dict] = {}

    def caches(self) -> dict[str, dict]:
        """Return lookup caches valid for the index's current generation."""
        if self._generation != self.index.generation:
            self._generation = self.index.generation
            # What is memoised per definition (its rendered length, whether it parses), or
            # per parse of the current file (the module chains it writes), holds while that
            # object lives: an edit elsewhere keeps most of them.
            kept = {k: v for k, v in self._caches.items()
                    if k in ("cost", "parses", "module_uses") and len(v) < _KEPT_ENTRIES}
            self._caches = {"members": {}, "owners": {}, "named": {}, **kept}
        return self._caches

    def retrieve(
        self,
        path: str,
        text: str,
        offset: int,
        budget_chars: int,
        *,
        current: FileSymbols | None,
        recent_edits: Sequence[RecentEdit] = (),
        open_texts: Mapping[str, str] | None = None,
        sticky: frozenset[tuple[str, int]] = frozenset(),
        pinned: Sequence[ContextBlock] = (),
    ) -> list[ContextBlock]:
        """Return context blocks in prompt order (stable tier first), within budget_chars.

        `sticky` names definitions (path, first line) chosen for a nearby cursor just before:
        they win ties, so the context, and with it the prompt's cached prefix, changes only
        when something clearly more relevant turns up. `pinned` blocks come first, unchanged;
        any change to the context costs the server its cached copy of the current file, which
        follows it in the prompt, so they are returned alone unless one of the definitions
        that matter most for this cursor is missing from them. Then what is chosen besides
        them follows, within what they leave.
        """
        budget_chars -= sum(map(context_cost, pinned))
        if budget_chars <= 0:
            return list(pinned)
        caches = self.caches()
        ranker = self._rank(path, text, offset, current or FileSymbols(""), caches)
        taken = {(s.path, s.start_line) for b in pinned for s in b.snippets}
        if pinned and all((c.entry.path, c.d.start_line) in taken
                          for c in heapq.nlargest(_MUST_HAVE, ranker.cands.values(),
                                                  key=lambda c: c.score)):
            return list(pinned)
        extra_budget = int(budget_chars * 0.2)
        extras: list[Snippet] = []
        if recent_edits and open_texts:
            extras = recent_snippets(self.index, path, recent_edits, open_texts, extra_budget)
        extras = [s for s in extras if (s.path, s.start_line) not in taken]
        spent = sum(map(context_cost, extras))
        extras += self._similar.find(path, text, offset, open_texts or {},
                                     int(budget_chars * 0.3) - spent,
                                     taken | {(s.path, s.start_line) for s in extras})
        used_extra = sum(map(context_cost, extras))
        blocks = select(ranker.cands, budget_chars - used_extra, sticky=sticky, skip=taken,
                        tier0=ranker.tier0, caches=caches)
        by_path = {b.path: b for b in blocks}
        for s in extras:
            b = by_path.get(s.path)
            if b is None:
                b = by_path[s.path] = ContextBlock(s.path, s.rel, "", [], tier=2)
                blocks.append(b)
            b.text += ("" if not b.text or b.text.endswith("\n") else "\n") + s.text
            b.snippets.append(s)
        blocks.sort(key=lambda b: (b.tier, b.rel))
        return [*pinned, *blocks]

    def _rank(self, path: str, text: str, offset: int, current: FileSymbols,
              caches: dict[str, dict]) -> Ranker:
        """Gather and score the candidates for one cursor: what is in scope there, what
        types it is about, then the evidence for each definition."""
        query = Query(self.index, path, text, offset, current, caches,
                      _is_test(self.index.relpath(path)))
        cursor = _Cursor(text, offset, current.references)
        scope = Scope(query)
        scope.bind()
        types = Types(query, scope, cursor)
        types.find_enclosing()
        types.find_local_types()
        ranker = Ranker(query, cursor, scope, types)
        ranker.collect()
        # What code like this calls elsewhere: windows like the lines above the cursor, and
        # the bodies of the package's functions named like the one around it.
        fn = types.enclosing_fn
        ranker.follow_analogues(
            self._similar.analogues(path, text, offset, fn.signature if fn else "")
            + self._similar.bodies(ranker.siblings()))
        return ranker
