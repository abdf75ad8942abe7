"""Clean a raw FIM suggestion before it becomes ghost text: trim, balance, stop, check syntax."""

from __future__ import annotations

from collections.abc import Callable

from lsp_server.completion.postprocess.blanks import (
    drop_empty,
    fix_indentation,
    strip_leading_space,
    strip_trailing_whitespace,
)
from lsp_server.completion.postprocess.block_end import stop_at_block_end
from lsp_server.completion.postprocess.brackets import balance_closers
from lsp_server.completion.postprocess.facts import Facts
from lsp_server.completion.postprocess.model import PostContext, PostResult
from lsp_server.completion.postprocess.overlap import trim_suffix_overlap
from lsp_server.completion.postprocess.repetition import cut_repetition
from lsp_server.completion.postprocess.syntax_check import check_syntax

__all__ = [
    "RULES",
    "PostContext",
    "PostResult",
    "balance_closers",
    "check_syntax",
    "cut_repetition",
    "drop_empty",
    "fix_indentation",
    "postprocess",
    "stop_at_block_end",
    "strip_leading_space",
    "strip_trailing_whitespace",
    "trim_suffix_overlap",
]


# A rule takes the suggestion, the context and the facts shared by the rules of one call
# (None: the rule computes its own), and returns the suggestion it would show.
Rule = Callable[[str, PostContext, Facts | None], str]

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
    facts = Facts(ctx)
    for name, rule in RULES:
        if not ctx.multiline and name == "stop_at_block_end":
            continue
        new = rule(text, ctx, facts)
        if new != text:
            hits.append(name)
            text = new
        if not text:
            break
    return PostResult(text if text.strip() else "", hits)
