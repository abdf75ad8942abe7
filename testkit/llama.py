"""A real `llama-server` with a small real model on loopback, for tests/real and bench/replay.py.

`scripts/provision-llama.sh` builds it and writes `QWEN_TEST_LLAMA_SERVER` and
`QWEN_TEST_LLAMA_MODEL` to `$QWEN_LSP_CI_CACHE/llama/env` (default
/var/cache/qwen-lsp-ci/llama/env); the same variables in the environment win. Without them the
tests skip, saying so. The model is Gemma 3 270M: small enough for 2 CPU cores, but not a
Qwen model, so tests here check the plumbing (routes, streaming, cancellation, token counts,
context size, prompt cache), never the quality of a suggestion.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

CACHE = Path(os.environ.get("QWEN_LSP_CI_CACHE", "/var/cache/qwen-lsp-ci"))
CONTEXT = 1024  # tokens: small, so that a long file must be fitted under it
_START_TIMEOUT = 120.0


def wait_for_provisioning(timeout: float = 3600.0, poll: float = 5.0) -> bool:
    """Wait while scripts/provision-llama.sh is still building (its `.building` file names a
    live process); return whether provisioning is complete."""
    done, building = CACHE / "llama" / ".complete", CACHE / "llama" / ".building"
    deadline = time.monotonic() + timeout
    while not done.exists() and time.monotonic() < deadline:
        try:
            os.kill(int(building.read_text().strip()), 0)
        except (OSError, ValueError):
            break  # not building (or it died): whatever is there is all there will be
        time.sleep(poll)
    return done.exists()


def llama_tools() -> dict[str, str]:
    """Return the llama-server and model paths: the cache's env file, then the environment."""
    found: dict[str, str] = {}
    with contextlib.suppress(OSError):
        for line in (CACHE / "llama" / "env").read_text().splitlines():
            key, _, value = line.partition("=")
            found[key.strip()] = value.strip()
    for key in ("QWEN_TEST_LLAMA_SERVER", "QWEN_TEST_LLAMA_MODEL"):
        if os.environ.get(key):
            found[key] = os.environ[key]
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LlamaServer:
    """One llama-server process on loopback; restartable on the same port."""

    binary: str
    model: str
    log_path: Path
    port: int = field(default_factory=_free_port)
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start the server and wait until it has loaded the model."""
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [
                self.binary,
                "-m",
                self.model,
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "-c",
                str(CONTEXT),
                "-np",
                "1",
                "--swa-full",
                "--slots",
                "--metrics",
                "-t",
                "2",
                "--no-webui",
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + _START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"llama-server exited with {self.proc.returncode}:\n" + self.log_tail()
                )
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return
            time.sleep(0.2)
        raise RuntimeError("llama-server did not become healthy:\n" + self.log_tail())

    def kill(self) -> None:
        """Kill the server at once, as a crash would."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self) -> None:
        """Stop the server politely, then firmly."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def log_mark(self) -> int:
        """Return the log's length now, to read only what comes after."""
        return len(self.log_text())

    def log_since(self, mark: int) -> str:
        return self.log_text()[mark:]

    def slot_busy(self) -> bool:
        """Return whether any slot is processing a task (`GET /slots`)."""
        slots = httpx.get(f"{self.url}/slots", timeout=5).json()
        return any(s.get("is_processing") for s in slots)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.slot_busy():
                return True
            time.sleep(0.02)
        return False

    def cancelled_tasks(self, since: int) -> int:
        """Return how many tasks the server log says were cancelled after `since`."""
        return len(re.findall(r"cancel task", self.log_since(since)))
