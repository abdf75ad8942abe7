"""Python: `import a.b` and `from .a import b` by dotted module path."""

from __future__ import annotations

import os
import posixpath

from lsp_server.context.index.resolve.base import LanguageResolver
from lsp_server.context.symbols import FileSymbols, Import


class PythonResolver(LanguageResolver):
    """A module is found by every dotted suffix of its path (`pkg/a/b.py`: `a.b`, `b`, and
    `pkg.a.b`), so any source root works; relative imports walk up from the importing file."""

    @staticmethod
    def module_keys(rel: str, symbols: FileSymbols) -> list[str]:
        parts = posixpath.splitext(rel)[0].split("/")
        if parts[-1] == "__init__":
            parts = parts[:-1]
        return [".".join(parts[i:]) for i in range(len(parts)) if parts[i:]]

    def resolve(self, path: str, imp: Import) -> list[str]:
        module = imp.module
        if module.startswith("."):
            level = len(module) - len(module.lstrip("."))
            base = os.path.dirname(path)
            for _ in range(level - 1):
                base = os.path.dirname(base)
            rest = module[level:].replace(".", "/")
            target = os.path.join(base, rest) if rest else base
            for cand in (target + ".py", target + ".pyi", os.path.join(target, "__init__.py")):
                if self.maps.entry(cand) is not None:
                    return [cand]
            return []
        found = self.maps.pick(module, path)
        scanner = self.index.scanner_for(path) if not found else None
        head, _, rest = module.partition(".")
        if scanner is not None and os.path.basename(scanner.root) == head:
            # The workspace is the package itself (`marshmallow/` opened, absolute
            # imports `from marshmallow.utils import x`): its own name is no directory.
            init = os.path.join(scanner.root, "__init__.py")
            found = self.maps.pick(rest, path) if rest else (
                [init] if self.maps.entry(init) is not None else [])
        return found

    def submodule(self, path: str, module: str, name: str) -> str | None:
        found = self.resolve(path, Import(f"{module}.{name}" if not module.endswith(".")
                                          else f"{module}{name}"))
        return found[0] if found else None
