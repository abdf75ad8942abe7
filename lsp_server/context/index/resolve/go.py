"""Go: an import path names a package, that is every file of one directory."""

from __future__ import annotations

import os

from lsp_server.context.files import read_text_or_none
from lsp_server.context.index.resolve.base import MAX_MANIFEST_BYTES, IndexView, LanguageResolver
from lsp_server.context.symbols import FileSymbols, Import


class GoResolver(LanguageResolver):
    """The directory is found through the module paths of the workspace's go.mod files, or
    without one by the import path's tail."""

    config_names = frozenset({"go.mod"})

    def __init__(self, index: IndexView) -> None:
        super().__init__(index)
        self._mods: dict[str, tuple[str, str]] | None = None  # read once per go.mod change

    def config_changed(self) -> None:
        self._mods = None

    @staticmethod
    def module_keys(rel: str, symbols: FileSymbols) -> list[str]:
        return []  # resolved from directories, not from keys

    def resolve(self, path: str, imp: Import) -> list[str]:
        target = self._dir(imp.module)
        return self.maps.files_in_dir(target) if target else []

    def _dir(self, module: str) -> str | None:
        if self._mods is None:
            mods: dict[str, tuple[str, str]] = {}
            visited: set[str] = set()
            for root in self.index.roots:
                for directory in {os.path.dirname(p) for p in self.maps.disk
                                  if p.endswith(".go")}:
                    d = directory
                    while d.startswith(root) and d not in visited:
                        visited.add(d)
                        gomod = os.path.join(d, "go.mod")
                        if os.path.exists(gomod):
                            text = read_text_or_none(gomod, MAX_MANIFEST_BYTES) or ""
                            for line in text.splitlines():
                                if line.startswith("module ") and len(line.split()) > 1:
                                    mods[d] = (line.split()[1].strip('"'), d)
                                    break
                            break
                        if d == root:
                            break
                        d = os.path.dirname(d)
            self._mods = mods
        for modpath, moddir in self._mods.values():
            if module == modpath:
                return moddir
            if module.startswith(modpath + "/"):
                return os.path.join(moddir, module[len(modpath) + 1:])
        # No go.mod: match the import path's tail against directories we know.
        tail = module.split("/")
        for n in range(len(tail), 0, -1):
            suffix = "/".join(tail[-n:])
            for directory in self.maps.by_dir:
                if directory.replace(os.sep, "/").endswith("/" + suffix):
                    return directory
        return None
