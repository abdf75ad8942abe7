"""Parsing files in worker processes: one file's symbols and batches (the pool: workers.py)."""

from __future__ import annotations

import hashlib
import marshal
import os
import resource
import sys

from lsp_server.context.chunks import scan_identifiers
from lsp_server.context.files import read_regular
from lsp_server.context.scanner import content_skip_reason
from lsp_server.context.symbols import STOP_WORDS, extract
from lsp_server.workers import make_process_pool

__all__ = ["content_hash", "make_process_pool", "parse_batch", "parse_one", "peak_rss_mb"]


def peak_rss_mb(children: bool = False) -> float:
    """Return the peak resident set size of this process (or its children) in MB."""
    who = resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF
    peak = resource.getrusage(who).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def content_hash(data: bytes) -> str:
    """Return the key a file's symbols are stored under: a digest of its bytes."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def parse_one(path: str, language: str, max_bytes: int) -> tuple:
    """Read, check and extract one file; runs in worker processes.

    Returns (path, skip reason or None, hash, size, mtime_ns, symbols blob, refs blob)."""
    try:
        data = read_regular(path, max_bytes)
        st = os.stat(path)
    except OSError:
        return (path, "unreadable", "", 0, 0, None, None)
    if len(data) > max_bytes:
        return (path, "too_large", "", 0, 0, None, None)
    reason = content_skip_reason(data)
    if reason is not None:
        return (path, reason, "", 0, 0, None, None)
    symbols = extract(data, language, with_references=False)
    # Kept apart from the symbols (loaded at every start): identifiers used, and the
    # identifier windows similar-code retrieval searches, read only when needed.
    refs = marshal.dumps(scan_identifiers(data, STOP_WORDS))
    return (path, None, content_hash(data), st.st_size, st.st_mtime_ns,
            marshal.dumps(symbols.to_tuple()), refs)


def parse_batch(items: list[tuple[str, str, int]]) -> list[tuple]:
    """Extract symbols for a batch of (path, language, max_bytes); a process-pool task."""
    return [parse_one(*item) for item in items]
