"""The editable region: whole lines around the cursor that the model may rewrite.

A window of `region_lines` lines (a quarter above the cursor, the rest below, where next edits
mostly are), widened to the whole function or class around the cursor when that still fits in
twice the window: a rename inside a function is finished inside it. A definition too long for
that is taken alone only when the window would not reach its end from the cursor. Bounded in
characters, since the model writes the region back whole.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cache

from tree_sitter import Parser

from lsp_server.context.languages import for_grammar, get_parser
from lsp_server.positions import byte_offset, line_start

log = logging.getLogger(__name__)

_PARSE_AROUND = 200  # lines either side of the cursor handed to tree-sitter
_DEFINITIONS = {
    "python": {"function_definition", "class_definition", "decorated_definition"},
    "typescript": {"function_declaration", "method_definition", "class_declaration",
                   "interface_declaration", "arrow_function", "function_expression",
                   "lexical_declaration", "enum_declaration", "export_statement"},
    "tsx": {"function_declaration", "method_definition", "class_declaration",
            "interface_declaration", "arrow_function", "function_expression",
            "lexical_declaration", "export_statement"},
    "javascript": {"function_declaration", "method_definition", "class_declaration",
                   "arrow_function", "function_expression", "lexical_declaration",
                   "export_statement"},
    "go": {"function_declaration", "method_declaration", "type_declaration",
           "func_literal"},
    "rust": {"function_item", "impl_item", "struct_item", "enum_item"},
    "java": {"method_declaration", "class_declaration", "constructor_declaration"},
    "c": {"function_definition", "struct_specifier"},
    "cpp": {"function_definition", "class_specifier", "struct_specifier"},
}


@dataclass(frozen=True)
class Region:
    """Lines [start_line, end_line) of a document, at string offsets [start, end)."""

    start_line: int
    end_line: int
    start: int
    end: int


def line_count(text: str) -> int:
    """Return the number of lines of a text as an editor shows them."""
    return text.count("\n") + 1


def choose_region(text: str, offset: int, *, language: str | None, region_lines: int,
                  max_chars: int) -> Region:
    """Return the editable region for a cursor at `offset`."""
    lines = line_count(text)
    cursor = text.count("\n", 0, offset)
    above = region_lines // 4
    lo, hi = max(0, cursor - above), min(lines, cursor - above + region_lines)
    lo = max(0, min(lo, hi - region_lines))
    span = _definition_span(text, cursor, language, 2 * region_lines) if language else None
    if span is not None:
        dlo, dhi = span
        ulo, uhi = min(lo, dlo), max(hi, dhi)
        if uhi - ulo <= 2 * region_lines:
            lo, hi = ulo, uhi
        elif dhi - dlo <= 2 * region_lines and dhi - cursor > region_lines - above:
            lo, hi = dlo, dhi  # the rest of the definition, rather than what follows it
    start, end = line_start(text, lo), line_start(text, hi)
    # Over budget: give up lines at the far end from the cursor first, keeping its line.
    while end - start > max_chars and hi - lo > 1:
        if hi - 1 > cursor and (hi - cursor >= cursor - lo or lo >= cursor):
            hi -= 1
            end = line_start(text, hi)
        elif lo < cursor:
            lo += 1
            start = line_start(text, lo)
        else:
            break
    return Region(lo, hi, start, end)


def _definition_span(text: str, cursor: int, language: str,
                     max_lines: int) -> tuple[int, int] | None:
    """Return the lines [first, last + 1) of the outermost definition around the cursor line
    that is at most `max_lines` long, or None."""
    kinds = _DEFINITIONS.get(language)
    if not kinds:
        return None
    first = max(0, cursor - _PARSE_AROUND)
    begin, finish = line_start(text, first), line_start(text, cursor + _PARSE_AROUND)
    window = text[begin:finish]
    try:
        parser = _parser(language)
        source = window.encode("utf-8", "surrogatepass")
        tree = parser.parse(for_grammar(source, language))
    except Exception:  # a missing grammar costs the widening, not the suggestion
        log.debug("no syntax tree for %s", language, exc_info=True)
        return None
    row = cursor - first
    begin_row = line_start(window, row)
    line_text = window[begin_row:line_start(window, row + 1)]
    # The first non-blank character of the line, so that the line's own node is found.
    at = byte_offset(window, begin_row + len(line_text) - len(line_text.lstrip()))
    node = tree.root_node.descendant_for_byte_range(at, at)
    best = None
    while node is not None:
        if node.type in kinds and node.end_point[0] - node.start_point[0] < max_lines:
            best = node
        node = node.parent
    if best is None:
        return None
    return first + best.start_point[0], first + best.end_point[0] + 1


@cache
def _parser(language: str) -> Parser:
    """Return this module's parser for a language (the event loop's thread uses it)."""
    return get_parser(language)
