"""Rule: stop a multi-line suggestion at the end of the block it started in."""

from __future__ import annotations

import re

from tree_sitter import Node

from lsp_server.completion.postprocess.facts import Facts
from lsp_server.completion.postprocess.finish import completed
from lsp_server.completion.postprocess.languages import BLOCK_TYPES
from lsp_server.completion.postprocess.lines import current_line_prefix, indent_width
from lsp_server.completion.postprocess.model import PostContext


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
    blocks = BLOCK_TYPES.get(language, frozenset())
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


def stop_at_block_end(text: str, ctx: PostContext, facts: Facts | None = None) -> str:
    """Cut a multi-line suggestion where the block it started in ends."""
    if "\n" not in text.strip("\n"):
        return text
    facts = facts or Facts(ctx)
    parsed = facts.syntax
    if parsed is None:
        return _stop_by_indentation(text, ctx)
    # Parse the suggestion as if finished: an unfinished tail must not pass for a block end.
    source, tree = parsed.parse_candidate(completed(text, ctx, facts))
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
    line_prefix = current_line_prefix(ctx)
    if line_prefix.strip():
        base = indent_width(line_prefix, tab)
        opens = line_prefix.rstrip().endswith((":", "{", "(", "["))
    else:
        # The cursor sits in the indentation: its column is the block's indentation.
        base = indent_width(line_prefix, tab)
        opens = False
    lines = text.split("\n")
    for i in range(1, len(lines)):
        line = lines[i]
        if not line.strip():
            continue
        width = indent_width(line, tab)
        if width < base or (opens and width <= base):
            if line.strip()[0] in ")]}" and width >= base - tab:
                return "\n".join(lines[: i + 1])  # the line that closes the block belongs to it
            return "\n".join(lines[:i]).rstrip()
    return text
