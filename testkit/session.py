"""Drive the real `qwen-lsp` over stdio from a pytest-lsp client: launch, initialize, open,
type, ask for completions; the tests and the benchmarks run their sessions through these."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from testkit.env import CLEAN_ENV
from testkit.fake_endpoint import FakeEndpoint

SERVER = ClientServerConfig(server_command=[sys.executable, "-m", "lsp_server"],
                            server_env=CLEAN_ENV)
STATUS: dict[int, list[dict]] = {}


def endpoint_options(ep: FakeEndpoint, provider: str = "openai", **completion: Any) -> dict:
    """Return initializationOptions that point the server at the fake endpoint."""
    base = f"{ep.url}/v1" if provider == "openai" else ep.url
    return {"endpoint": {"baseUrl": base, "provider": provider},
            "completion": {"model": "qwen-test", **completion}}


@contextlib.asynccontextmanager
async def launched(command: list[str] | None = None,
                   env: dict[str, str] | None = None) -> AsyncIterator[LanguageClient]:
    """Run a server of its own (another command line or environment than the fixture's)."""
    client = await ClientServerConfig(server_command=command or SERVER.server_command,
                                      server_env=CLEAN_ENV if env is None else env).start()
    try:
        yield client
    finally:
        with contextlib.suppress(Exception):
            await client.shutdown_session()
        await client.stop()


async def end(client: Any) -> None:
    """End a benchmark's session however it went: shutdown and exit when the server still
    answers, then stop its process; each step given 10 s."""
    with contextlib.suppress(Exception):
        await asyncio.wait_for(client.shutdown_async(None), 10)
        client.exit(None)
    with contextlib.suppress(Exception):
        await asyncio.wait_for(client.stop(), 10)


async def start(client: LanguageClient, options: dict, root: Path,
                capabilities: types.ClientCapabilities | None = None) -> types.InitializeResult:
    """Initialize a session with a workspace folder at `root`."""
    statuses: list[dict] = []
    STATUS[id(client)] = statuses
    client.feature("qwen/status")(lambda params: statuses.append(params))
    return await client.initialize_session(types.InitializeParams(
        capabilities=capabilities or types.ClientCapabilities(),
        initialization_options=options,
        workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name=root.name)],
        root_uri=root.as_uri(),
    ))


def open_doc(client: LanguageClient, path: Path, text: str, language: str = "python") -> str:
    """Open a document in the server and return its URI."""
    uri = path.as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id=language, version=1,
                                             text=text)))
    return uri


def change(client: LanguageClient, uri: str, version: int, start: tuple[int, int],
           end: tuple[int, int], text: str) -> None:
    """Send an incremental change that replaces the range from `start` to `end` (line, col)."""
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
        content_changes=[types.TextDocumentContentChangePartial(
            range=types.Range(start=types.Position(*start), end=types.Position(*end)),
            text=text)]))


def insert(client: LanguageClient, uri: str, version: int, line: int, col: int,
           text: str) -> None:
    """Send an incremental change that inserts `text` at (line, col)."""
    change(client, uri, version, (line, col), (line, col), text)


async def inline(client: LanguageClient, uri: str, line: int, col: int,
                 invoked: bool = False) -> types.InlineCompletionList | None:
    """Ask for inline completions at (line, col)."""
    kind = (types.InlineCompletionTriggerKind.Invoked if invoked
            else types.InlineCompletionTriggerKind.Automatic)
    result = await client.text_document_inline_completion_async(types.InlineCompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        position=types.Position(line=line, character=col),
        context=types.InlineCompletionContext(trigger_kind=kind)))
    return result if result is None or isinstance(result, types.InlineCompletionList) else \
        types.InlineCompletionList(items=list(result))


EDIT_CAPS = types.ClientCapabilities(workspace=types.WorkspaceClientCapabilities(
    apply_edit=True,
    workspace_edit=types.WorkspaceEditClientCapabilities(
        document_changes=True, change_annotation_support=types.ChangeAnnotationsSupportOptions(
            groups_on_label=True))))


def chat_options(ep: FakeEndpoint, **chat: Any) -> dict:
    """Return options with a chat model distinct from the completion model."""
    options = endpoint_options(ep)
    options["chat"] = {"model": "qwen-chat", **chat}
    return options


def record_edits(client: LanguageClient, applied: bool = True) -> list[types.WorkspaceEdit]:
    """Answer `workspace/applyEdit`, recording each edit."""
    edits: list[types.WorkspaceEdit] = []

    @client.feature(types.WORKSPACE_APPLY_EDIT)
    def apply_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        edits.append(params.edit)
        return types.ApplyWorkspaceEditResult(applied=applied)

    return edits
