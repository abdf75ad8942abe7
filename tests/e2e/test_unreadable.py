"""Files the server may not read: the index skips them by reason, and nothing crashes.

Permission bits do not stop root (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH), and these tests
often run as root. Then the programs under test run as root without those two capabilities
(`setpriv --bounding-set`), so that the kernel checks permissions exactly as for an
unprivileged owner. `user=65534` is not used: the interpreter may live where that user cannot
reach it (a pyenv under /root, mode 0700). A probe confirms the restriction really holds
before any test relies on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from lsprotocol import types

from testkit.env import CLEAN_ENV
from testkit.fake_endpoint import FakeEndpoint, Reply
from testkit.session import endpoint_options, inline, launched, open_doc, start

_DROP_DAC = ("setpriv", "--bounding-set=-dac_override,-dac_read_search", "--")


@functools.cache
def restricted_prefix() -> tuple[str, ...] | str:
    """Return a command prefix under which permission bits hold, or why there is none."""
    prefix: tuple[str, ...] = ()
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            return "running as root and setpriv (util-linux) is missing to drop CAP_DAC_*"
        prefix = _DROP_DAC
    with tempfile.TemporaryDirectory() as tmp:
        probe = Path(tmp, "probe.py")
        probe.write_text("x = 1\n")
        probe.chmod(0)
        proc = subprocess.run(
            [*prefix, sys.executable, "-c",
             "import sys, lsp_server\ntry:\n    open(sys.argv[1]).read()\n"
             "except PermissionError:\n    sys.exit(0)\nsys.exit(3)", str(probe)],
            capture_output=True, text=True, timeout=30, env=CLEAN_ENV)
    if proc.returncode != 0:
        return f"cannot run without the right to read everything ({proc.returncode}): " \
               f"{proc.stderr.strip()[-300:]}"
    return prefix


@pytest.fixture
def prefix() -> tuple[str, ...]:
    got = restricted_prefix()
    if isinstance(got, str):
        pytest.skip(got)
    return got


@contextlib.contextmanager
def locked(*paths: Path) -> Iterator[None]:
    """chmod 000 the paths for the duration, restoring them so that tmp_path can be removed."""
    modes = [(p, p.stat().st_mode) for p in paths]
    try:
        for p in paths:
            p.chmod(0)
        yield
    finally:
        for p, mode in modes:
            p.chmod(mode)


def workspace(root: Path, generated: int) -> tuple[Path, Path]:
    """Write a small repository; return the file and the directory to lock."""
    root.mkdir()
    (root / "util.py").write_text(
        'def parse_row(line: str) -> list[str]:\n    """Split a CSV row."""\n'
        '    return line.split(",")\n')
    (root / "app.py").write_text("from util import parse_row\n\nrows = []\n")
    for i in range(generated):
        (root / f"gen_{i}.py").write_text(f"def generated_{i}(x):\n    return x + {i}\n")
    (root / "locked.py").write_text("def hidden_on_disk():\n    return 42\n")
    (root / "private").mkdir()
    (root / "private" / "inner.py").write_text("def inner():\n    pass\n")
    return root / "locked.py", root / "private"


def run_index(prefix: tuple[str, ...], root: Path, cache: Path) -> dict:
    proc = subprocess.run(
        [*prefix, sys.executable, "-m", "lsp_server", "index", str(root), "--json"],
        capture_output=True, text=True, timeout=60,
        env={**CLEAN_ENV, "XDG_CACHE_HOME": str(cache)})
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    return json.loads(proc.stdout)


def test_index_cli_skips_unreadable_files_and_directories(
    prefix: tuple[str, ...], tmp_path: Path
):
    # More files than one parser batch, so the spawned parser processes meet the locked file.
    root = tmp_path / "repo"
    locked_file, locked_dir = workspace(root, generated=30)
    cache = tmp_path / "cache"
    with locked(locked_file, locked_dir):
        first = run_index(prefix, root, cache)
        assert first["skipped"].get("unreadable") == 2, first
        assert first["files"] == 32 and first["reparsed"] == 32, first  # util, app, 30 generated
        # Again, from the persistent index: the same files, the same skips.
        again = run_index(prefix, root, cache)
        assert again["skipped"].get("unreadable") == 2, again
        assert again["files"] == 32 and again["reused"] == 32, again
        # A file that was indexed, then changed and became unreadable, drops out.
        util = root / "util.py"
        with locked(util):
            st = util.stat()
            os.utime(util, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
            third = run_index(prefix, root, cache)
        assert third["skipped"].get("unreadable") == 3, third
        assert third["files"] == 31, third
    # Readable again: everything is indexed, nothing skipped for want of rights.
    final = run_index(prefix, root, cache)
    assert "unreadable" not in final["skipped"] and final["files"] == 34, final


async def test_unreadable_file_opened_in_the_editor_completes_from_its_buffer(
    prefix: tuple[str, ...], endpoint: FakeEndpoint, tmp_path: Path
):
    root = tmp_path / "repo"
    locked_file, locked_dir = workspace(root, generated=0)
    caps = types.ClientCapabilities(window=types.WindowClientCapabilities(work_done_progress=True))
    with locked(locked_file, locked_dir):
        async with launched([*prefix, sys.executable, "-m", "lsp_server"]) as client:
            await start(client, endpoint_options(endpoint), root, caps)
            # The background index survives the locked entries and indexes the rest.
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 30
            while not (ends := [r for reports in client.progress_reports.values()
                                for r in reports if isinstance(r, types.WorkDoneProgressEnd)]):
                assert loop.time() < deadline, client.progress_reports
                await asyncio.sleep(0.05)
            assert ends[0].message == "2 files indexed"
            # The editor has the unreadable file open: its buffer is all the server needs.
            endpoint.default = Reply(text="parse_row(line)")
            buffer = "from util import parse_row\n\nfields = \n"
            uri = open_doc(client, locked_file, buffer)
            got = await inline(client, uri, 2, 9, invoked=True)
            assert got is not None and got.items[0].insert_text == "parse_row(line)"
            prompt = endpoint.generation_requests()[0].body["prompt"]
            assert prompt.endswith("<|file_sep|>locked.py\n<|fim_prefix|>from util import "
                                   "parse_row\n\nfields = <|fim_suffix|>\n<|fim_middle|>"), prompt
            assert "def parse_row(line: str) -> list[str]:" in prompt  # from the index
            assert "hidden_on_disk" not in prompt
            assert not [m for m in client.messages if m.type == types.MessageType.Error]
