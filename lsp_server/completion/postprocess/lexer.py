"""A small lexer: brackets and strings, enough to know what a piece of code opens and closes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from lsp_server.completion.postprocess.languages import BRACE_LANGS, line_comment, quotes

OPENERS = {"(": ")", "[": "]", "{": "}"}
CLOSERS = {")": "(", "]": "[", "}": "{"}

# Lexer state: "" = code, a quote = inside that string, "/*", "//" or "#" = inside a comment.
COMMENT_STATES = frozenset({"/*", "//", "#"})


@dataclass
class Scan:
    stack: list[tuple[str, int]]  # unclosed openers and their offsets
    unmatched: list[tuple[str, int]]  # closers with no opener in the scanned text
    state: str  # state at the end
    leaves_string_at: int | None = None  # where a string open at the start was closed


@cache
def _code_pattern(language: str | None) -> re.Pattern[str]:
    tokens = [re.escape(q) for q in quotes(language)]
    comment = line_comment(language)
    if comment:
        tokens.append(re.escape(comment))
    if language in BRACE_LANGS:
        tokens.append(re.escape("/*"))
    tokens.append(r"[()\[\]{}]")
    return re.compile("|".join(tokens))


@cache
def _string_pattern(quote: str, language: str | None) -> re.Pattern[str]:
    if quote == "`" and language == "go":
        return re.compile("`")  # Go raw strings know no escapes
    one_line = len(quote) == 1 and quote != "`"
    return re.compile(r"\\.|" + re.escape(quote) + ("|\n" if one_line else ""), re.DOTALL)


def scan_brackets(
    text: str, language: str | None, state: str = "", stop_unmatched: int = -1
) -> Scan:
    """Scan code for brackets outside strings and comments, starting in a given lexer state."""
    code = _code_pattern(language)
    comment = line_comment(language)
    stack: list[tuple[str, int]] = []
    unmatched: list[tuple[str, int]] = []
    start_state = state
    leaves: int | None = None
    i, n = 0, len(text)
    while i < n:
        if state == comment:
            end = text.find("\n", i)
            if end < 0:
                break
            state, i = "", end
            continue
        if state == "/*":
            end = text.find("*/", i)
            if end < 0:
                break
            state, i = "", end + 2
            continue
        if state:
            match = _string_pattern(state, language).search(text, i)
            if match is None:
                break
            token = match.group()
            i = match.end()
            if token.startswith("\\"):
                continue
            # A quote closes the string; a newline ends an unterminated one-line string.
            state = ""
            if start_state and leaves is None:
                leaves = match.start()
            continue
        match = code.search(text, i)
        if match is None:
            break
        token, at = match.group(), match.start()
        i = match.end()
        if token == comment:
            end = text.find("\n", i)
            if end < 0:
                state = comment  # the text ends inside a line comment
                break
            i = end
        elif token == "/*":
            state = "/*"
        elif token in OPENERS:
            stack.append((token, at))
        elif token in CLOSERS:
            if stack and stack[-1][0] == CLOSERS[token]:
                stack.pop()
            else:
                unmatched.append((token, at))
                if 0 <= stop_unmatched <= len(unmatched):
                    break
        else:
            state = token
    return Scan(stack, unmatched, state, leaves)


def left_open(stack: list[str], closers: list[tuple[str, int]]) -> list[str]:
    """Return the openers of stack left open after closers (innermost matching opener first)."""
    remaining = list(stack)
    for closer, _ in closers:
        for k in range(len(remaining) - 1, -1, -1):
            if remaining[k] == CLOSERS[closer]:
                del remaining[k]
                break
    return remaining

