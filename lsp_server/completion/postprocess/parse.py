"""Parse the document around the cursor with tree-sitter, with and without a suggestion."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from cachetools import LRUCache
from tree_sitter import Node, Parser, Range, Tree

from lsp_server.affixes import common_prefix, common_suffix
from lsp_server.completion.postprocess.model import PostContext
from lsp_server.context.languages import get_parser


@dataclass
class _Base:
    source: bytes
    tree: Tree
    errors: int
    window: tuple[int, int]


# The last parse of each (document, language), so the next keystroke parses incrementally.
_tree_cache: LRUCache[tuple[str | None, str], _Base] = LRUCache(maxsize=16)
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


class Syntax:
    """The document parsed without the suggestion, and a way to parse it with one."""

    def __init__(self, ctx: PostContext, language: str, window: tuple[int, int]) -> None:
        self.language = language
        self.prefix = ctx.prefix.encode()
        self.suffix = ctx.suffix.encode()
        self.cursor = len(self.prefix)
        self.cursor_point = _point(self.prefix, self.cursor)
        start, end = window
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
                return cached
            old_tree = None
            if cached is not None:
                old_tree = cached.tree.copy()
                _edit_tree(old_tree, cached.source, source)
            tree = self._parse(source, self.window[1], old_tree)
            base = _Base(source, tree, _count_errors(tree.root_node)[0], self.window)
            _tree_cache[key] = base
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
