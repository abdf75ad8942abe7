"""Java: classes by their declared package, wherever the source root is."""

from __future__ import annotations

import os
import posixpath

from lsp_server.context.index.resolve.base import LanguageResolver
from lsp_server.context.symbols import FileSymbols, Import


class JavaResolver(LanguageResolver):
    """Files are found by their declared package (`package a.b;` + file name), so any source
    root works (src/main/java, src/test/java, generated dirs, non-Maven layouts)."""

    names_matter = True

    @staticmethod
    def module_keys(rel: str, symbols: FileSymbols) -> list[str]:
        # By declared package, wherever the source root is: `java:a.b.C`, and `java:a.b.*`
        # for the package (every source root's files of it: main, test, generated).
        cls = posixpath.basename(posixpath.splitext(rel)[0])
        if not symbols.package:
            return [f"java:{cls}"]
        return [f"java:{symbols.package}.{cls}", f"java:{symbols.package}.*"]

    def resolve(self, path: str, imp: Import) -> list[str]:
        if imp.wildcard:  # `a.b.C.*` (a class's static members) or `a.b.*` (a package)
            cls = self._class(imp.module, path)
            if cls is not None:
                return [cls]
            # The package's files in every source root (main, test, other modules), nearest
            # first; a class defined in several places (a copy in another module) only once.
            files = sorted(self.maps.by_module.get(f"java:{imp.module}.*", ()), key=lambda p: (
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
            cls = self._class(f"{imp.module}.{name}" if imp.module else name, path)
            if cls is not None and cls not in found:
                found.append(cls)
        return found

    def _class(self, qualified: str, near: str) -> str | None:
        """Return the file of a class; the name may go on to a nested class or a member."""
        parts = qualified.split(".")
        for n in range(len(parts), 1, -1):
            found = self.maps.pick("java:" + ".".join(parts[:n]), near)
            if found:
                return found[0]
        return None
