"""Model rewrites to minimal text changes: clean the answer, re-indent it, diff it with difflib.

Offsets are Python string offsets into the original text; LSP positions are made from them in
`positions.py` by the caller. Nothing here knows about LSP.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass

from lsp_server.affixes import common_prefix, common_suffix
from lsp_server.prompt import strip_special_tokens

_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})[ \t]*([\w+#.-]*)[^\n]*$", re.MULTILINE)
_THINK = re.compile(r"<think>.*?(?:</think>|\Z)", re.DOTALL)
# Prose a chat model puts around code when asked for code only.
_LEAD_CHATTER = re.compile(
    r"^(here('s| is| are)|sure|certainly|of course|okay|ok\b|below|the following|"
    r"i('ve| have)|this is|updated|refactored|rewritten|simplified)\b.*",
    re.IGNORECASE,
)
_TAIL_CHATTER = re.compile(
    r"^(this|the|these|i |i'|note|explanation|changes|in this|key changes|let me|"
    r"hope|feel free|if you)\b.*",
    re.IGNORECASE,
)

# Code has these where prose does not (`ok = f()`, `this.x = 1`, `updated(items);`).
_CODE_CHARS = re.compile(r"[=(){};\[\]<>]|^\w+\.\w|^(def|class|return|import|from)\b")


@dataclass(frozen=True)
class TextChange:
    """Replace original[start:end] with `text`."""

    start: int
    end: int
    text: str


def code_blocks(text: str) -> list[tuple[str, str]]:
    """Return (language, code) for each fenced block; an unclosed last block runs to the end."""
    blocks: list[tuple[str, str]] = []
    pos = 0
    while (opening := _FENCE.search(text, pos)) is not None:
        marker, lang = opening.group(1), opening.group(2)
        body_start = opening.end() + 1
        closing = re.compile(
            rf"^[ \t]*{re.escape(marker[0])}{{{len(marker)},}}[ \t]*$", re.MULTILINE)
        end = closing.search(text, body_start)
        if end is None:
            blocks.append((lang, text[body_start:]))
            break
        blocks.append((lang, text[body_start : end.start()]))
        pos = end.end()
    return blocks


def clean_model_code(text: str) -> str:
    """Return the code in a model's answer: no reasoning, special tokens, fences or chatter."""
    text = strip_special_tokens(_THINK.sub("", text))
    blocks = code_blocks(text)
    if blocks:
        # The longest block is the rewrite; shorter ones are usage examples or fragments.
        return max(blocks, key=lambda b: len(b[1]))[1]
    lines = text.split("\n")
    while lines and (not lines[0].strip() or _is_prose(lines[0], _LEAD_CHATTER)):
        lines.pop(0)
    # Trailing prose comes after a blank line; code ending in a blank line is left alone.
    for i in range(len(lines) - 1, 0, -1):
        if not lines[i - 1].strip() and _is_prose(lines[i], _TAIL_CHATTER):
            lines = lines[: i - 1]
            break
    return "\n".join(lines)


def _is_prose(line: str, opener: re.Pattern[str]) -> bool:
    """Return whether a line reads as a sentence about code rather than code itself."""
    line = line.strip()
    return (bool(opener.match(line)) and not _CODE_CHARS.search(line)
            and len(line.split()) >= 2)


def _indent_of(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]


def _common_indent(text: str) -> str:
    indents = [_indent_of(line) for line in text.splitlines() if line.strip()]
    if not indents:
        return ""
    common = min(indents, key=len)
    while common and not all(i.startswith(common) for i in indents):
        common = common[:-1]
    return common


def fit_to_range(code: str, original: str, lead: str | None = "") -> str:
    """Re-indent `code` for the range it replaces and match the range's trailing newline.

    `lead` is the whitespace between the start of the range's first line and the range; None
    means the range starts mid-line after other code, where indentation is left alone.
    """
    newline = "\r\n" if "\r\n" in original else "\n"
    code = code.replace("\r\n", "\n")
    if lead is None:
        code = code.strip("\n")
        if "\n" not in original:
            code = code.strip()
    else:
        want, have = _common_indent(lead + original), _common_indent(code)
        if want != have:
            # Models answer at column 0 (or nested too deep): the range's own level is right.
            code = "\n".join(want + line[len(have):] if line.strip() else line
                             for line in code.split("\n"))
        code = code.lstrip("\n")
        if lead and code.startswith(lead):
            code = code[len(lead):]  # that indentation is outside the range and stays put
    if original.endswith("\n"):
        code = code.rstrip("\n") + "\n"
    else:
        code = code.rstrip("\n")
    return code.replace("\n", newline) if newline != "\n" else code


def diff_changes(original: str, new: str, base: int = 0) -> list[TextChange]:
    """Return the minimal line-based changes turning `original` into `new`, shifted by `base`."""
    a = original.splitlines(keepends=True)
    b = new.splitlines(keepends=True)
    offsets = [0]
    for line in a:
        offsets.append(offsets[-1] + len(line))
    changes: list[TextChange] = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if tag == "replace" and i2 - i1 == j2 - j1:
            # Line for line: one small edit per changed line rather than one across them all.
            for k in range(i2 - i1):
                changes.append(_trimmed(a[i1 + k], b[j1 + k], base + offsets[i1 + k]))
        else:
            changes.append(_trimmed("".join(a[i1:i2]), "".join(b[j1:j2]), base + offsets[i1]))
    return [c for c in changes if c.start != c.end or c.text]


def _trimmed(old: str, repl: str, start: int) -> TextChange:
    """Return the change old -> repl at `start` without the text both share at either end."""
    prefix = common_prefix(old, repl)
    suffix = common_suffix(old[prefix:], repl[prefix:])
    if prefix and old[prefix - 1] == "\r" and prefix < len(old) and old[prefix] == "\n":
        prefix -= 1  # never split a CRLF
        suffix = common_suffix(old[prefix:], repl[prefix:])
    return TextChange(start + prefix, start + len(old) - suffix, repl[prefix : len(repl) - suffix])


def rewrite_changes(text: str, start: int, end: int, answer: str,
                    restore: Callable[[str], str] | None = None) -> list[TextChange]:
    """Return the changes that replace text[start:end] with the code in a model answer.

    `restore` puts back, in the cleaned code, what was hidden from the model (it may raise).
    """
    original = text[start:end]
    before = text[text.rfind("\n", 0, start) + 1 : start]
    lead = before if not before.strip() else None
    code = clean_model_code(answer)
    if restore is not None:
        code = restore(code)
    code = fit_to_range(code, original, lead)
    if not code.strip() and original.strip():
        return []  # an empty answer is a failure, not a request to delete the code
    return diff_changes(original, code, base=start)


def apply_changes(text: str, changes: list[TextChange]) -> str:
    """Return `text` with non-overlapping `changes` applied (for tests and previews)."""
    out, pos = [], 0
    for change in sorted(changes, key=lambda c: c.start):
        out.append(text[pos : change.start])
        out.append(change.text)
        pos = change.end
    out.append(text[pos:])
    return "".join(out)


def is_cut_off(answer: str) -> bool:
    """Return whether a model answer stops inside a code fence (it ran out of tokens)."""
    text = strip_special_tokens(_THINK.sub("", answer))
    pos = 0
    while (opening := _FENCE.search(text, pos)) is not None:
        marker = opening.group(1)
        closing = re.compile(
            rf"^[ \t]*{re.escape(marker[0])}{{{len(marker)},}}[ \t]*$", re.MULTILINE)
        end = closing.search(text, opening.end() + 1)
        if end is None:
            return True
        pos = end.end()
    return False
