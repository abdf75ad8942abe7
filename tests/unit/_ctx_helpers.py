"""Shared helpers for the context tests: copy a fixture repo and add files git would not keep."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lsp_server.context.repo_context import RepoContext

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def fixture_repo(name: str, dest: Path) -> Path:
    """Copy a fixture repository into dest and return its root."""
    root = dest / name
    shutil.copytree(FIXTURES / name, root)
    return root


def add_unwanted_files(root: Path) -> None:
    """Add files the scanner must skip (these cannot be committed as fixtures)."""
    (root / ".env").write_text("API_TOKEN=abc123abc123abc123\n")
    (root / "node_modules" / "dep").mkdir(parents=True)
    (root / "node_modules" / "dep" / "index.py").write_text("def dep():\n    pass\n")
    (root / "build").mkdir()
    (root / "build" / "out.py").write_text("def built():\n    pass\n")
    (root / "logs").mkdir()
    (root / "logs" / "debug.log").write_text("oops\n")
    (root / "generated").mkdir()
    (root / "generated" / "gen.py").write_text("def generated_fn():\n    pass\n")
    (root / "shop" / "secret_notes.py").write_text('NOTES = "ignored by shop/.gitignore"\n')
    venv = root / "env"
    venv.mkdir()
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (venv / "lib.py").write_text("def in_venv():\n    pass\n")
    (root / "shop" / "blob.py").write_bytes(b"\x00\x01\x02 not text")
    (root / "shop" / "bundle.js").write_text("var a=1;" * 400 + "\n")
    (root / "id_rsa").write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n")
    (root / "package-lock.json").write_text("{}\n")


@contextmanager
def built_engine(root: Path, cache: Path) -> Iterator[RepoContext]:
    """Yield an engine over root with its index built in this process, closed after."""
    engine = RepoContext([str(root)], cache_dir=str(cache), workers=1)
    engine.build_sync()
    try:
        yield engine
    finally:
        engine.close()


@contextmanager
def fixture_engine(name: str, dest: Path) -> Iterator[tuple[Path, RepoContext]]:
    """Copy a fixture repository into dest and yield it with its index built."""
    root = fixture_repo(name, dest)
    with built_engine(root, dest / "cache") as engine:
        yield root, engine
