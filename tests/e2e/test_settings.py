"""Settings as editors really send them: envelopes, empty tables, each editor's language ids."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from testkit.env import CLEAN_ENV
from testkit.fake_endpoint import FakeEndpoint, Reply
from testkit.session import endpoint_options, inline, launched, open_doc, start

CONFIGURATION = types.ClientCapabilities(
    workspace=types.WorkspaceClientCapabilities(
        configuration=True,
        did_change_configuration=types.DidChangeConfigurationClientCapabilities(),
    )
)


def warnings(client: LanguageClient) -> list[str]:
    return [
        m.message
        for m in [*client.messages, *client.log_messages]
        if m.type in (types.MessageType.Error, types.MessageType.Warning)
    ]


async def test_an_empty_section_from_neovim_shows_no_warning(
    endpoint: FakeEndpoint, tmp_path: Path
):
    # Neovim encodes `settings = { qwen = {} }` as {"qwen": []}: in initializationOptions,
    # in the answer to workspace/configuration and in didChangeConfiguration.
    env = {
        **CLEAN_ENV,
        "QWEN_LSP_BASE_URL": f"{endpoint.url}/v1",
        "QWEN_LSP_COMPLETION_MODEL": "qwen-test",
    }
    async with launched(env=env) as client:
        client.set_configuration([], section="qwen")
        await start(client, {"qwen": []}, tmp_path, CONFIGURATION)
        client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(settings={"qwen": []})
        )
        await asyncio.sleep(0.5)  # the server pulls configuration after each of these
        endpoint.default = Reply(text="42")
        uri = open_doc(client, tmp_path / "n.py", "value = \n")
        result = await inline(client, uri, 0, 8, invoked=True)
        assert result is not None and result.items[0].insert_text == "42"
        assert warnings(client) == []


async def test_the_envelope_is_unwrapped_in_every_layer(endpoint: FakeEndpoint, tmp_path: Path):
    async with launched() as client:
        client.set_configuration({"qwen": {"completion": {"model": "from-workspace"}}})
        await start(client, {"qwen": endpoint_options(endpoint)}, tmp_path, CONFIGURATION)
        await asyncio.sleep(0.3)
        uri = open_doc(client, tmp_path / "e.py", "value = \n")
        await inline(client, uri, 0, 8, invoked=True)
        assert endpoint.generation_requests()[0].body["model"] == "from-workspace"
        assert warnings(client) == []


@pytest.mark.parametrize(
    ("disabled", "language_id"),
    [
        ("typescriptreact", "tsx"),
        ("tsx", "typescriptreact"),
        ("TSX", "tsx"),
        ("javascriptreact", "javascript"),
        ("jsx", "javascriptreact"),
        ("markdown", "markdown"),
    ],
)
async def test_disabled_languages_accept_every_editors_spelling(
    client: LanguageClient,
    endpoint: FakeEndpoint,
    tmp_path: Path,
    disabled: str,
    language_id: str,
):
    ext = {
        "tsx": ".tsx",
        "typescriptreact": ".tsx",
        "javascript": ".jsx",
        "javascriptreact": ".jsx",
        "markdown": ".md",
    }[language_id]
    await start(client, endpoint_options(endpoint, disabledLanguages=[disabled]), tmp_path)
    endpoint.default = Reply(text="suggested")
    off = open_doc(client, tmp_path / f"off{ext}", "const x = \n", language_id)
    assert await inline(client, off, 0, 10, invoked=True) is None
    on = open_doc(client, tmp_path / "on.py", "x = \n")
    result = await inline(client, on, 0, 4, invoked=True)
    assert result is not None and result.items[0].insert_text == "suggested"
    assert len(endpoint.generation_requests()) == 1  # the disabled one sent nothing
