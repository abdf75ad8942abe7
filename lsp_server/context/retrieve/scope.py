"""What names are in scope at the cursor: imports, the package, lazy imports."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from functools import lru_cache

from lsp_server.context.index import FileEntry
from lsp_server.context.languages import LANGUAGES
from lsp_server.context.retrieve.cursor import NAME
from lsp_server.context.retrieve.query import Query, _Step
from lsp_server.context.symbols import CONTAINER_KINDS, Definition, Import
from lsp_server.positions import newline_above

# Languages whose imports are #include lines (the registry's "c" resolver family).
C_FAMILY = frozenset(spec.name for spec in LANGUAGES if spec.import_resolver == "c")


_MEMBER_CHAIN = re.compile(rf"(?:\.{NAME})+")
_LAZY_IMPORT = re.compile(r"^[ \t]+from\s+([\w.]+)\s+import\s+([^\n#]+)", re.M)
_MAX_REEXPORTS = 200  # names a Python module imports that are looked up as its attributes
_dirname = lru_cache(maxsize=65_536)(os.path.dirname)

_TEST_PATH = re.compile(
    r"(?:^|/)(?:tests?|__tests__|spec|testing)/|_test\.(?:go|py)$|(?:^|/)test_[^/]*\.py$"
    r"|\.(?:test|spec)\.[cm]?[jt]sx?$|Tests?\.java$|(?:^|/)conftest\.py$"
)


@lru_cache(maxsize=65_536)
def _is_test(rel: str) -> bool:
    return _TEST_PATH.search(rel) is not None


_EXPORT_DEFAULT = re.compile(r"(?:\s*@[^\n]*\n)*\s*export\s+default\b")


def _default_export(e: FileEntry, alias: str) -> Definition | None:
    """Return what `import alias from "./file"` names: the file's `export default`
    declaration; else its top-level definition of the alias's name, or of the file's (an
    `export default px;` below `function px`); else its first."""
    exported = [d for d in e.symbols.definitions if not d.container]
    stem = os.path.basename(e.path).split(".")[0]
    return next((d for d in exported if _EXPORT_DEFAULT.match(d.signature)), None) or next(
        (d for d in exported if d.name in (alias, stem)), None) or next(iter(exported), None)


class Scope(_Step):
    """The files and names one file sees: bound once per retrieval by `bind`."""

    def __init__(self, query: Query) -> None:
        super().__init__(query)
        self.local_names = {d.name for d in self.current.definitions if not d.container}
        self.imported_files: set[str] = set()
        self.files: frozenset[str] = frozenset()  # set by bind: see in_scope
        self.bindings: dict[str, list[tuple[FileEntry, Definition]]] = {}
        self.module_aliases: dict[str, list[str]] = {}
        self.qualified: dict[str, list[tuple[FileEntry, Definition]]] = {}  # `pkg.Name`
        self.directory = _dirname(self.path)

    def bind(self) -> None:
        """Resolve this file's imports and its package to the files and names they bring."""
        lang = self.lang
        for imp in self.current.imports:
            targets = self.index.resolve_import(self.path, imp, lang)
            self.imported_files.update(targets)
            if imp.alias and targets:
                self.module_aliases.setdefault(imp.alias, []).extend(targets)
                if lang == "go":  # `.../chi/v5` is package chi: the name its files declare
                    declared = self._go_package_name(targets)
                    if declared and declared != imp.alias and imp.alias == \
                            imp.module.rsplit("/", 1)[-1]:
                        self.module_aliases.setdefault(declared, []).extend(targets)
                if lang == "python" and "." in imp.alias:
                    self.module_aliases.setdefault(imp.alias.split(".")[0], []).extend(targets)
            for name, alias in imp.names:
                if lang in ("python", "rust"):  # `from a import b`, `use a::b`: b a module?
                    sub = self.index.resolve_submodule(self.path, imp.module, name, lang)
                    if sub is not None:
                        self.module_aliases.setdefault(alias, []).append(sub)
                        self.imported_files.add(sub)
                        continue
                if not targets:
                    continue
                if name == "default":
                    e = self.index.entry(targets[0])
                    d = self._default_export(e, alias) if e is not None else None
                    if d is not None:
                        self.bindings[alias] = [(e, d)]
                    continue
                found = self.lookup_in(targets, name)
                if found:
                    self.bindings[alias] = found
            if imp.wildcard and targets:
                self.module_aliases.setdefault("*", []).extend(targets)
        if lang == "python":
            self._local_imports()
            self._submodule_aliases()
        # Go and Java: the whole package is in scope without imports (Go: the directory;
        # Java: the declared package, in every source root).
        if lang == "go":
            self._go_package()
        if lang == "java" and self.current.package:
            self.module_aliases.setdefault("", []).extend(
                p for p in self.index.resolve_import(
                    self.path, Import(self.current.package, wildcard=True), "java")
                if p != self.path)
        self._qualified_names()
        if lang in C_FAMILY:  # headers included by included headers are in scope too
            seen = self.module_aliases.setdefault("*", [])
            seen.extend(p for p in self.imported_files if p not in seen)
        self.files = frozenset(
            (*self.imported_files, *self.module_aliases.get("", ()),
             *self.module_aliases.get("*", ())))

    def lookup_in(self, paths: Sequence[str], name: str, depth: int = 0
                  ) -> list[tuple[FileEntry, Definition]]:
        """Find a top-level definition by name in files, following re-exports a few hops."""
        found: list[tuple[FileEntry, Definition]] = []
        for p in paths:
            e = self.index.entry(p)
            if e is None:
                continue
            names, reexports, wildcards = self._top_level(e)
            d = names.get(name)
            if d is not None:
                found.append((e, d))
            elif depth < 3:
                via = reexports.get(name)
                hops = ([via] if via else []) + [(imp, name) for imp in wildcards]
                for imp, orig in hops:
                    targets = self.index.resolve_import(p, imp, e.symbols.language)
                    found += self.lookup_in(targets, orig, depth + 1)
                    if found:
                        break
        return found

    def scope_names(self, paths: tuple[str, ...]
                    ) -> dict[str, list[tuple[FileEntry, Definition]]]:
        """Return the names a whole package declares at its top level (Go: every file of
        the directory), without members: a method is never named bare or as `pkg.Name`."""
        cache = self.caches.setdefault("scope", {})
        found = cache.get(paths)
        if found is None:
            found = {}
            for p in paths:
                e = self.index.entry(p)
                if e is not None:
                    for name, d in self._top_level(e)[0].items():
                        if not d.container:
                            found.setdefault(name, []).append((e, d))
            cache[paths] = found
        return found

    def _default_export(self, e: FileEntry, alias: str) -> Definition | None:
        """Return what `import alias from` a file names (see _default_export; memoised: it
        reads every top-level head of the file)."""
        cache = self.caches.setdefault("default", {})
        found = cache.get((e.path, alias))
        if found is None or found[0] is not e.symbols:
            found = cache[(e.path, alias)] = (e.symbols, _default_export(e, alias))
        return found[1]

    def _top_level(self, e: FileEntry) -> tuple[dict[str, Definition],
                                                dict[str, tuple[Import, str]], list[Import]]:
        """Return a file's importable names, its re-exports and wildcard imports (memoised)."""
        cache = self.caches.setdefault("top", {})
        found = cache.get(e.path)
        if found is None or found[0] is not e.symbols:
            go = e.symbols.language == "go"
            names: dict[str, Definition] = {}
            for d in e.symbols.definitions:
                if not (d.container and d.kind not in CONTAINER_KINDS and not go):
                    names.setdefault(d.name, d)
            reexports: dict[str, tuple[Import, str]] = {}
            wildcards: list[Import] = []
            for imp in e.symbols.imports:
                if imp.wildcard and not go:
                    wildcards.append(imp)
                for orig, alias in imp.names:
                    reexports.setdefault(alias, (imp, orig))
            found = cache[e.path] = (e.symbols, names, reexports, wildcards)
        return found[1], found[2], found[3]

    def _go_package_name(self, files: Sequence[str]) -> str:
        """Return the package name Go files declare (not `x_test`), or ''."""
        for p in files:
            e = self.index.entry(p)
            if e is not None and e.symbols.package and not e.symbols.package.endswith("_test"):
                return e.symbols.package
        return ""

    def _go_package(self) -> None:
        """Put the files of this Go package in scope, and bind the package-level names this
        file uses anywhere as an import binds them: Go needs no import for them. A test file
        (`_test.go`) sees the package's other files; other files never see test files;
        `package x_test` sees its own files and reaches `x` by import like any package."""
        package = self.current.package
        files: list[str] = []
        for p in self.index.files_in_dir(self.directory):
            e = self.index.entry(p)
            if p == self.path or e is None or e.symbols.language != "go":
                continue
            if not self.in_test and _is_test(e.rel):
                continue
            if package and e.symbols.package and e.symbols.package != package:
                continue
            files.append(p)
        self.module_aliases.setdefault("", []).extend(files)
        names = self.scope_names(tuple(files))
        for name in self.current.references:
            if name in self.bindings or name in self.local_names:
                continue
            found = names.get(name)
            if found:  # more than one: build-tag variants of the same declaration
                self.bindings[name] = found[:2]

    def _qualified_names(self) -> None:
        """Bind `module.Name`, used anywhere in the file, like `from module import Name`
        (Go: `pkg.Name`; Python: `from fastapi import routing` then `routing.APIRoute`, or
        `trio.lowlevel.current_task`; TypeScript: `import * as api`)."""
        references = self.current.references
        heads = frozenset(h for a in self.module_aliases
                          if a and a != "*" and (h := a.split(".")[0]) in references)
        if not heads:
            return
        go = self.lang == "go"
        declared: dict[str, tuple[dict, set[str]]] = {}
        for use in self._module_uses(heads):
            alias, _, name = use.rpartition(".")
            targets = self.module_aliases.get(alias)
            if not targets or (go and not name[:1].isupper()):
                continue
            if alias not in declared:
                # What the module declares, and (Go has none) what it re-exports:
                # `from ._run import current_task` in a package's `__init__.py`.
                declared[alias] = (self.scope_names(tuple(targets)),
                                   set() if go else self._reexported(targets))
            names, reexported = declared[alias]
            found = names.get(name)
            if not found and name in reexported:
                found = self.lookup_in(targets, name)
            if found:
                self.qualified[use] = found

    def _module_uses(self, heads: frozenset[str]) -> frozenset[str]:
        """Return each `alias.name` (and `alias.sub.name`) the file writes, for aliases
        starting with these names: one scan of the text per parse of it (every module of
        Effect declares `map`; a file that calls `core.map` does not call `Option.map`)."""
        # Per file: the parse the scan was made for, the names scanned for, what it found
        # (kept across index generations: an edit elsewhere leaves this file's text as it was).
        cache = self.caches.setdefault("module_uses", {})
        found = cache.get(self.path)
        if found is not None and found[0] is self.current and found[1] == heads:
            return found[2]
        text = self.text
        uses: set[str] = set()
        for head in heads:  # a plain search per name: twice as fast as one pattern of all
            at = text.find(head + ".")
            while at >= 0:
                before = text[at - 1:at]
                chain = _MEMBER_CHAIN.match(text, at + len(head)) if not (
                    before.isalnum() or before in ("_", "$", ".")) else None
                if chain is not None:
                    parts = chain.group()[1:].split(".")
                    uses.update(".".join((head, *parts[:i])) for i in range(1, len(parts) + 1))
                at = text.find(head + ".", at + len(head) + 1)
        cache[self.path] = (self.current, heads, frozenset(uses))
        return cache[self.path][2]

    def module_names(self, paths: Sequence[str]) -> list[tuple[FileEntry, Definition]]:
        """Return the top-level definitions of a module's files (what `module.` offers,
        with `module_imports` in Python)."""
        return [(e, d) for p in paths if (e := self.index.entry(p)) is not None
                for d in e.symbols.definitions if not d.container]

    def module_imports(self, paths: Sequence[str]) -> list[tuple[FileEntry, Definition]]:
        """Return the definitions of what Python modules import: their attributes too
        (trio's `_core/__init__.py` declares nothing itself); memoised."""
        cache = self.caches.setdefault("module_imports", {})
        key = tuple(paths)
        found = cache.get(key)
        if found is None:
            found = []
            for p in paths:
                e = self.index.entry(p)
                if e is not None and e.symbols.language == "python":
                    for name in list(self._top_level(e)[1])[:_MAX_REEXPORTS]:
                        found += self.lookup_in([p], name)[:1]
            cache[key] = found
        return found

    def _reexported(self, paths: Sequence[str]) -> set[str]:
        """Return the names files import under the name a user of them reaches them by."""
        out: set[str] = set()
        for p in paths:
            e = self.index.entry(p)
            if e is not None:
                out.update(self._top_level(e)[1])
        return out

    def _submodule_aliases(self) -> None:
        """Reach a package's submodules as its attributes (`import trio`, then
        `trio.lowlevel.current_task()`) when its `__init__.py` imports them by name
        (`from . import lowlevel`) and this file uses the name."""
        references = self.current.references
        for alias, targets in list(self.module_aliases.items()):
            for p in targets:
                e = self.index.entry(p) if p.endswith("__init__.py") else None
                if e is None:
                    continue
                for name, (imp, orig) in self._top_level(e)[1].items():
                    if name not in references or f"{alias}.{name}" in self.module_aliases:
                        continue
                    sub = self.index.resolve_submodule(p, imp.module, orig)
                    if sub is not None:
                        self.module_aliases[f"{alias}.{name}"] = [sub]
                        self.imported_files.add(sub)

    def in_scope(self, path: str) -> bool:
        """Return whether a file's names are visible here: imported, in the same package
        (Go: directory; Java: declared package, every source root), or beside this file."""
        return path in self.files or _dirname(path) == self.directory

    def _local_imports(self) -> None:
        """Bind names imported inside functions near the cursor (Python's lazy imports)."""
        start = newline_above(self.text, self.offset, 120)
        for m in _LAZY_IMPORT.finditer(self.text, start, self.offset + 2000):
            module, names = m.group(1), m.group(2).strip("() \\")
            imp = Import(module)
            targets = self.index.resolve_import(self.path, imp, "python")
            for part in names.split(","):
                bits = part.split()
                if not bits:
                    continue
                name, alias = bits[0], bits[-1]
                if alias in self.bindings:
                    continue
                sub = self.index.resolve_submodule(self.path, module, name)
                if sub is not None:
                    self.module_aliases.setdefault(alias, []).append(sub)
                    continue
                found = self.lookup_in(targets, name) if targets else []
                if found:
                    self.bindings[alias] = found
