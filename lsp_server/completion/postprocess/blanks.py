"""Rules about blanks: indentation in the editor's style, leading and trailing blanks, no text."""

from __future__ import annotations

from lsp_server.completion.postprocess.facts import Facts
from lsp_server.completion.postprocess.lines import (
    current_line_prefix,
    current_line_rest,
    indent_width,
    leading_ws,
)
from lsp_server.completion.postprocess.model import PostContext


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


def fix_indentation(text: str, ctx: PostContext, facts: Facts | None = None) -> str:
    """Rewrite the indentation of the suggestion's lines in the editor's tabs-or-spaces style."""
    style = _editor_indent(ctx)
    if style is None or "\n" not in text:
        return text
    use_spaces, tab = style
    lines = text.split("\n")
    out = [lines[0]]
    for line in lines[1:]:
        ws = leading_ws(line)
        if use_spaces and "\t" in ws:
            line = " " * indent_width(ws, tab) + line[len(ws) :]
        elif not use_spaces and "  " in ws:
            width = indent_width(ws, tab)
            line = "\t" * (width // tab) + " " * (width % tab) + line[len(ws) :]
        out.append(line)
    return "\n".join(out)


def strip_leading_space(text: str, ctx: PostContext, facts: Facts | None = None) -> str:
    """Drop leading blanks of the suggestion when the prefix already ends in a blank."""
    if not ctx.prefix.endswith((" ", "\t")) or not text.startswith((" ", "\t")):
        return text
    prefix_scan = (facts or Facts(ctx)).prefix_scan
    if prefix_scan.state:
        return text  # inside a string or comment every blank counts
    line_prefix = current_line_prefix(ctx)
    if not line_prefix.strip():
        # In the indentation: the blanks add up; keep them unless they overshoot the block.
        tab = ctx.tab_size or 4
        before = ctx.prefix[: len(ctx.prefix) - len(line_prefix)].rstrip("\n")
        prev = before[before.rfind("\n") + 1 :]
        # One level deeper is plausible (a block body, a continuation line); two after `(`.
        limit = indent_width(prev, tab) + tab
        if prev.rstrip().endswith(("(", "[")):
            limit += tab
        if prefix_scan.stack and prefix_scan.stack[-1][0] in "([":
            return text  # a continuation line inside brackets may align with anything
        if indent_width(line_prefix + leading_ws(text), tab) <= limit:
            return text
        return text.lstrip(" \t")
    lead = leading_ws(text)
    if len(lead) > 2 or text[len(lead) :].startswith(("#", "//")):
        return text  # several blanks before a comment or a value: deliberate alignment
    return text[len(lead) :]


# ---------------------------------------------------------------------------------------------
# Rules: trailing blanks and empty results.


def strip_trailing_whitespace(text: str, ctx: PostContext, facts: Facts | None = None) -> str:
    """Drop trailing blanks and newlines the suffix makes useless."""
    rest = current_line_rest(ctx)
    if not rest.strip():
        return text.rstrip()
    if rest[0] in ")]}>;:,." and text.rstrip(" \t") != text and "\n" not in text:
        return text.rstrip(" \t")
    return text


def drop_empty(text: str, ctx: PostContext, facts: Facts | None = None) -> str:
    """Show nothing for an empty or whitespace-only suggestion."""
    return text if text.strip() else ""
