"""Select, within a character budget, the best-scored definitions and render them."""

from __future__ import annotations

import heapq
from functools import lru_cache

from lsp_server.context.index import FileEntry
from lsp_server.context.languages import parses
from lsp_server.context.retrieve.model import FILE_HEADER_CHARS, ContextBlock, Snippet, _Cand
from lsp_server.context.retrieve.render import (
    _BRACE_LANGS,
    _declared_inside,
    _member_indent,
    closing,
    enclosing,
    go_groups,
    group_cost,
    opens,
    render_definition,
    render_file,
)
from lsp_server.context.retrieve.scope import _dirname
from lsp_server.context.symbols import CONTAINER_KINDS, Definition

_STICKY_GAIN = 1.3  # how much a definition chosen just before is preferred
# Doc lines come with a definition from the start only for the strongest evidence (a member
# the cursor's own lines call, the popular members of `x.` being typed); the others get theirs
# from what is left once every definition that fits is in: another signature is worth more
# than a doc line (one line, often cut mid-sentence).
_DOC_FIRST_SCORE = 1.2


def _parent(caches: dict[str, dict], e: FileEntry, d: Definition) -> Definition | None:
    """Return the container a member is shown in (see `enclosing`)."""
    cache = caches.setdefault("containers", {})
    found = cache.get(e.path)
    if found is None or found[0] is not e.symbols:
        by_name: dict[str, list[Definition]] = {}
        for x in e.symbols.definitions:
            if x.kind in CONTAINER_KINDS:
                by_name.setdefault(x.name, []).append(x)
        found = cache[e.path] = (e.symbols, by_name)
    return enclosing(found[1].get(d.container, ()), d)


def _groups(caches: dict[str, dict], e: FileEntry) -> dict[int, int]:
    """Return the Go `const ( ... )` groups of a file's specs (see `go_groups`), memoised."""
    if e.symbols.language != "go":
        return {}
    cache = caches.setdefault("go_groups", {})
    found = cache.get(e.path)
    if found is None or found[0] is not e.symbols:
        found = cache[e.path] = (e.symbols, go_groups(e.symbols.definitions))
    return found[1]


def _cost(caches: dict[str, dict], d: Definition, lang: str, with_doc: bool, indent: str) -> int:
    """Return the rendered length of a definition (memoised: heads rarely change)."""
    cache = caches.setdefault("cost", {})
    key = (id(d), with_doc, indent)
    found = cache.get(key)
    if found is None or found[0] is not d:
        size = len(render_definition(d, lang, with_doc=with_doc, member_indent=indent))
        if d.kind in CONTAINER_KINDS and lang not in _BRACE_LANGS:
            size += 4  # the " ..." render_file gives a class shown without a body
        found = cache[key] = (d, size)
    return found[1]


# Of candidates whose evidence is within 15% of each other, the shorter goes first: a
# definition's length counts (as the square root of its share past 80 characters) only
# down to that floor, so a long definition with clearly stronger evidence keeps its place.
_THRIFT_FREE = 80
_THRIFT_EXPONENT = 0.5
_THRIFT_FLOOR = 0.85


def _parses(caches: dict[str, dict], d: Definition, lang: str,
            parent: Definition | None) -> bool:
    """Return whether a definition renders as code the language accepts, inside its
    container when it has one (memoised): a head cut for length, or one the stub renderer
    cannot express, is left out rather than shown broken."""
    cache = caches.setdefault("parses", {})
    found = cache.get(id(d))
    if found is None or found[0] is not d:
        if parent is not None and _declared_inside(parent, d):
            indent = _member_indent(parent.signature, lang)
            member = render_definition(d, lang, with_doc=False, member_indent=indent,
                                       bodyless=parent.kind in ("interface", "trait"))
            head = render_definition(parent, lang, with_doc=False)
            text = f"{head}\n{member}"
            if lang in _BRACE_LANGS:
                text += "\n" + closing(parent, lang)
        else:
            text = render_definition(d, lang, with_doc=False)
            if d.kind in CONTAINER_KINDS:
                text += ("\n" + closing(d, lang) if opens(d, lang) else "") \
                    if lang in _BRACE_LANGS else " ..."
        found = cache[id(d)] = (d, _code_parses(text + "\n", lang))  # Go wants the newline
    return found[1]


@lru_cache(maxsize=8192)  # outlives the per-generation caches: a stub's text rarely changes
def _code_parses(text: str, lang: str) -> bool:
    return parses(text, lang)


def _thrift(cost: int) -> float:
    return max(_THRIFT_FLOOR, min(1.0, _THRIFT_FREE / max(cost, 1)) ** _THRIFT_EXPONENT)


def select(candidates: dict[int, _Cand], budget: int, *, sticky: frozenset[tuple[str, int]],
           skip: set[tuple[str, int]], tier0: set[str], caches: dict[str, dict]
           ) -> list[ContextBlock]:
    """Choose the best candidates that fit in budget characters, each file's block with
    its header; `sticky` ones (chosen for a nearby cursor just before) win ties, `skip` ones
    (already in the prompt) are left out, and files in `tier0` make first-tier blocks."""
    for c in candidates.values():
        if (c.entry.path, c.d.start_line) in sticky:
            c.score = c.score * _STICKY_GAIN + 0.05
    # Even tiny signatures fill 6,000 characters after a few hundred: rank only those.
    cands = heapq.nlargest(400, candidates.values(), key=lambda c: c.score)
    # Of two definitions with about the same evidence, the shorter goes first: a long type
    # alias costs what five method heads do (see _THRIFT_FLOOR).
    cands.sort(key=lambda c: -c.score * _thrift(len(c.d.signature)))
    chosen: dict[str, list[_Cand]] = {}
    # By place and name, not identity: the index may hold a file's definitions from its
    # disk text and from its open buffer at once (caches outlive a reparse that kept every
    # head), and one file's block must show each declaration once.
    chosen_ids: set[tuple[str, str, str, str]] = set()
    # Containers shown, by place: a member needs the very declaration that holds it (an
    # interface TypeScript merges from two declarations has two heads of the same name).
    heads: set[tuple[str, int]] = set()
    # The same declaration in two files of one directory (Go's build-tag variants, such as
    # gin's binding.go and binding_nomsgpack.go) is shown once.
    declared: set[tuple[str, str, str, str]] = set()
    groups: set[tuple[str, int]] = set()  # Go `const ( ... )` groups shown, by file and line
    used = 0
    header_cost: dict[str, int] = {}
    misses = 0
    for c in cands:
        if used >= budget - 40 or misses > 60:
            break
        if _key(c.entry, c.d) in chosen_ids or (c.entry.path, c.d.start_line) in skip \
                or _declaration(c.entry, c.d) in declared:
            continue
        e = c.entry
        lang = e.symbols.language
        c.with_doc = c.score >= _DOC_FIRST_SCORE
        parent = None
        if c.d.container and c.d.kind not in CONTAINER_KINDS:
            parent = _parent(caches, e, c.d)
        if not _parses(caches, c.d, lang, parent) or (
                parent is not None and not _parses(caches, parent, lang, None)):
            continue
        indent = _member_indent(parent.signature, lang) if parent is not None and \
            _declared_inside(parent, c.d) else ""
        cost = _cost(caches, c.d, lang, c.with_doc, indent) + 1
        extra: list[_Cand] = []
        if parent is not None and (e.path, parent.start_line) not in heads:
            pc = _Cand(e, parent, c.score, c.source, with_doc=False)
            cost += _cost(caches, parent, lang, False, "") + 3
            extra.append(pc)
        if e.path not in header_cost:
            cost += len(e.rel) + FILE_HEADER_CHARS
        group = _groups(caches, e).get(id(c.d))
        if group is not None and (e.path, group) in groups:
            cost -= group_cost(c.d)  # shown in the group already open
        if used + cost > budget:
            if c.with_doc and c.d.doc:
                c.with_doc = False
                cost -= len(c.d.doc) + 12
            if used + cost > budget:
                misses += 1
                continue
        misses = 0
        used += cost
        header_cost[e.path] = 1
        if group is not None:
            groups.add((e.path, group))
        lst = chosen.setdefault(e.path, [])
        for x in [*extra, c]:
            lst.append(x)
            chosen_ids.add(_key(x.entry, x.d))
            declared.add(_declaration(x.entry, x.d))
            if x.d.kind in CONTAINER_KINDS:
                heads.add((e.path, x.d.start_line))
    # Spend what is left on doc lines of what was chosen without them, best first.
    spare = budget - used
    for c in sorted((x for items in chosen.values() for x in items), key=lambda x: -x.score):
        if spare <= 0:
            break
        if c.with_doc or not c.d.doc:
            continue
        lang = c.entry.symbols.language
        extra = len(render_definition(c.d, lang, with_doc=True)) - len(
            render_definition(c.d, lang, with_doc=False))
        extra += 12  # a member's doc line is indented deeper than measured here
        if extra <= spare:
            c.with_doc = True
            spare -= extra
    blocks: list[ContextBlock] = []
    for p, items in chosen.items():
        e = items[0].entry
        text = render_file(e, items, _groups(caches, e))
        snippets = [Snippet(p, e.rel, x.d.start_line, x.d.end_line, "", round(x.score, 3),
                            x.source) for x in items]
        tier = 0 if p in tier0 else 1
        blocks.append(ContextBlock(p, e.rel, text, snippets, tier))
    return blocks


def _key(e: FileEntry, d: Definition) -> tuple[str, str, str, str]:
    return (e.path, d.name, d.container, d.kind)


def _declaration(e: FileEntry, d: Definition) -> tuple[str, str, str, str]:
    return (_dirname(e.path), d.container, d.name, d.signature)
