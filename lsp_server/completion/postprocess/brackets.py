"""Rule: never add a closer the suffix supplies; close only what the suggestion opened."""

from __future__ import annotations

from lsp_server.completion.postprocess.facts import Facts
from lsp_server.completion.postprocess.lexer import COMMENT_STATES, OPENERS, scan_brackets
from lsp_server.completion.postprocess.lines import current_line_rest
from lsp_server.completion.postprocess.model import PostContext


def balance_closers(text: str, ctx: PostContext, facts: Facts | None = None) -> str:
    """Cut the suggestion at the first closer that the suffix already supplies or nobody needs."""
    facts = facts or Facts(ctx)
    pscan = facts.prefix_scan
    cut = len(text)
    if pscan.state and pscan.state not in COMMENT_STATES:
        # The cursor is inside a string: the suffix closes it on this line, so must not we.
        rest = current_line_rest(ctx)
        suffix_closes = scan_brackets(rest, ctx.language, pscan.state).leaves_string_at is not None
        mine = scan_brackets(text, ctx.language, pscan.state)
        if suffix_closes and mine.leaves_string_at is not None:
            cut = min(cut, mine.leaves_string_at)
    # Openers of the prefix that the suffix does not close may be closed by the suggestion.
    need = facts.needed
    mine = scan_brackets(text[:cut], ctx.language, pscan.state)
    for k, (closer, at) in enumerate(mine.unmatched):
        expected = need[-1 - k] if k < len(need) else None
        if expected is None or OPENERS[expected] != closer:
            cut = min(cut, at)
            break
    if cut == len(text):
        return text
    kept = text[:cut]
    return kept.rstrip(" \t") if "\n" not in kept else kept.rstrip()
