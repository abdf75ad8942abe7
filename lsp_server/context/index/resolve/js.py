"""JavaScript and TypeScript: relative specifiers, workspace packages, tsconfig paths."""

from __future__ import annotations

import os

from lsp_server.context.index.resolve.base import IndexView, LanguageResolver
from lsp_server.context.jsmodules import JsWorkspace
from lsp_server.context.languages import JS_MODULE_EXTENSIONS as JS_EXTENSIONS
from lsp_server.context.scanner import read_config
from lsp_server.context.symbols import Import


class JsResolver(LanguageResolver):
    """`./x` next to the importing file; bare specifiers through the workspace's packages and
    tsconfig mappings (`JsWorkspace`), else by the path suffix they end with."""

    # package.json: names, exports, workspaces; tsconfig.json: paths, baseUrl, extends.
    config_names = frozenset({"package.json", "pnpm-workspace.yaml", "tsconfig.json"})

    def __init__(self, index: IndexView) -> None:
        super().__init__(index)
        self._workspace: JsWorkspace | None = None

    def forget(self) -> None:
        self._workspace = None

    def reads_config(self, path: str) -> bool:
        """Also a file the workspace read under another name: a tsconfig `extends` target."""
        js = self._workspace
        return super().reads_config(path) or (js is not None and path in js.read_paths)

    def config_paths(self) -> frozenset[str]:
        js = self._workspace
        return frozenset(js.read_paths) if js is not None else frozenset()

    def workspace(self) -> JsWorkspace:
        """Return the JS/TS workspace packages and tsconfig mappings (read once per layout)."""
        js = self._workspace
        if js is None:
            def read(path: str) -> str | None:
                scanner = self.index.scanner_for(path)
                return read_config(scanner, path) if scanner is not None else None

            dirs = [d for d, paths in list(self.maps.by_dir.items())
                    if any(p.endswith(JS_EXTENSIONS) for p in paths)]
            js = self._workspace = JsWorkspace(self.index.roots, dirs, read,
                                               lambda p: self.maps.entry(p) is not None)
        return js

    def resolve(self, path: str, imp: Import) -> list[str]:
        module = imp.module
        if module.startswith("."):
            target = os.path.normpath(os.path.join(os.path.dirname(path), module))
            stem = target
            for ext in (".js", ".jsx", ".mjs", ".cjs"):
                if target.endswith(ext):
                    stem = target[: -len(ext)]
            cands = [target] + [stem + e for e in JS_EXTENSIONS] + [
                os.path.join(target, "index" + e) for e in JS_EXTENSIONS]
            for cand in cands:
                if self.maps.entry(cand) is not None:
                    return [cand]
            return []
        found = self.workspace().resolve(path, module) if module else None
        if found is not None:
            return [found]
        bare = module.lstrip("@~/").split("/", 1)[-1] if module[:1] in "@~" else module
        return self.maps.pick(bare, path) if "/" in bare else []
