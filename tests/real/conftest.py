"""The real llama-server (`testkit/llama.py`), started once for the tests in this folder."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from testkit.llama import LlamaServer, llama_tools, wait_for_provisioning


def _absent(reason: str) -> None:
    # CI provisions the server, so there its absence is a failure, not a skip.
    if os.environ.get("QWEN_TEST_REQUIRE_LLAMA"):
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def llama(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    """The real llama-server, started once for the session and stopped after."""
    wait_for_provisioning()  # a build still running in the background (.ci/run)
    tools = llama_tools()
    binary, model = tools.get("QWEN_TEST_LLAMA_SERVER"), tools.get("QWEN_TEST_LLAMA_MODEL")
    if not binary or not (Path(binary).is_file() or shutil.which(binary)):
        _absent(
            "no llama-server: run scripts/provision-llama.sh (or set "
            "QWEN_TEST_LLAMA_SERVER and QWEN_TEST_LLAMA_MODEL)"
        )
    if not model or not Path(model).is_file():
        _absent(f"no GGUF model at {model!r}: run scripts/provision-llama.sh")
    server = LlamaServer(binary, model, tmp_path_factory.mktemp("llama") / "server.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()
