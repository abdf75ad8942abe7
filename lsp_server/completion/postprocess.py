"""Clean a raw FIM suggestion before it becomes ghost text: trim, balance, stop, check syntax."""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

from tree_sitter import Node, Parser, Range, Tree

from lsp_server.context.languages import get_parser
from lsp_server.textdiff import common_prefix, common_suffix

__all__ = ["RULES", "PostContext", "PostResult", "postprocess"]


@dataclass(frozen=True)
class PostContext:
    """Everything a rule may look at besides the suggestion itself."""

    prefix: str
    suffix: str
    language: str | None
    multiline: bool
    max_lines: int = 8
    tab_size: int | None = None
    insert_spaces: bool | None = None
    document_key: str | None = None


@dataclass
class PostResult:
    """The text to show ("" shows nothing) and the rules that changed it."""

    text: str
    rule_hits: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# A small lexer: brackets and strings, enough to know what a piece of code opens and closes.

_OPENERS = {"(": ")", "[": "]", "{": "}"}
_CLOSERS = {")": "(", "]": "[", "}": "{"}
_BRACE_LANGS = {"javascript", "typescript", "tsx", "go", "rust", "java", "c", "cpp"}


def _quotes(language: str | None) -> tuple[str, ...]:
    if language == "python":
        return ('"""', "'''", '"', "'")
    if language in {"javascript", "typescript", "tsx"}:
        return ('"', "'", "`")
    if language == "go":
        return ('"', "'", "`")
    if language == "rust":
        # A quote in Rust is as often a lifetime as a char literal: ignore it.
        return ('"',)
    if language is None:
        return ('"', "'")
    return ('"', "'")


def _line_comment(language: str | None) -> str | None:
    if language == "python":
        return "#"
    if language in _BRACE_LANGS:
        return "//"
    return None


# Lexer state: "" = code, a quote = inside that string, "/*", "//" or "#" = inside a comment.
_COMMENT_STATES = frozenset({"/*", "//", "#"})
@dataclass
class _Scan:
    stack: list[tuple[str, int]]  # unclosed openers and their offsets
    unmatched: list[tuple[str, int]]  # closers with no opener in the scanned text
    state: str  # state at the end
    leaves_string_at: int | None = None  # where a string open at the start was closed


@cache
def _code_pattern(language: str | None) -> re.Pattern[str]:
    tokens = [re.escape(q) for q in _quotes(language)]
    comment = _line_comment(language)
    if comment:
        tokens.append(re.escape(comment))
    if language in _BRACE_LANGS:
        tokens.append(re.escape("/*"))
    tokens.append(r"[()\[\]{}]")
    return re.compile("|".join(tokens))


@cache
def _string_pattern(quote: str, language: str | None) -> re.Pattern[str]:
    if quote == "`" and language == "go":
        return re.compile("`")  # Go raw strings know no escapes
    one_line = len(quote) == 1 and quote != "`"
    return re.compile(r"\\.|" + re.escape(quote) + ("|\n" if one_line else ""), re.DOTALL)


def _scan(text: str, language: str | None, state: str = "", stop_unmatched: int = -1) -> _Scan:
    """Scan code for brackets outside strings and comments, starting in a given lexer state."""
    code = _code_pattern(language)
    comment = _line_comment(language)
    stack: list[tuple[str, int]] = []
    unmatched: list[tuple[str, int]] = []
    start_state = state
    leaves: int | None = None
    i, n = 0, len(text)
    while i < n:
        if state == comment:
            end = text.find("\n", i)
            if end < 0:
                break
            state, i = "", end
            continue
        if state == "/*":
            end = text.find("*/", i)
            if end < 0:
                break
            state, i = "", end + 2
            continue
        if state:
            match = _string_pattern(state, language).search(text, i)
            if match is None:
                break
            token = match.group()
            i = match.end()
            if token.startswith("\\"):
                continue
            # A quote closes the string; a newline ends an unterminated one-line string.
            state = ""
            if start_state and leaves is None:
                leaves = match.start()
            continue
        match = code.search(text, i)
        if match is None:
            break
        token, at = match.group(), match.start()
        i = match.end()
        if token == comment:
            end = text.find("\n", i)
            if end < 0:
                state = comment  # the text ends inside a line comment
                break
            i = end
        elif token == "/*":
            state = "/*"
        elif token in _OPENERS:
            stack.append((token, at))
        elif token in _CLOSERS:
            if stack and stack[-1][0] == _CLOSERS[token]:
                stack.pop()
            else:
                unmatched.append((token, at))
                if 0 <= stop_unmatched <= len(unmatched):
                    break
        else:
            state = token
    return _Scan(stack, unmatched, state, leaves)


_ANCHOR_BACK = 16_000
_DEFINITION = re.compile(
    r"[ \t]*(?:@|(?:async|def|class|func|function|export|pub|fn|impl|public|private|protected"
    r"|static|interface|type|const|let|var|void|int|template|struct|enum)\b)"
)


def _anchor(prefix: str, language: str | None) -> tuple[int, int]:
    """Return where the definition around the cursor starts, and its indentation (-1: unknown).

    That is the last line before the cursor that is less indented than everything after it
    and starts a definition (or sits at column 0): lexing and parsing can start there.
    """
    line_start = prefix.rfind("\n") + 1
    current = prefix[line_start:]
    nearest = len(current) - len(current.lstrip(" \t")) if current.strip() else 1 << 30
    # Python parses a lone indented definition well; brace languages need the whole class.
    nested = language in (None, "python")

    def starts(line: str, indent: int) -> bool:
        if indent == 0:
            return line[:1].isalpha() or line[:1] in "_@"
        return nested and _DEFINITION.match(line) is not None

    if current.strip() and starts(current, nearest):
        return line_start, nearest  # the cursor is on the definition's first line
    limit = max(0, len(prefix) - _ANCHOR_BACK)
    pos = line_start
    while pos > limit:
        begin = prefix.rfind("\n", 0, pos - 1) + 1
        line = prefix[begin : pos - 1]
        pos = begin
        text = line.lstrip(" \t")
        if not text:
            continue
        indent = len(line) - len(text)
        if indent < nearest:
            nearest = indent
            if starts(line, indent):
                return begin, indent
    if limit == 0:
        return 0, -1
    return prefix.find("\n", limit) + 1, -1


# ---------------------------------------------------------------------------------------------
# Per-call facts shared by the rules, computed lazily.


class _Facts:
    """Lazily computed facts about the document around the cursor."""

    def __init__(self, ctx: PostContext) -> None:
        self.ctx = ctx
        self._prefix_scan: _Scan | None = None
        self._suffix_scan: _Scan | None = None
        self._window: tuple[int, int] | None = None
        self.syntax: _Syntax | None = None

    @property
    def window(self) -> tuple[int, int]:
        """Return the str range around the cursor that lexing and parsing look at."""
        if self._window is None:
            self._window = _window(self.ctx)
        return self._window

    @property
    def prefix_scan(self) -> _Scan:
        """Return the lexer's view of the prefix from the window start to the cursor."""
        if self._prefix_scan is None:
            start = self.window[0]
            self._prefix_scan = _scan(self.ctx.prefix[start:], self.ctx.language)
        return self._prefix_scan

    @property
    def needed(self) -> list[str]:
        """Openers of the prefix that the suffix does not close: the suggestion may close them."""
        return _close([o for o, _ in self.prefix_scan.stack], self.suffix_scan.unmatched)

    @property
    def suffix_scan(self) -> _Scan:
        """Return the lexer's view of the suffix up to the window end, in the cursor's state."""
        if self._suffix_scan is None:
            want = len(self.prefix_scan.stack)
            if want == 0 and not self.prefix_scan.state:
                self._suffix_scan = _Scan([], [], "")
            else:
                # Only up to the window's end: past it, closers belong to outer definitions.
                ahead = self.window[1] - len(self.ctx.prefix)
                self._suffix_scan = _scan(
                    self.ctx.suffix[:ahead], self.ctx.language, self.prefix_scan.state,
                    stop_unmatched=want,
                )
        return self._suffix_scan


_SUFFIX_WINDOW = 6000


def _close(stack: list[str], closers: list[tuple[str, int]]) -> list[str]:
    """Return the openers of stack left open after closers (innermost matching opener first)."""
    remaining = list(stack)
    for closer, _ in closers:
        for k in range(len(remaining) - 1, -1, -1):
            if remaining[k] == _CLOSERS[closer]:
                del remaining[k]
                break
    return remaining


_facts_local = threading.local()


def _facts(ctx: PostContext) -> _Facts:
    """Return the facts for ctx, shared by the rules of one postprocess call."""
    cached = getattr(_facts_local, "facts", None)
    if cached is None or cached.ctx is not ctx:
        cached = _Facts(ctx)
        _facts_local.facts = cached
    return cached


def _current_line_prefix(ctx: PostContext) -> str:
    return ctx.prefix[ctx.prefix.rfind("\n") + 1 :]


def _current_line_rest(ctx: PostContext) -> str:
    end = ctx.suffix.find("\n")
    return ctx.suffix if end < 0 else ctx.suffix[:end]


def _indent_width(line: str, tab_size: int) -> int:
    width = 0
    for ch in line:
        if ch == " ":
            width += 1
        elif ch == "\t":
            width += tab_size - width % tab_size
        else:
            break
    return width


def _leading_ws(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]


# ---------------------------------------------------------------------------------------------
# Rule: cut repetition loops.

_MAX_BLOCK = 4
_INLINE_LOOP = re.compile(r"(.{4,40}?)\1{3,}")


def cut_repetition(text: str, ctx: PostContext) -> str:
    """Keep the first occurrence of a line or block the model generated over and over."""
    lines = text.split("\n")
    for i in range(len(lines)):
        for period in range(1, _MAX_BLOCK + 1):
            times = 3 if period == 1 else 2
            if i + period * times > len(lines):
                break
            block = lines[i : i + period]
            if not any(len(line.strip()) >= 2 for line in block):
                continue
            if all(lines[i + k * period : i + (k + 1) * period] == block for k in range(times)):
                return "\n".join(lines[: i + period])
    for idx, line in enumerate(lines):
        match = _INLINE_LOOP.search(line[:400])
        if match and len(set(match.group(1))) > 1:
            lines[idx] = line[: match.start() + len(match.group(1))]
            return "\n".join(lines[: idx + 1])
    return text


# ---------------------------------------------------------------------------------------------
# Rule: stop a multi-line suggestion at the end of the block it started in.

_BLOCK_TYPES: dict[str, frozenset[str]] = {
    "python": frozenset({"block"}),
    "javascript": frozenset({"statement_block", "class_body", "switch_body"}),
    "typescript": frozenset(
        {"statement_block", "class_body", "switch_body", "interface_body", "enum_body"}
    ),
    "go": frozenset({"block", "field_declaration_list", "method_spec_list"}),
    "rust": frozenset({"block", "declaration_list", "field_declaration_list", "match_block"}),
    "java": frozenset(
        {"block", "class_body", "interface_body", "switch_block", "constructor_body", "enum_body"}
    ),
    "c": frozenset({"compound_statement", "field_declaration_list", "enumerator_list"}),
    "cpp": frozenset(
        {"compound_statement", "field_declaration_list", "declaration_list", "enumerator_list"}
    ),
}
_BLOCK_TYPES["tsx"] = _BLOCK_TYPES["typescript"]


def _child_after(node: Node, offset: int) -> Node | None:
    """Return the first child ending after offset (Node.first_child_for_byte crashes on misses)."""
    lo, hi = 0, node.child_count
    while lo < hi:
        mid = (lo + hi) // 2
        child = node.child(mid)
        if child is not None and child.end_byte > offset:
            hi = mid
        else:
            lo = mid + 1
    return node.child(lo) if lo < node.child_count else None


def _scope_end(root: Node, source: bytes, cursor: int, language: str) -> int | None:
    """Return the end byte of the innermost block holding the cursor, or None at top level."""
    blocks = _BLOCK_TYPES.get(language, frozenset())
    node, best = root, None
    while True:
        child = _child_after(node, cursor)
        if child is None:
            break
        if child.start_byte < cursor < child.end_byte:
            pass
        elif (
            child.start_byte >= cursor
            and child.type in blocks
            and not source[cursor : child.start_byte].strip()
        ):
            pass  # a Python body begins right after the cursor: the suggestion starts it
        else:
            if best is None and node is root and child.start_byte >= cursor:
                best = child  # a new top-level definition begins in the suggestion
            break
        if child.type in blocks or (node is root and child.is_named):
            best = child
        node = child
    return best.end_byte if best is not None else None


_LINE_TAIL = re.compile(r"[ \t)\]};,]*(?=\n|$)")


def stop_at_block_end(text: str, ctx: PostContext) -> str:
    """Cut a multi-line suggestion where the block it started in ends."""
    if "\n" not in text.strip("\n"):
        return text
    parsed = _syntax(ctx)
    if parsed is None:
        return _stop_by_indentation(text, ctx)
    # Parse the suggestion as if finished: an unfinished tail must not pass for a block end.
    source, tree = parsed.parse_candidate(_completed(text, ctx))
    end = _scope_end(tree.root_node, source, parsed.cursor, parsed.language)
    inserted = text.encode()
    if end is None or not parsed.cursor <= end < parsed.cursor + len(inserted):
        return text
    kept = inserted[: end - parsed.cursor].decode(errors="ignore")
    # Closers and separators that end the block's line belong to it (`});`).
    tail = _LINE_TAIL.match(text, len(kept))
    if tail is not None:
        kept = text[: tail.end()]
    return kept.rstrip() if kept.strip() else kept


def _stop_by_indentation(text: str, ctx: PostContext) -> str:
    """Cut where a line dedents out of the cursor's block (no grammar available)."""
    tab = ctx.tab_size or 4
    line_prefix = _current_line_prefix(ctx)
    if line_prefix.strip():
        base = _indent_width(line_prefix, tab)
        opens = line_prefix.rstrip().endswith((":", "{", "(", "["))
    else:
        # The cursor sits in the indentation: its column is the block's indentation.
        base = _indent_width(line_prefix, tab)
        opens = False
    lines = text.split("\n")
    for i in range(1, len(lines)):
        line = lines[i]
        if not line.strip():
            continue
        width = _indent_width(line, tab)
        if width < base or (opens and width <= base):
            if line.strip()[0] in ")]}" and width >= base - tab:
                return "\n".join(lines[: i + 1])  # the line that closes the block belongs to it
            return "\n".join(lines[:i]).rstrip()
    return text


# ---------------------------------------------------------------------------------------------
# Rule: drop the part of a suggestion that repeats the text after the cursor.

_PUNCT = set(")]}>;:,.\"'` ")


def _can_cut(text: str, index: int, ctx: PostContext) -> bool:
    """Tell whether cutting at index leaves nothing the suggestion opened unclosed."""
    facts = _facts(ctx)
    scan = _scan(text[:index], ctx.language, facts.prefix_scan.state)
    return not scan.stack and scan.state == facts.prefix_scan.state


def _nonblank(lines: list[str]) -> list[tuple[int, str]]:
    return [(i, line) for i, line in enumerate(lines) if line.strip()]


def _same_line(a: str, b: str) -> bool:
    """Compare lines: short ones (closers) with their indentation, long ones without."""
    a, b = a.rstrip(), b.rstrip()
    if len(a.strip()) <= 3 or len(b.strip()) <= 3:
        return a == b
    return a.strip() == b.strip()


def trim_suffix_overlap(text: str, ctx: PostContext) -> str:
    """Drop what the suggestion repeats of the text after the cursor, on this line and below."""
    rest = _current_line_rest(ctx)
    first, sep, _ = text.partition("\n")
    core = rest.strip()
    if core:
        # Same line: the model rewrote the rest of the line (and maybe went on below it).
        stripped_first = first.rstrip()
        if stripped_first.endswith(core):
            cut = len(stripped_first) - len(core)
            if _can_cut(text, cut, ctx):
                kept = first[:cut]
                return kept.rstrip(" \t") if rest[:1] in " \t" else kept
        if not sep:
            for k in range(min(len(rest), len(first)), 0, -1):
                piece = rest[:k]
                if first.endswith(piece) and set(piece) <= _PUNCT and _can_cut(
                    text, len(first) - k, ctx
                ):
                    return first[: len(first) - k]
        return text
    if not sep:
        return text
    # Following lines: cut where the suggestion starts repeating the lines after the cursor.
    suffix_lines = _nonblank(ctx.suffix[len(rest) + 1 :][:_SUFFIX_WINDOW].split("\n"))
    if not suffix_lines:
        return text
    lines = text.split("\n")
    start = 0 if not _current_line_prefix(ctx).strip() else 1
    candidates = [(i, line) for i, line in _nonblank(lines) if i >= start]
    for pos, (i, _line) in enumerate(candidates):
        following = candidates[pos:]
        if len(following) > len(suffix_lines):
            continue
        if all(_same_line(a, b) for (_, a), (_, b) in zip(following, suffix_lines, strict=False)):
            return "\n".join(lines[:i]).rstrip()
    return text


# ---------------------------------------------------------------------------------------------
# Rule: never add a closer the suffix supplies; close only what the suggestion opened.


def balance_closers(text: str, ctx: PostContext) -> str:
    """Cut the suggestion at the first closer that the suffix already supplies or nobody needs."""
    facts = _facts(ctx)
    pscan = facts.prefix_scan
    cut = len(text)
    if pscan.state and pscan.state not in _COMMENT_STATES:
        # The cursor is inside a string: the suffix closes it on this line, so must not we.
        rest = _current_line_rest(ctx)
        suffix_closes = _scan(rest, ctx.language, pscan.state).leaves_string_at is not None
        mine = _scan(text, ctx.language, pscan.state)
        if suffix_closes and mine.leaves_string_at is not None:
            cut = min(cut, mine.leaves_string_at)
    # Openers of the prefix that the suffix does not close may be closed by the suggestion.
    need = facts.needed
    mine = _scan(text[:cut], ctx.language, pscan.state)
    for k, (closer, at) in enumerate(mine.unmatched):
        expected = need[-1 - k] if k < len(need) else None
        if expected is None or _OPENERS[expected] != closer:
            cut = min(cut, at)
            break
    if cut == len(text):
        return text
    kept = text[:cut]
    return kept.rstrip(" \t") if "\n" not in kept else kept.rstrip()


# ---------------------------------------------------------------------------------------------
# Rule: fix indentation to the editor's options; strip a leading space the prefix already has.


def _editor_indent(ctx: PostContext) -> tuple[bool, int] | None:
    """Return (insert_spaces, tab_size) from the client or, failing that, from the document."""
    if ctx.insert_spaces is not None:
        return ctx.insert_spaces, ctx.tab_size or 4
    tabs = spaces = 0
    for line in ctx.prefix[-8000:].split("\n")[1:]:
        if line.startswith("\t"):
            tabs += 1
        elif line.startswith(" ") and line.strip():
            spaces += 1
    if tabs == spaces == 0:
        return None
    return spaces >= tabs, ctx.tab_size or 4


def fix_indentation(text: str, ctx: PostContext) -> str:
    """Rewrite the indentation of the suggestion's lines in the editor's tabs-or-spaces style."""
    style = _editor_indent(ctx)
    if style is None or "\n" not in text:
        return text
    use_spaces, tab = style
    lines = text.split("\n")
    out = [lines[0]]
    for line in lines[1:]:
        ws = _leading_ws(line)
        if use_spaces and "\t" in ws:
            line = " " * _indent_width(ws, tab) + line[len(ws) :]
        elif not use_spaces and "  " in ws:
            width = _indent_width(ws, tab)
            line = "\t" * (width // tab) + " " * (width % tab) + line[len(ws) :]
        out.append(line)
    return "\n".join(out)


def strip_leading_space(text: str, ctx: PostContext) -> str:
    """Drop leading blanks of the suggestion when the prefix already ends in a blank."""
    if not ctx.prefix.endswith((" ", "\t")) or not text.startswith((" ", "\t")):
        return text
    prefix_scan = _facts(ctx).prefix_scan
    if prefix_scan.state:
        return text  # inside a string or comment every blank counts
    line_prefix = _current_line_prefix(ctx)
    if not line_prefix.strip():
        # In the indentation: the blanks add up; keep them unless they overshoot the block.
        tab = ctx.tab_size or 4
        before = ctx.prefix[: len(ctx.prefix) - len(line_prefix)].rstrip("\n")
        prev = before[before.rfind("\n") + 1 :]
        # One level deeper is plausible (a block body, a continuation line); two after `(`.
        limit = _indent_width(prev, tab) + tab
        if prev.rstrip().endswith(("(", "[")):
            limit += tab
        if prefix_scan.stack and prefix_scan.stack[-1][0] in "([":
            return text  # a continuation line inside brackets may align with anything
        if _indent_width(line_prefix + _leading_ws(text), tab) <= limit:
            return text
        return text.lstrip(" \t")
    lead = _leading_ws(text)
    if len(lead) > 2 or text[len(lead) :].startswith(("#", "//")):
        return text  # several blanks before a comment or a value: deliberate alignment
    return text[len(lead) :]


# ---------------------------------------------------------------------------------------------
# Rule: reject or truncate a suggestion that would break the parse tree.


@dataclass
class _Base:
    source: bytes
    tree: Tree
    errors: int
    window: tuple[int, int]


_TREE_CACHE_SIZE = 16
_tree_cache: OrderedDict[tuple[str | None, str], _Base] = OrderedDict()
_tree_lock = threading.Lock()
_parsers_local = threading.local()


def _parser(language: str) -> Parser:
    parsers: dict[str, Parser] = getattr(_parsers_local, "parsers", None) or {}
    _parsers_local.parsers = parsers
    if language not in parsers:
        parsers[language] = get_parser(language)
    return parsers[language]


def _count_errors(node: Node, lo: int = 0, hi: int = -1) -> tuple[int, int]:
    """Count ERROR and MISSING nodes, and those of them starting in [lo, hi)."""
    count = inside = 0
    stack = [node]
    while stack:
        current = stack.pop()
        if current.is_error or current.is_missing:
            count += 1
            if lo <= current.start_byte < hi:
                inside += 1
        if current.has_error:
            stack.extend(current.children)
    return count, inside


def _point(source: bytes, offset: int) -> tuple[int, int]:
    row = source.count(b"\n", 0, offset)
    return row, offset - (source.rfind(b"\n", 0, offset) + 1)


def _edit_tree(tree: Tree, old: bytes, new: bytes) -> None:
    """Describe the change from old to new text to the tree, so the next parse is incremental."""
    start = common_prefix(old, new)
    tail = common_suffix(old, new, min(len(old), len(new)) - start)
    old_end, new_end = len(old) - tail, len(new) - tail
    tree.edit(
        start, old_end, new_end, _point(old, start), _point(old, old_end), _point(new, new_end)
    )


_WINDOW_AHEAD = 8_000


def _window(ctx: PostContext) -> tuple[int, int]:
    """Return the str range worth parsing: the definition around the cursor and what follows.

    A half-typed string or block can make tree-sitter's error recovery crawl through the rest
    of a large file; parsing only the enclosing definition keeps every parse to a few ms.
    """
    start, anchor = _anchor(ctx.prefix, ctx.language)
    prefix, suffix = ctx.prefix, ctx.suffix
    ahead = suffix[:_WINDOW_AHEAD]
    end = len(ahead)
    offset = ahead.find("\n") + 1
    while 0 < offset < len(ahead):
        nl = ahead.find("\n", offset)
        line = ahead[offset : nl if nl >= 0 else len(ahead)]
        text = line.lstrip(" \t")
        if text and len(line) - len(text) <= max(anchor, 0):
            # The next definition at the anchor's depth; a closing line still belongs to ours.
            end = (nl + 1 if nl >= 0 else len(ahead)) if text[:1] in ")]}" else offset
            break
        if nl < 0:
            break
        offset = nl + 1
    else:
        if len(suffix) > _WINDOW_AHEAD:
            end = ahead.rfind("\n") + 1
    return start, len(prefix) + end


class _Syntax:
    """The document parsed without the suggestion, and a way to parse it with one."""

    def __init__(self, ctx: PostContext, language: str) -> None:
        self.language = language
        self.prefix = ctx.prefix.encode()
        self.suffix = ctx.suffix.encode()
        self.cursor = len(self.prefix)
        self.cursor_point = _point(self.prefix, self.cursor)
        start, end = _facts(ctx).window
        self.window = (len(ctx.prefix[:start].encode()), self.cursor + len(
            ctx.suffix[: end - len(ctx.prefix)].encode()))
        self.base = self._base(ctx.document_key)
        self._candidates: dict[str, tuple[bytes, Tree]] = {}

    def _parse(self, source: bytes, end: int, old_tree: Tree | None) -> Tree:
        parser = _parser(self.language)
        start = self.window[0]
        parser.included_ranges = [Range(_point(source, start), _point(source, end), start, end)]
        return parser.parse(source, old_tree) if old_tree else parser.parse(source)

    def _base(self, document_key: str | None) -> _Base:
        source = self.prefix + self.suffix
        key = (document_key, self.language)
        with _tree_lock:
            cached = _tree_cache.get(key)
            if cached is not None and cached.source == source and cached.window == self.window:
                _tree_cache.move_to_end(key)
                return cached
            old_tree = None
            if cached is not None:
                old_tree = cached.tree.copy()
                _edit_tree(old_tree, cached.source, source)
            tree = self._parse(source, self.window[1], old_tree)
            base = _Base(source, tree, _count_errors(tree.root_node)[0], self.window)
            _tree_cache[key] = base
            _tree_cache.move_to_end(key)
            while len(_tree_cache) > _TREE_CACHE_SIZE:
                _tree_cache.popitem(last=False)
            return base

    def parse_candidate(self, text: str) -> tuple[bytes, Tree]:
        """Parse the document with text inserted at the cursor, reusing the base tree."""
        if text in self._candidates:
            return self._candidates[text]
        inserted = text.encode()
        row, col = self.cursor_point
        lines = inserted.count(b"\n")
        end_col = len(inserted) - inserted.rfind(b"\n") - 1 if lines else col + len(inserted)
        tree = self.base.tree.copy()
        end = self.cursor + len(inserted)
        tree.edit(self.cursor, self.cursor, end, (row, col), (row, col), (row + lines, end_col))
        source = self.prefix + inserted + self.suffix
        result = source, self._parse(source, self.window[1] + len(inserted), tree)
        self._candidates[text] = result
        return result

    def breaks(self, text: str) -> bool:
        """Tell whether inserting text adds parse errors, or puts any inside the text."""
        end = self.cursor + len(text.encode())
        total, inside = _count_errors(self.parse_candidate(text)[1].root_node, self.cursor, end)
        return inside > 0 or total > self.base.errors


def _syntax(ctx: PostContext) -> _Syntax | None:
    if ctx.language is None or ctx.language not in _BLOCK_TYPES:
        return None
    facts = _facts(ctx)
    if facts.syntax is None:
        facts.syntax = _Syntax(ctx, ctx.language)
    return facts.syntax


def _completed(text: str, ctx: PostContext) -> str:
    """Return text plus what it leaves open (its own and the prefix's brackets, a Python body)."""
    facts = _facts(ctx)
    # Scan from before the cursor: a quote typed half before, half in the suggestion (`"` `""`).
    window = ctx.prefix[facts.window[0] :]
    scan = _scan(window + text, ctx.language)
    tail = ""
    if scan.state == "/*":
        tail += "*/"
    elif scan.state and scan.state not in _COMMENT_STATES:
        tail += scan.state
    remaining = _close([o for o, _ in scan.stack], facts.suffix_scan.unmatched)
    if remaining:
        # On a line of its own: the suggestion may end in a line comment.
        tail += "\n" + "".join(_OPENERS[o] for o in reversed(remaining))
    if ctx.language == "python":
        tail += _python_body(window + text, tail)
    return text + tail


_COMPOUND = re.compile(
    r"[ \t]*(?:if|elif|else|for|while|with|try|except|finally|def|class|async)\b"
)


def _python_body(code: str, tail: str) -> str:
    """Return what finishes a Python block header left without its colon or body."""
    lines = code.rstrip().split("\n")
    last = lines[-1]
    if last.rstrip().endswith(":"):
        return "\n" + _leading_ws(last) + "    pass"
    # A header whose brackets the tail just closed (`if (a and` + `)`): add `:` and a body.
    for line in reversed(lines[-8:]):
        if _COMPOUND.match(line):
            if tail.strip() and ":" not in line.rstrip()[-1:]:
                return ":\n" + _leading_ws(line) + "    pass"
            break
        if line.strip() and _leading_ws(line) == "" and not tail.strip():
            break
    return ""


_MAX_TRUNCATIONS = 4


def check_syntax(text: str, ctx: PostContext) -> str:
    """Keep the longest line-prefix of the suggestion that adds no parse errors, else nothing."""
    syntax = _syntax(ctx)
    if syntax is None or not text.strip():
        return text

    def fits(candidate: str) -> bool:
        if not syntax.breaks(candidate):
            return True
        # Unfinished is not broken: accept it if closing what it opened repairs the tree.
        finished = _completed(candidate, ctx)
        return finished != candidate and not syntax.breaks(finished)

    if fits(text):
        return text
    lines = text.split("\n")
    tries = 0
    for keep in range(len(lines) - 1, 0, -1):
        candidate = "\n".join(lines[:keep]).rstrip()
        if not candidate.strip():
            break
        if fits(candidate):
            return candidate
        tries += 1
        if tries >= _MAX_TRUNCATIONS:
            break
    return ""


# ---------------------------------------------------------------------------------------------
# Rules: trailing blanks and empty results.


def strip_trailing_whitespace(text: str, ctx: PostContext) -> str:
    """Drop trailing blanks and newlines the suffix makes useless."""
    rest = _current_line_rest(ctx)
    if not rest.strip():
        return text.rstrip()
    if rest[0] in ")]}>;:,." and text.rstrip(" \t") != text and "\n" not in text:
        return text.rstrip(" \t")
    return text


def drop_empty(text: str, ctx: PostContext) -> str:
    """Show nothing for an empty or whitespace-only suggestion."""
    return text if text.strip() else ""


Rule = Callable[[str, PostContext], str]

# Order matters: cut loops and block overruns before comparing with the suffix, and check the
# syntax last, on exactly the text that would be shown.
RULES: tuple[tuple[str, Rule], ...] = (
    ("cut_repetition", cut_repetition),
    ("stop_at_block_end", stop_at_block_end),
    ("trim_suffix_overlap", trim_suffix_overlap),
    ("balance_closers", balance_closers),
    ("fix_indentation", fix_indentation),
    ("strip_leading_space", strip_leading_space),
    ("strip_trailing_whitespace", strip_trailing_whitespace),
    ("check_syntax", check_syntax),
    ("drop_empty", drop_empty),
)


def postprocess(raw: str, ctx: PostContext) -> PostResult:
    """Apply every rule in order and report which ones changed the suggestion."""
    hits: list[str] = []
    text = raw
    try:
        for name, rule in RULES:
            if not ctx.multiline and name == "stop_at_block_end":
                continue
            new = rule(text, ctx)
            if new != text:
                hits.append(name)
                text = new
            if not text:
                break
    finally:
        _facts_local.facts = None  # never keep a document alive between calls
    return PostResult(text if text.strip() else "", hits)
