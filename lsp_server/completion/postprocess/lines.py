"""Small questions about the lines around the cursor and their indentation."""

from __future__ import annotations

from lsp_server.completion.postprocess.model import PostContext


def current_line_prefix(ctx: PostContext) -> str:
    return ctx.prefix[ctx.prefix.rfind("\n") + 1 :]


def current_line_rest(ctx: PostContext) -> str:
    end = ctx.suffix.find("\n")
    return ctx.suffix if end < 0 else ctx.suffix[:end]


def indent_width(line: str, tab_size: int) -> int:
    width = 0
    for ch in line:
        if ch == " ":
            width += 1
        elif ch == "\t":
            width += tab_size - width % tab_size
        else:
            break
    return width


def leading_ws(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]

