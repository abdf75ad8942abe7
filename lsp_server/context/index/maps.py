"""The in-memory index: every file's entry and the maps lookups go through."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator

from lsp_server.context.index.entry import FileEntry
from lsp_server.context.index.resolve import module_keys
from lsp_server.context.symbols import Definition


class LookupMaps:
    """Entries by path (an open buffer's over the disk file's), definitions by name and by
    container, files by module key and by directory. Writers hold `lock`."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.disk: dict[str, FileEntry] = {}
        self.overlay: dict[str, FileEntry] = {}
        self.by_name: dict[str, list[tuple[str, int]]] = {}
        self.by_container: dict[str, list[tuple[str, int]]] = {}
        self.by_module: dict[str, list[str]] = {}  # dotted/slashed module suffix -> paths
        self.by_dir: dict[str, list[str]] = {}  # abs dir -> paths

    # --- lookup -------------------------------------------------------------------------------

    def entry(self, path: str) -> FileEntry | None:
        """Return the open buffer's entry for a path, else the disk one, else None."""
        return self.overlay.get(path) or self.disk.get(path)

    def paths(self) -> list[str]:
        """Return every indexed path (disk and open buffers)."""
        with self.lock:
            return sorted(self.disk.keys() | self.overlay.keys())

    def definitions_named(self, name: str) -> Iterator[tuple[FileEntry, Definition]]:
        """Yield every definition with this name, across files, by path and place (not in
        the order a parallel build finished them, nor an open buffer was last reparsed: what
        is offered first must not vary from run to run)."""
        for path, i in sorted(self.by_name.get(name, ())):
            e = self.entry(path)
            if e is not None and i < len(e.symbols.definitions):
                d = e.symbols.definitions[i]
                if d.name == name:
                    yield e, d

    def count_named(self, name: str) -> int:
        """Return how many definitions have this name (cheap)."""
        return len(self.by_name.get(name, ()))

    def members_of(self, container: str) -> Iterator[tuple[FileEntry, Definition]]:
        """Yield definitions whose container is this type or namespace name, across files,
        by path and place (see definitions_named)."""
        for path, i in sorted(self.by_container.get(container, ())):
            e = self.entry(path)
            if e is not None and i < len(e.symbols.definitions):
                d = e.symbols.definitions[i]
                if d.container == container:
                    yield e, d

    def files_in_dir(self, directory: str) -> list[str]:
        """Return indexed files directly inside a directory, by name (not in the order a
        parallel build happened to finish them: what is offered first must not vary)."""
        return sorted(self.by_dir.get(directory, ()))

    def pick(self, key: str, near: str) -> list[str]:
        """Return the file found under a module key, the one nearest `near` if several are."""
        paths = self.by_module.get(key)
        if not paths:
            return []
        if len(paths) == 1:
            return [paths[0]]
        # Several files share the suffix: take the one closest to the importing file.
        return [min(paths, key=lambda p: (-len(os.path.commonpath([p, near])), len(p)))]

    # --- maintenance (callers hold the lock) --------------------------------------------------

    def index_entry(self, e: FileEntry) -> None:
        """Make an entry's definitions found by name and container."""
        for i, d in enumerate(e.symbols.definitions):
            self.by_name.setdefault(d.name, []).append((e.path, i))
            if d.container:
                self.by_container.setdefault(d.container, []).append((e.path, i))

    def unindex_entry(self, e: FileEntry) -> None:
        """Undo `index_entry`."""
        # Once per distinct name: a file with thirty `__init__`s would otherwise filter the
        # workspace's longest list thirty times (hundreds of ms on the standard library).
        names = {d.name for d in e.symbols.definitions}
        containers = {d.container for d in e.symbols.definitions}
        for table, keys in ((self.by_name, names), (self.by_container, containers)):
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

    def register_path(self, e: FileEntry) -> None:
        """Make a file found by module key and directory."""
        for key in module_keys(e.rel, e.symbols):
            self.by_module.setdefault(key, []).append(e.path)
        self.by_dir.setdefault(os.path.dirname(e.path), []).append(e.path)

    def unregister_path(self, e: FileEntry) -> None:
        """Undo `register_path`."""
        for key in module_keys(e.rel, e.symbols):
            paths = self.by_module.get(key)
            if paths and e.path in paths:
                paths.remove(e.path)
                if not paths:
                    del self.by_module[key]
        paths = self.by_dir.get(os.path.dirname(e.path))
        if paths and e.path in paths:
            paths.remove(e.path)

    def set_disk(self, e: FileEntry) -> None:
        """Put a file's entry as read from disk (an open buffer of it still wins)."""
        old = self.disk.get(e.path)
        shadowed = e.path in self.overlay
        if old is not None:
            if not shadowed:
                self.unindex_entry(old)
            self.unregister_path(old)
        self.disk[e.path] = e
        self.register_path(e)
        if not shadowed:
            self.index_entry(e)

    def drop_disk(self, path: str) -> bool:
        """Forget a file's disk entry; return whether there was one."""
        old = self.disk.pop(path, None)
        if old is None:
            return False
        self.unregister_path(old)
        if path not in self.overlay:
            self.unindex_entry(old)
        return True
