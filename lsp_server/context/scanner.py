"""Decide which files of a workspace exist for us and may be read or sent to a model."""

from __future__ import annotations

import fnmatch
import os
import re
import stat
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

import pathspec

from lsp_server.context.languages import language_for_path

DEFAULT_MAX_FILE_BYTES = 1_000_000
MAX_LINE_CHARS = 1_000  # longer lines mean minified or generated code
_SNIFF_BYTES = 8_192

# Directories nobody wants in a prompt: VCS data, dependencies, virtualenvs, build outputs, caches.
EXCLUDED_DIRS = frozenset({
    ".git", ".hg", ".svn", ".bzr", "_darcs", ".jj",
    "node_modules", "bower_components", "jspm_packages", ".yarn", ".pnpm-store",
    ".venv", "venv", ".virtualenv", "virtualenv", "site-packages", "__pypackages__",
    "__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".tox", ".nox", ".eggs",
    ".hypothesis", ".ipynb_checkpoints",
    "build", "dist", "out", "target", ".next", ".nuxt", ".svelte-kit", ".turbo", ".parcel-cache",
    ".gradle", ".idea", ".vscode", ".cache", "coverage", "htmlcov", ".terraform",
    "vendor", "Pods", "DerivedData",
})
_EXCLUDED_DIR_SUFFIXES = (".egg-info",)

LOCK_FILES = frozenset({
    "package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml", "bun.lockb",
    "poetry.lock", "Pipfile.lock", "uv.lock", "pdm.lock", "Cargo.lock", "go.sum",
    "composer.lock", "Gemfile.lock", "mix.lock", "flake.lock", "packages.lock.json",
})

# Files that hold credentials: never read, never indexed, never completed in.
SECRET_FILE_GLOBS = (
    ".env", ".env.*", "*.env", ".envrc",
    "*.pem", "*.key", "*.p12", "*.pfx", "*.jks", "*.keystore", "*.kdbx", "*.ppk", "*.asc",
    "*.gpg", "*.pgp", "id_rsa*", "id_dsa*", "id_ecdsa*", "id_ed25519*", "*.ovpn",
    ".npmrc", ".pypirc", ".netrc", "_netrc", ".git-credentials", ".gitcookies", ".pgpass",
    ".htpasswd", ".dockercfg", "credentials", "credentials.json", "credentials.yaml",
    "credentials.yml", "credentials.xml", "credentials.ini", "credentials.toml", "credentials.csv",
    "*credentials*.json",
    "*.credentials", "client_secret*.json", "service-account*.json", "secrets.json",
    "secrets.yaml", "secrets.yml", "secrets.toml", "secret.json", "secret.yaml",
    "terraform.tfstate", "terraform.tfstate.*", "*.tfvars", "auth.json",
)
# Directories whose whole content is credentials.
SECRET_DIRS = frozenset({".ssh", ".gnupg", ".aws", ".docker", ".kube"})

IGNORE_FILES = (".gitignore", ".qwenignore")
_SECRET_NAME = re.compile("|".join(fnmatch.translate(g) for g in SECRET_FILE_GLOBS))


@dataclass(frozen=True, slots=True)
class ScannedFile:
    """A file the index may read: where it is, what language, and its stat for change checks."""

    path: str  # absolute
    rel: str  # root-relative, forward slashes
    language: str
    size: int
    mtime_ns: int


@dataclass
class ScanResult:
    """Every readable source file under a root, and how many others were skipped, by reason."""

    root: str
    files: list[ScannedFile] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)


@lru_cache(maxsize=4096)
def is_secret_name(name: str) -> bool:
    """Return True when a file name says it holds credentials."""
    lowered = name.lower()
    # `.env.example` and friends match `.env.*` on purpose: templates often hold real values.
    return _SECRET_NAME.match(lowered) is not None


def is_secret_path(path: str) -> bool:
    """Return True when a file's name or any directory on its path marks it as credentials."""
    parts = path.replace("\\", "/").split("/")
    if any(part in SECRET_DIRS for part in parts[:-1]):
        return True
    return is_secret_name(parts[-1])


def _is_excluded_dir(name: str) -> bool:
    return name in EXCLUDED_DIRS or name.endswith(_EXCLUDED_DIR_SUFFIXES)


def looks_binary(head: bytes) -> bool:
    """Return True when the first bytes of a file look like binary data rather than text."""
    if not head:
        return False
    if b"\0" in head:
        return True
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the sniffed window is still text.
        if exc.start < len(head) - 4:
            return True
    return False


def looks_minified(data: bytes) -> bool:
    """Return True when a file has very long lines, as minified or generated code does."""
    if len(data) <= MAX_LINE_CHARS:
        return False
    start = 0
    n = len(data)
    long_lines = 0
    lines = 0
    while start < n:
        end = data.find(b"\n", start)
        if end < 0:
            end = n
        lines += 1
        if end - start > MAX_LINE_CHARS:
            long_lines += 1
            if long_lines >= 3 or lines <= 3:
                return True
        start = end + 1
    return long_lines > 0 and long_lines * 20 >= lines


def content_skip_reason(data: bytes) -> str | None:
    """Return why file content must not be indexed (binary, minified), or None when it may be."""
    if looks_binary(data[:_SNIFF_BYTES]):
        return "binary"
    if looks_minified(data):
        return "minified"
    return None


def _read_ignore_lines(path: str) -> list[str] | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.read().splitlines()
    except OSError:
        return None


class IgnoreRules:
    """The .gitignore / .qwenignore rules of one workspace root, at every directory level."""

    def __init__(self, root: str, extra_patterns: Iterable[str] = ()) -> None:
        self.root = os.path.abspath(root)
        self._specs: dict[str, pathspec.GitIgnoreSpec | None] = {}
        lines: list[str] = list(extra_patterns)
        info_exclude = _read_ignore_lines(os.path.join(self.root, ".git", "info", "exclude"))
        if info_exclude:
            lines.extend(info_exclude)
        self._root_extra = pathspec.GitIgnoreSpec.from_lines(lines) if lines else None

    def spec_for(self, rel_dir: str) -> pathspec.GitIgnoreSpec | None:
        """Return the combined ignore spec a directory defines itself (cached), or None."""
        if rel_dir in self._specs:
            return self._specs[rel_dir]
        directory = os.path.join(self.root, rel_dir) if rel_dir else self.root
        lines: list[str] = []
        for name in IGNORE_FILES:
            found = _read_ignore_lines(os.path.join(directory, name))
            if found:
                lines.extend(found)
        spec = pathspec.GitIgnoreSpec.from_lines(lines) if lines else None
        self._specs[rel_dir] = spec
        return spec

    def is_ignored(self, rel: str, is_dir: bool = False, parents_checked: bool = False) -> bool:
        """Return True when rules at any level ignore a root-relative path (deeper rules win)."""
        parts = rel.split("/")
        if not parents_checked:
            # git never looks inside an ignored directory, so neither do we.
            for i in range(1, len(parts)):
                if self.is_ignored("/".join(parts[:i]), is_dir=True, parents_checked=True):
                    return True
        verdict: bool | None = None
        candidate = rel + "/" if is_dir else rel
        if self._root_extra is not None:
            result = self._root_extra.check_file(candidate)
            if result.include is not None:
                verdict = result.include
        for depth in range(len(parts)):
            rel_dir = "/".join(parts[:depth])
            spec = self.spec_for(rel_dir)
            if spec is None:
                continue
            sub = "/".join(parts[depth:]) + ("/" if is_dir else "")
            result = spec.check_file(sub)
            if result.include is not None:
                verdict = result.include
        return bool(verdict)

    def invalidate(self, rel_dir: str | None = None) -> None:
        """Forget cached rules, of one directory or all, after an ignore file changed."""
        if rel_dir is None:
            self._specs.clear()
        else:
            self._specs.pop(rel_dir, None)


class Scanner:
    """Walk one workspace root and list the source files we may index."""

    def __init__(
        self,
        root: str,
        *,
        max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
        max_files: int = 50_000,
        extra_ignores: Iterable[str] = (),
    ) -> None:
        self.root = os.path.abspath(root)
        self.max_file_bytes = max_file_bytes
        self.max_files = max_files
        self.rules = IgnoreRules(self.root, extra_ignores)

    def relpath(self, path: str) -> str | None:
        """Return the root-relative path with forward slashes, or None when outside the root."""
        path = os.path.abspath(path)
        if path == self.root:
            return ""
        prefix = self.root.rstrip(os.sep) + os.sep
        if not path.startswith(prefix):
            return None
        return path[len(prefix):].replace(os.sep, "/")

    def may_send(self, path: str) -> bool:
        """Return False when a file is secret, ignored, or inside VCS data."""
        if is_secret_path(path):
            return False
        rel = self.relpath(path)
        if rel is None or rel == "":
            return True
        parts = rel.split("/")
        if any(p in (".git", ".hg", ".svn") for p in parts[:-1]):
            return False
        return not self.rules.is_ignored(rel)

    def check(self, path: str) -> str | None:
        """Return why one file under the root must not be indexed, or None when it may be."""
        rel = self.relpath(path)
        if rel is None or rel == "":
            return "outside"
        parts = rel.split("/")
        if any(_is_excluded_dir(p) for p in parts[:-1]):
            return "excluded_dir"
        if is_secret_path(rel):
            return "secret"
        if self.rules.is_ignored(rel):
            return "ignored"
        if parts[-1] in LOCK_FILES or parts[-1].endswith(".lock"):
            return "lock_file"
        if language_for_path(parts[-1]) is None:
            return "unsupported"
        try:
            st = os.stat(path)
        except OSError:
            return "unreadable"
        if not stat.S_ISREG(st.st_mode):
            return "not_regular"
        if st.st_size > self.max_file_bytes:
            return "too_large"
        return None

    def scanned_file(self, path: str) -> ScannedFile | None:
        """Return the ScannedFile for an allowed path, or None when it must not be indexed."""
        if self.check(path) is not None:
            return None
        rel = self.relpath(path)
        lang = language_for_path(path)
        try:
            st = os.stat(path)
        except OSError:
            return None
        assert rel is not None and lang is not None
        return ScannedFile(os.path.abspath(path), rel, lang, st.st_size, st.st_mtime_ns)

    def scan(self) -> ScanResult:
        """Walk the root once, honouring every ignore rule, and return files and skip counts."""
        result = ScanResult(self.root)
        skipped = result.skipped
        files = result.files
        stack: list[str] = [""]
        while stack:
            rel_dir = stack.pop()
            directory = os.path.join(self.root, rel_dir) if rel_dir else self.root
            try:
                entries = sorted(os.scandir(directory), key=lambda e: e.name)
            except OSError:
                skipped["unreadable"] += 1
                continue
            subdirs: list[str] = []
            for entry in entries:
                name = entry.name
                rel = f"{rel_dir}/{name}" if rel_dir else name
                try:
                    is_dir = entry.is_dir(follow_symlinks=False)
                    is_file = entry.is_file(follow_symlinks=False)
                except OSError:
                    skipped["unreadable"] += 1
                    continue
                if is_dir:
                    if _is_excluded_dir(name) or name in SECRET_DIRS:
                        skipped["excluded_dir"] += 1
                        continue
                    if os.path.exists(os.path.join(entry.path, "pyvenv.cfg")):
                        skipped["excluded_dir"] += 1
                        continue
                    if self.rules.is_ignored(rel, is_dir=True, parents_checked=True):
                        skipped["ignored"] += 1
                        continue
                    subdirs.append(rel)
                    continue
                if not is_file:
                    continue  # symlinks and specials: may point outside the workspace
                if is_secret_name(name):
                    skipped["secret"] += 1
                    continue
                lang = language_for_path(name)
                if name in LOCK_FILES or name.endswith(".lock"):
                    skipped["lock_file"] += 1
                    continue
                if lang is None:
                    skipped["unsupported"] += 1
                    continue
                if self.rules.is_ignored(rel, parents_checked=True):
                    skipped["ignored"] += 1
                    continue
                try:
                    st = entry.stat(follow_symlinks=False)
                except OSError:
                    skipped["unreadable"] += 1
                    continue
                if st.st_size > self.max_file_bytes:
                    skipped["too_large"] += 1
                    continue
                if len(files) >= self.max_files:
                    skipped["over_file_limit"] += 1
                    continue
                files.append(ScannedFile(entry.path, rel, lang, st.st_size, st.st_mtime_ns))
            stack.extend(reversed(subdirs))
        return result


MAX_CONFIG_BYTES = 256_000


def read_config(scanner: Scanner, path: str) -> str | None:
    """Return the text of a project configuration file under the scanner's root (package.json,
    tsconfig.json, pnpm-workspace.yaml), or None when it is missing, too large, secret,
    ignored, or inside an excluded directory (node_modules, VCS data)."""
    rel = scanner.relpath(path)
    if not rel:
        return None
    parts = rel.split("/")
    if any(_is_excluded_dir(p) for p in parts[:-1]) or is_secret_path(rel) or \
            scanner.rules.is_ignored(rel):
        return None
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_CONFIG_BYTES:
            return None
        with open(path, "rb") as fh:
            return fh.read(MAX_CONFIG_BYTES).decode("utf-8", "replace")
    except OSError:
        return None
