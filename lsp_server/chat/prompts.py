"""Chat and code-action prompts: messages for the chat route, within a character budget."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from lsp_server.prompt import ContextFile

CHAT_SYSTEM = (
    "You are Qwen, a coding assistant inside the user's editor. Answer precisely and briefly. "
    "Put code in fenced Markdown blocks with a language tag. When you change existing code, "
    "show the complete changed function or block so it can be applied as is."
)
EDIT_SYSTEM = (
    "You are Qwen, a coding assistant that edits code inside the user's editor. You receive a "
    "piece of code and an instruction. Reply with the complete rewritten piece in a single "
    "fenced code block and nothing else: no explanation before or after. Keep the original "
    "indentation style, keep code that the instruction does not concern unchanged, and never "
    "leave placeholders such as '...'."
)
TESTS_SYSTEM = (
    "You are Qwen, a coding assistant that writes unit tests. Reply with the complete test file "
    "in a single fenced code block and nothing else. Follow the project's test framework and "
    "style, import the code under test the way the project does, and cover normal cases, edge "
    "cases and errors."
)
_DROPPED_NOTE = " Earlier turns of this conversation were dropped to fit the history budget."


@dataclass(frozen=True)
class Focus:
    """The code the user points at: a file, maybe a selected range (string offsets)."""

    path: str
    language: str | None
    text: str
    start: int
    end: int


def fence(code: str, language: str | None = None) -> str:
    """Return `code` in a Markdown fence longer than any backtick run inside it."""
    longest = max((len(m) for m in re.findall(r"`{3,}", code)), default=2)
    marker = "`" * max(3, longest + 1)
    body = code if code.endswith("\n") else code + "\n"
    return f"{marker}{language or ''}\n{body}{marker}"


def _trim(text: str, budget: int) -> str:
    if len(text) <= budget:
        return text
    cut = text.rfind("\n", 0, budget)
    return text[: cut + 1 if cut > 0 else budget] + "[... cut to fit the context budget ...]\n"


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _lines(text: str, start: int, end: int) -> str:
    """Return "first-last" 1-based lines of a range; a final newline ends the last line."""
    if end > start and text[end - 1] == "\n":
        end -= 1
    return f"{_line_of(text, start)}-{_line_of(text, end)}"


def _excerpt(focus: Focus, budget: int) -> str | None:
    """Return whole lines of the file around the focus, within `budget` characters."""
    if budget <= 0:
        return None
    text = focus.text
    if len(text) <= budget:
        return text if text.strip() else None
    spare = max(0, budget - (focus.end - focus.start)) // 2
    lo = max(0, focus.start - spare)
    hi = min(len(text), focus.end + spare)
    lo = text.find("\n", lo) + 1 if lo > 0 and text[lo - 1] != "\n" else lo
    nl = text.rfind("\n", 0, hi)
    hi = nl + 1 if hi < len(text) and nl >= lo else hi
    excerpt = text[lo:hi]
    return excerpt if excerpt.strip() else None


def context_block(focus: Focus | None, repo: Sequence[ContextFile], budget: int) -> str:
    """Return the Markdown context for a chat message: repo files, file excerpt, selection."""
    if focus is None and not repo:
        return ""
    parts: list[str] = []
    remaining = budget
    selection = focus.text[focus.start : focus.end] if focus else ""
    if selection.strip():
        remaining -= len(selection)
    if focus is not None:
        excerpt_budget = max(0, remaining // 2 if repo else remaining)
        excerpt = _excerpt(focus, excerpt_budget)
        if excerpt:
            shown = _trim(excerpt, excerpt_budget)
            parts.append(f"Current file `{focus.path}`:\n{fence(shown, focus.language)}")
            remaining -= min(len(excerpt), excerpt_budget)
    repo_parts: list[str] = []
    for cf in repo:
        if remaining <= 0:
            break
        text = _trim(cf.text, remaining)
        remaining -= len(text)
        repo_parts.append(f"`{cf.path}`:\n{fence(text)}")
    if repo_parts:
        parts.insert(0, "Related code from the repository:\n\n" + "\n\n".join(repo_parts))
    if focus is not None and selection.strip():
        parts.append(f"Selected in `{focus.path}` (lines "
                     f"{_lines(focus.text, focus.start, focus.end)}):\n"
                     f"{fence(_trim(selection, max(budget, 1)), focus.language)}")
    return "\n\n".join(parts)


def chat_messages(
    history: list[dict[str, str]],
    message: str,
    *,
    context: str = "",
    dropped_turns: int = 0,
) -> list[dict[str, str]]:
    """Return the messages for one chat turn: system, history, then context and question."""
    system = CHAT_SYSTEM + (_DROPPED_NOTE if dropped_turns else "")
    user = f"{context}\n\n{message}" if context else message
    return [{"role": "system", "content": system}, *history, {"role": "user", "content": user}]


def edit_messages(focus: Focus, instruction: str, *, context_chars: int,
                  repo: Sequence[ContextFile] = ()) -> list[dict[str, str]]:
    """Return the messages asking the model to rewrite the focused range."""
    code = focus.text[focus.start : focus.end]
    surrounding = context_block(
        Focus(focus.path, focus.language, focus.text, focus.start, focus.start), repo,
        max(0, context_chars - len(code)))
    user = (f"{surrounding}\n\n" if surrounding else "") + (
        f"Code to rewrite (lines {_lines(focus.text, focus.start, focus.end)} of "
        f"`{focus.path}`):\n"
        f"{fence(code, focus.language)}\n\nInstruction: {instruction}\n\n"
        "Reply with the rewritten code only, in one fenced block.")
    return [{"role": "system", "content": EDIT_SYSTEM}, {"role": "user", "content": user}]


def tests_messages(focus: Focus, test_path: str, existing: str | None, framework: str, *,
                   context_chars: int) -> list[dict[str, str]]:
    """Return the messages asking for a new or extended test file for the focused code."""
    code = focus.text[focus.start : focus.end]
    parts = [f"Source file `{focus.path}`:\n"
             f"{fence(_trim(focus.text, max(0, context_chars - len(code))), focus.language)}",
             f"Code to test:\n{fence(code, focus.language)}"]
    if existing is not None:
        parts.append(f"Existing test file `{test_path}`; keep every existing test and add the "
                     f"new ones:\n{fence(existing, focus.language)}")
    else:
        parts.append(f"Write the new test file `{test_path}`.")
    parts.append(f"Test framework: {framework}. Reply with the complete test file only.")
    return [{"role": "system", "content": TESTS_SYSTEM},
            {"role": "user", "content": "\n\n".join(parts)}]


def explain_message(focus: Focus) -> str:
    """Return the chat question an Explain action asks (the code goes in as context)."""
    return (f"Explain what the selected code (lines "
            f"{_lines(focus.text, focus.start, focus.end)} of `{focus.path}`) does, "
            "how it works, and anything surprising or risky in it.")
