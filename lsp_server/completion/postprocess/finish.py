"""Finish a suggestion as the user would, so an unfinished tail does not pass for broken code."""

from __future__ import annotations

from lsp_server.completion.postprocess.facts import Facts
from lsp_server.completion.postprocess.languages import PYTHON_COMPOUND
from lsp_server.completion.postprocess.lexer import (
    COMMENT_STATES,
    OPENERS,
    left_open,
    scan_brackets,
)
from lsp_server.completion.postprocess.lines import leading_ws
from lsp_server.completion.postprocess.model import PostContext


def completed(text: str, ctx: PostContext, facts: Facts) -> str:
    """Return text plus what it leaves open (its own and the prefix's brackets, a Python body)."""
    # Scan from before the cursor: a quote typed half before, half in the suggestion (`"` `""`).
    window = ctx.prefix[facts.window[0] :]
    scan = scan_brackets(window + text, ctx.language)
    tail = ""
    if scan.state == "/*":
        tail += "*/"
    elif scan.state and scan.state not in COMMENT_STATES:
        tail += scan.state
    remaining = left_open([o for o, _ in scan.stack], facts.suffix_scan.unmatched)
    if remaining:
        # On a line of its own: the suggestion may end in a line comment.
        tail += "\n" + "".join(OPENERS[o] for o in reversed(remaining))
    if ctx.language == "python":
        tail += _python_body(window + text, tail)
    return text + tail


def _python_body(code: str, tail: str) -> str:
    """Return what finishes a Python block header left without its colon or body."""
    lines = code.rstrip().split("\n")
    last = lines[-1]
    if last.rstrip().endswith(":"):
        return "\n" + leading_ws(last) + "    pass"
    # A header whose brackets the tail just closed (`if (a and` + `)`): add `:` and a body.
    for line in reversed(lines[-8:]):
        if PYTHON_COMPOUND.match(line):
            if tail.strip() and ":" not in line.rstrip()[-1:]:
                return ":\n" + leading_ws(line) + "    pass"
            break
        if line.strip() and leading_ws(line) == "" and not tail.strip():
            break
    return ""
