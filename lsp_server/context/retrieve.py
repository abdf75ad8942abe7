"""Rank cross-file snippets for a cursor from the index alone (no disk I/O) and fit a budget."""

from __future__ import annotations

import heapq
import math
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from cachetools import LRUCache

from lsp_server.context.chunks import query_tokens
from lsp_server.context.index import FileEntry, RepoIndex
from lsp_server.context.languages import language_for_path
from lsp_server.context.symbols import CONTAINER_KINDS, Definition, FileSymbols, Import
from lsp_server.context.windows import whole_units
from lsp_server.positions import newline_above, newline_below

WINDOW_LINES_ABOVE = 80
WINDOW_LINES_BELOW = 30
FILE_HEADER_CHARS = 14
SIMILAR_WINDOW = 20
_STICKY_GAIN = 1.3  # how much a definition chosen just before is preferred
_MUST_HAVE = 3  # pinned context is extended only when one of this many best is missing
SIMILAR_MIN_JACCARD = 0.3  # "<|file_sep|>" + newline around the path
# How an elided body is shown in brace languages: a comment, so the stub still parses.
_ELIDED_BODY = " { /* ... */ }"
_BRACE_LANGS = frozenset({"javascript", "typescript", "tsx", "go", "rust", "java", "c", "cpp"})
_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# `this.#cache.notify`: a JavaScript private member (`#cache`) is a link of the chain too.
_CHAIN = re.compile(r"[A-Za-z_]\w*(?:\s*(?:\.|->|::)\s*#?[A-Za-z_]\w*)*")
_SEP = re.compile(r"\s*(?:\.|->|::)\s*")
_CALL_MEMBER = re.compile(r"(?<![\w.])([A-Za-z_][\w.]*)\([^()\n]*\)\s*\.\s*([A-Za-z_]\w*)")
_SELF_NAMES = frozenset({"self", "this", "cls"})
_KEYWORDS = frozenset(
    """and as assert async await break case catch class const continue def default del delete
    do elif else enum except export extends false False final finally fn for from func function
    go if impl implements import in interface is lambda let match mod mut new nil None not null
    or package pass private protected pub public raise return static struct super switch throw
    true True try type typeof use var void while with yield int str bool float string number any
    char long short unsigned signed double byte print len range list dict set tuple object
    isinstance super property staticmethod classmethod""".split()
)
# Assignments whose right-hand side tells a variable's type: `x = Foo(`, `x := NewFoo(`,
# `const x = new Foo(`, `x: Foo = ...`, `Foo x = ...`.
_ASSIGN = re.compile(
    r"(?<![\w.])(?:(?:const|let|var|auto)\s+)?([A-Za-z_]\w*)"
    r"\s*(?::\s*([\w.]+(?:\[[\w., |]*\])?)\s*)?"
    r"(?::=|=(?!=))\s*(?:await\s+|new\s+|&)*([A-Za-z_][\w.]*)\s*[({<]"
)
_TYPING_MEMBER = re.compile(r"(?<![\w.#])((?:[A-Za-z_]\w*\s*(?:\.|->|::)\s*#?)*[A-Za-z_]\w*)"
                            r"\s*(?:\.|->|::)\s*$")
_ALIAS_OF_MEMBER = re.compile(
    r"(?<![\w.])(?:(?:const|let|var)\s+)?([A-Za-z_]\w*)\s*(?::=|=(?!=))\s*"
    r"((?:self|this)(?:\s*\.\s*#?[A-Za-z_]\w*)+)\s*(?:;|$)", re.M)
_ANNOTATED = re.compile(r"(?<![\w.])([A-Za-z_]\w*)\s*\??\s*:\s*(?:[\w.]+\[)?\*?([A-Z][\w.]*)")
_GO_PARAM = re.compile(r"\b([a-z_]\w*)\s+\*?(?:\[\])?([\w.]*[A-Z]\w*)")
_TYPED_DECL = re.compile(r"\b([A-Z]\w*)(?:<[^<>;=]*>)?[*&\s]+([a-z_]\w*)\s*[=;,)]")
_WITH_AS = re.compile(r"\bwith\s+([\w.]+)\s*\(.*?\)\s+as\s+(\w+)")
_GO_RECEIVER = re.compile(r"^\s*func\s*\(\s*(\w+)")
_LOCAL_PATTERNS: dict[str, tuple[re.Pattern[str], ...]] = {
    "python": (_ANNOTATED, _WITH_AS),
    "javascript": (_ANNOTATED,),
    "typescript": (_ANNOTATED,),
    "tsx": (_ANNOTATED,),
    "go": (_GO_PARAM,),
    "rust": (_ANNOTATED,),
}
_LAZY_IMPORT = re.compile(r"^[ \t]+from\s+([\w.]+)\s+import\s+([^\n#]+)", re.M)


@dataclass(slots=True)
class Snippet:
    """One piece of cross-file context chosen for a cursor."""

    path: str  # absolute
    rel: str
    start_line: int
    end_line: int
    text: str
    score: float
    source: str  # import | type | member | named | module | signature | recent | similar


@dataclass
class ContextBlock:
    """All snippets of one file, rendered as one `<|file_sep|>` block."""

    path: str  # absolute
    rel: str
    text: str
    snippets: list[Snippet] = field(default_factory=list)
    tier: int = 1


@dataclass(slots=True)
class RecentEdit:
    """A region the user changed in some open file."""

    path: str
    start_line: int
    end_line: int
    stamp: float


@dataclass(slots=True)
class _Occ:
    prox: float = 0.0
    member: bool = False
    bare: bool = False
    before: bool = False


@dataclass(slots=True)
class _Cand:
    entry: FileEntry
    d: Definition
    score: float
    source: str
    with_doc: bool = True


def _proximity(delta: int) -> float:
    """Score how close a line is to the cursor: lines above count more than lines below."""
    if delta >= 0:
        return 1.0 / (1.0 + delta / 15.0)
    return 0.8 / (1.0 + (-delta) / 8.0)


class _Cursor:
    """What the lines around the cursor name, and how close to it."""

    def __init__(self, text: str, offset: int, file_names: tuple[str, ...] = ()) -> None:
        self.line = text.count("\n", 0, offset)
        self.occ: dict[str, _Occ] = {}
        self.receivers: dict[str, float] = {}
        self.member_calls: dict[str, dict[str, float]] = {}  # receiver -> member -> prox
        start = newline_above(text, offset, WINDOW_LINES_ABOVE + 1)
        start = start + 1 if start else 0
        end = newline_below(text, offset, WINDOW_LINES_BELOW)
        self.window_start = start
        first = self.line - text.count("\n", start, offset)
        occ = self.occ
        cursor_col = offset - (text.rfind("\n", 0, offset) + 1)
        for i, line in enumerate(text[start:end].split("\n")):
            delta = self.line - (first + i)
            if delta == 0:
                line = line[:cursor_col]
            prox = _proximity(delta)
            before = delta > 0 or delta == 0
            for chain in _CHAIN.findall(line):
                parts = _SEP.split(chain) if len(chain) > 2 and (
                    "." in chain or ":" in chain or ">" in chain) else (chain,)
                receiver = ""
                for name in parts:
                    if name not in _KEYWORDS or name in _SELF_NAMES:
                        o = occ.get(name)
                        if o is None:
                            o = occ[name] = _Occ()
                        if prox > o.prox:
                            o.prox = prox
                        if before:
                            o.before = True
                        if receiver:
                            o.member = True
                            if prox > self.receivers.get(receiver, 0.0):
                                self.receivers[receiver] = prox
                            calls = self.member_calls.setdefault(receiver, {})
                            if prox > calls.get(name, 0.0):
                                calls[name] = prox
                        else:
                            o.bare = True
                    receiver = f"{receiver}.{name}" if receiver else name
            if ")" in line:
                for callee, member in _CALL_MEMBER.findall(line):
                    receiver = callee + "()"
                    if prox > self.receivers.get(receiver, 0.0):
                        self.receivers[receiver] = prox
                    calls = self.member_calls.setdefault(receiver, {})
                    calls[member] = max(prox, calls.get(member, 0.0))
                    occ.setdefault(member, _Occ(prox, True, False, before)).member = True
        self.file_names = frozenset(file_names)


def _indent_of(s: str) -> str:
    return s[: len(s) - len(s.lstrip())]


def render_definition(d: Definition, language: str, *, with_doc: bool = True,
                      member_indent: str = "", bodyless: bool = False) -> str:
    """Render one definition as a stub: its head, doc line, and an elided body."""
    sig = d.signature
    if member_indent and not sig[:1].isspace():
        sig = member_indent + sig
    indent = _indent_of(sig)
    brace = language in _BRACE_LANGS
    doc = d.doc if with_doc else ""
    if d.kind in CONTAINER_KINDS:
        if brace:
            head = f"{sig} {{" if not sig.rstrip().endswith(("{", ";", "}")) else sig
            return (f"{indent}// {doc}\n" if doc else "") + head
        return sig + (f'\n{indent}    """{doc}"""' if doc else "")
    if d.kind in ("function", "method", "property"):
        if brace:
            text = sig
            if not bodyless and not sig.rstrip().endswith((";", "}")) and \
                    "abstract " not in sig:
                text += _ELIDED_BODY
            return (f"{indent}// {doc}\n" if doc else "") + text
        if doc:
            return f'{sig}\n{indent}    """{doc}"""'
        return f"{sig} ..."
    if language == "go" and d.kind in ("constant", "variable") and sig.startswith("\t"):
        # One spec of a `const ( ... )` / `var ( ... )` group: shown in a group of its own.
        keyword = "const" if d.kind == "constant" else "var"
        sig = f"{keyword} (\n{sig}\n)"
    if brace and doc:
        return f"{indent}// {doc}\n{sig}"
    return sig


def _declared_inside(parent: Definition, d: Definition) -> bool:
    """Return whether a member is written inside its container's braces (a Go or C++ method
    declared after the type, or a Rust one in an `impl`, is not)."""
    return parent.start_line <= d.start_line and d.end_line <= parent.end_line


def _member_indent(container_sig: str, language: str) -> str:
    base = _indent_of(container_sig)
    if language == "go":
        return base + "\t"
    if language in ("javascript", "typescript", "tsx", "cpp", "c", "java"):
        return base + "  "
    return base + "    "


def render_file(entry: FileEntry, chosen: Sequence[_Cand]) -> str:
    """Render the chosen definitions of one file in source order, members inside containers."""
    lang = entry.symbols.language
    brace = lang in _BRACE_LANGS
    containers = {c.d.name: c.d for c in chosen if c.d.kind in CONTAINER_KINDS}
    ordered = sorted(chosen, key=lambda c: (c.d.start_line, c.d.kind not in CONTAINER_KINDS))
    out: list[str] = []
    open_container: Definition | None = None
    for c in ordered:
        d = c.d
        parent = containers.get(d.container) if d.container else None
        if parent is not None and not _declared_inside(parent, d):
            parent = None  # shown where it is written: after the type, as the source has it
        if open_container is not None and parent is not open_container:
            if brace:
                out.append(_indent_of(open_container.signature) + "}")
            open_container = None
        if d.kind in CONTAINER_KINDS:
            out.append(render_definition(d, lang, with_doc=c.with_doc))
            open_container = d
            continue
        indent = _member_indent(parent.signature, lang) if parent is not None else ""
        if parent is not None:
            open_container = parent
        bodyless = parent is not None and parent.kind in ("interface", "trait")
        out.append(render_definition(d, lang, with_doc=c.with_doc, member_indent=indent,
                                     bodyless=bodyless))
    if open_container is not None and brace:
        out.append(_indent_of(open_container.signature) + "}")
    if not brace:
        # A Python class shown without doc or members still needs a body to read as code.
        for i, piece in enumerate(out):
            if piece.rstrip().endswith(":") and "\n" not in piece.strip():
                nxt = out[i + 1] if i + 1 < len(out) else ""
                if len(_indent_of(nxt)) <= len(_indent_of(piece)):
                    out[i] = piece + " ..."
    return "\n".join(out) + "\n"


class Retriever:
    """Choose, for one cursor, the definitions and regions of other files worth showing."""

    def __init__(self, index: RepoIndex,
                 chunk_text: Callable[[str, int], str | None] | None = None) -> None:
        self.index = index
        # The text of a window of a file that is not open, when it is at hand (no disk I/O).
        self._chunk_text = chunk_text
        self._generation = -1
        self._caches: dict[str, dict] = {}
        self._window_cache: LRUCache[tuple[str, int], list] = LRUCache(maxsize=64)

    def caches(self) -> dict[str, dict]:
        """Return lookup caches valid for the index's current generation."""
        if self._generation != self.index.generation:
            self._generation = self.index.generation
            self._caches = {"members": {}, "owners": {}, "named": {}}
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
        state = _State(self.index, path, text, offset, current, self.caches(), sticky)
        taken = {(s.path, s.start_line) for b in pinned for s in b.snippets}
        state.skip = taken
        state.collect()
        if pinned and all((c.entry.path, c.d.start_line) in taken
                          for c in heapq.nlargest(_MUST_HAVE, state.cands.values(),
                                                  key=lambda c: c.score)):
            return list(pinned)
        extra_budget = int(budget_chars * 0.2)
        extras: list[Snippet] = []
        if recent_edits and open_texts:
            extras = _recent_snippets(self.index, path, recent_edits, open_texts, extra_budget)
        extras = [s for s in extras if (s.path, s.start_line) not in taken]
        spent = sum(map(context_cost, extras))
        extras += self._similar(path, text, offset, open_texts or {},
                                int(budget_chars * 0.3) - spent,
                                taken | {(s.path, s.start_line) for s in extras})
        used_extra = sum(map(context_cost, extras))
        blocks = state.select(budget_chars - used_extra)
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


    def _similar(self, path: str, text: str, offset: int, open_texts: Mapping[str, str],
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


def context_cost(piece: Snippet | ContextBlock) -> int:
    """Return how many prompt characters a snippet or block takes, its file header included."""
    return len(piece.text) + len(piece.rel) + FILE_HEADER_CHARS


def _recent_snippets(index: RepoIndex, path: str, edits: Sequence[RecentEdit],
                     open_texts: Mapping[str, str], budget: int) -> list[Snippet]:
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


class _State:
    """One retrieval: the cursor facts and the candidates gathered from them."""

    def __init__(self, index: RepoIndex, path: str, text: str, offset: int,
                 current: FileSymbols | None, caches: dict[str, dict],
                 sticky: frozenset[tuple[str, int]] = frozenset()) -> None:
        self.index = index
        self.sticky = sticky
        self.skip: set[tuple[str, int]] = set()  # already in the prompt (pinned blocks)
        self.caches = caches
        self.path = path
        self.text = text
        self.offset = offset
        self.current = current or FileSymbols("")
        self.lang = self.current.language
        self.cursor = _Cursor(text, offset, self.current.references)
        self.cands: dict[int, _Cand] = {}
        self.tier0: set[str] = set()
        self.local_names = {d.name for d in self.current.definitions if not d.container}
        self.local_all = {d.name for d in self.current.definitions}
        self.imported_files: set[str] = set()
        self.scope: frozenset[str] = frozenset()  # set by _imports: see _in_scope
        self.bindings: dict[str, list[tuple[FileEntry, Definition]]] = {}
        self.module_aliases: dict[str, list[str]] = {}
        self.qualified: dict[str, list[tuple[FileEntry, Definition]]] = {}  # Go `pkg.Name`
        self.type_weights: dict[str, float] = {}
        self.directory = _dirname(path)
        self._call_types: dict[str, str] = {}
        self.in_test = _is_test(index.relpath(path))

    # --- evidence -----------------------------------------------------------------------------

    def add(self, e: FileEntry, d: Definition, score: float, source: str) -> None:
        if e.path == self.path or score <= 0:
            return
        if not self.in_test and _is_test(e.rel):
            score *= 0.25  # test helpers rarely matter to code under test
        c = self.cands.get(id(d))
        if c is None:
            self.cands[id(d)] = _Cand(e, d, score, source)
        elif score > c.score:
            c.score = score + 0.05 * min(c.score, 1.0)
            c.source = source
        else:
            c.score += 0.05 * min(score, 1.0)

    def collect(self) -> None:
        self._imports()
        self._enclosing()
        self._locals()
        self._receivers()
        self._named()
        self._types()
        if self.lang == "go":
            self._package_helpers()
            self._imported_packages()

    def _package_helpers(self) -> None:
        """Offer the package's own functions faintly: Go calls them without any import."""
        budget = 120  # enough to fill what is left of the context, cheap to rank
        for p in self.module_aliases.get("", ())[:40]:
            e = self.index.entry(p)
            if e is None or (not self.in_test and _is_test(e.rel)):
                continue
            for d in e.symbols.definitions:
                if d.kind == "function" and not d.container:
                    base = 0.08 if d.name[:1].islower() else 0.05
                    self.add(e, d, base + 0.3 * self._popularity(d.name), "package")
                    budget -= 1
                    if budget <= 0:
                        return

    def _popularity(self, name: str) -> float:
        """Return how widely the repository uses a name (0 until similar code is indexed)."""
        cache = self.caches.setdefault("popularity", {})
        found = cache.get(name)
        if found is None:
            found = cache[name] = self.index.chunks.popularity(name)
        return found

    def _imported_packages(self) -> None:
        """Offer what imported Go packages export, for first uses: `chi.NewRouter()` in a
        file that imports chi but calls nothing of it yet. Ranked by how widely the
        repository uses each name, below anything the file names."""
        for alias, files in self.module_aliases.items():
            if not alias or alias == "*" or alias not in self.current.references:
                continue
            for p in files[:12]:
                e = self.index.entry(p)
                if e is None or _is_test(e.rel):
                    continue
                for d in e.symbols.definitions:
                    if not d.container and d.name[:1].isupper():
                        pop = self._popularity(d.name)
                        if pop > 0.2:
                            self.add(e, d, 0.08 + 0.3 * pop, "package")

    def _lookup_in(self, paths: Sequence[str], name: str, depth: int = 0
                   ) -> list[tuple[FileEntry, Definition]]:
        """Find a top-level definition by name in files, following re-exports a few hops."""
        found: list[tuple[FileEntry, Definition]] = []
        for p in paths:
            e = self.index.entry(p)
            if e is None:
                continue
            names, reexports, wildcards = self._top_level(e)
            d = names.get(name)
            if d is not None:
                found.append((e, d))
            elif depth < 3:
                via = reexports.get(name)
                hops = ([via] if via else []) + [(imp, name) for imp in wildcards]
                for imp, orig in hops:
                    targets = self.index.resolve_import(p, imp, e.symbols.language)
                    found += self._lookup_in(targets, orig, depth + 1)
                    if found:
                        break
        return found

    def _scope_names(self, paths: tuple[str, ...]) -> dict[str, list[tuple[FileEntry,
                                                                             Definition]]]:
        """Return the names a whole package defines (Go: every file of the directory)."""
        cache = self.caches.setdefault("scope", {})
        found = cache.get(paths)
        if found is None:
            found = {}
            for p in paths:
                e = self.index.entry(p)
                if e is not None:
                    for name, d in self._top_level(e)[0].items():
                        found.setdefault(name, []).append((e, d))
            cache[paths] = found
        return found

    def _top_level(self, e: FileEntry) -> tuple[dict[str, Definition],
                                                dict[str, tuple[Import, str]], list[Import]]:
        """Return a file's importable names, its re-exports and wildcard imports (memoised)."""
        cache = self.caches.setdefault("top", {})
        found = cache.get(e.path)
        if found is None or found[0] is not e.symbols:
            go = e.symbols.language == "go"
            names: dict[str, Definition] = {}
            for d in e.symbols.definitions:
                if not (d.container and d.kind not in CONTAINER_KINDS and not go):
                    names.setdefault(d.name, d)
            reexports: dict[str, tuple[Import, str]] = {}
            wildcards: list[Import] = []
            for imp in e.symbols.imports:
                if imp.wildcard and not go:
                    wildcards.append(imp)
                for orig, alias in imp.names:
                    reexports.setdefault(alias, (imp, orig))
            found = cache[e.path] = (e.symbols, names, reexports, wildcards)
        return found[1], found[2], found[3]

    def _imports(self) -> None:
        lang = self.lang
        for imp in self.current.imports:
            targets = self.index.resolve_import(self.path, imp, lang)
            self.imported_files.update(targets)
            if imp.alias and targets:
                self.module_aliases.setdefault(imp.alias, []).extend(targets)
                if lang == "go":  # `.../chi/v5` is package chi: the name its files declare
                    declared = self._go_package_name(targets)
                    if declared and declared != imp.alias and imp.alias == \
                            imp.module.rsplit("/", 1)[-1]:
                        self.module_aliases.setdefault(declared, []).extend(targets)
                if lang == "python" and "." in imp.alias:
                    self.module_aliases.setdefault(imp.alias.split(".")[0], []).extend(targets)
            for name, alias in imp.names:
                if lang in ("python", "rust"):  # `from a import b`, `use a::b`: b a module?
                    sub = self.index.resolve_submodule(self.path, imp.module, name, lang)
                    if sub is not None:
                        self.module_aliases.setdefault(alias, []).append(sub)
                        self.imported_files.add(sub)
                        continue
                if not targets:
                    continue
                if name == "default":
                    defs = [(self.index.entry(t), None) for t in targets[:1]]
                    e = defs[0][0]
                    if e is not None:
                        exported = [d for d in e.symbols.definitions if not d.container]
                        if exported:
                            self.bindings[alias] = [(e, exported[0])]
                    continue
                found = self._lookup_in(targets, name)
                if found:
                    self.bindings[alias] = found
            if imp.wildcard and targets:
                self.module_aliases.setdefault("*", []).extend(targets)
        if lang == "python":
            self._local_imports()
        # Go and Java: the whole package is in scope without imports (Go: the directory;
        # Java: the declared package, in every source root).
        if lang == "go":
            self._go_package()
        if lang == "java" and self.current.package:
            self.module_aliases.setdefault("", []).extend(
                p for p in self.index.resolve_import(
                    self.path, Import(self.current.package, wildcard=True), "java")
                if p != self.path)
        if lang in ("c", "cpp"):  # headers included by included headers are in scope too
            seen = self.module_aliases.setdefault("*", [])
            seen.extend(p for p in self.imported_files if p not in seen)
        self.scope = frozenset(
            (*self.imported_files, *self.module_aliases.get("", ()),
             *self.module_aliases.get("*", ())))

    def _go_package_name(self, files: Sequence[str]) -> str:
        """Return the package name Go files declare (not `x_test`), or ''."""
        for p in files:
            e = self.index.entry(p)
            if e is not None and e.symbols.package and not e.symbols.package.endswith("_test"):
                return e.symbols.package
        return ""

    def _go_package(self) -> None:
        """Put the files of this Go package in scope, and bind the package-level names this
        file uses anywhere as an import binds them: Go needs no import for them. A test file
        (`_test.go`) sees the package's other files; other files never see test files;
        `package x_test` sees its own files and reaches `x` by import like any package."""
        package = self.current.package
        files: list[str] = []
        for p in self.index.files_in_dir(self.directory):
            e = self.index.entry(p)
            if p == self.path or e is None or e.symbols.language != "go":
                continue
            if not self.in_test and _is_test(e.rel):
                continue
            if package and e.symbols.package and e.symbols.package != package:
                continue
            files.append(p)
        self.module_aliases.setdefault("", []).extend(files)
        names = self._scope_names(tuple(files))
        for name in self.current.references:
            if name in self.bindings or name in self.local_names:
                continue
            found = [(e, d) for e, d in names.get(name, ()) if not d.container]
            if found:  # more than one: build-tag variants of the same declaration
                self.bindings[name] = found[:2]
        # `pkg.Name` anywhere in the file binds like `from pkg import Name`.
        for alias, targets in list(self.module_aliases.items()):
            if not alias or alias == "*" or "." in alias or alias not in self.current.references:
                continue
            for m in re.finditer(rf"(?<![\w.]){re.escape(alias)}\.([A-Z]\w*)", self.text):
                qualified = f"{alias}.{m.group(1)}"
                if qualified not in self.qualified:
                    found = self._lookup_in(targets, m.group(1))
                    self.qualified[qualified] = [(e, d) for e, d in found if not d.container]

    def _in_scope(self, path: str) -> bool:
        """Return whether a file's names are visible here: imported, in the same package
        (Go: directory; Java: declared package, every source root), or beside this file."""
        return path in self.scope or _dirname(path) == self.directory

    def _local_imports(self) -> None:
        """Bind names imported inside functions near the cursor (Python's lazy imports)."""
        start = newline_above(self.text, self.offset, 120)
        for m in _LAZY_IMPORT.finditer(self.text, start, self.offset + 2000):
            module, names = m.group(1), m.group(2).strip("() \\")
            imp = Import(module)
            targets = self.index.resolve_import(self.path, imp, "python")
            for part in names.split(","):
                bits = part.split()
                if not bits:
                    continue
                name, alias = bits[0], bits[-1]
                if alias in self.bindings:
                    continue
                sub = self.index.resolve_submodule(self.path, module, name)
                if sub is not None:
                    self.module_aliases.setdefault(alias, []).append(sub)
                    continue
                found = self._lookup_in(targets, name) if targets else []
                if found:
                    self.bindings[alias] = found

    def _enclosing(self) -> None:
        line = self.cursor.line
        self.enclosing_class: str = ""
        self.enclosing_fn: Definition | None = None
        self.receiver_var = ""
        best_fn = None
        line_start = self.text.rfind("\n", 0, self.offset) + 1
        head = self.text[line_start:self.offset]
        cursor_indent = len(head) if not head.strip() else len(head) - len(head.lstrip())
        # A cursor on blank lines right after a body, indented into it, is still inside it.
        blank_from = line
        while blank_from > 0:
            prev_end = line_start - 1
            prev_start = self.text.rfind("\n", 0, max(0, prev_end)) + 1
            if self.text[prev_start:prev_end].strip() or line - blank_from > 20:
                break
            blank_from -= 1
            line_start = prev_start
        for d in self.current.definitions:
            inside = d.start_line <= line <= d.end_line or (
                d.start_line < line and d.end_line >= blank_from - 1
                and cursor_indent > len(d.signature) - len(d.signature.lstrip()))
            if inside:
                if d.kind in CONTAINER_KINDS and d.kind not in ("namespace", "module"):
                    self.enclosing_class = d.name
                elif d.kind in ("function", "method", "property"):
                    if best_fn is None or d.start_line >= best_fn.start_line:
                        best_fn = d
        self.enclosing_fn = best_fn
        if best_fn is not None and best_fn.container and not self.enclosing_class:
            self.enclosing_class = best_fn.container  # Go / C++ / Rust methods outside the type
        if best_fn is not None and self.lang == "go":
            m = _GO_RECEIVER.match(best_fn.signature)
            if m:
                self.receiver_var = m.group(1)
        if self.enclosing_class:
            self.bump_type(self.enclosing_class, 1.0)
        if best_fn is not None:
            for m in _ID.finditer(best_fn.signature):
                tname = m.group()
                if tname[:1].isupper() or self.lang == "python":
                    self.bump_type(tname, 0.8, only_known=True)

    def _locals(self) -> None:
        """Infer variable types from assignments and annotations above the cursor."""
        self.local_types: dict[str, str] = {}
        start = self.cursor.window_start
        if self.enclosing_fn is not None:
            # The enclosing function's own text, not the whole window.
            pos = 0
            for _ in range(self.enclosing_fn.start_line):
                nxt = self.text.find("\n", pos)
                if nxt < 0:
                    break
                pos = nxt + 1
            start = max(start, pos)
        # Sixty lines up are plenty to see where a variable came from.
        floor = newline_above(self.text, self.offset, 60)
        region = self.text[max(start, floor):self.offset + 1000]
        if self.enclosing_fn is not None:
            region = self.enclosing_fn.signature + "\n" + region
        # Only lines that assign or annotate can tell a type: scan just those.
        region = "\n".join(ln for ln in region.split("\n") if "=" in ln or ":" in ln
                           or (self.lang not in ("python", "javascript", "typescript", "tsx")))
        for m in _ASSIGN.finditer(region):
            var, ann, callee = m.group(1), m.group(2), m.group(3)
            tname = _last(ann) if ann else self._type_of_call(callee)
            if tname:
                self.local_types[var] = tname
        for m in _ALIAS_OF_MEMBER.finditer(region):  # `const cache = this.#queryCache`
            if m.group(1) not in self.local_types:
                tname = self.type_of_expr(m.group(2).replace(" ", ""))
                if tname:
                    self.local_types[m.group(1)] = tname
        for pattern in _LOCAL_PATTERNS.get(self.lang, (_ANNOTATED, _TYPED_DECL)):
            for m in pattern.finditer(region):
                a, b = m.group(1), m.group(2)
                if pattern is _TYPED_DECL:
                    a, b = b, a
                if pattern is _WITH_AS:
                    a, b = b, self._type_of_call(a) or ""
                if b and a not in self.local_types:
                    self.local_types[a] = _last(b)

    def _type_of_call(self, callee: str) -> str:
        """Return the type a call produces: a class constructor or a function's return type."""
        found = self._call_types.get(callee)
        if found is None:
            found = self._call_types[callee] = self._compute_type_of_call(callee)
        return found

    def _named_defs(self, name: str, limit: int = 8) -> list[tuple[FileEntry, Definition]]:
        """Return the definitions of a name, or [] when there are more than `limit` (too common
        to tell which one is meant, and costly to list)."""
        cache = self.caches["named"]
        found = cache.get(name)
        if found is None:
            found = cache[name] = ([] if self.index.count_named(name) > limit
                                   else list(self.index.definitions_named(name)))
        return found

    def _compute_type_of_call(self, callee: str) -> str:
        name = _last(callee)
        head = callee.split(".")[0]
        candidates = self.bindings.get(name) or []
        if not candidates and head in self.module_aliases:
            candidates = self._lookup_in(self.module_aliases[head], name)
        if not candidates:
            candidates = self._named_defs(name)[:4]
        for _, d in candidates:
            if d.kind in CONTAINER_KINDS:
                return d.name
            if d.type_name:
                return d.type_name
        for d in self.current.definitions:
            if d.name == name:
                if d.kind in CONTAINER_KINDS:
                    return d.name
                if d.type_name:
                    return d.type_name
        if name[:1].isupper():
            return name
        return ""

    def _field_type(self, tname: str, member: str, depth: int = 0) -> str:
        """Return the declared type of a field or method result, looking up base classes too."""
        bases: list[str] = []
        for d in self.current.definitions:
            if d.container == tname and d.name == member and d.type_name:
                return d.type_name
            if d.name == tname and d.kind in CONTAINER_KINDS:
                bases.extend(d.bases)
        for _, d in self._members(tname):
            if d.name == member and d.type_name:
                return d.type_name
        for _, d in self._owners(tname)[:2]:
            bases.extend(d.bases)
        if depth < 3:
            for base in bases:
                found = self._field_type(base, member, depth + 1)
                if found:
                    return found
        return ""

    def type_of_expr(self, expr: str) -> str:
        """Return the type name of a receiver expression like `self.session` or `x`."""
        parts = expr.split(".")
        head = parts[0]
        if head in _SELF_NAMES or (head == self.receiver_var and head):
            t = self.enclosing_class
        elif head.endswith("()"):
            t = self._type_of_call(head[:-2])
        elif head in self.local_types:
            t = self.local_types[head]
        elif head in self.bindings:
            d = self.bindings[head][0][1]
            t = d.name if d.kind in CONTAINER_KINDS else d.type_name
        else:
            return ""
        for p in parts[1:]:
            if not t:
                return ""
            if p.endswith("()"):
                t = self._type_of_call(p[:-2])
            else:
                t = self._as_type(self._field_type(t, p))
        return t

    def _as_type(self, name: str) -> str:
        """Return name when it is a type; when it is a factory function, the type it returns."""
        if not name or self._owners(name):
            return name
        for d in self.current.definitions:
            if d.name == name and d.kind in CONTAINER_KINDS:
                return name
        return self._type_of_call(name) or name

    def bump_type(self, tname: str, weight: float, only_known: bool = False) -> None:
        if not tname or tname in _KEYWORDS:
            return
        if only_known and not self._owners(tname):
            return
        if weight > self.type_weights.get(tname, 0.0):
            self.type_weights[tname] = weight

    def _typed_receiver(self) -> None:
        """`c.` or `pkg.` typed right before the cursor: what follows is one of that type's
        members or that module's names, the most used first."""
        m = _TYPING_MEMBER.search(self.text[max(0, self.offset - 200):self.offset])
        if m is None:
            return
        expr = _SEP.sub(".", m.group(1))
        files = self.module_aliases.get(expr) if expr else None
        if files:
            found = [(e, d) for p in files[:12] if (e := self.index.entry(p)) is not None
                     for d in e.symbols.definitions if not d.container]
        else:
            tname = self.type_of_expr(expr)
            found = self._members_and_inherited(tname) if tname else []
        for e, d in found:
            private = d.name.startswith(("_", "#")) or (self.lang == "go"
                                                         and not d.name[:1].isupper()
                                                         and files is not None)
            self.add(e, d, (1.1 + 0.3 * self._popularity(d.name)) * (0.4 if private else 1.0),
                     "member")

    def _receivers(self) -> None:
        cur = self.cursor
        self._typed_receiver()
        for expr, prox in cur.receivers.items():
            head = expr.split(".")[0]
            if head in self.module_aliases or (
                    expr in self.module_aliases and "." in expr):
                key = expr if expr in self.module_aliases else head
                files = self.module_aliases[key]
                for member, p in cur.member_calls.get(expr, {}).items():
                    for e, d in self._lookup_in(files, member):
                        self.add(e, d, 1.0 * max(p, 0.3) + 0.2, "module")
                # The rest of the module is candidate for first uses, ranked low.
                for f in files[:3]:
                    e = self.index.entry(f)
                    if e is None:
                        continue
                    for d in e.symbols.definitions:
                        if not d.container and not d.name.startswith("_"):
                            self.add(e, d, (0.15 + 0.3 * self._popularity(d.name)) * prox,
                                     "module")
                continue
            tname = self.type_of_expr(expr)
            if tname:
                self.bump_type(tname, 0.5 + 0.5 * prox)
                calls = cur.member_calls.get(expr, {})
                for e, d in self._members_and_inherited(tname):
                    p = calls.get(d.name)
                    if p is not None:
                        self.add(e, d, 1.1 * max(p, 0.3) + 0.3, "member")
        # Fields of the enclosing class: their types are receivers-to-be.
        if self.enclosing_class:
            for d in self.current.definitions:
                if d.container == self.enclosing_class and d.type_name:
                    o = cur.occ.get(d.name)
                    self.bump_type(self._as_type(d.type_name),
                                   0.45 + (0.5 * o.prox if o else 0.0), only_known=True)
        for var, tname in self.local_types.items():
            o = cur.occ.get(var)
            self.bump_type(tname, 0.4 + (0.55 * o.prox if o else 0.0), only_known=True)

    def _named(self) -> None:
        cur = self.cursor
        # Imported names used anywhere in the file still count, faintly.
        for alias in self.bindings:
            if alias not in cur.occ and alias in cur.file_names:
                cur.occ[alias] = _Occ(0.04, False, True, True)
        for qualified, found in self.qualified.items():
            o = cur.occ.get(qualified.split(".", 1)[1])
            prox = o.prox if o is not None and o.member else 0.0
            for e, d in found:
                self.add(e, d, 0.9 * max(prox, 0.3) + 0.25, "import")
                self.tier0.add(e.path)
        for name, o in cur.occ.items():
            if len(name) < 2 or name in _SELF_NAMES:
                continue
            bound = self.bindings.get(name)
            if o.prox < 0.05 and not bound:
                continue  # named far away only: imports are all that count there
            if bound:
                for e, d in bound:
                    self.add(e, d, 0.9 * max(o.prox, 0.3) + 0.25, "import")
                    self.tier0.add(e.path)
                    if d.kind in CONTAINER_KINDS:
                        self.bump_type(d.name, 0.35 + 0.6 * o.prox)
                continue
            if o.bare and name not in self.local_names:
                wild = self.module_aliases.get("*", ()) or ()
                pkg = self.module_aliases.get("", ()) or ()
                found = list(self._scope_names(tuple(pkg)).get(name, ())) if pkg else []
                if not found and wild:
                    found = self._lookup_in(list(wild), name)
                for e, d in found:
                    self.add(e, d, 0.85 * o.prox + 0.1, "named")
                    if d.kind in CONTAINER_KINDS:
                        self.bump_type(d.name, 0.3 + 0.6 * o.prox)
                if found:
                    continue
            if o.member:
                defs = [(e, d) for e, d in self._named_defs(name)
                        if d.container and e.path != self.path]
                if 0 < len(defs) <= 6:
                    w = 0.75 / math.sqrt(len(defs))
                    for e, d in defs:
                        near = self._in_scope(e.path)
                        self.add(e, d, (w + (0.15 if near else 0.0)) * o.prox, "named")
            elif o.bare and name not in self.local_names:
                defs = [(e, d) for e, d in self._named_defs(name)
                        if not d.container and e.path != self.path]
                if 0 < len(defs) <= 3:
                    for e, d in defs:
                        self.add(e, d, 0.6 * o.prox / len(defs), "named")

    def _owners(self, tname: str) -> list[tuple[FileEntry, Definition]]:
        cache = self.caches["owners"]
        found = cache.get(tname)
        if found is None:
            found = cache[tname] = [(e, d) for e, d in self.index.definitions_named(tname)
                                    if d.kind in CONTAINER_KINDS]
        return found

    def _members(self, tname: str) -> list[tuple[FileEntry, Definition]]:
        """Return the members of a type: same file or same directory as its definition."""
        key = (tname, self.directory, self.scope)
        cache = self.caches["members"]
        found = cache.get(key)
        if found is None:
            found = cache[key] = self._find_members(tname)
        return found

    def _members_and_inherited(self, tname: str) -> list[tuple[FileEntry, Definition]]:
        """Return a type's members, then those of its base types (two levels up)."""
        found = list(self._members(tname))
        seen = {tname}
        level = [tname]
        for _ in range(2):
            bases: list[str] = []
            for t in level:
                for d in self.current.definitions:
                    if d.name == t and d.kind in CONTAINER_KINDS:
                        bases.extend(d.bases)
                for _, d in self._owners(t)[:2]:
                    bases.extend(d.bases)
            level = [b for b in dict.fromkeys(bases) if b and b not in seen]
            seen.update(level)
            for base in level:
                found.extend(self._members(base))
        return found

    def _find_members(self, tname: str) -> list[tuple[FileEntry, Definition]]:
        owners = self._owners(tname)
        if not owners:
            return [(e, d) for e, d in self.index.members_of(tname)][:60]
        if len(owners) > 1:
            owners = [(e, d) for e, d in owners if self._in_scope(e.path)] or owners[:2]
        dirs = {_dirname(e.path) for e, _ in owners}
        return [(e, d) for e, d in self.index.members_of(tname)
                if _dirname(e.path) in dirs][:80]

    def _types(self) -> None:
        cur = self.cursor
        done: set[str] = set()
        queue = sorted(self.type_weights.items(), key=lambda kv: -kv[1])
        while queue:
            tname, w = queue.pop(0)
            if tname in done or w < 0.1:
                continue
            done.add(tname)
            owners = self._owners(tname)
            if len(owners) > 2:
                owners = [(e, d) for e, d in owners if self._in_scope(e.path)][:2]
            for e, d in owners:
                self.add(e, d, 0.6 * w, "type")
                for base in d.bases:
                    if base not in done:
                        queue.append((base, w * 0.8))
            for e, d in self._members(tname):
                occ = cur.occ.get(d.name)
                if occ is not None and occ.member:
                    factor = 0.6 + 0.5 * occ.prox
                elif d.name.startswith("__") and d.name != "__init__":
                    factor = 0.05
                elif d.name.startswith("_"):
                    factor = 0.15
                elif d.kind == "field":
                    factor = 0.25 + 0.1 * self._popularity(d.name)
                elif d.name in ("__init__", "constructor") or d.name == tname:
                    factor = 0.45
                else:
                    factor = 0.32 + 0.16 * self._popularity(d.name)
                self.add(e, d, w * factor, "type")
            # A type defined in the current file: its bases elsewhere matter most.
            for d in self.current.definitions:
                if d.name == tname and d.kind in CONTAINER_KINDS:
                    for base in d.bases:
                        if base not in done:
                            queue.append((base, w * 0.9))
            queue.sort(key=lambda kv: -kv[1])

    # --- selection ----------------------------------------------------------------------------

    def _containers(self, e: FileEntry) -> dict[str, Definition]:
        cache = self.caches.setdefault("containers", {})
        found = cache.get(e.path)
        if found is None or found.get("\0") is not e.symbols:  # type: ignore[comparison-overlap]
            found = {d.name: d for d in e.symbols.definitions if d.kind in CONTAINER_KINDS}
            found["\0"] = e.symbols  # type: ignore[assignment]
            cache[e.path] = found
        return found

    def _cost(self, d: Definition, lang: str, with_doc: bool, indent: str) -> int:
        """Return the rendered length of a definition (memoised: heads rarely change)."""
        cache = self.caches.setdefault("cost", {})
        key = (id(d), with_doc, indent)
        found = cache.get(key)
        if found is None or found[0] is not d:
            size = len(render_definition(d, lang, with_doc=with_doc, member_indent=indent))
            if d.kind in CONTAINER_KINDS and lang not in _BRACE_LANGS:
                size += 4  # the " ..." render_file gives a class shown without a body
            found = cache[key] = (d, size)
        return found[1]

    def select(self, budget: int) -> list[ContextBlock]:
        for c in self.cands.values():
            if (c.entry.path, c.d.start_line) in self.sticky:
                c.score = c.score * _STICKY_GAIN + 0.05
        # Even tiny signatures fill 6,000 characters after a few hundred: rank only those.
        cands = heapq.nlargest(400, self.cands.values(), key=lambda c: c.score)
        chosen: dict[str, list[_Cand]] = {}
        # By place and name, not identity: the index may hold a file's definitions from its
        # disk text and from its open buffer at once (caches outlive a reparse that kept every
        # head), and one file's block must show each declaration once.
        chosen_ids: set[tuple[str, str, str, str]] = set()
        used = 0
        header_cost: dict[str, int] = {}
        misses = 0
        for c in cands:
            if used >= budget - 40 or misses > 60:
                break
            if _key(c.entry, c.d) in chosen_ids or (c.entry.path, c.d.start_line) in self.skip:
                continue
            e = c.entry
            lang = e.symbols.language
            c.with_doc = c.score >= 0.45
            parent = None
            if c.d.container and c.d.kind not in CONTAINER_KINDS:
                parent = self._containers(e).get(c.d.container)
            indent = _member_indent(parent.signature, lang) if parent is not None and \
                _declared_inside(parent, c.d) else ""
            cost = self._cost(c.d, lang, c.with_doc, indent) + 1
            extra: list[_Cand] = []
            if parent is not None and _key(e, parent) not in chosen_ids:
                pc = _Cand(e, parent, c.score, c.source, with_doc=False)
                cost += self._cost(parent, lang, False, "") + 3
                extra.append(pc)
            if e.path not in header_cost:
                cost += len(e.rel) + FILE_HEADER_CHARS
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
            lst = chosen.setdefault(e.path, [])
            for x in [*extra, c]:
                lst.append(x)
                chosen_ids.add(_key(x.entry, x.d))
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
            text = render_file(e, items)
            snippets = [Snippet(p, e.rel, x.d.start_line, x.d.end_line, "", round(x.score, 3),
                                x.source) for x in items]
            tier = 0 if p in self.tier0 else 1
            blocks.append(ContextBlock(p, e.rel, text, snippets, tier))
        return blocks


_dirname = lru_cache(maxsize=65_536)(os.path.dirname)


def _key(e: FileEntry, d: Definition) -> tuple[str, str, str, str]:
    return (e.path, d.name, d.container, d.kind)
_TEST_PATH = re.compile(
    r"(?:^|/)(?:tests?|__tests__|spec|testing)/|_test\.(?:go|py)$|(?:^|/)test_[^/]*\.py$"
    r"|\.(?:test|spec)\.[cm]?[jt]sx?$|Tests?\.java$|(?:^|/)conftest\.py$"
)


@lru_cache(maxsize=65_536)
def _is_test(rel: str) -> bool:
    return _TEST_PATH.search(rel) is not None


def _last(expr: str) -> str:
    expr = expr.split("[")[0]
    return re.split(r"\.|::", expr)[-1].lstrip("*&")
