"""File and folder names that are not valid UTF-8 are left out; the rest is indexed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lsp_server.context.repo_context import RepoContext


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "good.py").write_text("def good():\n    return 1\n")
    raw = os.fsencode(root)
    try:
        os.mkdir(raw + b"/dir\xfe")
        with open(raw + b"/pkg/bad\xff.py", "wb") as fh:
            fh.write(b"def bad():\n    return 2\n")
        with open(raw + b"/dir\xfe/inner.py", "wb") as fh:
            fh.write(b"def inner():\n    pass\n")
    except OSError:
        pytest.skip("this file system only takes UTF-8 names")
    return root


@pytest.mark.parametrize("persist", [True, False])
def test_undecodable_names_are_skipped_not_fatal(repo: Path, tmp_path: Path, persist: bool):
    ctx = RepoContext([str(repo)], cache_dir=str(tmp_path / "cache"), persist=persist)
    try:
        stats = ctx.build_sync()
        assert stats.files == 1
        assert stats.skipped["name not UTF-8"] == 2
        text = "from pkg import good\nx = good"
        explained = ctx.explain(str(repo / "pkg" / "user.py"), text, len(text), 2000)
        assert all(f.path.isprintable() for f in explained.files)
        # A file event for such a name is ignored the same way.
        bad = os.fsdecode(os.fsencode(repo) + b"/pkg/bad\xff.py")
        assert ctx.index.refresh_file(bad) is False
        assert ctx.index.entry(bad) is None
    finally:
        ctx.close()
