"""The indexer on hostile workspaces: symlink loops, FIFOs, dangling links, non-UTF-8 text."""

from __future__ import annotations

import os
from pathlib import Path

from lsp_server.context.repo_context import RepoContext


def test_hostile_files_are_refused_cleanly(tmp_path: Path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "a.py").write_text("def ok():\n    return 1\n")
    (pkg / "loop").symlink_to("..")  # a directory cycle
    (tmp_path / "dangling.py").symlink_to("/nonexistent/target.py")
    os.mkfifo(tmp_path / "pipe.py")  # reading it would block forever
    (tmp_path / "latin.py").write_bytes(b'x = "\xe9\xe8"\ndef latin():\n    pass\n')
    engine = RepoContext([str(tmp_path)], persist=False)
    try:
        stats = engine.build_sync()
        assert stats.files >= 1 and stats.symbols >= 1
        text = "from pkg.a import ok\nok()\n"
        files = engine.context_files(str(tmp_path / "main.py"), text, len(text), 4000)
        assert any("def ok()" in f.text for f in files)
        # A file that vanished after the scan is forgotten, not an error.
        (pkg / "a.py").unlink()
        engine.files_changed([(str(pkg / "a.py"), "deleted")])
    finally:
        engine.close()
