"""Score the definitions the cursor's evidence points to: imports, receivers, names,
types, (Go) the package's own and imported names, and what code like the cursor's calls."""

from __future__ import annotations

import heapq
import math
import re
from functools import lru_cache

from lsp_server.context.index import FileEntry
from lsp_server.context.names import name_pieces
from lsp_server.context.retrieve.cursor import (
    _ID,
    _KEYWORDS,
    _SELF_NAMES,
    _Cursor,
    _Occ,
    enclosing_call,
    enclosing_literal,
    typed_receiver,
)
from lsp_server.context.retrieve.infer import Types, parameters
from lsp_server.context.retrieve.model import _Cand
from lsp_server.context.retrieve.query import Query, _Step
from lsp_server.context.retrieve.scope import Scope, _is_test
from lsp_server.context.symbols import CONTAINER_KINDS, Definition
from lsp_server.positions import line_start

_PACKAGE_FILES = 80  # files of an imported Go package looked at for its exported names
_PACKAGE_NAMES = 60  # of which the most used are offered to first uses
_HELPERS = 120  # of the current Go package's own functions and types, offered to first uses
_MODULE_NAMES = 30  # names a Python module imports offered as its own to first uses
_REACH_MEMBERS = 12  # a type `this` reaches with more members has each ranked lower
_FAINT = 0.04  # the proximity of a name the file uses, but not near the cursor
_PACKAGE_KINDS = frozenset({"function", "struct", "interface", "type"})
# A first use whose words the lines around the cursor use (see Ranker._affinity) gains up
# to this much; those lines are the ones at least this close (about 6 above, 1 below).
_AFFINITY_GAIN = 0.3
# What the file already calls on the receiver being typed (`editor.getBlock(...)` above).
_USED_GAIN = 0.3
_NEAR_PROX = 0.7
# What closes what the code above opened (`u := AcquireURI()` ... `ReleaseURI(u)`, `mu.RLock()`
# ... `mu.RUnlock()`, `self._lock.acquire()` ... `release()`): the closing word of a name,
# and the opening words that, in its place, make a name used at least this close above
# (about 35 lines).
_CLOSES = {"release": ("acquire", "retain"), "unlock": ("lock",), "close": ("open",),
           "stop": ("start",), "exit": ("enter",), "unsubscribe": ("subscribe",),
           "unregister": ("register",), "detach": ("attach",), "disconnect": ("connect",),
           "free": ("alloc",), "restore": ("save",), "end": ("begin", "start")}
_OPENED_PROX = 0.3
# A name the lines below the cursor use (at least this close: about 13 lines) and nothing
# above declares is what the line being written makes (a blank line above `if err != nil`
# and `req.Key = challengeKey`); a function named with all of its words and more
# (`generateChallengeKey`) likely makes it, as likely as what closes what is open above.
_PENDING_PROX = 0.3
# Such names (see Ranker._follows) are all of the code's affinity (see Ranker._affinity),
# and, of a package's or module's many names offered to first uses, gain this much more.
_CLOSING_GAIN = 0.25
# An imported name the buffer uses nowhere yet is as likely to come next as one named a few
# lines above the cursor.
_UNUSED_FLOOR = 0.85
# A definition that code like the cursor's uses elsewhere gains up to this much: when
# half of those windows (or their best matches) use it, all of it.
_ANALOGUE_GAIN = 0.35
_ANALOGUE_SPREAD = 2.0
_SIBLINGS = 4  # functions named like the one around the cursor whose bodies are looked at
# A first use that makes what the call around the cursor takes (`Retries(3)` among the
# `...Option` arguments of `Backoff(`) gains this much.
_ARGUMENT_GAIN = 0.3
# A first use that makes what the function around the cursor returns gains this much, when
# the package has at most _RESULT_MAKERS such helpers (see Ranker._makes_result).
_RESULT_GAIN = 0.2
_RESULT_MAKERS = 3
# A variable's or constant's declaration tells less of how to use it than a function's or
# type's head does (`strChunked = []byte("chunked")`): of the same evidence, it comes after,
# unless it holds a function (`export const map: {...} = dual(2, (self, f) => ...)`).
_VALUE_KINDS = frozenset({"variable", "constant"})
_VALUE_FACTOR = 0.8
_FUNCTION_VALUE = re.compile(r"=>|\bfunction\b|\blambda\b|\bfunc\s*\(")


def _is_helper(d: Definition) -> bool:
    """Return whether a Go definition is a package's own function (not exported)."""
    return d.kind in ("function", "method") and d.name[:1].islower()


def _word_char(c: str) -> bool:
    return c.isalnum() or c in "_$" if c else False


def _mentioned(text: str, name: str, start: int = 0, end: int | None = None) -> bool:
    """Return whether text[start:end] names `name` as a whole word (str.find and a boundary
    check: no pattern compiled per name)."""
    at = text.find(name, start, end)
    while at >= 0:
        after = at + len(name)
        if not _word_char(text[at - 1:at]) and not _word_char(text[after:after + 1]):
            return True
        at = text.find(name, after, end)
    return False


@lru_cache(maxsize=16_384)
def _holds_function(signature: str) -> bool:
    return _FUNCTION_VALUE.search(signature) is not None


@lru_cache(maxsize=65_536)
def _lower_pieces(name: str) -> tuple[str, ...]:
    return tuple(p.lower() for p in name_pieces(name))


@lru_cache(maxsize=65_536)
def _openers(name: str) -> tuple[tuple[str, ...], ...]:
    """Return the names (as lower-cased pieces) that open what a name closes: the name with
    an opening word in place of a closing one (`ReleaseURI`: acquire, uri)."""
    pieces = _lower_pieces(name)
    return tuple((*pieces[:i], w, *pieces[i + 1:])
                 for i, p in enumerate(pieces) for w in _CLOSES.get(p, ()))


@lru_cache(maxsize=65_536)
def _words(name: str) -> frozenset[str]:
    """Return a name's words, lower-cased and singular, of three letters or more
    (`getHTTPClients` -> get, http, client)."""
    return frozenset(_singular(w) for w in _lower_pieces(name) if len(w) >= 3)


def _singular(word: str) -> str:
    """Return a word without a plural's `s` (`Strings` beside `String`, `Options` beside
    `Option`), the same way on both sides of a comparison."""
    return word[:-1] if len(word) >= 4 and word[-1] == "s" and word[-2] != "s" else word


# TypeScript's access modifiers: such a member is called only inside its class (and, when
# protected, its subclasses).
_MODIFIER = re.compile(r"^\s*(?:(?:public|static|readonly|async|override|abstract)\s+)*"
                       r"(private|protected)\b")


def _hidden(d: Definition, subclass: bool = False) -> bool:
    """Return whether code outside a member's class cannot (or, by convention, should not)
    call it: private by name (`#x`, `_x`) or by modifier; a subclass may call what is
    protected (and, in Python, what starts with one underscore)."""
    if d.name.startswith("#") or (d.name.startswith("_") and not subclass):
        return True
    if "priv" not in d.signature and "prot" not in d.signature:
        return False
    m = _MODIFIER.match(d.signature)
    return m is not None and (m.group(1) == "private" or not subclass)


class Ranker(_Step):
    """The candidates one cursor's evidence gathers, each with a score."""

    def __init__(self, query: Query, cursor: _Cursor, scope: Scope, types: Types) -> None:
        super().__init__(query)
        self.cursor = cursor
        self.scope = scope
        self.types = types
        self.cands: dict[int, _Cand] = {}
        self.tier0: set[str] = set()
        # Types `this`/`self` reaches in a method: the class's bases and its fields' types.
        self.reach: set[str] = set()
        self.reach_self = False  # whether the cursor is in a method of the enclosing class
        self.own: set[str] = set()  # the enclosing class's bases, when `this` reaches them
        self.near_words: set[str] | None = None  # the words of the lines around the cursor
        self.opened: set[tuple[str, ...]] | None = None  # see _closes
        self.pending: list[frozenset[str]] | None = None  # see _makes_pending
        self.argument_types: frozenset[str] | None = None  # see _argument_types
        self.result_makers: int | None = None  # see _makes_result
        self.imports_end: int | None = None  # see _imports_end

    def add(self, e: FileEntry, d: Definition, score: float, source: str) -> None:
        """Record evidence for a definition: the best score wins, each other adds a little."""
        if e.path == self.path or score <= 0:
            return
        if not self.in_test and _is_test(e.rel):
            score *= 0.25  # test helpers rarely matter to code under test
        if d.kind in _VALUE_KINDS and not d.container and not _holds_function(d.signature):
            score *= _VALUE_FACTOR
        c = self.cands.get(id(d))
        if c is None:
            self.cands[id(d)] = _Cand(e, d, score, source)
        elif score > c.score:
            c.score = score + 0.05 * min(c.score, 1.0)
            c.source = source
        else:
            c.score += 0.05 * min(score, 1.0)

    def collect(self) -> None:
        """Gather the candidates once the scope is bound and the local types inferred."""
        self._receivers()
        self._named()
        self._types()
        if self.lang == "go":
            self._package_helpers()
            self._imported_packages()

    def follow_analogues(self, windows: list[tuple[float, str, str]]) -> None:
        """Raise what code like the cursor's calls elsewhere: `GetBoolSlice`'s body calls
        `f.getFlagType(...)`, so `GetStringSlice`'s likely does too. A name counts only
        where it is defined outside the window's own file (that file's names are its
        parallels, not what both share)."""
        if not windows:
            return
        seen: dict[str, list[tuple[float, str]]] = {}
        for share, p, chunk in windows:
            for name in set(_ID.findall(chunk)):
                seen.setdefault(name, []).append((share, p))
        occ = self.cursor.occ
        for c in self.cands.values():
            found = seen.get(c.d.name)
            if not found:
                continue
            o = occ.get(c.d.name)
            if o is not None and o.prox >= _NEAR_PROX:
                continue
            w = sum(share for share, p in found if p != c.entry.path)
            if w:
                c.score += _ANALOGUE_GAIN * min(1.0, w / len(windows) * _ANALOGUE_SPREAD)

    def siblings(self) -> list[tuple[float, str, int]]:
        """Return (share, path, first line) of the Go package's functions named most like
        the one around the cursor (`GetIntSlice` beside `GetStringSlice`; in a test file,
        `TestGetIntSlice` beside `TestGetStringSlice` too)."""
        fn = self.types.enclosing_fn
        if fn is None or self.lang != "go":
            return []
        mine = _words(fn.name)
        if len(mine) < 2:
            return []
        found = []
        for p in self.scope.module_aliases.get("", ())[:_PACKAGE_FILES]:
            e = self.index.entry(p)
            if e is None or p == self.path or (not self.in_test and _is_test(e.rel)):
                continue
            for d in e.symbols.definitions:
                if d.kind in ("function", "method") and d.name != fn.name:
                    theirs = _words(d.name)
                    share = len(mine & theirs) / len(mine | theirs)
                    if share >= 0.5:
                        found.append((share, p, d.start_line))
        return heapq.nlargest(_SIBLINGS, found)

    def _package_helpers(self) -> None:
        """Offer the package's own functions faintly: Go calls them without any import.
        The likeliest of all its files' (not the first ones found: fasthttp's args.go,
        bytesconv.go and client.go alone declare more than are offered)."""
        found = []
        for p in self.scope.module_aliases.get("", ())[:_PACKAGE_FILES]:
            e = self.index.entry(p)
            if e is None or (not self.in_test and _is_test(e.rel)):
                continue
            for d in e.symbols.definitions:
                if d.kind in _PACKAGE_KINDS and not d.container:
                    found.append((self._prior(d, 0.08 if d.name[:1].islower() else 0.05),
                                  e, d))
        # Enough to fill what is left of the context, cheap to rank.
        for score, e, d in heapq.nlargest(_HELPERS, found, key=lambda x: x[0]):
            self.add(e, d, score, "package")

    def _affinity(self, name: str) -> float:
        """Return the share of a name's words that the lines around the cursor use
        (`countSections` under `countParams(path)`, `tomlBinding{}` among `jsonBinding{}`):
        code written in parallel names what comes next; all of it for a name that holds every
        word of the function around the cursor (`debugPrintWARNINGNew` in `New`), or for
        one that follows from the code around the cursor (see _follows)."""
        o = self.cursor.occ.get(name)
        if o is not None and o.prox > _FAINT:
            return 0.0
        if self._follows(name):
            return 1.0
        near = self.near_words
        if near is None:
            near = self.near_words = set()
            for n, o in self.cursor.occ.items():
                if o.prox >= _NEAR_PROX:
                    near.update(_words(n))
            fn = self.types.enclosing_fn
            if fn is not None:
                near.update(_words(fn.name))
        if not near:
            return 0.0
        mine = _words(name)
        fn = self.types.enclosing_fn
        if fn is not None and fn.name != name:
            theirs = _words(fn.name)
            if theirs and theirs <= mine:
                return 1.0  # named after the function being written (`debugPrintWARNINGNew`)
        return len(mine & near) / len(mine) if mine else 0.0

    def _follows(self, name: str) -> bool:
        """Return whether a name follows from the code around the cursor: it closes what the
        lines above open, or makes what the lines below use."""
        return self._closes(name) or self._makes_pending(name)

    def _closes(self, name: str) -> bool:
        """Return whether a name closes what a name used above the cursor opens: it is that
        name with one opening word in place of a closing one (`ReleaseURI`, `AcquireURI`)."""
        openers = _openers(name)
        if not openers:
            return False
        opened = self.opened
        if opened is None:
            opened = self.opened = {_lower_pieces(n) for n, o in self.cursor.occ.items()
                                    if o.before and o.prox >= _OPENED_PROX}
        return any(k in opened for k in openers)

    def _makes_pending(self, name: str) -> bool:
        """Return whether a name holds every word of a name the lines just below the cursor
        use and nothing above it declares: what the line at the cursor makes (see
        _PENDING_PROX)."""
        pending = self.pending
        if pending is None:
            pending = self.pending = self._pending()
        if not pending:
            return False
        mine = _words(name)
        return any(p < mine for p in pending)

    def _pending(self) -> list[frozenset[str]]:
        """Return the words of the names of two words or more that the lines just below the
        cursor use as values, that the file names nowhere above the cursor, and that the
        repository declares nowhere outside a type (`ipNetValue` in a type switch below is
        not made here; a `queryKey` may be, though types have fields of that name)."""
        found = []
        for n, o in self.cursor.occ.items():
            if o.before or o.member or o.prox < _PENDING_PROX or n in _KEYWORDS:
                continue
            words = _words(n)
            if len(words) >= 2 and not _mentioned(self.text, n, 0, self.offset) and \
                    not self._declared(n):
                found.append(words)
        return found

    def _declared(self, name: str) -> bool:
        """Return whether the repository declares a name outside any type (or too often to
        tell)."""
        found = self.types.named_defs(name)
        if found:
            return any(not d.container for _, d in found)
        return self.index.count_named(name) > 0

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
        repository uses each name (and whether it makes what the call around the cursor
        takes), below anything the file names."""
        for alias, files in self.scope.module_aliases.items():
            if not alias or alias == "*" or alias not in self.current.references:
                continue
            # The package's most used names, from all its files (not those of the first few
            # files by name: `middleware.RequestID` lives in request_id.go, the 30th).
            found = []
            for p in files[:_PACKAGE_FILES]:
                e = self.index.entry(p)
                if e is None or _is_test(e.rel):
                    continue
                for d in e.symbols.definitions:
                    if not d.container and d.name[:1].isupper():
                        pop = self._popularity(d.name)
                        if self._makes_argument(d):
                            pop += _ARGUMENT_GAIN
                        if self._follows(d.name):
                            pop += _CLOSING_GAIN
                        if pop > 0.2:
                            found.append((-pop, d.name, e, d))
            found.sort(key=lambda x: x[:2])
            for _, _, e, d in found[:_PACKAGE_NAMES]:
                self.add(e, d, self._prior(d, 0.08), "package")

    def _typed_receiver(self) -> None:
        """`c.` or `pkg.` typed right before the cursor: what follows is one of that type's
        members or that module's names, the most used first."""
        typed = typed_receiver(self.text[max(0, self.offset - 200):self.offset])
        if typed is None or typed[1]:
            return
        expr = typed[0]
        files = self.scope.module_aliases.get(expr) if expr else None
        literal = self._object_literal(expr)
        if files:
            found = self.scope.module_names(files[:_PACKAGE_FILES]) + \
                self.scope.module_imports(files[:_PACKAGE_FILES])
        elif literal is not None:
            found = [(e, d) for _, e, d in self._literal_targets(*literal)]
        else:
            tname = self.types.type_of_expr(expr, named_like=True)
            found = self.types.members_and_inherited(tname) if tname else []
        used = self.cursor.member_calls.get(expr, {})
        for e, d in found:
            private = d.name.startswith(("_", "#")) or (self.lang == "go"
                                                         and not d.name[:1].isupper()
                                                         and files is not None)
            self.add(e, d, (1.1 + 0.3 * self._popularity(d.name) + _AFFINITY_GAIN *
                            self._affinity(d.name) + (_USED_GAIN if d.name in used else 0.0))
                     * (0.4 if private else 1.0), "member")

    def _receivers(self) -> None:
        cur = self.cursor
        self._typed_receiver()
        for expr, prox in cur.receivers.items():
            head = expr.split(".")[0]
            if head in self.scope.module_aliases or (
                    expr in self.scope.module_aliases and "." in expr):
                key = expr if expr in self.scope.module_aliases else head
                files = self.scope.module_aliases[key]
                for member, p in cur.member_calls.get(expr, {}).items():
                    for e, d in self.scope.lookup_in(files, member):
                        self.add(e, d, 1.0 * max(p, 0.3) + 0.2, "module")
                # The rest of the module is candidate for first uses, ranked low: all it
                # declares, and the likeliest of what it imports (trio's `_core` imports 80
                # names from its submodules and declares none).
                own = self._first_use_priors(self.scope.module_names(files[:3]))
                imported = self._first_use_priors(self.scope.module_imports(files[:3]))
                for score, e, d in own + heapq.nlargest(_MODULE_NAMES, imported,
                                                        key=lambda x: x[0]):
                    self.add(e, d, score * prox, "module")
                continue
            literal = self._object_literal(expr)
            if literal is not None:
                self._literal_members(*literal, cur.member_calls.get(expr, {}), prox)
                continue
            tname = self.types.type_of_expr(expr)
            if tname:
                self.types.bump_type(tname, 0.5 + 0.5 * prox)
                calls = cur.member_calls.get(expr, {})
                for e, d in self.types.members_and_inherited(tname):
                    p = calls.get(d.name)
                    if p is not None:
                        self.add(e, d, 1.1 * max(p, 0.3) + 0.3, "member")
        # Fields of the enclosing class: their types are receivers-to-be; inside one of its
        # methods, where `this`/`self` reaches them, their members are what comes next.
        fn = self.types.enclosing_fn
        in_method = fn is not None and bool(fn.container) and \
            fn.container == self.types.enclosing_class
        self.reach_self = in_method
        if self.types.enclosing_class:
            for d in self.current.definitions:
                if d.container == self.types.enclosing_class and d.type_name:
                    o = cur.occ.get(d.name)
                    ftype = self.types.as_type(d.type_name)
                    if in_method:
                        self.reach.add(ftype)
                    self.types.bump_type(ftype, 0.45 + (0.5 * o.prox if o else 0.0),
                                         only_known=True)
        for var, tname in self.types.local_types.items():
            o = cur.occ.get(var)
            self.types.bump_type(tname, 0.4 + (0.55 * o.prox if o else 0.0), only_known=True)

    def _first_use_priors(self, found: list[tuple[FileEntry, Definition]]
                          ) -> list[tuple[float, FileEntry, Definition]]:
        """Score a module's public names as its next first use: how widely the repository
        uses each, and how the code around the cursor is named."""
        return [(self._prior(d, 0.15), e, d) for e, d in found
                if not d.name.startswith("_")]

    def _prior(self, d: Definition, base: float) -> float:
        """Return how likely a name not used yet is to come next: a base for where it comes
        from, plus how widely the repository uses it, how the code here is named, and whether
        it makes what the call (or literal) around the cursor takes, or what the function
        around it returns."""
        return base + 0.3 * self._popularity(d.name) + _AFFINITY_GAIN * self._affinity(d.name) \
            + (_ARGUMENT_GAIN if self._makes_argument(d) else 0.0) \
            + (_RESULT_GAIN if self._makes_result(d) else 0.0) \
            + (_CLOSING_GAIN if self._follows(d.name) else 0.0)

    def _makes_result(self, d: Definition) -> bool:
        """Return whether a function is one of the Go package's few own helpers that make
        what the function around the cursor returns: `newConn(...)` returns the `*Conn`
        that `Dial` is written to return. (Exported functions are its API, which its own
        code seldom calls; and where twenty helpers return a MiddlewareFunc, that tells
        nothing of which one comes next.)"""
        fn = self.types.enclosing_fn
        if fn is None or not fn.type_name or d is fn or d.type_name != fn.type_name or \
                not _is_helper(d) or self.lang != "go":
            return False
        makers = self.result_makers
        if makers is None:
            makers = self.result_makers = sum(
                1 for p in self.scope.module_aliases.get("", ())[:_PACKAGE_FILES]
                if (e := self.index.entry(p)) is not None
                for x in e.symbols.definitions if x.type_name == fn.type_name and _is_helper(x))
        return makers <= _RESULT_MAKERS

    def _makes_argument(self, d: Definition) -> bool:
        """Return whether a definition makes a value of a type the call around the cursor
        takes: `Retries(n)` returns the `Option` of `Backoff(op, options ...Option)`."""
        wanted = self.argument_types
        if wanted is None:
            wanted = self.argument_types = self._argument_types()
        if not wanted:
            return False
        if d.kind in CONTAINER_KINDS:
            return d.name in wanted
        return d.kind in ("function", "method") and d.type_name in wanted

    def _argument_types(self) -> frozenset[str]:
        """Return the types named in the parameters of the call whose arguments the cursor
        is among (`Backoff(` several lines up, its other arguments closed), or the types of
        the fields of the Go composite literal it is in (`&Command{`: `PositionalArgs`)."""
        callee, _ = enclosing_call(self.text, self.offset)
        if not callee:
            literal = enclosing_literal(self.text, self.offset) if self.lang == "go" else ""
            return frozenset(
                d.type_name for _, d in self.types.members(literal.rpartition(".")[2])
                if d.kind == "field" and d.type_name) if literal else frozenset()
        defs = self.types.callee_definitions(callee)
        found: set[str] = set()
        for d in defs[:3]:
            found.update(n for n in _ID.findall(parameters(d.signature, d.name))
                         if n[:1].isupper() and n not in _KEYWORDS)
        return frozenset(found)

    def _object_literal(self, expr: str) -> tuple[FileEntry, Definition] | None:
        """Return the imported object literal a receiver names (`aggregationFns` from
        `export const aggregationFns = { sum, extent }`), if it is one."""
        for e, d in self.scope.bindings.get(expr, ()):
            if d.bases and not d.container and d.kind in ("variable", "constant"):
                return e, d
        return None

    def _literal_members(self, e: FileEntry, d: Definition, calls: dict[str, float],
                         prox: float) -> None:
        """Rank what an object literal's properties name: those the file calls on it as
        members, the others (a closed set, like a class's methods) for first uses."""
        spread = math.sqrt(min(1.0, _REACH_MEMBERS / len(d.bases)))
        for key, te, td in self._literal_targets(e, d):
            p = calls.get(key)
            if p is not None:
                self.add(te, td, 1.1 * max(p, 0.3) + 0.3, "member")
            else:
                w = 0.5 + 0.5 * prox
                prior = 0.5 + 0.16 * self._popularity(key) + _AFFINITY_GAIN * self._affinity(key)
                self.add(te, td, w * prior * spread, "member")

    def _literal_targets(self, e: FileEntry, d: Definition
                         ) -> list[tuple[str, FileEntry, Definition]]:
        """Return (property, definition) for each property of an object literal that names
        a definition of its file, or one that file imports."""
        return [(key, te, td) for key, _, name in (p.partition("=") for p in d.bases)
                for te, td in self.scope.lookup_in([e.path], name or key)]

    def _named(self) -> None:
        cur = self.cursor
        # Imported names used anywhere in the file still count, faintly.
        for alias in self.scope.bindings:
            if alias not in cur.occ and alias in cur.file_names:
                cur.occ[alias] = _Occ(_FAINT, False, True, True)
        # `module.Name` used anywhere in the file. A Go package's names rank as imported
        # ones; a Python or TypeScript module's used only far from the cursor rank below
        # first-use evidence: one file uses dozens of jinja2's `nodes.X`.
        floor = 0.3 if self.lang == "go" else 0.0
        for qualified, found in self.scope.qualified.items():
            alias, _, name = qualified.rpartition(".")
            prox = cur.member_calls.get(alias, {}).get(name, 0.0)
            for e, d in found:
                self.add(e, d, 0.9 * max(prox, floor) + 0.25, "import")
                if prox or floor:
                    self.tier0.add(e.path)
        for name, o in cur.occ.items():
            if len(name) < 2 or name in _SELF_NAMES:
                continue
            bound = self.scope.bindings.get(name)
            if o.prox < 0.05 and not bound:
                continue  # named far away only: imports are all that count there
            if bound:
                # Used only far from here: as likely as a first use named like the code
                # around the cursor.
                floor = 0.3 + _AFFINITY_GAIN * self._affinity(name)
                if self._unused(name):
                    floor = max(floor, _UNUSED_FLOOR)
                for e, d in bound:
                    self.add(e, d, 0.9 * max(o.prox, floor) + 0.25, "import")
                    self.tier0.add(e.path)
                    if d.kind in CONTAINER_KINDS:
                        self.types.bump_type(d.name, 0.35 + 0.6 * o.prox)
                    elif d.kind in ("variable", "constant") and d.type_name:
                        # An imported instance (`export const manager = new Manager()`):
                        # its class's members are what the file calls on it.
                        self.types.bump_type(self.types.as_type(d.type_name),
                                             0.25 + 0.6 * o.prox, only_known=True)
                continue
            if o.bare and name not in self.scope.local_names:
                wild = self.scope.module_aliases.get("*", ()) or ()
                pkg = self.scope.module_aliases.get("", ()) or ()
                found = list(self.scope.scope_names(tuple(pkg)).get(name, ())) if pkg else []
                if not found and wild:
                    found = self.scope.lookup_in(list(wild), name)
                for e, d in found:
                    self.add(e, d, 0.85 * o.prox + 0.1, "named")
                    if d.kind in CONTAINER_KINDS:
                        self.types.bump_type(d.name, 0.3 + 0.6 * o.prox)
                if found:
                    continue
            if o.member:
                defs = [(e, d) for e, d in self.types.named_defs(name)
                        if d.container and e.path != self.path]
                if 0 < len(defs) <= 6:
                    w = 0.75 / math.sqrt(len(defs))
                    for e, d in defs:
                        near = self.scope.in_scope(e.path)
                        self.add(e, d, (w + (0.15 if near else 0.0)) * o.prox, "named")
            elif o.bare and name not in self.scope.local_names:
                defs = [(e, d) for e, d in self.types.named_defs(name)
                        if not d.container and e.path != self.path]
                if 0 < len(defs) <= 3:
                    for e, d in defs:
                        self.add(e, d, 0.6 * o.prox / len(defs), "named")

    def _unused(self, name: str) -> bool:
        """Return whether an imported name appears nowhere in the buffer after the imports:
        the file was written to use it, and has not yet (Go imports packages, not names)."""
        if self.lang == "go":
            return False
        end = self.imports_end
        if end is None:
            end = self.imports_end = self._imports_end()
        return not _mentioned(self.text, name, end)

    def _imports_end(self) -> int:
        """Return the offset where the import statements above the file's first definition
        end (after the brackets of the last one close: `import {\n  a,\n} from './a'`)."""
        first = min((d.start_line for d in self.current.definitions), default=1 << 30)
        rows = [i.line for i in self.current.imports if i.line < first]
        if not rows:
            return 0
        text = self.text
        at = line_start(text, max(rows))
        depth = 0
        while True:
            end = text.find("\n", at)
            line = text[at:] if end < 0 else text[at:end]
            depth += sum(line.count(c) for c in "({[") - sum(line.count(c) for c in ")}]")
            if end < 0:
                return len(text)
            at = end + 1
            if depth <= 0:
                return at

    def _types(self) -> None:
        cur = self.cursor
        done: set[str] = set()
        queue = sorted(self.types.type_weights.items(), key=lambda kv: -kv[1])
        while queue:
            tname, w = queue.pop(0)
            if tname in done or w < 0.1:
                continue
            done.add(tname)
            owners = self.types.owners(tname)
            if len(owners) > 2:
                owners = [(e, d) for e, d in owners if self.scope.in_scope(e.path)][:2]
            for e, d in owners:
                self.add(e, d, 0.6 * w, "type")
                for base in d.bases:
                    if base not in done:
                        queue.append((base, w * 0.8))
                        if tname in self.reach:
                            self.reach.add(base)
                        if tname in self.own:
                            self.own.add(base)
            members = self.types.members(tname)
            # The fewer members a type `this` reaches has, the likelier each is the next one.
            subclass = tname in self.own
            callable_ = sum(1 for _, d in members if d.kind in ("method", "function")
                            and not _hidden(d, subclass))
            spread = math.sqrt(min(1.0, _REACH_MEMBERS / max(1, callable_)))
            for e, d in members:
                occ = cur.occ.get(d.name)
                if occ is not None and occ.member:
                    factor = 0.6 + 0.5 * occ.prox
                elif d.name.startswith("__") and d.name != "__init__":
                    factor = 0.05
                elif _hidden(d, subclass):
                    factor = 0.15
                elif d.kind == "field":
                    factor = 0.25 + 0.1 * self._popularity(d.name)
                elif d.name in ("__init__", "constructor") or d.name == tname:
                    factor = 0.45
                else:
                    factor = 0.32 + 0.16 * self._popularity(d.name) \
                        + _AFFINITY_GAIN * self._affinity(d.name)
                if tname in self.reach and not _hidden(d, subclass):
                    # `this.x()` / `this.#cache.x()`: what the class's own code calls next.
                    factor = max(factor, (0.5 + 0.16 * self._popularity(d.name)) * spread)
                self.add(e, d, w * factor, "type")
            # A type defined in the current file: its bases elsewhere matter most.
            for d in self.current.definitions:
                if d.name == tname and d.kind in CONTAINER_KINDS:
                    for base in d.bases:
                        if base not in done:
                            queue.append((base, w * 0.9))
                            if tname == self.types.enclosing_class and self.reach_self:
                                self.reach.add(base)
                                self.own.add(base)
            queue.sort(key=lambda kv: -kv[1])
