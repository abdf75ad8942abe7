"""What every language's import resolution looks like, and what it may ask of the index."""

from __future__ import annotations

import os
import posixpath
from typing import TYPE_CHECKING, Protocol

from lsp_server.context.symbols import FileSymbols, Import

if TYPE_CHECKING:
    from lsp_server.context.index.maps import LookupMaps
    from lsp_server.context.scanner import Scanner

MAX_MANIFEST_BYTES = 1_000_000  # go.mod, Cargo.toml


class IndexView(Protocol):
    """The part of the index resolution reads: the roots, the scanners, the lookup maps."""

    roots: list[str]
    maps: LookupMaps

    def scanner_for(self, path: str) -> Scanner | None: ...


def path_keys(rel: str) -> list[str]:
    """Return a file's keys by path: every suffix of its path without the extension, and of
    its directory for an index file (`a/b/index.ts` is also `a/b` and `b`)."""
    stem, ext = posixpath.splitext(rel)
    if ext == ".ts" and stem.endswith(".d"):
        stem = stem[:-2]
    parts = stem.split("/")
    keys = ["/".join(parts[i:]) for i in range(len(parts))]
    if parts[-1] in ("index", "mod", "lib"):
        keys += ["/".join(parts[i:-1]) for i in range(len(parts) - 1)]
    return keys


class LanguageResolver:
    """Import resolution for one language family: the keys its files are found under in
    `LookupMaps.by_module`, and the files one import of a file names. One instance per index;
    an instance may keep what it read about the workspace (manifests, configuration)."""

    # Whether the names an import brings in decide its files (Rust's use lists, Java's classes),
    # so that resolutions are cached per names and not only per module.
    names_matter = False
    # The file names of the configuration this family's resolution reads (go.mod, ...).
    config_names: frozenset[str] = frozenset()

    def __init__(self, index: IndexView) -> None:
        self.index = index
        self.maps = index.maps

    @staticmethod
    def module_keys(rel: str, symbols: FileSymbols) -> list[str]:
        """Return the keys a file is found under in `by_module` (by path unless overridden)."""
        return path_keys(rel)

    def resolve(self, path: str, imp: Import) -> list[str]:
        """Return the indexed files an import written in `path` refers to."""
        return []

    def submodule(self, path: str, module: str, name: str) -> str | None:
        """Return the file of module `name` when an import of `name` from `module` names a
        module rather than an item of one (Python, Rust)."""
        return None

    def forget(self) -> None:
        """Drop what depends on which files exist: files appeared or went away."""

    def reads_config(self, path: str) -> bool:
        """Return whether resolution depends on this (non-source) file's content."""
        return os.path.basename(path) in self.config_names

    def config_paths(self) -> frozenset[str]:
        """Return configuration files read under names other than `config_names`."""
        return frozenset()

    def config_changed(self) -> None:
        """Drop what was read from configuration files: one was edited, created or deleted."""
        self.forget()
