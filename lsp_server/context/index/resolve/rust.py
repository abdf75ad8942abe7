"""Rust: `use` paths and `mod x;` followed through module files and Cargo crates."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass

from lsp_server.context.files import read_text
from lsp_server.context.index.resolve.base import MAX_MANIFEST_BYTES, IndexView, LanguageResolver
from lsp_server.context.symbols import FileSymbols, Import

# A Rust module for import resolution: the file holding it, the directory its child modules'
# files are in, and whether that file is its own (False: an inline module or an item).
_RustModule = tuple[str, str, bool]


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
        data = tomllib.loads(read_text(manifest, MAX_MANIFEST_BYTES))
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


class RustResolver(LanguageResolver):
    """A module is a file. The children of a crate root (lib.rs, main.rs, src/bin/x.rs) or of
    a mod.rs live in its directory; those of `a.rs` in `a/`. A module path is followed from
    `crate` (the crate root), `self`/`super` (this file's module), another crate of the
    workspace (Cargo.toml names), or a module declared here; where it stops naming files (an
    item, an inline `mod x { }`), the file reached so far holds what it names."""

    names_matter = True
    config_names = frozenset({"Cargo.toml"})

    def __init__(self, index: IndexView) -> None:
        super().__init__(index)
        # (directories known when read, crates by directory, crates by library name)
        self._cargo: tuple[int, dict[str, _Crate], dict[str, _Crate]] | None = None

    def config_changed(self) -> None:
        self._cargo = None

    @staticmethod
    def module_keys(rel: str, symbols: FileSymbols) -> list[str]:
        return []  # resolved from directories and exact paths, not from keys

    def resolve(self, path: str, imp: Import) -> list[str]:
        """Return the file of the module, or the module file of each item of a use list."""
        module = "".join(imp.module.split())
        if module.endswith(".rs") or "/" in module:  # `#[path = "x.rs"] mod x;`
            cand = os.path.normpath(os.path.join(os.path.dirname(path), module))
            return [cand] if cand != path and self.maps.entry(cand) is not None else []
        segs = _rust_segments(module)
        targets = [[*segs, name] for name, _ in imp.names if name not in ("self", "*")]
        if segs and (imp.wildcard or imp.alias or not imp.names):
            targets.insert(0, segs)  # the module itself: `use a::*`, `use a::{self}`, `mod a;`
        found: list[str] = []
        for target in targets:
            mod = self._walk(path, target)
            if mod is not None and mod[0] and mod[0] != path and mod[0] not in found:
                found.append(mod[0])
        return found

    def submodule(self, path: str, module: str, name: str) -> str | None:
        segs = [*_rust_segments(module), name]
        mod = self._walk(path, segs) if segs[0] else None
        return mod[0] if mod is not None and mod[2] and mod[0] != path else None

    def _walk(self, path: str, segs: list[str]) -> _RustModule | None:
        """Follow a module path written in `path`; return the innermost module it reaches."""
        if not segs:
            return None
        root = self._root(path)
        first = segs[0]
        rest = 1
        mod: _RustModule | None
        if first == "crate":
            mod = root
        elif first in ("self", "super"):
            mod = self._file_module(path, root)
            rest = 0
            while mod is not None and rest < len(segs) and segs[rest] in ("self", "super"):
                if segs[rest] == "super":
                    mod = self._parent(mod, root)
                rest += 1
        elif not first:  # `::name`: an external crate
            mod = self._crate(path, segs[1]) if len(segs) > 1 else None
            rest = 2
        else:  # a module declared here, another crate, or (2015 paths) one of the crate root
            mod = self._child_file(self._file_module(path, root), first)
            if mod is None:
                mod = self._crate(path, first)
            if mod is None and root is not None:
                mod = self._child_file(root, first)
        if mod is None:
            return None
        for seg in segs[rest:]:
            mod = self._child(mod, seg)
        return mod

    def _child_file(self, mod: _RustModule, name: str) -> _RustModule | None:
        directory = os.path.join(mod[1], name)
        for cand in (directory + ".rs", os.path.join(directory, "mod.rs")):
            if self.maps.entry(cand) is not None:
                return (cand, directory, True)
        return None

    def _child(self, mod: _RustModule, name: str) -> _RustModule:
        # Not a file of its own: an inline module or an item, inside the file reached so far.
        return self._child_file(mod, name) or (mod[0], os.path.join(mod[1], name), False)

    def _file_module(self, path: str, root: _RustModule | None) -> _RustModule:
        directory, base = os.path.split(path)
        if base == "mod.rs" or (root is not None and path == root[0]) or (
                root is None and base in ("lib.rs", "main.rs")):
            return (path, directory, True)
        return (path, os.path.splitext(path)[0], True)

    def _parent(self, mod: _RustModule, root: _RustModule | None) -> _RustModule | None:
        directory = mod[1]
        parent = os.path.dirname(directory)
        if root is None:
            for cand in (parent + ".rs", *(os.path.join(parent, n)
                                           for n in ("mod.rs", "lib.rs", "main.rs"))):
                if self.maps.entry(cand) is not None:
                    return (cand, parent, True)
            return None
        top = root[1]
        if not directory.startswith(top + os.sep):
            return None  # the crate root has no parent
        d = parent
        while d != top and d.startswith(top + os.sep):
            for cand in (d + ".rs", os.path.join(d, "mod.rs")):
                if self.maps.entry(cand) is not None:
                    return (cand, parent, d == parent)
            d = os.path.dirname(d)  # `parent` is an inline module of a file further up
        return (root[0], parent, parent == top)

    def _root(self, path: str) -> _RustModule | None:
        """Return the crate root module of a file: its file and the directory of its children."""
        crate = self._crate_of(path)
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
                if self.maps.entry(main) is not None:
                    return (main, sub, True)
                return ("", base, True)  # a module several roots share (tests/common/mod.rs)
            main = os.path.join(crate.dir, "src", "main.rs")
            if path == main:
                return (main, os.path.dirname(main), True)
            for cand in (crate.lib, main):
                if self.maps.entry(cand) is not None:
                    return (cand, os.path.dirname(cand), True)
        # No manifest: the nearest directory above that holds lib.rs or main.rs.
        scanner = self.index.scanner_for(path)
        top = scanner.root if scanner else os.path.dirname(path)
        d = os.path.dirname(path)
        while True:
            for name in ("lib.rs", "main.rs"):
                cand = os.path.join(d, name)
                if self.maps.entry(cand) is not None:
                    return (cand, d, True)
            if d == top or not d.startswith(top) or os.path.dirname(d) == d:
                return None
            d = os.path.dirname(d)

    def _crate_of(self, path: str) -> _Crate | None:
        by_dir = self._crates()[0]
        d = os.path.dirname(path)
        while True:
            crate = by_dir.get(d)
            if crate is not None or os.path.dirname(d) == d:
                return crate
            d = os.path.dirname(d)

    def _crate(self, path: str, name: str) -> _RustModule | None:
        """Return the root module of the library crate `name` as seen from `path`."""
        by_dir, by_name = self._crates()
        own = self._crate_of(path)
        crate = by_dir.get(own.deps[name]) if own is not None and name in own.deps else None
        if crate is None:
            crate = by_name.get(name)
        if crate is None or self.maps.entry(crate.lib) is None:
            return None
        return (crate.lib, os.path.dirname(crate.lib), True)

    def _crates(self) -> tuple[dict[str, _Crate], dict[str, _Crate]]:
        """Return the Cargo packages holding indexed Rust files, by directory and by library
        name. Manifests are read once, and again only when directories appear (a new crate)."""
        stamp = len(self.maps.by_dir)
        if self._cargo is not None and self._cargo[0] == stamp:
            return self._cargo[1], self._cargo[2]
        with self.maps.lock:
            dirs = sorted(d for d, paths in self.maps.by_dir.items()
                          if any(p.endswith(".rs") for p in paths))
        by_dir: dict[str, _Crate] = {}
        visited: set[str] = set()
        for directory in dirs:
            scanner = self.index.scanner_for(directory)
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
