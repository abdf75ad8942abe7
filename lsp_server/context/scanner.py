"""Decide which files of a workspace exist for us and may be read or sent to a model."""

from __future__ import annotations

import fnmatch
import os
import re
import stat
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

import pathspec
from cachetools import TTLCache

from lsp_server.context.files import read_regular, read_text_or_none, within
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
    "terraform.tfstate", "terraform.tfstate.*", "*.tfstate", "*.tfstate.*", "*.tfvars",
    "*.tfvars.json", "auth.json", "kubeconfig", "kubeconfig.*", "*.kubeconfig", "*-kubeconfig",
    "*_kubeconfig", "kubeconfig-*", ".s3cfg", ".boto", ".dockerconfigjson", ".vault-token",
    "*.keytab", "htpasswd",
)
# Directories whose whole content is credentials (`.kube/config`, `.docker/config.json`,
# `.aws/credentials`, `.azure/...`, `.gcloud/...`).
SECRET_DIRS = frozenset({".ssh", ".gnupg", ".aws", ".docker", ".kube", ".gcloud", ".azure"})
# A JSON file with a private key in it (a cloud service-account key) is secret whatever its name.
_PRIVATE_KEY_FIELD = re.compile(rb'"private_key"\s*:')
_SNIFF_SECRET_BYTES = 65_536

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
    # Stamps (size, mtime_ns) of the configuration files `scan(config_names=...)` asked for.
    configs: dict[str, tuple[int, int]] = field(default_factory=dict)


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


def is_secret_content(head: bytes) -> bool:
    """Return True when the start of a file shows it holds credentials (a service-account key)."""
    return _PRIVATE_KEY_FIELD.search(head) is not None


@lru_cache(maxsize=1024)
def _sniffed_secret(path: str, size: int, mtime_ns: int) -> bool:
    try:
        return is_secret_content(read_regular(path, _SNIFF_SECRET_BYTES))
    except OSError:
        return False


def is_secret_file(path: str) -> bool:
    """Return True when a file's path or, for JSON, its first bytes mark it as credentials."""
    if is_secret_path(path):
        return True
    if not path.lower().endswith(".json"):
        return False
    try:
        st = os.stat(path)
    except OSError:
        return False
    return stat.S_ISREG(st.st_mode) and _sniffed_secret(path, st.st_size, st.st_mtime_ns)


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


_MAX_IGNORE_FILE_BYTES = 1_000_000


def _read_ignore_lines(path: str) -> list[str] | None:
    text = read_text_or_none(path, _MAX_IGNORE_FILE_BYTES)  # never blocks on a FIFO
    return text.splitlines() if text is not None else None


def repository_root(directory: str) -> str | None:
    """Return the closest directory at or above `directory` that holds `.git`, or None."""
    d = os.path.abspath(directory)
    while True:
        if os.path.lexists(os.path.join(d, ".git")):
            return d
        parent = os.path.dirname(d)
        if parent == d:
            return None
        d = parent


def _git_dir(repo: str) -> str:
    """Return the directory holding a repository's `info/exclude`: `.git`, or for a linked
    worktree or a submodule (`.git` is a file saying `gitdir: ...`) the common directory."""
    dot_git = os.path.join(repo, ".git")
    if os.path.isdir(dot_git):
        return dot_git
    text = read_text_or_none(dot_git, 4096) or ""
    if not text.startswith("gitdir:"):
        return dot_git
    git_dir = os.path.join(repo, text[len("gitdir:"):].strip())
    common = (read_text_or_none(os.path.join(git_dir, "commondir"), 4096) or "").strip()
    return os.path.normpath(os.path.join(git_dir, common)) if common else git_dir


def _core_excludes_file(config: str) -> str | None:
    """Return `core.excludesFile` from the text of a git config file, or None."""
    section = ""
    found = None
    for raw in config.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            section = line[1:].split("]", 1)[0].strip().split(" ", 1)[0].split(".", 1)[0].lower()
            continue
        key, sep, value = line.partition("=")
        if sep and section == "core" and key.strip().lower() == "excludesfile":
            value = value.split(" #", 1)[0].split(" ;", 1)[0].strip()
            found = value[1:-1] if len(value) > 1 and value[0] == value[-1] == '"' else value
    return found


def global_excludes_file(env: Mapping[str, str] | None = None) -> str:
    """Return git's global excludes file: `core.excludesFile`, else `$XDG_CONFIG_HOME/git/ignore`.

    Like git, the XDG config is read first and `~/.gitconfig` (or `$GIT_CONFIG_GLOBAL`) wins.
    """
    env = os.environ if env is None else env
    home = env.get("HOME") or os.path.expanduser("~")
    xdg = env.get("XDG_CONFIG_HOME") or os.path.join(home, ".config")
    configs = ([env["GIT_CONFIG_GLOBAL"]] if env.get("GIT_CONFIG_GLOBAL")
               else [os.path.join(xdg, "git", "config"), os.path.join(home, ".gitconfig")])
    configured = None
    for config in configs:
        text = read_text_or_none(config, _MAX_IGNORE_FILE_BYTES)
        value = _core_excludes_file(text) if text else None
        if value:
            configured = value
    if not configured:
        return os.path.join(xdg, "git", "ignore")
    if configured == "~" or configured.startswith("~/"):
        configured = home + configured[1:]
    return configured


class IgnoreRules:
    """The .gitignore / .qwenignore rules of one workspace root, at every directory level.

    Like git: the global excludes file, `.git/info/exclude`, and every `.gitignore` from the
    repository root (which may be above the workspace folder) down; deeper rules win.
    """

    def __init__(self, root: str, extra_patterns: Iterable[str] = (),
                 env: Mapping[str, str] | None = None) -> None:
        self.root = os.path.abspath(root)
        self._specs: dict[str, pathspec.GitIgnoreSpec | None] = {}
        # Rules defined above the root or outside the tree: (their base directory, the path
        # from that base to the root, the rules).
        self._outer: list[tuple[str, str, pathspec.GitIgnoreSpec]] = []
        repo = repository_root(self.root)
        base = repo or self.root

        def outer(lines: list[str] | None, directory: str) -> None:
            if lines:
                rel = os.path.relpath(self.root, directory).replace(os.sep, "/")
                prefix = "" if rel == "." else rel + "/"
                self._outer.append((directory, prefix, pathspec.GitIgnoreSpec.from_lines(lines)))

        outer(_read_ignore_lines(global_excludes_file(env)), base)
        outer(list(extra_patterns), self.root)
        above: list[str] = []
        if repo is not None:
            outer(_read_ignore_lines(os.path.join(_git_dir(repo), "info", "exclude")), repo)
            d = self.root
            while d != repo:
                d = os.path.dirname(d)
                above.append(d)
            for directory in reversed(above):  # the repository root first
                outer(_read_ignore_lines(os.path.join(directory, ".gitignore")), directory)
        # git ignores everything under an ignored directory: the root itself may be one.
        self._root_ignored = any(self._dir_ignored_above(d) for d in [*above[:-1], self.root])

    def _dir_ignored_above(self, directory: str) -> bool:
        """Return whether rules from directories above `directory` ignore it."""
        verdict: bool | None = None
        for base, _, spec in self._outer:
            if directory == base or not directory.startswith(base.rstrip(os.sep) + os.sep):
                continue
            rel = os.path.relpath(directory, base).replace(os.sep, "/") + "/"
            result = spec.check_file(rel)
            if result.include is not None:
                verdict = result.include
        return bool(verdict)

    def _outer_verdict(self, candidate: str) -> bool | None:
        """Return what the rules above the root say about a root-relative path (None: nothing)."""
        verdict: bool | None = None
        for _, prefix, spec in self._outer:
            result = spec.check_file(prefix + candidate)
            if result.include is not None:
                verdict = result.include
        return verdict

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
        if self._root_ignored:
            return True
        candidate = rel + "/" if is_dir else rel
        verdict = self._outer_verdict(candidate)
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
        self._real_dirs: TTLCache[str, str] = TTLCache(maxsize=4096, ttl=5.0)

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
        """Return False when a file is secret, ignored, inside VCS data, or a symlink to such a
        file or to anywhere outside the root."""
        if is_secret_file(path):
            return False
        rel = self.relpath(path)
        if rel is None or rel == "":
            return True
        if self._link_refusal(path) is not None:
            return False
        parts = rel.split("/")
        if any(p in (".git", ".hg", ".svn") for p in parts[:-1]):
            return False
        return not self.rules.is_ignored(rel)

    def _link_refusal(self, path: str) -> str | None:
        """Return why a path reached through a symlink must not be read (None: it may be).

        The start-up scan never follows symlinks; a file-watch event, an open buffer or a
        test file may name one, and what counts is where it leads.
        """
        path = os.path.abspath(path)
        real = self._realpath(path)
        if real == path:
            return None
        if not within(real, [self.root]):
            return "outside"
        real_rel = os.path.relpath(real, os.path.realpath(self.root)).replace(os.sep, "/")
        if is_secret_file(real) or is_secret_path(real_rel):
            return "secret"
        if self.rules.is_ignored(real_rel):
            return "ignored"
        return None

    def _realpath(self, path: str) -> str:
        """Return `path` with symlinks resolved: the file itself is looked at every time, its
        directory's resolution is remembered a few seconds (this runs at every keystroke)."""
        try:
            if stat.S_ISLNK(os.lstat(path).st_mode):
                return os.path.realpath(path)
        except OSError:
            pass  # not on disk (yet): only its directory can lead elsewhere
        directory, name = os.path.split(path)
        real_dir = self._real_dirs.get(directory)
        if real_dir is None:
            real_dir = self._real_dirs[directory] = os.path.realpath(directory)
        return os.path.join(real_dir, name)

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
        link = self._link_refusal(path)
        if link is not None:
            return link
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

    def scan(self, config_names: frozenset[str] = frozenset()) -> ScanResult:
        """Walk the root once, honouring every ignore rule, and return files and skip counts
        (and the stamps of files named in `config_names`, which are not sources)."""
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
                if name in config_names and not self.rules.is_ignored(rel, parents_checked=True):
                    try:
                        st = entry.stat(follow_symlinks=False)
                        result.configs[entry.path] = (st.st_size, st.st_mtime_ns)
                    except OSError:
                        pass
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
    if any(_is_excluded_dir(p) for p in parts[:-1]) or not scanner.may_send(path):
        return None  # may_send also refuses a symlink out of the root
    try:
        data = read_regular(path, MAX_CONFIG_BYTES)  # the file gate: never blocks on a FIFO
    except OSError:
        return None
    return None if len(data) > MAX_CONFIG_BYTES else data.decode("utf-8", "replace")
