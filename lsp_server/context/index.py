"""RepoIndex: symbols of every readable file, built in parallel, persisted by content hash."""

from __future__ import annotations

import hashlib
import logging
import marshal
import multiprocessing
import os
import posixpath
import resource
import sqlite3
import sys
import threading
import time
import tomllib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from functools import cache

import platformdirs

from lsp_server.context.chunks import ChunkIndex, scan_identifiers
from lsp_server.context.files import read_regular, read_text, read_text_or_none
from lsp_server.context.jsmodules import JsWorkspace
from lsp_server.context.scanner import (
    DEFAULT_MAX_FILE_BYTES,
    ScannedFile,
    Scanner,
    ScanResult,
    content_skip_reason,
    read_config,
)
from lsp_server.context.symbols import STOP_WORDS, Definition, FileSymbols, Import, extract

log = logging.getLogger(__name__)

FORMAT_VERSION = 5  # 4: Rust use trees and `mod x;`, C include kinds; 5: windows
_BATCH = 24
_MAX_MANIFEST_BYTES = 1_000_000  # go.mod, Cargo.toml
_JS_LANGS = frozenset({"javascript", "typescript", "tsx"})
_JS_EXTENSIONS = (".ts", ".tsx", ".d.ts", ".js", ".jsx", ".mjs", ".cjs", ".mts", ".cts")


# A Rust module for import resolution: the file holding it, the directory its child modules'
# files are in, and whether that file is its own (False: an inline module or an item).
_RustModule = tuple[str, str, bool]

# Headers of the C standard library and POSIX: `<string.h>` is never the repo's string.h.
_SYSTEM_HEADERS = frozenset(
    """assert.h complex.h ctype.h errno.h fenv.h float.h inttypes.h iso646.h limits.h locale.h
    math.h setjmp.h signal.h stdalign.h stdarg.h stdatomic.h stdbit.h stdbool.h stdckdint.h
    stddef.h stdint.h stdio.h stdlib.h stdnoreturn.h string.h tgmath.h threads.h time.h uchar.h
    wchar.h wctype.h aio.h cpio.h dirent.h dlfcn.h fcntl.h fnmatch.h glob.h grp.h iconv.h
    langinfo.h libgen.h monetary.h mqueue.h netdb.h nl_types.h poll.h pthread.h pwd.h regex.h
    sched.h search.h semaphore.h spawn.h strings.h syslog.h tar.h termios.h ulimit.h unistd.h
    utime.h utmpx.h wordexp.h alloca.h malloc.h getopt.h endian.h byteswap.h execinfo.h
    windows.h winsock2.h""".split()
)
_SYSTEM_HEADER_DIRS = frozenset({"sys", "arpa", "netinet", "net", "bits", "gnu", "mach"})


@dataclass(slots=True)
class _Crate:
    """One Cargo package: what `use name::...` from other crates reaches."""

    dir: str
    name: str  # the library's name as Rust code writes it (hyphens become underscores)
    lib: str  # the library's root file
    deps: dict[str, str]  # path dependencies: name in this crate's code -> package dir


def _read_cargo(directory: str, manifest: str) -> _Crate | None:
    """Return the package a Cargo.toml describes, or None (a virtual workspace, unreadable)."""
    try:
        data = tomllib.loads(read_text(manifest, _MAX_MANIFEST_BYTES))
    except (OSError, ValueError):
        return None
    package = data.get("package")
    if not isinstance(package, dict):
        return None
    lib = data.get("lib") if isinstance(data.get("lib"), dict) else {}
    name = lib.get("name") or package.get("name")
    lib_path = lib.get("path") if isinstance(lib.get("path"), str) else "src/lib.rs"
    deps: dict[str, str] = {}
    targets = data.get("target") if isinstance(data.get("target"), dict) else {}
    for table in [data, *(t for t in targets.values() if isinstance(t, dict))]:
        for section in ("dependencies", "dev-dependencies", "build-dependencies"):
            entries = table.get(section)
            if not isinstance(entries, dict):
                continue
            for key, spec in entries.items():  # `m = { package = "x", path = "../x" }`
                if isinstance(spec, dict) and isinstance(spec.get("path"), str):
                    deps[key.replace("-", "_")] = os.path.normpath(
                        os.path.join(directory, spec["path"]))
    return _Crate(directory, name.replace("-", "_") if isinstance(name, str) else "",
                  os.path.normpath(os.path.join(directory, lib_path)), deps)


def _rust_segments(module: str) -> list[str]:
    module = "".join(module.split())
    return module.split("::") if module else []


def _import_key(imp: Import, language: str) -> str:
    """Return what resolving an import depends on (Rust and Java: the imported names too)."""
    if language in ("rust", "java"):
        names = ",".join(name for name, _ in imp.names)
        return f"{imp.module}\0{language}\0{names}\0{bool(imp.alias):d}{imp.wildcard:d}"
    return f"{imp.module}\0{language}"


@dataclass(slots=True)
class FileEntry:
    """One indexed file: where it lives and what it defines."""

    path: str  # absolute
    rel: str  # root-relative, forward slashes
    root: str
    symbols: FileSymbols
    hash: str = ""
    size: int = 0
    mtime_ns: int = 0


@dataclass
class BuildStats:
    """What one build or refresh did."""

    files: int = 0
    symbols: int = 0
    parsed: int = 0
    reused: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    peak_rss_mb: float = 0.0
    workers_peak_rss_mb: float = 0.0

    def as_dict(self) -> dict:
        """Return a JSON-friendly dict."""
        return {
            "files": self.files, "symbols": self.symbols, "reparsed": self.parsed,
            "reused": self.reused, "skipped": dict(sorted(self.skipped.items())),
            "seconds": round(self.seconds, 3), "peak_rss_mb": round(self.peak_rss_mb, 1),
            "workers_peak_rss_mb": round(self.workers_peak_rss_mb, 1),
        }


def default_cache_dir() -> str:
    """Return the per-user cache directory (honours XDG_CACHE_HOME on Linux)."""
    return platformdirs.user_cache_dir("qwen-lsp", appauthor=False)


def peak_rss_mb(children: bool = False) -> float:
    """Return the peak resident set size of this process (or its children) in MB."""
    who = resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF
    peak = resource.getrusage(who).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


@cache
def _format_key() -> str:
    from importlib import metadata

    parts = [str(FORMAT_VERSION), sys.version.split()[0]]
    for dist in ("tree-sitter", "tree-sitter-python", "tree-sitter-javascript",
                 "tree-sitter-typescript", "tree-sitter-go", "tree-sitter-rust",
                 "tree-sitter-java", "tree-sitter-c", "tree-sitter-cpp"):
        try:
            parts.append(metadata.version(dist))
        except metadata.PackageNotFoundError:
            parts.append("-")
    return "/".join(parts)


def _shape(symbols: FileSymbols) -> list[tuple]:
    """Return what retrieval caches depend on: every definition's head, not its position."""
    return [(d.name, d.kind, d.container, d.signature, d.doc, d.type_name, d.bases)
            for d in symbols.definitions] + [i.to_tuple()[:3] for i in symbols.imports]


def _hash(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def _parse_one(path: str, language: str, max_bytes: int) -> tuple:
    """Read, check and extract one file; runs in worker processes."""
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
    return (path, None, _hash(data), st.st_size, st.st_mtime_ns,
            marshal.dumps(symbols.to_tuple()), refs)


def parse_batch(items: list[tuple[str, str, int]]) -> list[tuple]:
    """Extract symbols for a batch of (path, language, max_bytes); a process-pool task."""
    return [_parse_one(*item) for item in items]


def _exit_with_parent(parent: int) -> None:
    """Stop a pool worker when the process that owns the pool is gone (killed editor, crash):
    blocked on its task queue, it would otherwise wait forever."""

    def watch() -> None:
        while True:
            time.sleep(1.0)
            try:
                os.kill(parent, 0)
            except ProcessLookupError:
                os._exit(0)
            except PermissionError:
                pass

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def make_process_pool(workers: int | None = None) -> ProcessPoolExecutor:
    """Return a process pool safe to start from a threaded, asyncio-running server."""
    # spawn, not fork (threads) nor forkserver (a daemon that outlives a killed server).
    n = workers or max(1, min(os.cpu_count() or 1, 4))
    return ProcessPoolExecutor(max_workers=n, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_exit_with_parent, initargs=(os.getpid(),))


class _Store:
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


def _utf8_name(path: str) -> bool:
    """Return whether a path is valid UTF-8: the others (decoded by Python with surrogate
    escapes) cannot be stored, shown or sent."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _drop_undecodable_names(result: ScanResult, stats: BuildStats) -> None:
    """Leave files whose name is not valid UTF-8 out of a scan, with one log line."""
    bad = [sf for sf in result.files if not _utf8_name(sf.path)]
    if not bad:
        return
    result.files[:] = [sf for sf in result.files if _utf8_name(sf.path)]
    stats.skipped["name not UTF-8"] += len(bad)
    log.warning("not indexing %d file(s) whose name is not valid UTF-8, e.g. %s", len(bad),
                bad[0].path.encode("utf-8", "backslashreplace").decode("ascii", "replace"))


class RepoIndex:
    """Definitions and imports of every readable file under the workspace roots."""

    def __init__(
        self,
        roots: list[str],
        *,
        cache_dir: str | None = None,
        max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
        max_files: int = 50_000,
        persist: bool = True,
    ) -> None:
        self.roots = [os.path.abspath(r) for r in roots]
        self.cache_dir = cache_dir or default_cache_dir()
        self.max_file_bytes = max_file_bytes
        self.scanners = {
            r: Scanner(r, max_file_bytes=max_file_bytes, max_files=max_files) for r in self.roots
        }
        self.persist = persist
        self._stores: dict[str, _Store] = {}
        self._lock = threading.RLock()
        self._disk: dict[str, FileEntry] = {}
        self._overlay: dict[str, FileEntry] = {}
        self._by_name: dict[str, list[tuple[str, int]]] = {}
        self._by_container: dict[str, list[tuple[str, int]]] = {}
        self._by_module: dict[str, list[str]] = {}  # dotted/slashed module suffix -> paths
        self._by_dir: dict[str, list[str]] = {}  # abs dir -> paths
        self._resolved: dict[tuple[str, str], list[str]] = {}
        self._go_mods: dict[str, tuple[str, str]] | None = None
        self._js: JsWorkspace | None = None
        self._cargo: tuple[int, dict[str, _Crate], dict[str, _Crate]] | None = None
        self.generation = 0  # bumped on every change; caches key on it
        self._cancelled = threading.Event()
        self.chunks = ChunkIndex()
        self._mem_refs: dict[str, bytes] = {}  # refs blobs, when there is no store to keep them

    # --- lookup -------------------------------------------------------------------------------

    def scanner_for(self, path: str) -> Scanner | None:
        """Return the scanner of the root that contains a path, or None."""
        best: Scanner | None = None
        for root, scanner in self.scanners.items():
            if (path == root or path.startswith(root.rstrip(os.sep) + os.sep)) and (
                    best is None or len(root) > len(best.root)):
                best = scanner
        return best

    def store_files(self) -> list[str]:
        """Return the on-disk index files opened so far (one sqlite file per root)."""
        return [store.path for store in self._stores.values()]

    def relpath(self, path: str) -> str:
        """Return the path relative to its root, or a cleaned absolute path outside all roots."""
        scanner = self.scanner_for(path)
        rel = scanner.relpath(path) if scanner else None
        return rel if rel else path.replace(os.sep, "/").lstrip("/")

    def entry(self, path: str) -> FileEntry | None:
        """Return the open buffer's entry for a path, else the disk one, else None."""
        return self._overlay.get(path) or self._disk.get(path)

    def __len__(self) -> int:
        return len(self._disk.keys() | self._overlay.keys())

    def paths(self) -> list[str]:
        """Return every indexed path (disk and open buffers)."""
        with self._lock:
            return sorted(self._disk.keys() | self._overlay.keys())

    def definitions_named(self, name: str) -> Iterator[tuple[FileEntry, Definition]]:
        """Yield every definition with this name, across files."""
        for path, i in self._by_name.get(name, ()):
            e = self.entry(path)
            if e is not None and i < len(e.symbols.definitions):
                d = e.symbols.definitions[i]
                if d.name == name:
                    yield e, d

    def count_named(self, name: str) -> int:
        """Return how many definitions have this name (cheap)."""
        return len(self._by_name.get(name, ()))

    def members_of(self, container: str) -> Iterator[tuple[FileEntry, Definition]]:
        """Yield definitions whose container is this type or namespace name, across files."""
        for path, i in self._by_container.get(container, ()):
            e = self.entry(path)
            if e is not None and i < len(e.symbols.definitions):
                d = e.symbols.definitions[i]
                if d.container == container:
                    yield e, d

    def files_in_dir(self, directory: str) -> list[str]:
        """Return indexed files directly inside a directory."""
        return list(self._by_dir.get(directory, ()))

    def references(self, path: str) -> tuple[str, ...]:
        """Return the identifiers a file uses (read from the persistent store; not hot-path)."""
        e = self.entry(path)
        if e is None:
            return ()
        if e.symbols.references:
            return e.symbols.references
        store = self._store(e.root)
        if store is not None:
            return store.refs(e.hash)
        blob = self._mem_refs.get(path)
        return marshal.loads(blob)[0] if blob else ()

    def fill_chunks(self) -> int:
        """Load every file's identifier windows into the similar-code index (background)."""
        for root in self.roots:
            store = self._store(root)
            if store is None:
                continue
            for rel, windows in store.windows():
                if self._cancelled.is_set():
                    return len(self.chunks)
                path = os.path.join(root, rel)
                if path in self._disk:
                    self.chunks.add_file(path, windows)
        for path, blob in list(self._mem_refs.items()):
            if path in self._disk:
                self.chunks.add_file(path, marshal.loads(blob)[1])
        self.chunks.ready = True
        return len(self.chunks)

    # --- maintenance --------------------------------------------------------------------------

    def _store(self, root: str) -> _Store | None:
        if not self.persist:
            return None
        store = self._stores.get(root)
        if store is None:
            try:
                store = self._stores[root] = _Store(self.cache_dir, root)
            except (OSError, sqlite3.Error) as exc:
                log.warning("index cache unavailable (%s); continuing in memory", exc)
                self.persist = False
                return None
        return store

    def _module_keys(self, rel: str, symbols: FileSymbols) -> list[str]:
        """Return the keys import resolution finds a file under in `_by_module`."""
        language = symbols.language
        stem, ext = posixpath.splitext(rel)
        if language in ("go", "rust"):
            return []  # resolved from directories and exact paths, not from keys
        if language == "java":
            # By declared package, wherever the source root is: `java:a.b.C`, and `java:a.b.*`
            # for the package (every source root's files of it: main, test, generated).
            cls = posixpath.basename(stem)
            if not symbols.package:
                return [f"java:{cls}"]
            return [f"java:{symbols.package}.{cls}", f"java:{symbols.package}.*"]
        if language in ("c", "cpp"):
            # An include names a path with its extension, relative to some include dir.
            parts = rel.split("/")
            return ["c:" + "/".join(parts[i:]) for i in range(len(parts))]
        if language == "python":
            parts = stem.split("/")
            if parts[-1] == "__init__":
                parts = parts[:-1]
            return [".".join(parts[i:]) for i in range(len(parts)) if parts[i:]]
        if ext == ".ts" and stem.endswith(".d"):
            stem = stem[:-2]
        parts = stem.split("/")
        keys = ["/".join(parts[i:]) for i in range(len(parts))]
        if parts[-1] in ("index", "mod", "lib"):
            keys += ["/".join(parts[i:-1]) for i in range(len(parts) - 1)]
        return keys

    def _index_entry(self, e: FileEntry) -> None:
        for i, d in enumerate(e.symbols.definitions):
            self._by_name.setdefault(d.name, []).append((e.path, i))
            if d.container:
                self._by_container.setdefault(d.container, []).append((e.path, i))

    def _unindex_entry(self, e: FileEntry) -> None:
        # Once per distinct name: a file with thirty `__init__`s would otherwise filter the
        # workspace's longest list thirty times (hundreds of ms on the standard library).
        names = {d.name for d in e.symbols.definitions}
        containers = {d.container for d in e.symbols.definitions}
        for table, keys in ((self._by_name, names), (self._by_container, containers)):
            for key in keys:
                if not key:
                    continue
                refs = table.get(key)
                if refs:
                    path = e.path
                    kept = [r for r in refs if r[0] != path]
                    if kept:
                        table[key] = kept
                    else:
                        del table[key]

    def _register_path(self, e: FileEntry) -> None:
        for key in self._module_keys(e.rel, e.symbols):
            self._by_module.setdefault(key, []).append(e.path)
        self._by_dir.setdefault(os.path.dirname(e.path), []).append(e.path)

    def _unregister_path(self, e: FileEntry) -> None:
        for key in self._module_keys(e.rel, e.symbols):
            paths = self._by_module.get(key)
            if paths and e.path in paths:
                paths.remove(e.path)
                if not paths:
                    del self._by_module[key]
        paths = self._by_dir.get(os.path.dirname(e.path))
        if paths and e.path in paths:
            paths.remove(e.path)

    def _set_disk(self, e: FileEntry) -> None:
        with self._lock:
            old = self._disk.get(e.path)
            shadowed = e.path in self._overlay
            if old is not None:
                if not shadowed:
                    self._unindex_entry(old)
                self._unregister_path(old)
            self._disk[e.path] = e
            self._register_path(e)
            if not shadowed:
                self._index_entry(e)
            self._changed()

    def _drop_disk(self, path: str) -> None:
        self.chunks.remove_file(path)
        self._mem_refs.pop(path, None)
        with self._lock:
            old = self._disk.pop(path, None)
            if old is None:
                return
            self._unregister_path(old)
            if path not in self._overlay:
                self._unindex_entry(old)
            self._changed()

    def _changed(self, structural: bool = True) -> None:
        self.generation += 1
        if structural:  # import resolution depends on which files exist, not on their text
            self._resolved.clear()
            self._js = None

    def _js_workspace(self) -> JsWorkspace:
        """Return the JS/TS workspace packages and tsconfig mappings (read once per layout)."""
        js = self._js
        if js is None:
            def read(path: str) -> str | None:
                scanner = self.scanner_for(path)
                return read_config(scanner, path) if scanner is not None else None

            dirs = [d for d, paths in list(self._by_dir.items())
                    if any(p.endswith(_JS_EXTENSIONS) for p in paths)]
            js = self._js = JsWorkspace(self.roots, dirs, read,
                                        lambda p: self.entry(p) is not None)
        return js

    def set_overlay(self, path: str, text: str, language: str) -> FileEntry:
        """Index an open buffer's text; it wins over the file on disk until cleared."""
        data = text.encode("utf-8", "surrogatepass")
        symbols = extract(data, language)
        rel = self.relpath(path)
        scanner = self.scanner_for(path)
        e = FileEntry(path, rel, scanner.root if scanner else "", symbols)
        with self._lock:
            old = self._overlay.get(path) or self._disk.get(path)
            if old is not None:
                self._unindex_entry(old)
            self._overlay[path] = e
            self._index_entry(e)
            known = path in self._disk or path in self._by_dir.get(os.path.dirname(path), ())
            if not known:
                self._by_dir.setdefault(os.path.dirname(path), []).append(path)
                for key in self._module_keys(rel, symbols):
                    self._by_module.setdefault(key, []).append(path)
            # Typing inside a body leaves every definition's head as it was: keep the caches.
            if old is None or _shape(old.symbols) != _shape(symbols):
                self._changed(structural=not known)
        return e

    def clear_overlay(self, path: str) -> None:
        """Drop an open buffer's symbols; the disk version (if indexed) takes over again."""
        with self._lock:
            e = self._overlay.pop(path, None)
            if e is None:
                return
            self._unindex_entry(e)
            disk = self._disk.get(path)
            if disk is not None:
                self._index_entry(disk)
            else:
                self._unregister_path(e)
            self._changed(structural=disk is None)

    def refresh_file(self, path: str) -> bool:
        """Re-read one file from disk after it changed; drop it when it vanished or is excluded."""
        path = os.path.abspath(path)
        scanner = self.scanner_for(path)
        if scanner is None:
            return False
        if os.path.basename(path) in (".gitignore", ".qwenignore"):
            scanner.rules.invalidate()
            return False
        if not _utf8_name(path):
            return False  # never indexed (see _drop_undecodable_names)
        sf = scanner.scanned_file(path)
        if sf is None:
            self._drop_disk(path)
            store = self._store(scanner.root)
            if store is not None:
                store.forget([scanner.relpath(path) or ""])
            return False
        result = _parse_one(sf.path, sf.language, self.max_file_bytes)
        _, reason, digest, size, mtime, data, refs = result
        if reason is not None or data is None:
            self._drop_disk(path)
            return False
        symbols = FileSymbols.from_tuple(marshal.loads(data))
        self._set_disk(FileEntry(path, sf.rel, scanner.root, symbols, digest, size, mtime))
        if self.chunks.ready and refs:
            self.chunks.add_file(path, marshal.loads(refs)[1])
        store = self._store(scanner.root)
        if store is not None:
            with self._lock:
                store.put([(sf.rel, size, mtime, digest, data, refs)])
        else:
            self._mem_refs[path] = refs
        return True

    def remove_file(self, path: str) -> None:
        """Forget a deleted file."""
        path = os.path.abspath(path)
        self._drop_disk(path)
        scanner = self.scanner_for(path)
        store = self._store(scanner.root) if scanner else None
        if store is not None and scanner is not None:
            with self._lock:
                store.forget([scanner.relpath(path) or ""])

    # --- build --------------------------------------------------------------------------------

    def cancel(self) -> None:
        """Ask a running build to stop at the next batch boundary."""
        self._cancelled.set()

    def build(
        self,
        report: Callable[[int, int], None] | None = None,
        *,
        executor: Executor | None = None,
        workers: int | None = None,
    ) -> BuildStats:
        """Scan every root, reuse cached symbols by stat or content hash, parse the rest."""
        started = time.perf_counter()
        stats = BuildStats()
        todo: list[tuple[ScannedFile, str]] = []  # (file, root)
        seen: set[str] = set()
        scans = []
        for root, scanner in self.scanners.items():
            result = scanner.scan()
            stats.skipped.update(result.skipped)
            _drop_undecodable_names(result, stats)
            scans.append((root, result))
        total = sum(len(r.files) for _, r in scans)
        done = 0
        if report:
            report(0, total)
        for root, result in scans:
            store = self._store(root)
            known = store.known() if store is not None else {}
            have_blobs = bool(known)
            for sf in result.files:
                if self._cancelled.is_set():
                    break
                seen.add(sf.path)
                cached = known.get(sf.rel)
                data: bytes | None = None
                digest = ""
                if cached is not None and cached[0] == sf.size and cached[1] == sf.mtime_ns:
                    digest, data = cached[2], cached[3]
                elif have_blobs and store is not None:
                    # Touched but maybe unchanged (checkout, touch): the content hash decides.
                    try:
                        digest = _hash(read_regular(sf.path, self.max_file_bytes))
                    except OSError:
                        stats.skipped["unreadable"] += 1
                        continue
                    data = store.blob(digest)
                    if data is not None:
                        store.put([(sf.rel, sf.size, sf.mtime_ns, digest, None, None)])
                if data is None:
                    todo.append((sf, root))
                    continue
                symbols = FileSymbols.from_tuple(marshal.loads(data))
                self._set_disk(FileEntry(sf.path, sf.rel, root, symbols, digest, sf.size,
                                         sf.mtime_ns))
                stats.reused += 1
                done += 1
            if report:
                report(done, total)
            if store is not None and not self._cancelled.is_set():
                gone = [rel for rel in known if os.path.join(root, rel) not in seen]
                if gone:
                    store.forget(gone)
        if self._cancelled.is_set():
            return stats
        for path in [p for p in self._disk if p not in seen]:
            self._drop_disk(path)
        if todo:
            done = self._parse_all(todo, stats, report, done, total, executor, workers)
        for root in self.roots:
            store = self._store(root)
            if store is not None and todo:
                store.collect_garbage()
        stats.files = len(self._disk)
        stats.symbols = sum(len(e.symbols.definitions) for e in self._disk.values())
        stats.seconds = time.perf_counter() - started
        stats.peak_rss_mb = peak_rss_mb()
        stats.workers_peak_rss_mb = peak_rss_mb(children=True)
        return stats

    def _parse_all(self, todo: list[tuple[ScannedFile, str]], stats: BuildStats,
                   report: Callable[[int, int], None] | None, done: int, total: int,
                   executor: Executor | None, workers: int | None) -> int:
        by_path = {sf.path: (sf, root) for sf, root in todo}
        items = [(sf.path, sf.language, self.max_file_bytes) for sf, _ in todo]
        # Big files first, so no worker is left alone with a giant at the end.
        items.sort(key=lambda it: -by_path[it[0]][0].size)
        batches = [items[i:i + _BATCH] for i in range(0, len(items), _BATCH)]
        own = executor is None and len(items) > _BATCH
        pool = make_process_pool(workers) if own else executor
        try:
            if pool is None:
                results: Iterable[list[tuple]] = (parse_batch(b) for b in batches)
            else:
                futures = [pool.submit(parse_batch, b) for b in batches]
                results = (f.result() for f in as_completed(futures))
            for batch in results:
                if self._cancelled.is_set():
                    break
                rows_by_root: dict[str, list] = {}
                for path, reason, digest, size, mtime, data, refs in batch:
                    sf, root = by_path[path]
                    done += 1
                    if reason is not None or data is None:
                        stats.skipped[reason or "unreadable"] += 1
                        continue
                    symbols = FileSymbols.from_tuple(marshal.loads(data))
                    self._set_disk(FileEntry(path, sf.rel, root, symbols, digest, size, mtime))
                    rows_by_root.setdefault(root, []).append(
                        (sf.rel, size, mtime, digest, data, refs))
                    stats.parsed += 1
                for root, rows in rows_by_root.items():
                    store = self._store(root)
                    if store is not None:
                        with self._lock:
                            store.put(rows)
                    else:
                        for rel, *_, refs in rows:
                            self._mem_refs[os.path.join(root, rel)] = refs
                if report:
                    report(done, total)
        finally:
            if own and pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
        return done

    # --- import resolution --------------------------------------------------------------------

    def resolve_import(self, path: str, imp: Import, language: str) -> list[str]:
        """Return the indexed files an import of `path` refers to (a Go import or a Java
        wildcard: a whole package; a Rust use list: the module file of each item)."""
        key = (path, _import_key(imp, language))
        cached = self._resolved.get(key)
        if cached is not None:
            return cached
        try:
            found = self._resolve(path, imp, language)
        except Exception:  # resolution is best effort; never break retrieval over it
            log.debug("import resolution failed for %s in %s", imp.module, path, exc_info=True)
            found = []
        self._resolved[key] = found
        return found

    def resolve_submodule(self, path: str, module: str, name: str,
                          language: str = "python") -> str | None:
        """Return the file of module `name` when `from module import name` (Python) or
        `use module::name` (Rust) names a module rather than an item of one."""
        if language == "rust":
            segs = [*_rust_segments(module), name]
            mod = self._rust_walk(path, segs) if segs[0] else None
            return mod[0] if mod is not None and mod[2] and mod[0] != path else None
        found = self._resolve(path, Import(f"{module}.{name}" if not module.endswith(".")
                                           else f"{module}{name}"), "python")
        return found[0] if found else None

    def _pick(self, key: str, near: str) -> list[str]:
        paths = self._by_module.get(key)
        if not paths:
            return []
        if len(paths) == 1:
            return [paths[0]]
        # Several files share the suffix: take the one closest to the importing file.
        return [min(paths, key=lambda p: (-len(os.path.commonpath([p, near])), len(p)))]

    def _resolve(self, path: str, imp: Import, language: str) -> list[str]:
        module = imp.module
        directory = os.path.dirname(path)
        if language == "python":
            if module.startswith("."):
                level = len(module) - len(module.lstrip("."))
                base = directory
                for _ in range(level - 1):
                    base = os.path.dirname(base)
                rest = module[level:].replace(".", "/")
                target = os.path.join(base, rest) if rest else base
                for cand in (target + ".py", target + ".pyi", os.path.join(target, "__init__.py")):
                    if self.entry(cand) is not None:
                        return [cand]
                return []
            found = self._pick(module, path)
            scanner = self.scanner_for(path) if not found else None
            head, _, rest = module.partition(".")
            if scanner is not None and os.path.basename(scanner.root) == head:
                # The workspace is the package itself (`marshmallow/` opened, absolute
                # imports `from marshmallow.utils import x`): its own name is no directory.
                init = os.path.join(scanner.root, "__init__.py")
                found = self._pick(rest, path) if rest else (
                    [init] if self.entry(init) is not None else [])
            return found
        if language in _JS_LANGS:
            if module.startswith("."):
                target = os.path.normpath(os.path.join(directory, module))
                stem = target
                for ext in (".js", ".jsx", ".mjs", ".cjs"):
                    if target.endswith(ext):
                        stem = target[: -len(ext)]
                cands = [target] + [stem + e for e in _JS_EXTENSIONS] + [
                    os.path.join(target, "index" + e) for e in _JS_EXTENSIONS]
                for cand in cands:
                    if self.entry(cand) is not None:
                        return [cand]
                return []
            workspace = self._js_workspace()
            found = workspace.resolve(path, module) if module else None
            if found is not None:
                return [found]
            bare = module.lstrip("@~/").split("/", 1)[-1] if module[:1] in "@~" else module
            return self._pick(bare, path) if "/" in bare else []
        if language == "go":
            target = self._go_dir(path, module)
            return self.files_in_dir(target) if target else []
        if language == "rust":
            return self._rust_resolve(path, imp)
        if language == "java":
            return self._java_resolve(path, imp)
        if language in ("c", "cpp"):
            return self._c_resolve(path, module)
        return []

    # Rust: a module is a file. The children of a crate root (lib.rs, main.rs, src/bin/x.rs)
    # or of a mod.rs live in its directory; those of `a.rs` in `a/`. A module path is followed
    # from `crate` (the crate root), `self`/`super` (this file's module), another crate of the
    # workspace (Cargo.toml names), or a module declared here; where it stops naming files
    # (an item, an inline `mod x { }`), the file reached so far holds what it names.

    def _rust_resolve(self, path: str, imp: Import) -> list[str]:
        module = "".join(imp.module.split())
        if module.endswith(".rs") or "/" in module:  # `#[path = "x.rs"] mod x;`
            cand = os.path.normpath(os.path.join(os.path.dirname(path), module))
            return [cand] if cand != path and self.entry(cand) is not None else []
        segs = _rust_segments(module)
        targets = [[*segs, name] for name, _ in imp.names if name not in ("self", "*")]
        if segs and (imp.wildcard or imp.alias or not imp.names):
            targets.insert(0, segs)  # the module itself: `use a::*`, `use a::{self}`, `mod a;`
        found: list[str] = []
        for target in targets:
            mod = self._rust_walk(path, target)
            if mod is not None and mod[0] and mod[0] != path and mod[0] not in found:
                found.append(mod[0])
        return found

    def _rust_walk(self, path: str, segs: list[str]) -> _RustModule | None:
        """Follow a module path written in `path`; return the innermost module it reaches."""
        if not segs:
            return None
        root = self._rust_root(path)
        first = segs[0]
        rest = 1
        mod: _RustModule | None
        if first == "crate":
            mod = root
        elif first in ("self", "super"):
            mod = self._rust_file_module(path, root)
            rest = 0
            while mod is not None and rest < len(segs) and segs[rest] in ("self", "super"):
                if segs[rest] == "super":
                    mod = self._rust_parent(mod, root)
                rest += 1
        elif not first:  # `::name`: an external crate
            mod = self._rust_crate(path, segs[1]) if len(segs) > 1 else None
            rest = 2
        else:  # a module declared here, another crate, or (2015 paths) one of the crate root
            mod = self._rust_child_file(self._rust_file_module(path, root), first)
            if mod is None:
                mod = self._rust_crate(path, first)
            if mod is None and root is not None:
                mod = self._rust_child_file(root, first)
        if mod is None:
            return None
        for seg in segs[rest:]:
            mod = self._rust_child(mod, seg)
        return mod

    def _rust_child_file(self, mod: _RustModule, name: str) -> _RustModule | None:
        directory = os.path.join(mod[1], name)
        for cand in (directory + ".rs", os.path.join(directory, "mod.rs")):
            if self.entry(cand) is not None:
                return (cand, directory, True)
        return None

    def _rust_child(self, mod: _RustModule, name: str) -> _RustModule:
        # Not a file of its own: an inline module or an item, inside the file reached so far.
        return self._rust_child_file(mod, name) or (mod[0], os.path.join(mod[1], name), False)

    def _rust_file_module(self, path: str, root: _RustModule | None) -> _RustModule:
        directory, base = os.path.split(path)
        if base == "mod.rs" or (root is not None and path == root[0]) or (
                root is None and base in ("lib.rs", "main.rs")):
            return (path, directory, True)
        return (path, os.path.splitext(path)[0], True)

    def _rust_parent(self, mod: _RustModule, root: _RustModule | None) -> _RustModule | None:
        directory = mod[1]
        parent = os.path.dirname(directory)
        if root is None:
            for cand in (parent + ".rs", *(os.path.join(parent, n)
                                           for n in ("mod.rs", "lib.rs", "main.rs"))):
                if self.entry(cand) is not None:
                    return (cand, parent, True)
            return None
        top = root[1]
        if not directory.startswith(top + os.sep):
            return None  # the crate root has no parent
        d = parent
        while d != top and d.startswith(top + os.sep):
            for cand in (d + ".rs", os.path.join(d, "mod.rs")):
                if self.entry(cand) is not None:
                    return (cand, parent, d == parent)
            d = os.path.dirname(d)  # `parent` is an inline module of a file further up
        return (root[0], parent, parent == top)

    def _rust_root(self, path: str) -> _RustModule | None:
        """Return the crate root module of a file: its file and the directory of its children."""
        crate = self._rust_crate_of(path)
        if crate is not None:
            parts = os.path.relpath(path, crate.dir).split(os.sep)
            if parts == ["build.rs"]:
                return (path, crate.dir, True)
            n = 2 if parts[:2] == ["src", "bin"] else (
                1 if parts[0] in ("tests", "examples", "benches") else 0)
            if n and len(parts) > n:
                base = os.path.join(crate.dir, *parts[:n])
                if len(parts) == n + 1:
                    return (path, base, True)  # every file there is a crate root of its own
                sub = os.path.join(base, parts[n])
                main = os.path.join(sub, "main.rs")
                if self.entry(main) is not None:
                    return (main, sub, True)
                return ("", base, True)  # a module several roots share (tests/common/mod.rs)
            main = os.path.join(crate.dir, "src", "main.rs")
            if path == main:
                return (main, os.path.dirname(main), True)
            for cand in (crate.lib, main):
                if self.entry(cand) is not None:
                    return (cand, os.path.dirname(cand), True)
        # No manifest: the nearest directory above that holds lib.rs or main.rs.
        scanner = self.scanner_for(path)
        top = scanner.root if scanner else os.path.dirname(path)
        d = os.path.dirname(path)
        while True:
            for name in ("lib.rs", "main.rs"):
                cand = os.path.join(d, name)
                if self.entry(cand) is not None:
                    return (cand, d, True)
            if d == top or not d.startswith(top) or os.path.dirname(d) == d:
                return None
            d = os.path.dirname(d)

    def _rust_crate_of(self, path: str) -> _Crate | None:
        by_dir = self._rust_crates()[0]
        d = os.path.dirname(path)
        while True:
            crate = by_dir.get(d)
            if crate is not None or os.path.dirname(d) == d:
                return crate
            d = os.path.dirname(d)

    def _rust_crate(self, path: str, name: str) -> _RustModule | None:
        """Return the root module of the library crate `name` as seen from `path`."""
        by_dir, by_name = self._rust_crates()
        own = self._rust_crate_of(path)
        crate = by_dir.get(own.deps[name]) if own is not None and name in own.deps else None
        if crate is None:
            crate = by_name.get(name)
        if crate is None or self.entry(crate.lib) is None:
            return None
        return (crate.lib, os.path.dirname(crate.lib), True)

    def _rust_crates(self) -> tuple[dict[str, _Crate], dict[str, _Crate]]:
        """Return the Cargo packages holding indexed Rust files, by directory and by library
        name. Manifests are read once, and again only when directories appear (a new crate)."""
        stamp = len(self._by_dir)
        if self._cargo is not None and self._cargo[0] == stamp:
            return self._cargo[1], self._cargo[2]
        with self._lock:
            dirs = sorted(d for d, paths in self._by_dir.items()
                          if any(p.endswith(".rs") for p in paths))
        by_dir: dict[str, _Crate] = {}
        visited: set[str] = set()
        for directory in dirs:
            scanner = self.scanner_for(directory)
            top = scanner.root if scanner else directory
            d = directory
            while d not in visited:
                visited.add(d)
                manifest = os.path.join(d, "Cargo.toml")
                if os.path.isfile(manifest):
                    crate = _read_cargo(d, manifest)
                    if crate is not None:
                        by_dir[d] = crate
                    break
                if d == top or os.path.dirname(d) == d:
                    break
                d = os.path.dirname(d)
        by_name: dict[str, _Crate] = {}
        for d in sorted(by_dir):
            if by_dir[d].name:
                by_name.setdefault(by_dir[d].name, by_dir[d])
        self._cargo = (stamp, by_dir, by_name)
        return by_dir, by_name

    # Java: files are found by their declared package (`package a.b;` + file name), so any
    # source root works (src/main/java, src/test/java, generated dirs, non-Maven layouts).

    def _java_resolve(self, path: str, imp: Import) -> list[str]:
        if imp.wildcard:  # `a.b.C.*` (a class's static members) or `a.b.*` (a package)
            cls = self._java_class(imp.module, path)
            if cls is not None:
                return [cls]
            # The package's files in every source root (main, test, other modules), nearest
            # first; a class defined in several places (a copy in another module) only once.
            files = sorted(self._by_module.get(f"java:{imp.module}.*", ()), key=lambda p: (
                -len(os.path.commonpath([p, path])), p))
            seen: set[str] = set()
            found = []
            for p in files:
                name = os.path.basename(p)
                if name not in seen and p != path:
                    seen.add(name)
                    found.append(p)
            return found
        found: list[str] = []
        for name, _ in imp.names:
            cls = self._java_class(f"{imp.module}.{name}" if imp.module else name, path)
            if cls is not None and cls not in found:
                found.append(cls)
        return found

    def _java_class(self, qualified: str, near: str) -> str | None:
        """Return the file of a class; the name may go on to a nested class or a member."""
        parts = qualified.split(".")
        for n in range(len(parts), 1, -1):
            found = self._pick("java:" + ".".join(parts[:n]), near)
            if found:
                return found[0]
        return None

    # C and C++: `#include "x.h"` looks in the including file's directory first, then like
    # `<x.h>` in the include path (-I dirs), which is approximated by any indexed file whose
    # path ends with the name, the nearest first. Standard and system headers are not ours.

    def _c_resolve(self, path: str, module: str) -> list[str]:
        system = module.startswith("<")
        name = posixpath.normpath(module.strip("<>").strip().replace("\\", "/"))
        if name in ("", "."):
            return []
        if not system:
            local = os.path.normpath(os.path.join(os.path.dirname(path), name))
            if self.entry(local) is not None:
                return [local]
        elif name in _SYSTEM_HEADERS or name.split("/", 1)[0] in _SYSTEM_HEADER_DIRS:
            return []
        parts = name.split("/")
        while parts and parts[0] in ("..", ""):
            parts = parts[1:]
        return self._pick("c:" + "/".join(parts), path) if parts else []

    def _go_dir(self, path: str, module: str) -> str | None:
        if self._go_mods is None:
            mods: dict[str, tuple[str, str]] = {}
            visited: set[str] = set()
            for root in self.roots:
                for directory in {os.path.dirname(p) for p in self._disk if p.endswith(".go")}:
                    d = directory
                    while d.startswith(root) and d not in visited:
                        visited.add(d)
                        gomod = os.path.join(d, "go.mod")
                        if os.path.exists(gomod):
                            text = read_text_or_none(gomod, _MAX_MANIFEST_BYTES) or ""
                            for line in text.splitlines():
                                if line.startswith("module ") and len(line.split()) > 1:
                                    mods[d] = (line.split()[1].strip('"'), d)
                                    break
                            break
                        if d == root:
                            break
                        d = os.path.dirname(d)
            self._go_mods = mods
        for modpath, moddir in self._go_mods.values():
            if module == modpath:
                return moddir
            if module.startswith(modpath + "/"):
                return os.path.join(moddir, module[len(modpath) + 1:])
        # No go.mod: match the import path's tail against directories we know.
        tail = module.split("/")
        for n in range(len(tail), 0, -1):
            suffix = "/".join(tail[-n:])
            for directory in self._by_dir:
                if directory.replace(os.sep, "/").endswith("/" + suffix):
                    return directory
        return None

    def close(self) -> None:
        """Close the persistent stores."""
        with self._lock:
            for store in self._stores.values():
                store.close()
            self._stores.clear()
