"""The gate every prompt passes before it leaves for an endpoint, and the way back for edits.

Whatever a feature sends (a completion's FIM prompt, chat messages, a code action's rewrite
request, generated tests, and any future prompt such as next-edit's), its text comes from
files, paths, edits and the user, and goes through `OutboundGate` first:

- Key-shaped strings are redacted (`lsp_server.context.redact`). The text around the cursor is
  redacted as ONE string and split into prefix and suffix only afterwards, so a key split by
  the cursor is still recognised as one key.
- Qwen control tokens (`<|endoftext|>`, `<|im_start|>`, `<|fim_prefix|>`, `<|file_sep|>`,
  next-edit markers such as `<|editable_region_start|>`, and any other `<|name|>`) are
  neutralised: a zero-width space goes between `<` and `|`. Tokenizers match added tokens by
  their exact string, so the neutralised form is ordinary text to them, made of the same
  visible characters, which the model still reads as the token's name. A visible change such
  as `<| endoftext |>` would read the same to the model but show up in every edit it echoes.
- Paths lose line breaks: a path is followed by a newline in repository-level prompts, so a
  file name holding one could start a fake file.

On the way back (`restore`), an answer that will be written into the user's file gets its
neutralised tokens turned back into the original text, and every redaction placeholder mapped
back to the secret it hid, from the local text: a line the model kept as it was gets its
original line back, and a placeholder that stood for a single secret gets that secret. A
placeholder that cannot be mapped back raises `Unrestorable`: the edit is refused rather than
writing `[REDACTED]` over the user's key.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from cachetools import LRUCache

from lsp_server.context.redact import (
    PLACEHOLDERS,
    REDACTED_PRIVATE_KEY,
    LineRedactor,
    redact,
    redact_tracked,
)
from lsp_server.prompt import ContextFile, build_fim_prompt

NEUTRAL_MARK = "\u200b"  # zero-width space
_CONTROL_TOKEN = re.compile(r"<\|([A-Za-z_][A-Za-z0-9_.\-]{0,48})\|>")
_NEUTRALISED = re.compile(NEUTRAL_MARK + r"(?=\|[A-Za-z_][A-Za-z0-9_.\-]{0,48}\|>)")
_PARTIAL_TOKEN = re.compile(r"(?:\|[A-Za-z0-9_.\-]{0,48}\|?)?")
_LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029\x85]")
_PLACEHOLDER = re.compile("|".join(re.escape(p) for p in PLACEHOLDERS))


class Unrestorable(ValueError):
    """A model answer holds a redaction placeholder that cannot be mapped back to a secret."""


def neutralise(text: str) -> str:
    """Return `text` with every `<|name|>` control token broken for tokenizers."""
    if "<|" not in text:
        return text
    return _CONTROL_TOKEN.sub(lambda m: "<" + NEUTRAL_MARK + m.group(0)[1:], text)


def neutralise_at(text: str, cursor: int) -> tuple[str, int]:
    """Neutralise `text` and return where `cursor` ended up."""
    if "<|" not in text:
        return text, cursor
    shift = sum(1 for m in _CONTROL_TOKEN.finditer(text, 0, cursor) if m.end() <= cursor)
    return neutralise(text), cursor + shift


def restore_tokens(text: str) -> str:
    """Turn neutralised control tokens back into what the user's text had."""
    return _NEUTRALISED.sub("", text) if NEUTRAL_MARK in text else text


class TokenRestorer:
    """`restore_tokens` for streamed text: a neutralised token split across pieces is held
    back until it is complete."""

    def __init__(self) -> None:
        self._held = ""

    def feed(self, text: str) -> str:
        """Return what can be shown of the stream so far, restored."""
        text = self._held + text
        self._held = ""
        mark = text.rfind(NEUTRAL_MARK)
        if mark != -1 and _PARTIAL_TOKEN.fullmatch(text, mark + 1):
            text, self._held = text[:mark], text[mark:]
        return restore_tokens(text)

    def flush(self) -> str:
        """Return whatever was held back at the end of the stream, as it is."""
        held, self._held = self._held, ""
        return held


def has_placeholder(text: str) -> bool:
    """Return whether text holds a redaction placeholder."""
    return "[REDACTED" in text and _PLACEHOLDER.search(text) is not None


def restore(answer: str, local: str) -> str:
    """Return a model answer fit to write into a file whose text (as sent) was `local`.

    Raise `Unrestorable` when a placeholder in it cannot be mapped back to what it hid.
    """
    answer = restore_tokens(answer)
    if not has_placeholder(answer):
        return answer
    by_line: dict[str, str] = {}
    secrets: dict[str, set[str]] = {}
    for line in local.splitlines():
        red = redact_tracked(line)
        if red.text == line or any(p == REDACTED_PRIVATE_KEY for p, _ in red.replaced):
            continue  # a private key block spans lines: it is mapped back whole, below
        by_line.setdefault(red.text.strip(), line.strip())
        for placeholder, original in red.replaced:
            secrets.setdefault(placeholder, set()).add(original)
    if "PRIVATE KEY" in local:
        for placeholder, original in redact_tracked(local).replaced:
            if placeholder == REDACTED_PRIVATE_KEY:
                secrets.setdefault(placeholder, set()).add(original)
    out = []
    for line in answer.splitlines(keepends=True):
        if not has_placeholder(line):
            out.append(line)
            continue
        body = line.rstrip("\r\n")
        ending = line[len(body):]
        original = by_line.get(body.strip())
        if original is not None:
            indent = body[: len(body) - len(body.lstrip())]
            out.append(indent + original + ending)
            continue

        def one_secret(m: re.Match[str]) -> str:
            found = secrets.get(m.group(0), set())
            if len(found) != 1:
                raise Unrestorable(f"the model's answer holds {m.group(0)} where a secret was "
                                   "hidden from it; nothing was applied")
            return next(iter(found))

        out.append(_PLACEHOLDER.sub(one_secret, body) + ending)
    return "".join(out)


class OutboundGate:
    """Clean every piece of text a prompt is made of; cheap to call on every keystroke."""

    def __init__(self) -> None:
        self._lines = LineRedactor()
        self._texts: LRUCache[str, str] = LRUCache(maxsize=512)

    def text(self, text: str) -> str:
        """Return file, chat or edit text redacted and with control tokens neutralised."""
        clean = self._texts.get(text)
        if clean is None:
            clean = self._texts[text] = neutralise(redact(text))
        return clean

    def path(self, path: str) -> str:
        """Return a path fit for a prompt: redacted, neutralised, on one line."""
        return _LINE_BREAKS.sub(" ", self.text(path))

    def around_cursor(self, text: str, cursor: int) -> tuple[str, int]:
        """Clean the text around a cursor as one string; return it and the cursor's place."""
        text, cursor = self._lines.around(text, cursor)
        return neutralise_at(text, cursor)

    def fim_prompt(self, prefix: str, suffix: str, *, repo_name: str | None = None,
                   current_path: str | None = None,
                   context_files: Sequence[ContextFile] = ()) -> str:
        """Return the FIM prompt for a cursor between `prefix` and `suffix`, every part clean."""
        joined, cursor = self.around_cursor(prefix + suffix, len(prefix))
        files = self.context_files(context_files)
        return build_fim_prompt(
            joined[:cursor], joined[cursor:],
            repo_name=self.path(repo_name) if repo_name else repo_name,
            current_path=self.path(current_path) if current_path else current_path,
            context_files=files)

    def context_files(self, files: Sequence[ContextFile]) -> list[ContextFile]:
        """Return repository context blocks with their paths and texts clean."""
        return [ContextFile(self.path(cf.path), self.text(cf.text)) for cf in files]

    def messages(self, messages: Sequence[dict[str, str]]) -> list[dict[str, str]]:
        """Return chat messages with every content cleaned (the chat template is the server's)."""
        return [{**m, "content": self.text(m["content"])} if isinstance(m.get("content"), str)
                else dict(m) for m in messages]


_DEFAULT = OutboundGate()


def gate() -> OutboundGate:
    """Return the process's gate (its caches are shared by every feature)."""
    return _DEFAULT
