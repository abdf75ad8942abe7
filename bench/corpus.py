"""Real files, the functions the replay benchmark types into them, and their true text."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from tree_sitter import Node, Tree

from lsp_server.context.languages import get_parser, language_for_path

# The same commonly read modules on every machine: the Python standard library, RxJS's TypeScript
# sources (npm) and the Go standard library's sources (Debian's golang-1.19-src).
PYTHON_FILES = (
    "textwrap.py", "shlex.py", "fnmatch.py", "glob.py", "heapq.py", "bisect.py", "colorsys.py",
    "calendar.py", "difflib.py", "string.py", "base64.py", "statistics.py", "fractions.py",
    "ipaddress.py", "json/encoder.py",
)
TS_FILES = (
    "operators/map.ts", "operators/filter.ts", "operators/take.ts", "operators/scan.ts",
    "operators/distinctUntilChanged.ts", "operators/bufferCount.ts", "operators/skipLast.ts",
    "operators/takeLast.ts", "operators/pairwise.ts", "operators/elementAt.ts",
    "util/argsOrArgArray.ts", "util/isFunction.ts", "util/arrRemove.ts", "Subscription.ts",
    "Subject.ts",
)
GO_FILES = (
    "strings/replace.go", "strings/strings.go", "sort/sort.go", "bytes/buffer.go",
    "strconv/quote.go", "path/path.go", "unicode/utf8/utf8.go", "container/list/list.go",
    "bufio/scan.go", "text/tabwriter/tabwriter.go", "encoding/csv/reader.go", "math/bits/bits.go",
    "net/url/url.go", "html/escape.go", "regexp/syntax/compile.go",
)
RXJS_VERSION = "7.8.2"
GO_SOURCE_PACKAGE = "golang-1.19-src"

_FUNCTION_TYPES = {
    "python": {"function_definition"},
    "typescript": {"function_declaration", "method_definition"},
    "go": {"function_declaration", "method_declaration"},
}
_BLOCK_TYPES = {
    "python": {"block"},
    "typescript": {"statement_block", "class_body"},
    "go": {"block"},
}


@dataclass
class Task:
    """One function to type: its file, and where the function lies in it (str offsets)."""

    path: Path
    language: str
    text: str
    start: int
    end: int
    _blocks: dict[int, int] = field(default_factory=dict, repr=False)

    @property
    def name(self) -> str:
        return f"{self.path.parent.name}/{self.path.name}"

    @property
    def body(self) -> str:
        return self.text[self.start : self.end]

    @cached_property
    def _encoded(self) -> bytes:
        return self.text.encode()

    @cached_property
    def _tree(self) -> Tree:
        return get_parser(self.language).parse(self._encoded)

    def document(self, pos: int) -> str:
        """Return the document when the user has typed the function up to pos."""
        return self.text[:pos] + self.text[self.end :]

    def truth(self, pos: int) -> str:
        """Return the true continuation at pos, up to the end of the block the cursor is in."""
        if pos not in self._blocks:
            self._blocks[pos] = self._block_end(pos)
        return self.text[pos : self._blocks[pos]]

    def _block_end(self, pos: int) -> int:
        cursor = len(self.text[:pos].encode())
        source = self._encoded
        blocks = _BLOCK_TYPES[self.language]
        node: Node = self._tree.root_node
        best: Node | None = None
        while True:
            nxt = None
            for child in node.children:
                if child.start_byte < cursor < child.end_byte:
                    nxt = child
                    break
                if child.start_byte >= cursor:
                    # A Python body begins right after the cursor: the cursor starts that block.
                    if child.type in blocks and not source[cursor : child.start_byte].strip():
                        nxt = child
                    break
            if nxt is None:
                break
            if nxt.type in blocks:
                best = nxt
            node = nxt
        end_byte = best.end_byte if best is not None else len(source)
        end = len(source[:end_byte].decode(errors="ignore"))
        return min(max(end, pos), self.end)


def _functions(text: str, language: str, min_lines: int, max_lines: int) -> list[tuple[int, int]]:
    data = text.encode()
    tree = get_parser(language).parse(data)
    found: list[tuple[int, int]] = []
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.type in _FUNCTION_TYPES[language]:
            lines = node.end_point[0] - node.start_point[0] + 1
            if min_lines <= lines <= max_lines and not node.has_error:
                start = len(data[: node.start_byte].decode())
                end = len(data[: node.end_byte].decode())
                found.append((start, end))
            continue
        stack.extend(reversed(node.children))
    found.sort()
    return found


def _run(cmd: list[str], cwd: Path) -> bool:
    print(f"  $ {' '.join(cmd)}", file=sys.stderr)
    try:
        done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as exc:
        print(f"  failed: {exc}", file=sys.stderr)
        return False
    if done.returncode != 0:
        print(f"  failed: {done.stderr.strip()[-400:]}", file=sys.stderr)
    return done.returncode == 0


def ensure_corpus(root: Path) -> dict[str, Path]:
    """Install the TypeScript and Go sources into root if missing; return a dir per language."""
    root.mkdir(parents=True, exist_ok=True)
    dirs = {"python": Path(sysconfig.get_paths()["stdlib"])}
    rxjs = root / "npm" / "node_modules" / "rxjs" / "src" / "internal"
    if not rxjs.is_dir() and shutil.which("npm"):
        (root / "npm").mkdir(exist_ok=True)
        _run(["npm", "install", "--no-audit", "--no-fund", "--prefix", str(root / "npm"),
              f"rxjs@{RXJS_VERSION}"], root)
    if rxjs.is_dir():
        dirs["typescript"] = rxjs
    go_root = root / "go"
    go_src = next(iter(sorted(go_root.glob("x/usr/share/go-*/src"))), None)
    if go_src is None and shutil.which("apt-get"):
        go_root.mkdir(exist_ok=True)
        if _run(["apt-get", "download", GO_SOURCE_PACKAGE], go_root):
            for deb in go_root.glob("*.deb"):
                _run(["dpkg-deb", "-x", str(deb), str(go_root / "x")], go_root)
        go_src = next(iter(sorted(go_root.glob("x/usr/share/go-*/src"))), None)
    if go_src is not None:
        dirs["go"] = go_src
    return dirs


def select_tasks(root: Path, files_per_language: int, max_body_lines: int) -> list[Task]:
    """Pick one function of 4..max_body_lines lines in each of the first files of each language."""
    dirs = ensure_corpus(root)
    lists = {"python": PYTHON_FILES, "typescript": TS_FILES, "go": GO_FILES}
    tasks: list[Task] = []
    for language, names in lists.items():
        base = dirs.get(language)
        if base is None:
            print(f"  no {language} sources available: skipped", file=sys.stderr)
            continue
        picked = 0
        for name in names:
            path = base / name
            if picked >= files_per_language or not path.is_file():
                continue
            text = path.read_text(encoding="utf-8")
            assert language_for_path(str(path)) == language
            spans = _functions(text, language, 4, max_body_lines)
            if not spans:
                continue
            # A function from the middle of the file: real context on both sides.
            start, end = spans[len(spans) // 2]
            tasks.append(Task(path, language, text, start, end))
            picked += 1
    return tasks


def stdlib_root() -> Path:
    """Return the standard library as a workspace the server will index.

    The server follows git's ignore rules from the repository root down, so a standard
    library inside a git work tree that ignores it (pyenv's `versions/`, a venv in a
    project) indexes nothing: then a copy outside any repository is used, made once.
    """
    stdlib = Path(sysconfig.get_paths()["stdlib"]).resolve()
    if not any((parent / ".git").exists() for parent in (stdlib, *stdlib.parents)):
        return stdlib
    copy = Path(os.environ.get("QWEN_BENCH_STDLIB", "/tmp/qwen-bench-stdlib")) / stdlib.name
    if not (copy / "argparse.py").exists():
        shutil.copytree(stdlib, copy, dirs_exist_ok=True, symlinks=True,
                        ignore=shutil.ignore_patterns("site-packages", "__pycache__"))
    return copy


def default_root() -> Path:
    """Return where the benchmark keeps the sources it installs."""
    return Path(os.environ.get("QWEN_BENCH_CORPUS", "/tmp/qwen-bench-corpus"))
