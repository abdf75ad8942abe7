"""Model answers to region text, region text to the smallest edits, and the checks that drop
an answer: empty, no-op, an undo of the user's last edit, or one that breaks the syntax."""

from __future__ import annotations

import re

from lsp_server.context.languages import for_grammar, get_parser
from lsp_server.edits import TextChange, code_blocks, diff_changes
from lsp_server.nextedit.formats import CURSOR, REGION_END, REGION_START, START_OF_FILE
from lsp_server.prompt import strip_special_tokens

_OTHER_MARKERS = ("<|cursor|>", "<|user_cursor|>", START_OF_FILE)
_THINK = re.compile(r"<think>.*?(?:</think>|\Z)", re.DOTALL)


def between_markers(answer: str, region: str) -> str | None:
    """Return the rewritten region from an answer that may hold the region markers, a code
    fence, chatter around it, or none of these; None when nothing usable is in it."""
    text = _THINK.sub("", answer)
    if "\r\n" not in region:
        text = text.replace("\r\n", "\n")
    start, end = text.find(REGION_START), text.find(REGION_END)
    if start >= 0:
        body = text[start + len(REGION_START):]
        body = body[1:] if body.startswith("\n") else body
        stop = body.find(REGION_END)
        if stop >= 0:
            body = body[:stop]
        else:  # the model stopped at the end marker, or ran out: a fence may close it
            fence = re.search(r"^[ \t]*```[ \t]*$", body, re.MULTILINE)
            body = body[: fence.start()] if fence else body
    elif end >= 0:
        body = text[:end]
        if "```" in body:  # an opening fence the end marker cut short
            blocks = code_blocks(body)
            body = max(blocks, key=lambda b: len(b[1]))[1] if blocks else body
    elif _starts_like(text, region):
        body = text  # the region rewritten as it is, fences in it included
    else:
        blocks = code_blocks(text)
        if blocks:
            body = max(blocks, key=lambda b: len(b[1]))[1]
        elif "```" in text:
            return None
        else:
            body = text
    for marker in (CURSOR, *_OTHER_MARKERS):
        body = body.replace(marker, "")
    body = strip_special_tokens(body)
    return fit_newline(body, region)


def _starts_like(answer: str, region: str) -> bool:
    """Return whether an answer starts with the region's first non-blank line: code written
    back as it is, with no fence or chatter around it."""
    first = next((line.strip() for line in region.split("\n") if line.strip()), "")
    head = next((line.strip() for line in answer.split("\n") if line.strip()), "")
    return bool(first) and head == first and not head.startswith(("```", "~~~"))


def fit_newline(body: str, region: str) -> str:
    """Return `body` ending with a newline exactly when the region does (blank lines the
    body ends with are its own)."""
    if region.endswith("\n"):
        return body if not body or body.endswith("\n") else body + "\n"
    return body[:-1] if body.endswith("\n") else body


def region_changes(region_text: str, new_text: str, base: int) -> list[TextChange]:
    """Return the smallest changes that turn the region into `new_text` (difflib)."""
    return diff_changes(region_text, new_text, base=base)


def syntax_errors(text: str, language: str | None) -> int | None:
    """Return how many ERROR/MISSING nodes the text parses with (None: no grammar)."""
    if not language:
        return None
    try:
        tree = get_parser(language).parse(
            for_grammar(text.encode("utf-8", "surrogatepass"), language))
    except Exception:
        return None
    count, stack = 0, [tree.root_node]
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            count += 1
        if node.has_error:
            stack.extend(node.children)
    return count
