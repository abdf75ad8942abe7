"""Import resolution: which indexed files an import names, one module per language family.

Each family is a `LanguageResolver` (see `base.py`): the keys its files are found under in
the lookup maps, and `resolve(path, import)`. `RESOLVERS` picks one by language; a language
without an entry is found by path keys and resolves no import.
"""

from __future__ import annotations

import logging

from lsp_server.context.index.resolve.base import IndexView, LanguageResolver
from lsp_server.context.index.resolve.c import CResolver
from lsp_server.context.index.resolve.go import GoResolver
from lsp_server.context.index.resolve.java import JavaResolver
from lsp_server.context.index.resolve.js import JsResolver
from lsp_server.context.index.resolve.python import PythonResolver
from lsp_server.context.index.resolve.rust import RustResolver
from lsp_server.context.jsmodules import JsWorkspace
from lsp_server.context.languages import LANGUAGES
from lsp_server.context.symbols import FileSymbols, Import

log = logging.getLogger(__name__)

# One resolver per family; the language registry says which family a language's imports
# follow (JavaScript and its dialects share one, C and C++ another).
_FAMILIES: dict[str, type[LanguageResolver]] = {
    "python": PythonResolver,
    "javascript": JsResolver,
    "go": GoResolver,
    "rust": RustResolver,
    "java": JavaResolver,
    "c": CResolver,
}
RESOLVERS: dict[str, type[LanguageResolver]] = {
    spec.name: _FAMILIES[spec.import_resolver]
    for spec in LANGUAGES if spec.import_resolver in _FAMILIES
}


def module_keys(rel: str, symbols: FileSymbols) -> list[str]:
    """Return the keys import resolution finds a file under in `LookupMaps.by_module`."""
    return RESOLVERS.get(symbols.language, LanguageResolver).module_keys(rel, symbols)


class ImportResolver:
    """The resolvers of one index, and the resolutions made since the files last changed."""

    def __init__(self, index: IndexView) -> None:
        instances: dict[type[LanguageResolver], LanguageResolver] = {}
        self._by_language = {
            language: instances.setdefault(cls, cls(index)) for language, cls in RESOLVERS.items()
        }
        self._families = list(instances.values())
        self._cache: dict[tuple[str, str], list[str]] = {}

    def forget(self) -> None:
        """Drop every resolution: files appeared or went away."""
        self._cache.clear()
        for resolver in self._families:
            resolver.forget()

    def config_changed(self, path: str) -> bool:
        """Drop what was read from a configuration file that changed (package.json,
        tsconfig.json and what it extends, pnpm-workspace.yaml, go.mod, Cargo.toml), and the
        resolutions made with it; return False when no resolution depends on the file."""
        hit = [r for r in self._families if r.reads_config(path)]
        for resolver in hit:
            resolver.config_changed()
        if hit:
            self._cache.clear()
        return bool(hit)

    def config_names(self) -> frozenset[str]:
        """Return the names of the configuration files import resolution reads."""
        return frozenset(n for r in self._families for n in r.config_names)

    def config_paths(self) -> frozenset[str]:
        """Return configuration files read under other names (a tsconfig `extends` target)."""
        return frozenset(p for r in self._families for p in r.config_paths())

    def js_workspace(self) -> JsWorkspace:
        """Return the JS/TS workspace packages and tsconfig mappings (read once per layout)."""
        js = self._by_language["javascript"]
        assert isinstance(js, JsResolver)
        return js.workspace()

    def resolve_import(self, path: str, imp: Import, language: str) -> list[str]:
        """Return the indexed files an import of `path` refers to (a Go import or a Java
        wildcard: a whole package; a Rust use list: the module file of each item)."""
        resolver = self._by_language.get(language)
        key = (path, _import_key(imp, language, resolver))
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        try:
            found = resolver.resolve(path, imp) if resolver is not None else []
        except Exception:  # resolution is best effort; never break retrieval over it
            log.debug("import resolution failed for %s in %s", imp.module, path, exc_info=True)
            found = []
        self._cache[key] = found
        return found

    def resolve_submodule(self, path: str, module: str, name: str,
                          language: str = "python") -> str | None:
        """Return the file of module `name` when `from module import name` (Python) or
        `use module::name` (Rust) names a module rather than an item of one."""
        return self._by_language["rust" if language == "rust" else "python"].submodule(
            path, module, name)


def _import_key(imp: Import, language: str, resolver: LanguageResolver | None) -> str:
    """Return what resolving an import depends on (Rust and Java: the imported names too)."""
    if resolver is not None and resolver.names_matter:
        names = ",".join(name for name, _ in imp.names)
        return f"{imp.module}\0{language}\0{names}\0{bool(imp.alias):d}{imp.wildcard:d}"
    return f"{imp.module}\0{language}"
