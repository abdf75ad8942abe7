"""Qwen's own BPE tokenizer, for counting tokens where the endpoint cannot (Model Studio,
Ollama).

The vocabulary is the one Alibaba ships in its `dashscope` SDK
(`dashscope/resources/qwen.tiktoken`, Apache-2.0), loaded with `tiktoken`; both come with
the optional extra `qwen-lsp[tokenizer]`. The regular tokens are shared across Qwen
generations; the special tokens the prompts use are added on top, so that each counts as one
token, as Qwen's tokenizer counts them. Without the extra, `load()` returns None and budgets
keep their estimate.

Loading takes about a second and encoding a prompt a few milliseconds: callers count off the
keystroke path (`count_in_thread`), and the encoder is loaded once per process.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from importlib import resources
from typing import Any

from lsp_server.prompt import (
    ENDOFTEXT,
    FILE_SEP,
    FIM_MIDDLE,
    FIM_PAD,
    FIM_PREFIX,
    FIM_SUFFIX,
    IM_END,
    IM_START,
    REPO_NAME,
)

log = logging.getLogger(__name__)

# Qwen's pre-tokenizer: words with an optional leading symbol, single digits, runs of
# punctuation, and whitespace split before a word.
_PATTERN = (
    r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}"""
    r"""| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
)
# In Qwen2's id order (151643 on): only their being single tokens matters for counting.
SPECIAL_TOKENS = (
    ENDOFTEXT,
    IM_START,
    IM_END,
    FIM_PREFIX,
    FIM_MIDDLE,
    FIM_SUFFIX,
    FIM_PAD,
    REPO_NAME,
    FILE_SEP,
)


@functools.cache
def load() -> Any | None:
    """Return a tiktoken Encoding for Qwen, or None without `qwen-lsp[tokenizer]`."""
    try:
        import tiktoken
        from tiktoken.load import load_tiktoken_bpe

        vocab = resources.files("dashscope").joinpath("resources", "qwen.tiktoken")
        with resources.as_file(vocab) as path:
            ranks = load_tiktoken_bpe(str(path))
    except (ImportError, OSError, ValueError) as exc:
        log.info(
            "Qwen's tokenizer is not available (%s): token budgets use an estimate; "
            "install qwen-lsp[tokenizer] for exact counts",
            exc,
        )
        return None
    specials = {tok: len(ranks) + i for i, tok in enumerate(SPECIAL_TOKENS)}
    return tiktoken.Encoding(
        "qwen", pat_str=_PATTERN, mergeable_ranks=ranks, special_tokens=specials
    )


def count(text: str) -> int | None:
    """Return how many Qwen tokens `text` makes, or None without the tokenizer."""
    encoder = load()
    if encoder is None:
        return None
    return len(encoder.encode(text, allowed_special="all", disallowed_special=()))


async def count_in_thread(text: str) -> int | None:
    """Count in a worker thread: loading and encoding must not stall the event loop."""
    return await asyncio.to_thread(count, text)
