"""RepoIndex: symbols of every readable file, built in parallel, persisted by content hash."""

from __future__ import annotations

import logging
import marshal
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Executor

from lsp_server.context.chunks import ChunkIndex
from lsp_server.context.index import build as _build
from lsp_server.context.index.entry import BuildStats, FileEntry
from lsp_server.context.index.maps import LookupMaps
from lsp_server.context.index.overlay import drop_overlay, parse_buffer, put_overlay
from lsp_server.context.index.resolve import ImportResolver
from lsp_server.context.index.store import Store, default_cache_dir
from lsp_server.context.jsmodules import JsWorkspace
from lsp_server.context.scanner import DEFAULT_MAX_FILE_BYTES, IGNORE_FILES, Scanner
from lsp_server.context.symbols import Definition, Import

log = logging.getLogger(__name__)


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
        self._stores: dict[str, Store] = {}
        self.maps = LookupMaps()
        self._imports = ImportResolver(self)
        self.generation = 0  # bumped on every change; caches key on it
        self.config_version = 0  # bumped when configuration that imports follow changes
        # What changes_on_disk saw last: source and configuration files' stamps.
        self._polled: dict[str, tuple[int, int]] | None = None
        self._polled_configs: dict[str, tuple[int, int] | None] | None = None
        self.cancelled = threading.Event()
        self.chunks = ChunkIndex()
        self.mem_refs: dict[str, bytes] = {}  # refs blobs, when there is no store to keep them

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
        return self.maps.entry(path)

    def __len__(self) -> int:
        return len(self.maps.disk.keys() | self.maps.overlay.keys())

    def paths(self) -> list[str]:
        """Return every indexed path (disk and open buffers)."""
        return self.maps.paths()

    def definitions_named(self, name: str) -> Iterator[tuple[FileEntry, Definition]]:
        """Yield every definition with this name, across files."""
        return self.maps.definitions_named(name)

    def count_named(self, name: str) -> int:
        """Return how many definitions have this name (cheap)."""
        return self.maps.count_named(name)

    def members_of(self, container: str) -> Iterator[tuple[FileEntry, Definition]]:
        """Yield definitions whose container is this type or namespace name, across files."""
        return self.maps.members_of(container)

    def files_in_dir(self, directory: str) -> list[str]:
        """Return indexed files directly inside a directory."""
        return self.maps.files_in_dir(directory)

    def references(self, path: str) -> tuple[str, ...]:
        """Return the identifiers a file uses (read from the persistent store; not hot-path)."""
        e = self.entry(path)
        if e is None:
            return ()
        if e.symbols.references:
            return e.symbols.references
        store = self.store_for(e.root)
        if store is not None:
            return store.refs(e.hash)
        blob = self.mem_refs.get(path)
        return marshal.loads(blob)[0] if blob else ()

    def fill_chunks(self) -> int:
        """Load every file's identifier windows into the similar-code index (background)."""
        for root in self.roots:
            store = self.store_for(root)
            if store is None:
                continue
            for rel, windows in store.windows():
                if self.cancelled.is_set():
                    return len(self.chunks)
                path = os.path.join(root, rel)
                if path in self.maps.disk:
                    self.chunks.add_file(path, windows)
        for path, blob in list(self.mem_refs.items()):
            if path in self.maps.disk:
                self.chunks.add_file(path, marshal.loads(blob)[1])
        self.chunks.ready = True
        return len(self.chunks)

    # --- maintenance --------------------------------------------------------------------------

    def store_for(self, root: str) -> Store | None:
        """Return the persistent store of a root, or None when the index lives in memory."""
        if not self.persist:
            return None
        store = self._stores.get(root)
        if store is None:
            try:
                store = self._stores[root] = Store(self.cache_dir, root)
            except (OSError, sqlite3.Error) as exc:
                log.warning("index cache unavailable (%s); continuing in memory", exc)
                self.persist = False
                return None
        return store

    def set_disk(self, e: FileEntry) -> None:
        """Put a file's entry as read from disk."""
        with self.maps.lock:
            self.maps.set_disk(e)
            self._changed()

    def drop_disk(self, path: str) -> None:
        """Forget a file's disk entry and what was kept of it for similar-code search."""
        self.chunks.remove_file(path)
        self.mem_refs.pop(path, None)
        with self.maps.lock:
            if self.maps.drop_disk(path):
                self._changed()

    def _changed(self, structural: bool = True) -> None:
        self.generation += 1
        if structural:  # import resolution depends on which files exist, not on their text
            self._imports.forget()

    def config_changed(self, path: str) -> bool:
        """Follow an edited, created or deleted configuration file that import resolution
        reads (package.json, tsconfig.json, go.mod, ...); False when none depends on it."""
        with self.maps.lock:
            if not self._imports.config_changed(path):
                return False
            self.generation += 1
            self.config_version += 1
        return True

    def _js_workspace(self) -> JsWorkspace:
        """Return the JS/TS workspace packages and tsconfig mappings (read once per layout)."""
        return self._imports.js_workspace()

    def set_overlay(self, path: str, text: str, language: str) -> FileEntry:
        """Index an open buffer's text; it wins over the file on disk until cleared."""
        symbols = parse_buffer(text, language)
        scanner = self.scanner_for(path)
        e = FileEntry(path, self.relpath(path), scanner.root if scanner else "", symbols)
        with self.maps.lock:
            structural = put_overlay(self.maps, e)
            if structural is not None:
                self._changed(structural=structural)
        return e

    def clear_overlay(self, path: str) -> None:
        """Drop an open buffer's symbols; the disk version (if indexed) takes over again."""
        with self.maps.lock:
            structural = drop_overlay(self.maps, path)
            if structural is not None:
                self._changed(structural=structural)

    def refresh_file(self, path: str) -> bool:
        """Re-read one file from disk after it changed; drop it when it vanished or is excluded."""
        return _build.refresh_file(self, path)

    def changes_on_disk(self) -> list[tuple[str, str]]:
        """Return what changed on disk since the last call, as file-watcher events would
        ((path, "created" | "changed" | "deleted")): source files by stat, and the
        configuration files import resolution reads. For clients that watch no files; the
        first call compares sources with what the index holds and only notes configuration."""
        names = self._imports.config_names() | frozenset(IGNORE_FILES)
        files: dict[str, tuple[int, int]] = {}
        configs: dict[str, tuple[int, int] | None] = {}
        for scanner in list(self.scanners.values()):
            result = scanner.scan(config_names=names)
            files.update((f.path, (f.size, f.mtime_ns)) for f in result.files)
            configs.update(result.configs)
        # Files resolution read under other names (a tsconfig `extends` target), and every one
        # seen before: it stays watched while resolution forgets and re-reads it.
        known = self._polled_configs or {}
        for path in (self._imports.config_paths() | known.keys()) - configs.keys():
            try:
                st = os.stat(path)
                configs[path] = (st.st_size, st.st_mtime_ns)
            except OSError:
                configs[path] = None
        before = self._polled
        if before is None:
            with self.maps.lock:
                before = {p: (e.size, e.mtime_ns) for p, e in self.maps.disk.items()}
        config_before = self._polled_configs if self._polled_configs is not None else configs
        self._polled, self._polled_configs = files, configs
        changes = [(p, "deleted") for p in before if p not in files]
        changes += [(p, "created" if p not in before else "changed")
                    for p, stamp in files.items() if before.get(p) != stamp]
        for path in sorted(configs.keys() | config_before.keys()):
            old, new = config_before.get(path), configs.get(path)
            if old != new:
                kind = "deleted" if new is None else "created" if old is None else "changed"
                changes.append((path, kind))
        return changes

    def remove_file(self, path: str) -> None:
        """Forget a deleted file."""
        path = os.path.abspath(path)
        self.drop_disk(path)
        scanner = self.scanner_for(path)
        store = self.store_for(scanner.root) if scanner else None
        if store is not None and scanner is not None:
            with self.maps.lock:
                store.forget([scanner.relpath(path) or ""])

    # --- build --------------------------------------------------------------------------------

    def cancel(self) -> None:
        """Ask a running build to stop at the next batch boundary."""
        self.cancelled.set()

    def build(
        self,
        report: Callable[[int, int], None] | None = None,
        *,
        executor: Executor | None = None,
        workers: int | None = None,
    ) -> BuildStats:
        """Scan every root, reuse cached symbols by stat or content hash, parse the rest."""
        return _build.build(self, report, executor, workers)

    # --- import resolution --------------------------------------------------------------------

    def resolve_import(self, path: str, imp: Import, language: str) -> list[str]:
        """Return the indexed files an import of `path` refers to (a Go import or a Java
        wildcard: a whole package; a Rust use list: the module file of each item)."""
        return self._imports.resolve_import(path, imp, language)

    def resolve_submodule(self, path: str, module: str, name: str,
                          language: str = "python") -> str | None:
        """Return the file of module `name` when `from module import name` (Python) or
        `use module::name` (Rust) names a module rather than an item of one."""
        return self._imports.resolve_submodule(path, module, name, language)

    def close(self) -> None:
        """Close the persistent stores."""
        with self.maps.lock:
            for store in self._stores.values():
                store.close()
            self._stores.clear()
