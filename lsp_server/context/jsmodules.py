"""Where a bare JavaScript/TypeScript import specifier leads inside the workspace.

Monorepos import their own packages by name (`@acme/shared`): the package is a directory of
the workspace (`package.json` `workspaces`, `pnpm-workspace.yaml`), and its entry is named by
`exports`, `types`/`typings`, `module` or `main` (often a build output such as
`dist/index.js`, whose source is `src/index.ts`). `tsconfig.json` `paths` and `baseUrl`
(through `extends`) map other specifiers to files. Configuration is read through the
scanner (`read_config`), so ignored, secret and node_modules files are never opened.
"""

from __future__ import annotations

import fnmatch
import json
import os
import posixpath
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from lsp_server.context.languages import JS_MODULE_EXTENSIONS

_BUILD_DIRS = frozenset({"dist", "build", "lib", "out", "esm", "cjs", "es", "types", "dts"})
_CONDITIONS = ("types", "typings", "import", "module", "default", "require", "node", "browser")
_JSONC = re.compile(r'"(?:\\.|[^"\\])*"|//[^\n]*|/\*.*?\*/', re.S)
_TRAILING_COMMA = re.compile(r",(\s*[}\]])")
_PNPM_ITEM = re.compile(r"""^\s*-\s*['"]?([^'"#\s]+)['"]?""")


def parse_jsonc(text: str) -> object:
    """Parse JSON with comments and trailing commas (tsconfig.json's dialect); None if bad."""
    text = _JSONC.sub(lambda m: m.group() if m.group().startswith('"') else "", text)
    try:
        return json.loads(_TRAILING_COMMA.sub(r"\1", text))
    except ValueError:
        return None


def probe(target: str, exists: Callable[[str], bool]) -> str | None:
    """Return the indexed file a module path names: itself, with a source extension (a `.js`
    specifier names the `.ts` file compiled to it), or its directory's index file."""
    stem = target
    for ext in (".d.ts", ".js", ".jsx", ".mjs", ".cjs"):
        if target.endswith(ext):
            stem = target[: -len(ext)]
            break
    for cand in (
        target,
        *(stem + e for e in JS_MODULE_EXTENSIONS),
        *(os.path.join(target, "index" + e) for e in JS_MODULE_EXTENSIONS),
    ):
        if exists(cand):
            return cand
    return None


def _condition_targets(entry: object) -> list[str]:
    """Flatten an `exports` entry (a string, a list, or nested conditions) into paths."""
    if isinstance(entry, str):
        return [entry]
    if isinstance(entry, list):
        return [t for item in entry for t in _condition_targets(item)]
    if isinstance(entry, dict):
        keys = [k for k in _CONDITIONS if k in entry] + [k for k in entry if k not in _CONDITIONS]
        return [t for k in keys for t in _condition_targets(entry[k])]
    return []


def _export_targets(exports: object, subpath: str) -> list[str]:
    key = "./" + subpath if subpath else "."
    if not isinstance(exports, dict) or not any(str(k).startswith(".") for k in exports):
        return _condition_targets(exports) if key == "." else []
    if key in exports:
        return _condition_targets(exports[key])
    for pattern, entry in exports.items():  # "./*": "./src/*.ts"
        if "*" not in pattern:
            continue
        head, _, tail = pattern.partition("*")
        if key.startswith(head) and key.endswith(tail) and len(key) >= len(head) + len(tail):
            star = key[len(head) : len(key) - len(tail)]
            return [t.replace("*", star) for t in _condition_targets(entry)]
    return []


@dataclass
class _TsConfig:
    base_url: str | None = None
    paths: dict[str, list[str]] = field(default_factory=dict)
    paths_base: str = ""


class JsWorkspace:
    """The packages of a workspace and the tsconfig files that map specifiers."""

    def __init__(
        self,
        roots: Iterable[str],
        directories: Iterable[str],
        read: Callable[[str], str | None],
        exists: Callable[[str], bool],
    ) -> None:
        self.roots = list(roots)
        self.read_paths: set[str] = set()  # every configuration file asked for, found or not

        def remembered(path: str) -> str | None:
            self.read_paths.add(path)
            return read(path)

        self._read = remembered
        self._exists = exists
        self.packages: dict[str, str] = {}  # package name -> directory
        self._manifests: dict[str, dict] = {}  # directory -> package.json
        self._tsconfigs: dict[str, _TsConfig | None] = {}
        self._find_packages(directories)

    # --- packages -------------------------------------------------------------------------

    def _manifest(self, directory: str) -> dict | None:
        if directory not in self._manifests:
            text = self._read(os.path.join(directory, "package.json"))
            data = parse_jsonc(text) if text is not None else None
            self._manifests[directory] = data if isinstance(data, dict) else {}
        return self._manifests[directory] or None

    def _globs(self, root: str) -> list[str] | None:
        """Return the root's workspace globs, or None when it declares no workspace."""
        globs: list[str] | None = None
        manifest = self._manifest(root)
        if manifest is not None:
            ws = manifest.get("workspaces")
            if isinstance(ws, dict):
                ws = ws.get("packages")
            if isinstance(ws, list):
                globs = [g for g in ws if isinstance(g, str)]
        text = self._read(os.path.join(root, "pnpm-workspace.yaml"))
        if text is not None:
            in_packages = False
            for line in text.splitlines():
                if not line.strip() or line.lstrip().startswith("#"):
                    continue
                if not line[:1].isspace():
                    in_packages = line.split(":")[0].strip() == "packages"
                    continue
                m = _PNPM_ITEM.match(line)
                if in_packages and m:
                    globs = [*(globs or []), m.group(1)]
        return globs

    def _find_packages(self, directories: Iterable[str]) -> None:
        candidates: set[str] = set()
        for directory in directories:
            root = next(
                (
                    r
                    for r in self.roots
                    if directory == r or directory.startswith(r.rstrip(os.sep) + os.sep)
                ),
                None,
            )
            d = directory
            while root is not None and d not in candidates:
                candidates.add(d)
                if d == root:
                    break
                d = os.path.dirname(d)
        globs = {r: self._globs(r) for r in self.roots}
        # A root last: a workspace's package of the root's own name is what imports of that
        # name mean (`lexical` beside a monorepo root that calls itself `lexical`).
        for d in sorted(candidates, key=lambda d: (d in self.roots, d)):
            manifest = self._manifest(d)
            name = manifest.get("name") if manifest else None
            if not isinstance(name, str) or not name:
                continue
            root = next(r for r in self.roots if d == r or d.startswith(r.rstrip(os.sep) + os.sep))
            patterns = globs.get(root)
            rel = os.path.relpath(d, root).replace(os.sep, "/")
            if (
                patterns is not None
                and d != root
                and not any(
                    fnmatch.fnmatch(rel, p.rstrip("/").removeprefix("./"))
                    for p in patterns
                    if not p.startswith("!")
                )
            ):
                continue  # a package.json the workspace does not list (a fixture, a template)
            self.packages.setdefault(name, d)

    def _package_file(self, directory: str, subpath: str) -> str | None:
        manifest = self._manifest(directory) or {}
        targets = _export_targets(manifest.get("exports"), subpath)
        if not subpath:
            targets += [
                manifest[k]
                for k in ("types", "typings", "module", "main")
                if isinstance(manifest.get(k), str)
            ]
            targets += ["src/index", "index"]
        else:
            targets += [subpath, "src/" + subpath]
        for target in targets:
            for cand in self._sources(directory, target):
                found = probe(cand, self._exists)
                if found is not None:
                    return found
        return None

    @staticmethod
    def _sources(directory: str, target: str) -> list[str]:
        """Return where the source of a (possibly built) package file may be."""
        rel = (
            posixpath.normpath(target.replace("\\", "/")).lstrip("./")
            if target not in (".", "./")
            else "index"
        )
        parts = rel.split("/")
        i = 0
        while i < len(parts) - 1 and parts[i] in _BUILD_DIRS:
            i += 1
        # dist/esm/index.js -> src/index.ts: the source first (a built .d.ts may be indexed
        # too, but the source is what the workspace edits and what defines the names).
        out = [os.path.join(directory, "src", *parts[i:]), os.path.join(directory, *parts[i:])]
        return [*out, os.path.join(directory, rel)] if i else [os.path.join(directory, rel)]

    # --- tsconfig -------------------------------------------------------------------------

    def _load_tsconfig(self, path: str, depth: int = 0) -> _TsConfig | None:
        text = self._read(path)
        data = parse_jsonc(text) if text is not None else None
        if not isinstance(data, dict):
            return None
        config = _TsConfig()
        extends = data.get("extends")
        for parent in extends if isinstance(extends, list) else [extends]:
            if isinstance(parent, str) and parent.startswith(".") and depth < 5:
                ppath = os.path.normpath(os.path.join(os.path.dirname(path), parent))
                if not ppath.endswith(".json"):
                    ppath += ".json"
                inherited = self._load_tsconfig(ppath, depth + 1)
                if inherited is not None:
                    config = _TsConfig(
                        inherited.base_url, dict(inherited.paths), inherited.paths_base
                    )
        options = data.get("compilerOptions")
        if isinstance(options, dict):
            here = os.path.dirname(path)
            if isinstance(options.get("baseUrl"), str):
                config.base_url = os.path.normpath(os.path.join(here, options["baseUrl"]))
                config.paths_base = config.base_url
            if isinstance(options.get("paths"), dict):
                config.paths = {
                    k: [t for t in v if isinstance(t, str)]
                    for k, v in options["paths"].items()
                    if isinstance(v, list)
                }
                config.paths_base = config.base_url or here
        return config

    def _tsconfig_for(self, directory: str) -> _TsConfig | None:
        if directory in self._tsconfigs:
            return self._tsconfigs[directory]
        found: _TsConfig | None = None
        root = next(
            (
                r
                for r in self.roots
                if directory == r or directory.startswith(r.rstrip(os.sep) + os.sep)
            ),
            None,
        )
        if root is not None:
            path = os.path.join(directory, "tsconfig.json")
            found = self._load_tsconfig(path) if self._read(path) is not None else None
            if found is None and directory != root:
                found = self._tsconfig_for(os.path.dirname(directory))
        self._tsconfigs[directory] = found
        return found

    # --- resolution -----------------------------------------------------------------------

    def resolve(self, importer: str, spec: str) -> str | None:
        """Return the indexed file a bare specifier of `importer` leads to, or None."""
        config = self._tsconfig_for(os.path.dirname(importer))
        if config is not None:
            for pattern, targets in config.paths.items():
                head, star, tail = pattern.partition("*")
                if star:
                    if not (
                        spec.startswith(head)
                        and spec.endswith(tail)
                        and len(spec) >= len(head) + len(tail)
                    ):
                        continue
                    middle = spec[len(head) : len(spec) - len(tail)]
                elif spec != pattern:
                    continue
                else:
                    middle = ""
                for t in targets:
                    cand = os.path.normpath(os.path.join(config.paths_base, t.replace("*", middle)))
                    found = probe(cand, self._exists)
                    if found is not None:
                        return found
            if config.base_url is not None:
                found = probe(os.path.normpath(os.path.join(config.base_url, spec)), self._exists)
                if found is not None:
                    return found
        parts = spec.split("/")
        n = 2 if spec.startswith("@") else 1
        name, subpath = "/".join(parts[:n]), "/".join(parts[n:])
        directory = self.packages.get(name)
        if directory is None:
            return None
        return self._package_file(directory, subpath)
