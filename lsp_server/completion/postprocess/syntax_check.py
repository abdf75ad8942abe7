"""Rule: reject or truncate a suggestion that would break the parse tree."""

from __future__ import annotations

from lsp_server.completion.postprocess.facts import Facts
from lsp_server.completion.postprocess.finish import completed
from lsp_server.completion.postprocess.model import PostContext

_MAX_TRUNCATIONS = 4


def check_syntax(text: str, ctx: PostContext, facts: Facts | None = None) -> str:
    """Keep the longest line-prefix of the suggestion that adds no parse errors, else nothing."""
    facts = facts or Facts(ctx)
    syntax = facts.syntax
    if syntax is None or not text.strip():
        return text

    def fits(candidate: str) -> bool:
        if not syntax.breaks(candidate):
            return True
        # Unfinished is not broken: accept it if closing what it opened repairs the tree.
        finished = completed(candidate, ctx, facts)
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
