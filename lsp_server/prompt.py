"""Qwen FIM prompts (file level and repository level) and the special tokens around them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

FIM_PREFIX = "<|fim_prefix|>"
FIM_SUFFIX = "<|fim_suffix|>"
FIM_MIDDLE = "<|fim_middle|>"
FIM_PAD = "<|fim_pad|>"
REPO_NAME = "<|repo_name|>"
FILE_SEP = "<|file_sep|>"
ENDOFTEXT = "<|endoftext|>"
IM_START = "<|im_start|>"
IM_END = "<|im_end|>"

# Sent as stop strings on every FIM request: the FIM and repo tokens are not "special" to the
# tokenizer, so servers neither stop on them nor strip them by themselves.
STOP_TOKENS: tuple[str, ...] = (
    ENDOFTEXT, IM_END, FIM_PREFIX, FIM_MIDDLE, FIM_SUFFIX, FIM_PAD, REPO_NAME, FILE_SEP,
)
_ALL_TOKENS = (*STOP_TOKENS, IM_START)
# Sent as stop strings on chat requests: where the server renders special tokens as text
# (or the model writes them), the answer ends at the end of its turn.
CHAT_STOP_TOKENS: tuple[str, ...] = (IM_END, ENDOFTEXT, IM_START)


@dataclass(frozen=True)
class ContextFile:
    """One `<|file_sep|>` block of a repository-level prompt."""

    path: str
    text: str


MIN_SUFFIX_CHARS = 200  # the rest of the line and about five more
SUFFIX_SHARE = 20  # the suffix is at most this fraction of what precedes it


def split_document(text: str, offset: int, prefix_chars: int, suffix_chars: int) -> tuple[str, str]:
    """Return the text before and after `offset`, each trimmed to its budget at line boundaries."""
    offset = max(0, min(offset, len(text)))
    prefix, suffix = text[:offset], text[offset:]
    if len(prefix) > prefix_chars:
        # The cut moves in steps of half the budget, not with every keystroke, so the
        # prompt's beginning stays byte-identical (for about half a budget of typing) and
        # servers can reuse their prompt cache.
        step = max(1, prefix_chars // 2)
        cut = -(-(len(prefix) - prefix_chars) // step) * step
        newline = prefix.find("\n", cut)
        # Keep whole lines; if the cursor line alone is over budget keep its tail.
        prefix = prefix[newline + 1 :] if newline != -1 else prefix[cut:]
    return prefix, trim_suffix(suffix, suffix_chars)


def trim_suffix(suffix: str, suffix_chars: int) -> str:
    """Return the start of `suffix` within its budget, cut at a line boundary."""
    if len(suffix) <= suffix_chars:
        return suffix
    newline = suffix.rfind("\n", 0, suffix_chars)
    return suffix[: newline + 1] if newline != -1 else suffix[:suffix_chars]


def fit_suffix(suffix: str, suffix_chars: int, prefix: str,
               context_files: Sequence[ContextFile]) -> str:
    """Trim the suffix to a twentieth of what comes before it in the prompt (a few lines at
    least), within `suffix_chars`.

    Servers reuse the longest prompt prefix they have cached; the suffix comes after the
    cursor, so it is recomputed at every keystroke, together with whatever was typed since
    the previous prompt. Keeping it small lets over nine tenths of each prompt come from
    the cache, while the lines right after the cursor (what tells the model where to stop)
    stay in.
    """
    before = len(prefix) + sum(len(cf.path) + len(cf.text) for cf in context_files)
    return trim_suffix(suffix, min(suffix_chars, max(MIN_SUFFIX_CHARS, before // SUFFIX_SHARE)))


def build_fim_prompt(
    prefix: str,
    suffix: str,
    *,
    repo_name: str | None = None,
    current_path: str | None = None,
    context_files: Sequence[ContextFile] = (),
) -> str:
    """Return the FIM prompt: file level without context files, repository level with them."""
    fim = f"{FIM_PREFIX}{prefix}{FIM_SUFFIX}{suffix}{FIM_MIDDLE}"
    if not context_files:
        return fim
    return (f"{REPO_NAME}{repo_name or 'repo'}\n{context_part(context_files)}"
            f"{FILE_SEP}{current_path or 'untitled'}\n{fim}")


def context_part(context_files: Sequence[ContextFile]) -> str:
    """Return the cross-file part of a repository-level prompt: one block per file."""
    parts = []
    for cf in context_files:
        text = cf.text if cf.text.endswith("\n") else cf.text + "\n"
        parts.append(f"{FILE_SEP}{cf.path}\n{text}")
    return "".join(parts)


def cut_at_special_token(text: str) -> tuple[str, bool]:
    """Cut `text` at the first leaked special token; return the text and whether one was found."""
    cut = min((i for tok in _ALL_TOKENS if (i := text.find(tok)) != -1), default=-1)
    return (text, False) if cut == -1 else (text[:cut], True)


def strip_special_tokens(text: str) -> str:
    """Remove every Qwen special token from text (chat output goes on past them)."""
    for tok in _ALL_TOKENS:
        text = text.replace(tok, "")
    return text


class SpecialTokenFilter:
    """Remove Qwen special tokens from streamed text, also one split across two pieces.

    The end of a piece that may begin a special token is held back until the next piece
    (or `flush()`) shows whether it does.
    """

    def __init__(self) -> None:
        self._held = ""

    def feed(self, piece: str) -> str:
        """Return the text of `piece` that can be shown now."""
        text = strip_special_tokens(self._held + piece)
        start = text.rfind("<", max(0, len(text) - max(map(len, _ALL_TOKENS)) + 1))
        while start != -1:
            tail = text[start:]
            if any(tok.startswith(tail) for tok in _ALL_TOKENS):
                self._held = tail
                return text[:start]
            start = text.find("<", start + 1)
        self._held = ""
        return text

    def flush(self) -> str:
        """Return what was held back, at the end of the stream."""
        held, self._held = self._held, ""
        return held
