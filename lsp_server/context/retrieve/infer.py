"""Receiver type inference: the enclosing class and function, local variables' types
from annotations, assignments, destructuring, loops, class tests and type guards, and what a
callback is given to, the type of `a.b().c[i]`, and which types the cursor is about."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from itertools import pairwise

from lsp_server.context.index import FileEntry
from lsp_server.context.languages import TYPED_LANGUAGES
from lsp_server.context.retrieve.cursor import (
    _ID,
    _KEYWORDS,
    _SELF_NAMES,
    _SEP,
    NAME,
    _Cursor,
    enclosing_call,
    unclosed,
)
from lsp_server.context.retrieve.query import Query, _Step
from lsp_server.context.retrieve.scope import Scope, _dirname
from lsp_server.context.symbols import CONTAINER_KINDS, Definition, type_name_of
from lsp_server.positions import newline_above

# Assignments: `x = <expr>`, `x := <expr>`, `const x: Foo = <expr>`, and `a, err := <expr>`
# (the first name); what the expression's type is, _receiver_at reads.
_ASSIGN = re.compile(
    rf"(?<![\w.$])(?:(?:const|let|var|auto)\s+)?({NAME})(?:\s*,\s*{NAME})*"
    r"\s*(?::\s*([\w.]+(?:\[[\w., |]*\])?)\s*)?(?::=|=(?![=>]))\s*"
)
# `const {$from, $to: end} = <expr>`: each name has the type of that field of the expression's.
_DESTRUCTURE = re.compile(r"(?<![\w$])(?:const|let|var)\s*\{([^{}]*)\}\s*(?::[^=\n]*)?=(?![=>])\s*")
# A loop's variable is an element of what it loops over, and an element has its array's
# (or list's, or slice's) type name: `for (const x of xs)`, `for x in xs:`, `for _, x := range xs`.
_LOOP = re.compile(
    rf"\bfor\s*(?:\(\s*(?:const|let|var)\s+({NAME})\s+of|({NAME})\s+in"
    rf"|{NAME}\s*,\s*({NAME})\s*:=\s*range)\s+")
_COMMENT = re.compile(r"\s*(?://|#(?![A-Za-z_$])|/?\*)")  # a comment's words are not declarations
_PREFIX = re.compile(r"(?:(?:await|new|yield)\s+|[&*])*")
_NAME = re.compile(NAME)
_LINK = re.compile(rf"#?{NAME}")
_DOT = re.compile(r"\s*(?:\??\.|->|::)\s*")
# How far up a variable of code outside any declared function is looked for (see
# Types._declared_above).
_FAR_LINES = 400
# A line that declares or assigns a variable: `const store: Store<T> = `, `node = `, `n := `
# (_ASSIGN, which reads the type of such a line, takes no annotation with type arguments).
_DECLARATION = re.compile(rf"[ \t]*(?:(?:const|let|var)\s+)?({NAME})\s*(?::[^=\n]*)?"
                          r"(?::=|=(?![=>]))")
# Type arguments of a call (`createStore<T>(`); or ones the line does not close, right after
# the name (`createStore<{` with the object type over the next lines).
_TYPE_ARGS = re.compile(r"<[^<>()=;\n]*>(?=\()|<(?=[\w{\[(])[^>\n]*$")
_CLOSERS = {"(": ")", "[": "]", "{": "}"}
_ANNOTATED = re.compile(rf"(?<![\w.$])({NAME})\s*\??\s*:\s*(?:[\w.]+\[)?\*?([A-Z][\w.]*)")
_GO_PARAM = re.compile(r"\b([a-z_]\w*)\s+\*?(?:\[\])?([\w.]*[A-Z]\w*)")
# In a Go signature, parameters of the package's own unexported types too: `root *node`.
_GO_DECLARED = re.compile(r"[(,]\s*([a-z_]\w*)\s+\*?(?:\[\])?([a-z_]\w*)\s*[,)]")
_TYPED_DECL = re.compile(r"\b([A-Z]\w*)(?:<[^<>;=]*>)?[*&\s]+([a-z_]\w*)\s*[=;,)]")
# Languages whose variables seldom declare a type, named after their class instead.
_NAMED_LIKE_LANGUAGES = frozenset({"python", "javascript"})
_SNAKE = re.compile(r"_*[a-z][a-z0-9]*(?:_[a-z0-9]+)*")
# The head of a Go func literal whose body a brace opens: `r.Route("/v1", func(r chi.Router) {`.
_GO_LITERAL = re.compile(r"\bfunc\s*\(([^()]*)\)[^{}]*$")
_WITH_AS = re.compile(r"\bwith\s+([\w.]+)\s*\(.*?\)\s+as\s+(\w+)")
# Members of one type worth ranking: gin's Context has over 100 methods, each of which a
# handler may call next.
_MAX_MEMBERS = 250
# Declarations of a value, not a function: what calling one gives, its type does not tell.
_VALUE_HOLDERS = frozenset({"field", "variable", "constant"})
# A test of a value's class: `x.y instanceof T`, `isinstance(x.y, T)`.
_NARROW = re.compile(rf"(?<![\w$.#])({NAME}(?:\s*\.\s*#?{NAME})*)\s+instanceof\s+([\w.]+)"
                     rf"|\bisinstance\(\s*({NAME}(?:\.{NAME})*)\s*,\s*([\w.]+)\s*\)")
# A test negated: `!isText(n)`, `!(n instanceof Text)`, `not isinstance(n, Text)`.
_NEGATED = re.compile(r"(?:!\s*\(?|\bnot\s+)\s*$")
# A Go type assertion (`v, ok := x.(*T)`, `switch v := x.(type)`), and a type switch's case
# of one type.
_GO_ASSERTION = re.compile(rf"({NAME})(?:\s*,\s*{NAME})?\s*:?=\s*[^=\n]*?\.\(\s*\*?([\w.]+)\s*\)")
_GO_CASE = re.compile(r"\s*case\s+\*?([\w.]+)\s*:")
# A call with one argument that may be a type guard's (`$isTextNode(node)`), and the result
# a type guard declares (`): node is TextNode`, `): asserts node is TextNode`).
_GUARD_CALL = re.compile(rf"(?<![\w$.])({NAME})\(\s*({NAME}(?:\s*\.\s*#?{NAME})*)\s*\)")
# (Of a union, `track is LocalAudioTrack | RemoteAudioTrack`, which one is unknown.)
_GUARD = re.compile(r"\)\s*:\s*(asserts\s+)?[\w$]+\s+is\s+([\w$.]+)(?!\s*\|)")
_BLOCK_OR_END = re.compile(r"[{;]")
# What a collection gives of its elements, or of itself (`m.get(k)`, `m.values()`,
# `xs.filter(f)`): a collection's type name is its elements' (`Map<K, V>`, `list[Job]`).
_ELEMENT_ACCESSORS = frozenset(
    """get values at find findLast pop shift filter slice sort reverse concat toSorted
    toReversed copy setdefault""".split())
_GO_RECEIVER = re.compile(r"^\s*func\s*\(\s*(\w+)")
_LOCAL_PATTERNS: dict[str, tuple[re.Pattern[str], ...]] = {
    "python": (_ANNOTATED, _WITH_AS),
    "javascript": (_ANNOTATED,),
    "typescript": (_ANNOTATED,),
    "tsx": (_ANNOTATED,),
    "go": (_GO_PARAM,),
    "rust": (_ANNOTATED,),
}


# An arrow function whose parameters are not annotated (`(state, node) =>`, `ctx =>`): they
# take their types from what the function is given to, which _ARROW_TARGET reads before it.
_ARROW = re.compile(rf"(?:\(\s*((?:{NAME}\s*,\s*)*{NAME})\s*,?\s*\)|(?<![\w$.])({NAME}))\s*=>")
# A property (`runner: (state) =>`), or a variable or property of a declared type
# (`const plugin: MilkdownPlugin = (ctx) =>`).
_ARROW_TARGET = re.compile(
    rf"(?<![\w$.])({NAME})\s*[?!]?\s*:\s*(?:([\w.]+)\s*(?:<[^=]*>)?\s*=\s*)?(?:async\s*)?$")
_OPEN_KEY = re.compile(rf"(?<![\w$.])({NAME})\s*[?!]?\s*:\s*$")
_ARROW_AFTER = re.compile(r"\s*=>")
_ARROW_LANGUAGES = frozenset({"typescript", "tsx", "javascript"})


def parameters(signature: str, name: str) -> str:
    """Return the text of a declaration's parameter list (after its name and type
    parameters), or ''."""
    m = re.search(rf"(?<![\w$]){re.escape(name)}\s*(?:<[^()]*>)?\s*\(", signature)
    if m is None:
        return ""
    end = _closing(signature, m.end() - 1, len(signature))
    return signature[m.end():end - 1] if end > 0 else signature[m.end():]


def _top_level(text: str, wanted: str) -> Iterator[int]:
    """Yield where the characters of `wanted` stand outside every bracket of text (not the
    commas of `Map<K, V>` or `{a, b}`; the `>` of an arrow closes none)."""
    depth = 0
    for i, c in enumerate(text):
        if c in "([{<":
            depth += 1
        elif c in ")]}>" and not (c == ">" and text[i - 1:i] == "="):
            depth -= 1
        elif c in wanted and depth == 0:
            yield i


def _split(text: str) -> list[str]:
    """Split a parameter list at its own commas."""
    cuts = [-1, *_top_level(text, ","), len(text)]
    parts = (text[a + 1:b].strip() for a, b in pairwise(cuts))
    return [p for p in parts if p]


def _parameter_types(params: str) -> list[str]:
    """Return the type name each parameter of a list is annotated with ('' where none: no
    `:` before a default's `=`)."""
    out = []
    for param in _split(params):
        mark = next(_top_level(param, ":="), -1)
        out.append(_last(type_name_of(param[mark + 1:].strip()))
                   if mark >= 0 and param[mark] == ":" else "")
    return out


def _function_type(text: str) -> list[str] | None:
    """Return the parameter types of the first function type a type expression holds
    (`{ meta?: Meta } & ((ctx: Ctx) => CtxRunner)` -> [Ctx]), or None."""
    i = text.find("(")
    while i >= 0:
        end = _closing(text, i, len(text))
        if end < 0:
            return None
        if _ARROW_AFTER.match(text, end):
            return _parameter_types(text[i + 1:end - 1])
        i = text.find("(", i + 1)
    return None


def _last(expr: str) -> str:
    expr = expr.split("[")[0]
    return re.split(r"\.|::", expr)[-1].lstrip("*&")


def _values_first(defs: Iterable[Definition]) -> list[Definition]:
    """Return the declarations of a name with its interfaces last: a receiver is a value,
    so `$ZodType.init(...)` reads the constant declared beside `interface $ZodType`
    (`export const $ZodType: $constructor<$ZodType>`), not the interface."""
    return sorted(defs, key=lambda d: d.kind == "interface")


def _receiver_at(text: str, i: int) -> str:
    """Return the expression that starts at text[i] as type_of_expr reads it, or '':
    `$before.node().type`; `new Foo<T>(a)` and Go's `&pkg.Foo{...}` as `Foo()` and
    `pkg.Foo()`; `this.frontier[this.depth]` as `this.frontier` (an element has its array's
    type name). It ends where the line or the chain does."""
    end = text.find("\n", i)
    end = len(text) if end < 0 else end
    i = _PREFIX.match(text, i, end).end()
    parts: list[str] = []
    while True:
        m = _LINK.match(text, i, end)
        if m is None:
            break
        part, i = m.group(), m.end()
        args = _TYPE_ARGS.match(text, i, end)
        if args is not None:
            if not args.group().endswith(">"):  # the call's type arguments go on below
                parts.append(part + "()")
                return ".".join(parts)
            i = args.end()
        while i < end and text[i] in "([{!":
            c = text[i]
            if c == "!":  # TypeScript's non-null assertion
                if text.startswith("!=", i):
                    break
                i += 1
                continue
            if c == "{" and not part[:1].isupper():
                break  # a block, not a composite literal
            if c != "[":
                part = part.removesuffix("()") + "()"
            i = _closing(text, i, end)
            if i < 0:
                parts.append(part)
                return ".".join(parts)
        parts.append(part)
        dot = _DOT.match(text, i, end)
        if dot is None:
            break
        i = dot.end()
    return ".".join(parts)


def _closing(text: str, i: int, end: int) -> int:
    """Return the offset after the bracket that closes text[i] on its line, or -1."""
    depth = 0
    opener, closer = text[i], _CLOSERS[text[i]]
    for j in range(i, end):
        c = text[j]
        if c == opener:
            depth += 1
        elif c == closer:
            depth -= 1
            if depth == 0:
                return j + 1
    return -1


class Types(_Step):
    """The types one cursor is about, and the type of a receiver expression."""

    def __init__(self, query: Query, scope: Scope, cursor: _Cursor) -> None:
        super().__init__(query)
        self.scope = scope
        self.cursor = cursor
        self.type_weights: dict[str, float] = {}
        self._call_types: dict[str, str] = {}
        self.enclosing_class = ""
        self.enclosing_fn: Definition | None = None
        self.receiver_var = ""
        self.local_types: dict[str, str] = {}
        # Members whose class a test above the cursor told (`this.state instanceof Paused`).
        self.narrowed: dict[str, str] = {}
        self._guards: dict[str, tuple[str, bool]] = {}  # see _guarded_type
        self._switched = ""  # the variable of the Go type switch above the cursor
        self._here: dict[str, list[Definition]] | None = None  # see defined_here
        # Where the enclosing function starts (None: there is none, so _FAR_LINES up), and
        # where the lines find_local_types reads do: a variable declared between them is
        # looked up on demand (_declared_above).
        self._fn_start: int | None = None
        self._read_from = 0
        self._looked_up: set[str] = set()

    def find_enclosing(self) -> None:
        """Find the class and function around the cursor (and a Go method's receiver)."""
        line = self.cursor.line
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

    def find_local_types(self) -> None:
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
            self._fn_start = pos
        # Sixty lines up are plenty to see where a variable came from.
        floor = newline_above(self.text, self.offset, 60)
        if self.enclosing_fn is not None:
            if self.lang == "go":
                for m in _GO_DECLARED.finditer(self.enclosing_fn.signature):
                    self.local_types[m.group(1)] = m.group(2)
            self._read_lines(self.enclosing_fn.signature)
            if start < floor:  # the function's own head: its callback parameters
                head_end = self.text.find("\n", start)
                self._callback_parameters(start, min(self.offset, head_end if head_end >= 0
                                                     else len(self.text)))
        begin = max(start, floor)
        self._read_from = begin
        self._read_lines(self.text[begin:self.offset + 1000], begin)
        if self.lang == "go":
            self._go_literal_parameters(start)

    def _go_literal_parameters(self, start: int) -> None:
        """Type the parameters of the Go func literals the cursor is in, the innermost
        first: `func(r chi.Router) {` declares the `r` its body uses, whatever the lines
        above assigned to an `r` of the function around it (lines are read in order, and
        the literal's body may have ended before the cursor)."""
        declared: set[str] = set()
        at = self.offset
        for _ in range(8):
            i, _ = unclosed(self.text, at)
            if i < start:
                break
            if self.text[i] == "{":
                m = _GO_LITERAL.search(self.text, self.text.rfind("\n", 0, i) + 1, i)
                for p in _GO_PARAM.finditer(m.group(1)) if m else ():
                    if p.group(1) not in declared:
                        declared.add(p.group(1))
                        self.local_types[p.group(1)] = _last(p.group(2))
            at = i

    def _read_lines(self, text: str, at: int = -1) -> None:
        """Read the types lines give, in order, so that each sees the types of the lines
        above it; `at` is where text starts in the file (-1 when it is not the file's)."""
        for ln in text.split("\n"):
            if 0 <= at < self.offset and "=>" in ln and self.lang in _ARROW_LANGUAGES:
                self._callback_parameters(at, min(at + len(ln), self.offset))
            # Only lines that assign, annotate or loop can tell a type.
            if ("=" in ln or ":" in ln or " of " in ln or " in " in ln
                    or self.lang not in TYPED_LANGUAGES) and not _COMMENT.match(ln):
                self._read_line_types(ln)
            if 0 <= at < self.offset and ("instanceof" in ln or "isinstance" in ln or (
                    "(" in ln and self.lang in _ARROW_LANGUAGES)):
                self._read_narrowing(ln, at)
            if at >= 0:
                at += len(ln) + 1

    def _read_narrowing(self, line: str, at: int) -> None:
        """Record what a test of a value's class tells of its type where the test holds:
        `if (this.state instanceof PausedState) {`, `if isinstance(node, Call):` and a
        call of a TypeScript type guard (`$isElementNode(node)`, declared `node is
        ElementNode`) inside the block they open, and later on their line (`$isTextNode(n) &&
        n.`); a negated one (`if (!$isTextNode(n)) return`) after its block."""
        asserted = line.lstrip().startswith("assert ")  # Python's `assert isinstance(...)`
        found = [(m.start(), m.group(1) or m.group(3), m.group(2) or m.group(4), asserted)
                 for m in _NARROW.finditer(line)] if "instanceof" in line or \
            "isinstance" in line else []
        if self.lang in _ARROW_LANGUAGES:
            found += [(m.start(), m.group(2), *guarded) for m in _GUARD_CALL.finditer(line)
                      if (guarded := self._guarded_type(m.group(1)))[0]]
        for i, expr, tname, always in found:
            expr, tname = _SEP.sub(".", expr), _last(tname)
            if not self.known_type(tname) or not (always or self._holds(line, at, i)):
                continue
            if "." in expr:
                self.narrowed[expr] = tname
            else:
                self.local_types[expr] = tname

    def _holds(self, line: str, at: int, i: int) -> bool:
        """Return whether the test at line[i] (the line starts at `at`) holds at the cursor:
        on the same line after it, or inside the block the line opens; if negated (`!` or
        `not` before it), after that block."""
        negated = _NEGATED.search(line, 0, i) is not None
        if at + len(line) >= self.offset:  # the cursor's own line
            return not negated and at + i < self.offset
        if self.lang == "python":
            indent = len(line) - len(line.lstrip())
            body = self.text[at + len(line) + 1:self.offset]
            inside = all(len(x) - len(x.lstrip()) > indent for x in body.split("\n")[:-1]
                         if x.strip())
            last = body.rpartition("\n")[2]
            inside = inside and (not last.strip() or len(last) - len(last.lstrip()) > indent)
        else:
            # The block the test's statement opens, unless a `;` ends it first (`if
            # (!isText(n)) return;`), after conditions over several lines.
            m = _BLOCK_OR_END.search(self.text, at + i, min(self.offset, at + i + 400))
            if m is None or m.group() == ";":
                return negated
            depth = 0
            for c in self.text[m.start():self.offset]:
                depth += c == "{"
                depth -= c == "}"
            inside = depth > 0
        return inside != negated

    def _guarded_type(self, callee: str) -> tuple[str, bool]:
        """Return the type a TypeScript type guard tells its argument is ('' if it is none),
        and whether it asserts it (`asserts node is T`: true on every line after the call)."""
        found = self._guards.get(callee)
        if found is None:
            found = self._guards[callee] = next(
                ((m.group(2), bool(m.group(1))) for d in self.callee_definitions(callee)[:3]
                 if d.kind == "function" and (m := _GUARD.search(d.signature))), ("", False))
        return found

    def _callback_parameters(self, start: int, end: int) -> None:
        """Type the parameters of arrow functions that declare none from what each function
        is given to: a property of a declared type (`runner: (state, node) =>` in a
        `parseMarkdown: {...}` whose type declares `runner: (state: ParserState, ...) =>`),
        a variable of a function type (`const p: MilkdownPlugin = (ctx) =>`), or a
        parameter of a function type (`store.listen((entry) =>`)."""
        for m in _ARROW.finditer(self.text, start, end):
            names = [n.strip() for n in (m.group(1) or m.group(2)).split(",")]
            line_start = self.text.rfind("\n", 0, m.start()) + 1
            target = _ARROW_TARGET.search(self.text, line_start, m.start())
            if target is not None and target.group(2):
                types = self._function_type_of(target.group(2))
            elif target is not None:
                types = self._property_parameters(target.group(1), target.start())
            else:
                types = self._argument_parameters(m.start())
            for name, tname in zip(names, types or (), strict=False):
                if tname and name not in _KEYWORDS and self.known_type(tname):
                    self.local_types[name] = tname

    def _function_type_of(self, tname: str) -> list[str] | None:
        """Return the parameter types of the function type a type alias names."""
        for _, d in self.named_defs(_last(tname), 4):
            if d.kind == "type":
                found = _function_type(d.signature.partition("=")[2])
                if found is not None:
                    return found
        return None

    def _declared_parameters(self, d: Definition) -> list[str] | None:
        """Return the parameter types a function, method, or a property of a function
        type declares."""
        if d.kind in ("function", "method"):
            return _parameter_types(parameters(d.signature, d.name))
        return self._callable_parameters(d.signature.partition(d.name)[2].lstrip(" ?!:="))

    def _callable_parameters(self, declared: str) -> list[str] | None:
        """Return the parameter types of a declared function type, written out
        (`(state: ParserState) => void`) or named (`Listener`)."""
        return _function_type(declared) if "=>" in declared else \
            self._function_type_of(type_name_of(declared))

    def _property_parameters(self, key: str, at: int) -> list[str] | None:
        """Return the parameter types the declarations of a property named `key` give the
        function an object literal holds there: of the type the property around the literal
        is declared with, when that is found (`parseMarkdown: NodeParserSpec`)."""
        defs = [d for _, d in self.named_defs(key) if d.container]
        parent = self._enclosing_key(at)
        if parent:
            holders = {self.as_type(d.type_name) for _, d in self.named_defs(parent)
                       if d.container and d.type_name}
            defs = [d for d in defs if d.container in holders] or defs
        found = [t for t in map(self._declared_parameters, defs) if t]
        if not found:
            return None
        # Where the declarations disagree on a parameter's type, it stays unknown.
        return [t if all(i < len(f) and f[i] == t for f in found) else ""
                for i, t in enumerate(found[0])]

    def _enclosing_key(self, at: int) -> str:
        """Return the property whose object literal value holds an offset (`parseMarkdown`
        for `parseMarkdown: { match, |`), or ''."""
        i, _ = unclosed(self.text, at)
        if i < 0 or self.text[i] != "{":
            return ""
        m = _OPEN_KEY.search(self.text, max(0, i - 100), i)
        return m.group(1) if m else ""

    def _argument_parameters(self, at: int) -> list[str] | None:
        """Return the parameter types of the function type a call's parameter declares,
        for a function given as that argument (`computed(name, (last) =>`)."""
        callee, argument = enclosing_call(self.text, at)
        if not callee:
            return None
        for d in self.callee_definitions(callee)[:3]:
            params = _split(parameters(d.signature, d.name))
            if argument < len(params):
                found = self._callable_parameters(params[argument].partition(":")[2].strip())
                if found:
                    return found
        return None

    def callee_definitions(self, callee: str) -> list[Definition]:
        """Return the definitions a call's callee may mean (`Backoff`, `pkg.Backoff`,
        `c.JSON`)."""
        receiver, _, name = callee.rpartition(".")
        if receiver:
            files = self.scope.module_aliases.get(receiver)
            if files:
                return [d for _, d in self.scope.lookup_in(files, name)]
            tname = self.type_of_expr(receiver)
            return [d for _, d in self.members_and_inherited(tname)
                    if d.name == name] if tname else []
        defs = [d for _, d in self.scope.bindings.get(name, ())]
        pkg = self.scope.module_aliases.get("", ()) if self.lang == "go" else ()
        if pkg:
            defs += [d for _, d in self.scope.scope_names(tuple(pkg)).get(name, ())]
        return defs + [d for d in self.defined_here(name) if not d.container]

    def _read_line_types(self, line: str) -> None:
        """Record the types one line gives its variables: by annotation, assignment,
        destructuring, or as a loop's element."""
        for pattern in _LOCAL_PATTERNS.get(self.lang, (_ANNOTATED, _TYPED_DECL)):
            for m in pattern.finditer(line):
                a, b = m.group(1), m.group(2)
                if pattern is _TYPED_DECL:
                    a, b = b, a
                if pattern is _WITH_AS:
                    a, b = b, self._type_of_call(a) or ""
                if b and a not in self.local_types and not (
                        self.lang == "go" and a in _KEYWORDS):  # (`case *Route:`)
                    self.local_types[a] = _last(b)  # (an assignment tells better)
        for m in _DESTRUCTURE.finditer(line):
            tname = self._type_at(line, m.end())
            for item in m.group(1).split(",") if tname else ():
                field, _, alias = item.split("=")[0].partition(":")  # `key: alias = default`
                field, alias = field.strip(), alias.strip() or field.strip()
                if _NAME.fullmatch(field) and _NAME.fullmatch(alias):
                    found = self.as_type(self._field_type(tname, field))
                    if found:
                        self.local_types[alias] = found
        for m in _LOOP.finditer(line):
            tname = self._type_at(line, m.end())
            if tname:
                self.local_types[m.group(1) or m.group(2) or m.group(3)] = tname
        for m in _ASSIGN.finditer(line):
            var, ann = m.group(1), m.group(2)
            tname = _last(ann) if ann else self._type_at(line, m.end())
            if tname:
                self.local_types[var] = tname
        if self.lang == "go" and (".(" in line or "case" in line):
            self._read_go_assertion(line)

    def _read_go_assertion(self, line: str) -> None:
        """Record the type a Go type assertion gives (`me, ok := err.(*MyErr)`), and in a
        type switch (`switch v := x.(type)`), the type each `case *T:` gives its variable."""
        m = _GO_ASSERTION.search(line)
        if m is not None:
            if m.group(2) == "type":
                self._switched = m.group(1)
            elif self.known_type(_last(m.group(2))):
                self.local_types[m.group(1)] = _last(m.group(2))
            return
        m = _GO_CASE.match(line)
        if m is not None and self._switched and self.known_type(_last(m.group(1))):
            self.local_types[self._switched] = _last(m.group(1))

    def _type_at(self, line: str, i: int) -> str:
        """Return the type of the expression that starts at line[i], or ''."""
        expr = _receiver_at(line, i)
        if not expr:
            return ""
        found = self.type_of_expr(expr)
        if not found and expr.endswith("()") and "(" not in expr[:-2]:
            found = self._type_of_call(expr[:-2])  # `pkg.NewFoo()`, `module.Foo()`
        return found

    def _type_of_call(self, callee: str) -> str:
        """Return the type a call produces: a class constructor or a function's return type."""
        found = self._call_types.get(callee)
        if found is None:
            found = self._call_types[callee] = self._compute_type_of_call(callee)
        return found

    def named_defs(self, name: str, limit: int = 8) -> list[tuple[FileEntry, Definition]]:
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
        candidates = self.scope.bindings.get(name) or []
        if not candidates and head in self.scope.module_aliases:
            candidates = self.scope.lookup_in(self.scope.module_aliases[head], name)
        if not candidates:
            candidates = self.named_defs(name)[:4]  # any function of that name
        # When they give different types (`Queue.all` and `Worker.all`), which one is called
        # is unknown; and what calling a field or variable gives, its type does not tell.
        types = {d.name if d.kind in CONTAINER_KINDS else d.type_name
                 for _, d in candidates if d.kind not in _VALUE_HOLDERS} - {""}
        if len(types) == 1:
            return types.pop()
        if types:
            return ""
        for d in self.defined_here(name):
            if d.kind in CONTAINER_KINDS:
                return d.name
            if d.type_name and d.kind not in _VALUE_HOLDERS:
                return d.type_name
        if name[:1].isupper() and (self.lang != "go" or self.known_type(name)):
            return name  # a constructor; in Go, a conversion (an exported function is not)
        return ""

    def _field_type(self, tname: str, member: str, depth: int = 0) -> str:
        """Return the declared type of a field or method result, looking up base classes too."""
        for d in self.defined_here(member):
            if d.container == tname and d.type_name:
                return d.type_name
        bases = [b for d in self.defined_here(tname) if d.kind in CONTAINER_KINDS
                 for b in d.bases]
        for _, d in self.members(tname):
            if d.name == member and d.type_name:
                return d.type_name
        for _, d in self.owners(tname)[:2]:
            bases.extend(d.bases)
        if depth < 3:
            for base in bases:
                found = self._field_type(base, member, depth + 1)
                if found:
                    return found
        return ""

    def type_of_expr(self, expr: str, named_like: bool = False) -> str:
        """Return the type name of a receiver expression like `self.session` or `x`; with
        named_like, an untyped name's the class it is named after (see _class_named_like)."""
        parts = expr.split(".")
        head = parts[0]
        if head in _SELF_NAMES or (head == self.receiver_var and head):
            t = self.enclosing_class
        elif head.endswith("()"):
            t = self._type_of_call(head[:-2])
        elif head in self.local_types:
            t = self.local_types[head]
        elif head in self.scope.bindings:
            e, d = self.scope.bindings[head][0]
            if d.kind == "interface":  # an import binds the first declaration of the name
                d = _values_first(x for x in e.symbols.definitions
                                  if x.name == d.name and x.container == d.container)[0]
            t = d.name if d.kind in CONTAINER_KINDS else d.type_name
        else:
            t = self._module_level_type(head) or self._declared_above(head)
        if not t and len(parts) == 1 and named_like:
            t = self._class_named_like(head)
        for i, p in enumerate(parts[1:], 2):
            narrowed = self.narrowed.get(".".join(parts[:i])) if self.narrowed else None
            if narrowed:
                t = narrowed
                continue
            if not t:
                return ""
            if p.endswith("()"):  # the method's own result, else any function of that name
                name = p[:-2]
                found = self.as_type(self._field_type(t, name))
                if not found and name in _ELEMENT_ACCESSORS:
                    found = t  # a collection is typed as its elements: `jobs.get(k)`
                t = found or self._type_of_call(name)
            else:
                t = self.as_type(self._field_type(t, p)) or (
                    self._class_named_like(p) if named_like else "")
        return t

    def _class_named_like(self, name: str) -> str:
        """Return the one class of the repository a Python or JavaScript name without a
        declared type is named after (`broker` is a Broker, `self.broker` too, and
        `target_actor` an Actor), or ''. Code without annotations names its variables so;
        a guess, made only for the receiver of the member being typed."""
        if self.lang not in _NAMED_LIKE_LANGUAGES or not _SNAKE.fullmatch(name):
            return ""
        words = name.strip("_").split("_")
        for tname in dict.fromkeys(("".join(w.capitalize() for w in words),
                                    words[-1].capitalize())):
            classes = {e.path for e, d in self.owners(tname) if d.kind == "class"}
            if len(classes) == 1:
                return tname
        return ""

    def _declared_above(self, name: str) -> str:
        """Return the type of a variable of the function around the cursor declared above
        the lines find_local_types reads (`const store = createStore(...)`, 200 lines up in
        a long function)."""
        if name in self._looked_up or not _NAME.fullmatch(name):
            return ""
        self._looked_up.add(name)  # once: `node = node.parent` reads its own line
        text = self.text
        # Outside any declared function (in a callback given to a call, say), a variable
        # may be declared a few hundred lines up.
        first = self._fn_start if self._fn_start is not None else newline_above(
            text, self.offset, _FAR_LINES)
        at = text.rfind(name, first, self._read_from)
        while at >= 0:  # the last declaration above the cursor
            start = text.rfind("\n", 0, at) + 1
            m = _DECLARATION.match(text, start, self._read_from)
            if m is not None and m.start(1) == at and m.group(1) == name:
                end = text.find("\n", at)
                self._read_line_types(text[start:end if end >= 0 else len(text)])
                return self.local_types.get(name, "")
            at = text.rfind(name, first, at)
        return ""

    def _module_level_type(self, name: str) -> str:
        """Return the type of a name the current file declares at its top level: a class
        itself, or a variable's type (`_pool: RunVar[Pool] = RunVar(...)`)."""
        for d in _values_first(self.defined_here(name)):
            if not d.container:
                if d.kind in CONTAINER_KINDS:
                    return d.name
                if d.kind in ("variable", "constant") and d.type_name:
                    return self.as_type(d.type_name)
        return ""

    def as_type(self, name: str) -> str:
        """Return name when it is a type (a class, or one with methods, like Go's
        `type errorMsgs []*Error`); when it is a factory function, the type it returns."""
        if not name or self.known_type(name) or any(
                d.kind in CONTAINER_KINDS for d in self.defined_here(name)):
            return name
        return self._type_of_call(name) or name

    def known_type(self, name: str) -> bool:
        """Return whether the repository declares a type of this name as a class or struct,
        or gives it methods (`type Level int8`)."""
        return bool(self.owners(name) or self.members(name))

    def defined_here(self, name: str) -> list[Definition]:
        """Return the current file's definitions of a name, in file order."""
        if self._here is None:
            self._here = {}
            for d in self.current.definitions:
                self._here.setdefault(d.name, []).append(d)
        return self._here.get(name, [])

    def bump_type(self, tname: str, weight: float, only_known: bool = False) -> None:
        if not tname or tname in _KEYWORDS:
            return
        if only_known and not self.known_type(tname):
            return
        if weight > self.type_weights.get(tname, 0.0):
            self.type_weights[tname] = weight

    def owners(self, tname: str) -> list[tuple[FileEntry, Definition]]:
        cache = self.caches["owners"]
        found = cache.get(tname)
        if found is None:
            found = cache[tname] = [(e, d) for e, d in self.index.definitions_named(tname)
                                    if d.kind in CONTAINER_KINDS]
        return found

    def members(self, tname: str) -> list[tuple[FileEntry, Definition]]:
        """Return the members of a type: same file or same directory as its definition."""
        key = (tname, self.scope.directory, self.scope.files)
        cache = self.caches["members"]
        found = cache.get(key)
        if found is None:
            found = cache[key] = self._find_members(tname)
        return found

    def members_and_inherited(self, tname: str) -> list[tuple[FileEntry, Definition]]:
        """Return a type's members, then those of its base types (two levels up)."""
        found = list(self.members(tname))
        seen = {tname}
        level = [tname]
        for _ in range(2):
            bases: list[str] = []
            for t in level:
                for d in self.defined_here(t):
                    if d.kind in CONTAINER_KINDS:
                        bases.extend(d.bases)
                for _, d in self.owners(t)[:2]:
                    bases.extend(d.bases)
            level = [b for b in dict.fromkeys(bases) if b and b not in seen]
            seen.update(level)
            for base in level:
                found.extend(self.members(base))
        return found

    def _find_members(self, tname: str) -> list[tuple[FileEntry, Definition]]:
        owners = self.owners(tname)
        if not owners:
            return [(e, d) for e, d in self.index.members_of(tname)][:_MAX_MEMBERS]
        if len(owners) > 1:
            owners = [(e, d) for e, d in owners if self.scope.in_scope(e.path)] or owners[:2]
        dirs = {_dirname(e.path) for e, _ in owners}
        return [(e, d) for e, d in self.index.members_of(tname)
                if _dirname(e.path) in dirs][:_MAX_MEMBERS]
