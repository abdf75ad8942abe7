"""Cut a window of a file on whole syntactic units, so a snippet of code reads as code.

A line window (similar code, recent edits) can start inside a comment (` * @see ...`) or end
halfway through a function, which no real file does and which pulls the model off balance.
`whole_units` widens nothing: it keeps the top-level declarations and whole comment blocks
that lie inside the window, and when the window lies inside one big declaration it keeps that
declaration's head, the whole statements or members of its body within the window, an elision
comment where it skipped some, and its closing brace.
"""

from __future__ import annotations

from cachetools import LRUCache
from tree_sitter import Node, Tree

from lsp_server.context.languages import (
    for_grammar,
    is_brace_language,
    line_comment,
    parses,
    thread_parser,
)

_MAX_DEPTH = 4
_LIST_TYPES = frozenset({"statement_list", "declaration_list", "field_declaration_list"})
_FILE_HEADERS = frozenset({"package_clause", "import_declaration"})
_trees: LRUCache[tuple[str, int], tuple[str, Tree]] = LRUCache(maxsize=16)


def _parse(text: str, language: str) -> Tree:
    key = (language, hash(text))
    found = _trees.get(key)
    if found is None or found[0] != text:
        data = text.encode("utf-8", "surrogatepass")
        found = _trees[key] = (text, thread_parser(language).parse(for_grammar(data, language)))
    return found[1]


def _body(node: Node) -> tuple[int, int, list[Node]] | None:
    """Return a declaration's body as (row of its opening, row of its end, its children)."""
    body = node.child_by_field_name("body")
    if body is None:
        for child in node.named_children:  # `export class ...`, `type X struct {...}`, decorators
            if child.type in (
                "class_declaration",
                "function_declaration",
                "lexical_declaration",
                "function_definition",
                "class_definition",
                "type_spec",
                "abstract_class_declaration",
            ):
                return _body(child)
        return None
    named = body.named_children
    children = (
        named[0].named_children if len(named) == 1 and named[0].type in _LIST_TYPES else named
    )
    return body.start_point.row, body.end_point.row, children


def _elision(language: str, indent: str) -> str:
    return f"{indent}{line_comment(language) or '//'} ..."


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def _pick(
    lines: list[str], units: list[Node], a: int, b: int, language: str, depth: int
) -> list[str]:
    """Return the lines of whole units within [a, b], or of the one unit holding the window."""
    inside = [u for u in units if a <= u.start_point.row and u.end_point.row <= b]
    if inside:
        first, last = inside[0].start_point.row, inside[-1].end_point.row
        return lines[first : last + 1]
    if depth >= _MAX_DEPTH:
        return []
    holder = next(
        (
            u
            for u in units
            if u.start_point.row <= a <= u.end_point.row
            or u.start_point.row <= b <= u.end_point.row
        ),
        None,
    )
    body = _body(holder) if holder is not None else None
    if holder is None or body is None or body[0] == body[1] or not body[2]:
        return []
    head_end, body_end, children = body
    if not is_brace_language(language) and head_end > holder.start_point.row:
        head_end -= 1  # a Python block starts at its first statement, not after the colon
    inner = _pick(lines, children, max(a, head_end + 1), min(b, body_end - 1), language, depth + 1)
    if not inner:
        return []
    out = lines[holder.start_point.row : head_end + 1]
    indent = _indent(inner[0])
    rows = [c.start_point.row for c in children if c.end_point.row >= a and c.start_point.row <= b]
    if not rows or rows[0] > a or rows[0] > children[0].start_point.row:
        out.append(_elision(language, indent))
    out.extend(inner)
    if is_brace_language(language):
        if children[-1].end_point.row > b:
            out.append(_elision(language, indent))
        out.append(lines[body_end])
    return out


def whole_units(text: str, language: str | None, a: int, b: int) -> str | None:
    """Return lines a..b (0-based, inclusive) of text trimmed to whole syntactic units, or
    None when no whole unit fits (or the language is not parsed)."""
    if language is None:
        return None
    lines = text.split("\n")
    try:
        tree = _parse(text, language)
    except Exception:  # no grammar: never guess
        return None
    # A Go package clause or import block must come first in a file; a window goes after
    # other snippets of the same file, so it never includes them (the model knows them).
    units = [u for u in tree.root_node.named_children if u.type not in _FILE_HEADERS]
    picked = _pick(lines, units, a, b, language, 0)
    if not picked:
        return None
    window = "\n".join(picked).rstrip() + "\n"
    # A statement with more than one body (`try { } catch { }`) cut inside can lose a
    # brace; what does not parse is not shown.
    return window if parses(window, language) else None
