"""tests/real waits for a llama-server build still running beside the tests (.ci/run)."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from testkit import llama


@pytest.fixture()
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(llama, "CACHE", tmp_path)
    (tmp_path / "llama").mkdir()
    return tmp_path / "llama"


def test_waits_while_the_build_runs_then_sees_it_complete(cache: Path) -> None:
    build = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        (cache / ".building").write_text(str(build.pid))
        timer = threading.Timer(0.5, (cache / ".complete").touch)
        timer.start()
        assert llama.wait_for_provisioning(timeout=20, poll=0.05)
        timer.join()
    finally:
        build.kill()
        build.wait()


def test_a_dead_build_is_not_waited_for(cache: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (cache / ".building").write_text(str(dead.pid))
    assert not llama.wait_for_provisioning(timeout=20, poll=0.05)


def test_nothing_provisioned_is_not_waited_for(cache: Path) -> None:
    assert not llama.wait_for_provisioning(timeout=20, poll=0.05)
