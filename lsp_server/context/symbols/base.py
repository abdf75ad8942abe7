"""What every extractor shares: node text, declaration heads, doc lines, type names."""

from __future__ import annotations

import re

from tree_sitter import Node

from lsp_server.context.names import IDENTIFIER
from lsp_server.context.symbols.model import Definition, FileSymbols

# A head longer than this (a constructor with 25 typed parameters fits) is cut, and a cut
# head is not code: the context leaves such definitions out.
MAX_SIGNATURE_CHARS = 1_500
MAX_DECLARATION_CHARS = 1_200  # a declaration shown whole, past which its inside is elided
MAX_DOC_CHARS = 140
MAX_FIELDS_PER_CLASS = 40
MAX_DECLARATION_LINES = 12  # short type aliases, enums, constants are shown whole
# A long table's values shown on one line (see _listed) cost at most this, about a seventh
# of what the smallest budget (1,024 tokens) holds: a longer one is elided, not to crowd out
# the definitions that budget would show.
MAX_LISTED_CHARS = 480

_IDENT_STR = re.compile(IDENTIFIER)
_QUALIFIED = re.compile(rf"{IDENTIFIER}(?:(?:\.|::){IDENTIFIER})*")
_DOC_QUOTE = re.compile(r"^[rRbBuUfF]{0,2}(?:\"\"\"|'''|\"|')")
# Generic wrappers around the type that matters: `Optional[Session]` is about `Session`.
# Written alone, such a name is the type itself (Go's `type Option func(*Options)`).
_TYPE_WRAPPERS = frozenset(
    """Optional Union List Dict Set FrozenSet Tuple Sequence Mapping MutableMapping Iterable
    Iterator Generator AsyncIterator AsyncGenerator Awaitable Coroutine Callable Type ClassVar
    Final Annotated list dict set frozenset tuple type Promise Array ReadonlyArray Readonly Partial
    Required Pick Omit NonNullable Awaited Record Map Observable Option Result Box Rc Arc Vec
    RefCell Mutex Cell Ref RefMut Pin HashMap BTreeMap shared_ptr unique_ptr weak_ptr vector
    optional""".split()
)
# Wrappers whose first type argument is a key: what matters is the values' type
# (`Map<TrackHandle, Descriptor>` -> Descriptor), what `m.get(k)` gives.
_KEYED = frozenset("""Map ReadonlyMap WeakMap Record Dict dict Mapping MutableMapping DefaultDict
    defaultdict OrderedDict HashMap BTreeMap""".split())
# Names in a type that are never the type that matters: the languages' own scalars, and
# keywords and modifiers written among types.
_NOT_TYPES = frozenset(
    """std const mut dyn impl None null undefined void any unknown int str bool float bytes
    string number boolean object error byte rune uint8 int64 int32 uint64 uint32 float64 float32
    interface struct chan func map self Self this public private protected virtual extends
    implements readonly keyof typeof unique""".split()
)


def _text(src: bytes, node: Node | None) -> str:
    if node is None:
        return ""
    return src[node.start_byte:node.end_byte].decode("utf-8", "replace")


def _indent(src: bytes, start: int) -> str:
    line_start = src.rfind(b"\n", 0, start) + 1
    lead = src[line_start:start]
    if lead.strip():
        return ""
    return lead.decode("utf-8", "replace")


# String literals in a head longer than this are shown as "..." (FastAPI documents each
# parameter in `Annotated[str, Doc("""...""")]`: 3,000-character heads of 8 parameters).
MAX_HEAD_STRING_CHARS = 80
_QUOTES = re.compile(rb"[\"'`]")
_COMMENT_MARKS = re.compile(rb"#|//|/\*")
_STRING_NODES = frozenset({
    "string", "template_string", "interpreted_string_literal", "raw_string_literal",
    "string_literal", "text_block",
})
_COMMENT_NODES = frozenset({"comment", "line_comment", "block_comment"})
_WORD = re.compile(rb"[\w$]")


def _head(src: bytes, node: Node, body: Node | None, start: Node | None = None) -> str:
    """Return the declaration head (from start to body), with its first line's indentation."""
    begin = (start or node).start_byte
    end = body.start_byte if body is not None else node.end_byte
    text = _head_text(src, node, begin, end).rstrip()
    if "\n" in text:
        # Comments between a head and its body belong to the body, not the signature.
        lines = text.split("\n")
        while len(lines) > 1 and lines[-1].lstrip().startswith(("#", "//")):
            lines.pop()
        text = "\n".join(lines).rstrip()
    if len(text) > MAX_SIGNATURE_CHARS:
        cut = text.rfind("\n", 0, MAX_SIGNATURE_CHARS)
        text = text[: cut if cut > 0 else MAX_SIGNATURE_CHARS] + " ..."
    return _indent(src, begin) + text


def _head_text(src: bytes, node: Node, begin: int, end: int) -> str:
    """Return src[begin:end] with each string literal in it over MAX_HEAD_STRING_CHARS
    replaced by "..." (still a string: the head stays code), and without the comments
    inside it (Effect documents each overload of a function's type in its head: a
    1,500-character head, cut, for 430 characters of code)."""
    if not _COMMENT_MARKS.search(src, begin, end) and (
            end - begin <= MAX_HEAD_STRING_CHARS or not _QUOTES.search(src, begin, end)):
        return src[begin:end].decode("utf-8", "replace")
    spans: list[tuple[int, int, bytes]] = []
    stack = [node]
    while stack:
        n = stack.pop()
        if n.end_byte <= begin or n.start_byte >= end:
            continue
        inside = n.start_byte >= begin and n.end_byte <= end
        if n.type in _STRING_NODES and inside:
            if n.end_byte - n.start_byte > MAX_HEAD_STRING_CHARS:
                spans.append((n.start_byte, n.end_byte, b'"..."'))
            continue
        if n.type in _COMMENT_NODES and inside and n.start_byte > begin:
            # A comment between two words keeps them apart; one on its own line goes.
            between = _WORD.match(src, n.start_byte - 1) and _WORD.match(src, n.end_byte)
            spans.append((n.start_byte, n.end_byte, b" " if between else b""))
            continue
        stack.extend(n.children)
    if not spans:
        return src[begin:end].decode("utf-8", "replace")
    spans.sort()
    out, pos = [], begin
    for a, b, replacement in spans:
        out.append(src[pos:a])
        out.append(replacement)
        pos = b
    out.append(src[pos:end])
    text = b"".join(out).decode("utf-8", "replace")
    if any(r == b"" for _, _, r in spans):  # lines that held only a comment go with it
        text = "\n".join(line.rstrip() for line in text.split("\n")
                         if line.strip() or not line)
    return text


def _whole(src: bytes, node: Node, start: Node | None = None,
           value: Node | None = None) -> str:
    """Return a short declaration whole; a long one with the items of its outermost
    bracketed part on one line when they are plain values (see _listed), else with them
    elided (`= { /* ... */ }`, in Python `{...}`); one of many short lines
    and no such part whole; else, for a TypeScript type alias whose `value` is given, its
    head with the value elided (`= /* ... */ any`: a long conditional type has no such
    part); else with every part that spans lines elided (see _all_elided); else its first
    lines (which the context then leaves out: they are not code)."""
    begin = (start or node).start_byte
    text = src[begin:node.end_byte].decode("utf-8", "replace").rstrip()
    if _too_long(text):
        short = _elided(src, node, begin)
        if short is None and value is not None and len(text) > MAX_DECLARATION_CHARS:
            # Up to its `=`: a comment between it and the value would swallow the elision.
            cut = max((c.end_byte for c in node.children
                       if c.type == "=" and c.end_byte <= value.start_byte), default=0)
            head = src[begin:cut].decode("utf-8", "replace").rstrip()
            if cut and head.count("\n") < MAX_DECLARATION_LINES and \
                    len(head) <= MAX_DECLARATION_CHARS:
                short = head + " /* ... */ any"
        if short is None and len(text) > MAX_DECLARATION_CHARS:
            short = _all_elided(src, node, begin)
        text = short or (text if len(text) <= MAX_DECLARATION_CHARS else _cut(text))
    return _indent(src, begin) + text


def _too_long(text: str) -> bool:
    """Return whether a declaration's text is too long to show whole."""
    return text.count("\n") >= MAX_DECLARATION_LINES or len(text) > MAX_DECLARATION_CHARS


_OPENERS = {"{": "}", "[": "]", "(": ")"}


def _elided(src: bytes, node: Node, begin: int) -> str | None:
    """Return the declaration with the items of its outermost multi-line bracketed part on
    one line (see _listed), else with them replaced by an elision; or None when neither
    makes it short."""
    part = _outer_bracketed(node)
    if part is None:
        return None
    elision = _elision(node)
    tries = [(part, _listed(src, part), MAX_LISTED_CHARS)]
    items = _items(part)
    if len(items) == 1 and _bracketed(items[0]):  # `arrayToEnum([...])`: the list inside
        tries.append((items[0], _listed(src, items[0]), MAX_LISTED_CHARS))
    tries.append((part, elision, MAX_DECLARATION_CHARS))
    for target, inside, limit in tries:
        if inside is None:
            continue
        text = _replaced(src, begin, node.end_byte, [(target, inside)])
        if text.count("\n") < MAX_DECLARATION_LINES and len(text) <= limit:
            return text
    return None


def _all_elided(src: bytes, node: Node, begin: int) -> str | None:
    """Return the declaration with every bracketed part that spans lines elided, if that
    makes it short: Effect's `export const map: { <overloads> } = dual(2, (self, f) =>
    ...)` as `export const map: { /* ... */ } = dual( /* ... */ )`; or None."""
    elision = _elision(node)
    text = _replaced(src, begin, node.end_byte,
                     [(p, elision) for p in _outer_bracketed_all(node)])
    if text.count("\n") < MAX_DECLARATION_LINES and len(text) <= MAX_DECLARATION_CHARS:
        return text
    return None


def _elision(node: Node) -> str:
    """Return what stands for an elided inside in the node's language: Python's `...`, else
    a comment."""
    root = node
    while root.parent is not None:
        root = root.parent
    return "..." if root.type == "module" else " /* ... */ "


def _replaced(src: bytes, begin: int, end: int, parts: list[tuple[Node, str]]) -> str:
    """Return src[begin:end] with the inside of each bracketed part replaced."""
    out, pos = [], begin
    for part, inside in parts:
        kids = part.children
        out.append(src[pos:kids[0].end_byte].decode("utf-8", "replace") + inside)
        pos = kids[-1].start_byte
    out.append(src[pos:end].decode("utf-8", "replace"))
    return "".join(out).rstrip()


def _bracketed(n: Node) -> bool:
    kids = n.children
    return len(kids) >= 2 and _OPENERS.get(kids[0].type) == kids[-1].type


def _outer_bracketed(node: Node) -> Node | None:
    """Return the outermost bracketed part of a declaration that spans lines, or None."""
    level = [node]
    while level:
        for n in level:
            if _bracketed(n) and n.end_point.row > n.start_point.row:
                return n
        level = [c for n in level for c in n.children]
    return None


def _outer_bracketed_all(node: Node) -> list[Node]:
    """Return, in order, the bracketed parts of a declaration that span lines and are not
    inside another such part."""
    found: list[Node] = []
    stack = [node]
    while stack:
        n = stack.pop()
        if n is not node and _bracketed(n) and n.end_point.row > n.start_point.row:
            found.append(n)
        else:
            stack.extend(reversed(n.children))
    return found


def _items(part: Node) -> list[Node]:
    """Return the items of a bracketed part, without its comments."""
    return [k for k in part.named_children if k.type not in _COMMENT_NODES]


# The items of a list, table or enum written one a line that one line shows as well: the
# values `X.member` names (`arrayToEnum(["invalid_type", ...])`, `{ bold: IS_BOLD, ... }`),
# which an elision would hide. Names, literals, and pairs, tuples and lists of them; never
# a call, a function or an object with members of its own.
_PLAIN_LEAVES = frozenset({
    "identifier", "property_identifier", "shorthand_property_identifier", "field_identifier",
    "private_property_identifier", "type_identifier", "number", "integer", "float",
    "int_literal", "float_literal", "imaginary_literal", "rune_literal", "true", "false",
    "null", "undefined", "none", "nil", "iota", "string", "interpreted_string_literal",
    "raw_string_literal", "string_literal", "char_literal", "boolean_literal",
    "string_fragment", "escape_sequence",
})
_PLAIN_COMPOUNDS = frozenset({
    "pair", "keyed_element", "literal_element", "enum_assignment", "member_expression",
    "attribute", "selector_expression", "unary_expression", "tuple", "array", "list",
    "literal_value", "expression_list", "concatenated_string", "template_string",
})
_MAX_LISTED_ITEM = 80
_NAMES_ONLY = frozenset({"identifier", "shorthand_property_identifier", "member_expression",
                         "attribute", "selector_expression"})


def _plain(node: Node) -> bool:
    if node.type in _PLAIN_LEAVES:
        return node.type != "string" or all(  # (a Python f-string holds code)
            k.type != "interpolation" for k in node.children)
    return node.type in _PLAIN_COMPOUNDS and all(_plain(k) for k in node.named_children)


def _listed(src: bytes, part: Node) -> str | None:
    """Return the items of a bracketed part on one line (`"a", "b"`; ` a: 1, b: 2 ` in a
    JavaScript object's braces), or None unless each is a plain value (see _PLAIN_LEAVES)
    on one short line, and not all are names."""
    items = _items(part)
    if all(k.type in _NAMES_ONLY for k in items):
        return None  # none, or `[pluginA, pluginB]`: names of definitions, not values
    texts = []
    for k in items:  # (stops at the first that is not: a data table may hold thousands)
        text = _text(src, k)
        if "\n" in text or len(text) > _MAX_LISTED_ITEM or not _plain(k):
            return None
        texts.append(text)
    pad = " " if part.type in ("object", "enum_body") else ""  # `{ a: 1 }`, `{"a": 1}`
    return pad + ", ".join(texts) + pad


def _cut(text: str) -> str:
    lines = text.split("\n")
    if len(lines) > MAX_DECLARATION_LINES:
        text = "\n".join(lines[:MAX_DECLARATION_LINES]) + "\n..."
    if len(text) > MAX_DECLARATION_CHARS:
        text = text[: MAX_DECLARATION_CHARS] + " ..."
    return text


# The head of a TypeScript function type, up to its arrow: `<T>(a: A, b: (x: X) => Y) =>`.
_FUNCTION_TYPE = re.compile(r"(?:<[^()]*>\s*)?\((?:[^()]|\((?:[^()]|\([^()]*\))*\))*\)\s*=>")


def type_name_of(text: str) -> str:
    """Return the bare name of the type that matters in a type expression, or ''."""
    if not text:
        return ""
    if text.startswith("map[") and "]" in text:  # Go: a map's values, what `m[k]` gives
        return type_name_of(text[text.index("]") + 1:])
    if text[:1] in "(<" and "=>" in text:
        # A function type: what calling it gives (`(state: ParserState) => Node` -> Node).
        m = _FUNCTION_TYPE.match(text)
        if m is not None:
            return type_name_of(text[m.end():].strip())
    for m in _QUALIFIED.finditer(text):
        ident = re.split(r"\.|::", m.group())[-1]
        if ident in _NOT_TYPES or (ident in _TYPE_WRAPPERS
                                   and text[m.end():].lstrip()[:1] in ("[", "<")):
            if ident in _KEYED:
                value = _value_argument(text, m.end())
                if value is not None:
                    return type_name_of(value)
            continue
        return ident
    return ""


def _value_argument(text: str, at: int) -> str | None:
    """Return what follows the first of the type arguments that open right after text[at]
    (`Descriptor>` of `Map<Handle, Descriptor>`), or None when there is only one."""
    depth = 0
    for i in range(len(text) - len(text[at:].lstrip()), len(text)):
        c = text[i]
        if c in "<[(":
            depth += 1
        elif c in ">])" and not (c == ">" and text[i - 1] == "="):
            depth -= 1
            if depth == 0:
                return None
        elif c == "," and depth == 1:
            return text[i + 1:]
    return None


def _first_doc_line(raw: str) -> str:
    for line in raw.splitlines():
        line = _DOC_QUOTE.sub("", line.strip()).strip().strip("/*#!\"'").strip()
        if line and not line.startswith("@"):
            return line[:MAX_DOC_CHARS]
    return ""


def _comment_doc(src: bytes, node: Node) -> str:
    """Return the first line of the comment block right above a node."""
    prev = node.prev_named_sibling
    first: Node | None = None
    row = node.start_point.row
    while prev is not None and prev.type in ("comment", "line_comment", "block_comment"):
        if prev.end_point.row < row - 1:
            break
        first = prev
        row = prev.start_point.row
        prev = prev.prev_named_sibling
    if first is None:
        return ""
    return _first_doc_line(src[first.start_byte:node.start_byte].decode("utf-8", "replace"))


class _Extractor:
    def __init__(self, src: bytes, out: FileSymbols) -> None:
        self.src = src
        self.out = out

    def add(self, name: str, kind: str, container: str, node: Node, signature: str,
            doc: str = "", type_name: str = "", bases: tuple[str, ...] = (),
            start: Node | None = None) -> None:
        if not name:
            return
        self.out.definitions.append(Definition(
            name, kind, container, (start or node).start_point.row, node.end_point.row,
            signature, doc, type_name, bases,
        ))



def _string_content(text: str) -> str:
    return text.strip().strip("'\"`")

