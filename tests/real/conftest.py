"""The real llama-server (`testkit/llama.py`), started once for the tests in this folder."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from testkit.llama import LlamaServer, llama_tools


@pytest.fixture(scope="session")
def llama(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    """The real llama-server, started once for the session and stopped after."""
    tools = llama_tools()
    binary, model = tools.get("QWEN_TEST_LLAMA_SERVER"), tools.get("QWEN_TEST_LLAMA_MODEL")
    if not binary or not (Path(binary).is_file() or shutil.which(binary)):
        pytest.skip(
            "no llama-server: run scripts/provision-llama.sh (or set "
            "QWEN_TEST_LLAMA_SERVER and QWEN_TEST_LLAMA_MODEL)"
        )
    if not model or not Path(model).is_file():
        pytest.skip(f"no GGUF model at {model!r}: run scripts/provision-llama.sh")
    server = LlamaServer(binary, model, tmp_path_factory.mktemp("llama") / "server.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()
