"""pytest-lsp fixtures: the real `qwen-lsp` over stdio, pointed at the fake endpoint."""

from __future__ import annotations

import pytest_lsp
from pytest_lsp import LanguageClient

from testkit.session import SERVER


@pytest_lsp.fixture(config=SERVER)
async def client(lsp_client: LanguageClient):
    """A client connected to a fresh server; tests call `start` with their options."""
    yield
    await lsp_client.shutdown_session()
