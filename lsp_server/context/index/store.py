"""The persistent index: one sqlite file per workspace root, symbols by content hash."""

from __future__ import annotations

import hashlib
import marshal
import os
import sqlite3
import sys
from collections.abc import Iterable, Iterator
from functools import cache

import platformdirs

from lsp_server.context.languages import LANGUAGES

# 4: Rust use trees and `mod x;`, C include kinds; 5: windows; 6: elisions; 7: TS variance;
# 8: object literal properties; 9: long strings in heads elided; 10: TS call signatures,
# comments left out of heads; 11: `readonly T[]` typed as T, Python's `Base[T]` bases, Go's
# `var ( ... )` groups, `map[K]V` typed as V, a wrapper's name alone as itself (Go's `Option`);
# 12: a TypeScript function type typed as what it returns, long conditional types elided;
# 13: a TypeScript type alias of an object type has members, like an interface; 14: files
# with a member access being typed, and Python statements a parse error wraps; 15: `$` is a
# letter of names (`$getRoot` was `getRoot` among a file's references); 16: a long table's
# plain values are kept, on one line; 17: `Omit<T, K>` and `Pick<T, K>` are about T; 18: a
# map's type is its values' (`Map<K, V>`, `new Map<K, V>()`), `self.x = x` has x's annotation,
# a type guard returns no type; 19: a long declaration with its multi-line parts all elided;
# 20: a Go function's type is its first result's when that is named (`(ctx *RequestCtx)`)
FORMAT_VERSION = 20

# What the stored symbols depend on besides FORMAT_VERSION: a new parser or grammar release
# may extract differently, so the cache is dropped when any of these versions changes.
# tree-sitter and every grammar package (from the language registry), in registry order.
GRAMMAR_DISTRIBUTIONS = tuple(dict.fromkeys(
    ["tree-sitter", *(spec.grammar_package for spec in LANGUAGES)]))


def default_cache_dir() -> str:
    """Return the per-user cache directory (honours XDG_CACHE_HOME on Linux)."""
    return platformdirs.user_cache_dir("qwen-lsp", appauthor=False)


@cache
def _format_key() -> str:
    from importlib import metadata

    parts = [str(FORMAT_VERSION), sys.version.split()[0]]
    for dist in GRAMMAR_DISTRIBUTIONS:
        try:
            parts.append(metadata.version(dist))
        except metadata.PackageNotFoundError:
            parts.append("-")
    return "/".join(parts)


class Store:
    """The sqlite file of one root: files by stat, symbol blobs by content hash."""

    def __init__(self, cache_dir: str, root: str) -> None:
        directory = os.path.join(cache_dir, "index")
        os.makedirs(directory, exist_ok=True)
        digest = hashlib.sha1(root.encode()).hexdigest()[:16]
        name = os.path.basename(root.rstrip(os.sep)) or "root"
        self.path = os.path.join(directory, f"{name}-{digest}.sqlite")
        self.db = sqlite3.connect(self.path, check_same_thread=False, timeout=10)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
        row = self.db.execute("SELECT value FROM meta WHERE key='format'").fetchone()
        if row is None or row[0] != _format_key():
            self.db.executescript("DROP TABLE IF EXISTS files; DROP TABLE IF EXISTS blobs;")
        self.db.executescript(
            """
            CREATE TABLE IF NOT EXISTS files (
                rel TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER, hash TEXT);
            CREATE TABLE IF NOT EXISTS blobs (hash TEXT PRIMARY KEY, data BLOB, refs BLOB);
            """
        )
        self.db.execute("INSERT OR REPLACE INTO meta VALUES ('format', ?)", (_format_key(),))
        self.db.execute("INSERT OR REPLACE INTO meta VALUES ('root', ?)", (root,))
        self.db.commit()

    def known(self) -> dict[str, tuple[int, int, str, bytes]]:
        rows = self.db.execute(
            "SELECT f.rel, f.size, f.mtime_ns, f.hash, b.data FROM files f "
            "JOIN blobs b ON f.hash = b.hash"
        )
        return {rel: (size, mtime, h, data) for rel, size, mtime, h, data in rows}

    def blob(self, digest: str) -> bytes | None:
        row = self.db.execute("SELECT data FROM blobs WHERE hash=?", (digest,)).fetchone()
        return row[0] if row else None

    def refs(self, digest: str) -> tuple[str, ...]:
        row = self.db.execute("SELECT refs FROM blobs WHERE hash=?", (digest,)).fetchone()
        return marshal.loads(row[0])[0] if row and row[0] else ()

    def windows(self) -> Iterator[tuple[str, tuple]]:
        """Yield (rel, identifier windows) of every file, on a connection of its own (the
        store's stays free for the editor's changes while this runs)."""
        db = sqlite3.connect(self.path, timeout=10)
        try:
            for rel, refs in db.execute(
                    "SELECT f.rel, b.refs FROM files f JOIN blobs b ON f.hash = b.hash"):
                if refs:
                    yield rel, marshal.loads(refs)[1]
        finally:
            db.close()

    def put(self, rows: Iterable[tuple[str, int, int, str, bytes | None, bytes | None]]) -> None:
        for rel, size, mtime, digest, data, refs in rows:
            if data is not None:
                self.db.execute("INSERT OR REPLACE INTO blobs VALUES (?, ?, ?)",
                                (digest, data, refs))
            self.db.execute("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?)",
                            (rel, size, mtime, digest))
        self.db.commit()

    def forget(self, rels: Iterable[str]) -> None:
        self.db.executemany("DELETE FROM files WHERE rel=?", [(r,) for r in rels])
        self.db.commit()

    def collect_garbage(self) -> None:
        self.db.execute("DELETE FROM blobs WHERE hash NOT IN (SELECT hash FROM files)")
        self.db.commit()

    def close(self) -> None:
        self.db.close()
