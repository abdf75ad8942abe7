"""Rule: drop the part of a suggestion that repeats the text after the cursor."""

from __future__ import annotations

from lsp_server.completion.postprocess.facts import Facts
from lsp_server.completion.postprocess.lexer import scan_brackets
from lsp_server.completion.postprocess.lines import current_line_prefix, current_line_rest
from lsp_server.completion.postprocess.model import PostContext

_PUNCT = set(")]}>;:,.\"'` ")
_SUFFIX_WINDOW = 6000


def _can_cut(text: str, index: int, ctx: PostContext, facts: Facts) -> bool:
    """Tell whether cutting at index leaves nothing the suggestion opened unclosed."""
    scan = scan_brackets(text[:index], ctx.language, facts.prefix_scan.state)
    return not scan.stack and scan.state == facts.prefix_scan.state


def _nonblank(lines: list[str]) -> list[tuple[int, str]]:
    return [(i, line) for i, line in enumerate(lines) if line.strip()]


def _same_line(a: str, b: str) -> bool:
    """Compare lines: short ones (closers) with their indentation, long ones without."""
    a, b = a.rstrip(), b.rstrip()
    if len(a.strip()) <= 3 or len(b.strip()) <= 3:
        return a == b
    return a.strip() == b.strip()


def trim_suffix_overlap(text: str, ctx: PostContext, facts: Facts | None = None) -> str:
    """Drop what the suggestion repeats of the text after the cursor, on this line and below."""
    facts = facts or Facts(ctx)
    rest = current_line_rest(ctx)
    first, sep, _ = text.partition("\n")
    core = rest.strip()
    if core:
        # Same line: the model rewrote the rest of the line (and maybe went on below it).
        stripped_first = first.rstrip()
        if stripped_first.endswith(core):
            cut = len(stripped_first) - len(core)
            if _can_cut(text, cut, ctx, facts):
                kept = first[:cut]
                return kept.rstrip(" \t") if rest[:1] in " \t" else kept
        if not sep:
            for k in range(min(len(rest), len(first)), 0, -1):
                piece = rest[:k]
                if first.endswith(piece) and set(piece) <= _PUNCT and _can_cut(
                    text, len(first) - k, ctx, facts
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
    start = 0 if not current_line_prefix(ctx).strip() else 1
    candidates = [(i, line) for i, line in _nonblank(lines) if i >= start]
    for pos, (i, _line) in enumerate(candidates):
        following = candidates[pos:]
        if len(following) > len(suffix_lines):
            continue
        if all(_same_line(a, b) for (_, a), (_, b) in zip(following, suffix_lines, strict=False)):
            return "\n".join(lines[:i]).rstrip()
    return text
