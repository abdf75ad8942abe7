"""Open buffers: their text's symbols win over the file on disk until the buffer closes."""

from __future__ import annotations

import os

from lsp_server.context.index.entry import FileEntry
from lsp_server.context.index.maps import LookupMaps
from lsp_server.context.symbols import FileSymbols, extract


def parse_buffer(text: str, language: str) -> FileSymbols:
    """Return the symbols of an open buffer's text (with the identifiers it uses)."""
    return extract(text.encode("utf-8", "surrogatepass"), language)


def _shape(symbols: FileSymbols) -> list[tuple]:
    """Return what retrieval caches depend on: every definition's head, not its position."""
    return [(d.name, d.kind, d.container, d.signature, d.doc, d.type_name, d.bases)
            for d in symbols.definitions] + [i.to_tuple()[:3] for i in symbols.imports]


def put_overlay(maps: LookupMaps, e: FileEntry) -> bool | None:
    """Make an open buffer's entry win over its file's; the caller holds the lock. Return None
    when no definition's head changed (caches stay), else whether a file appeared."""
    path = e.path
    old = maps.overlay.get(path) or maps.disk.get(path)
    if old is not None:
        maps.unindex_entry(old)
    maps.overlay[path] = e
    maps.index_entry(e)
    known = path in maps.disk or path in maps.by_dir.get(os.path.dirname(path), ())
    if not known:
        maps.register_path(e)
    # Typing inside a body leaves every definition's head as it was: keep the caches.
    if old is None or _shape(old.symbols) != _shape(e.symbols):
        return not known
    return None


def drop_overlay(maps: LookupMaps, path: str) -> bool | None:
    """Drop an open buffer's entry, the disk one (if any) takes over again; the caller holds
    the lock. Return None when there was none, else whether its file went away."""
    e = maps.overlay.pop(path, None)
    if e is None:
        return None
    maps.unindex_entry(e)
    disk = maps.disk.get(path)
    if disk is not None:
        maps.index_entry(disk)
    else:
        maps.unregister_path(e)
    return disk is None
