"""initialize, initialized, workspace/didChangeConfiguration, document sync, shutdown."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import unquote

from lsprotocol import types
from pygls.uris import to_fs_path

from lsp_server._pygls_compat import large_source

if TYPE_CHECKING:
    from lsp_server.server import QwenLanguageServer

log = logging.getLogger(__name__)


async def _pull_configuration(ls: QwenLanguageServer) -> None:
    caps = ls.client_capabilities.workspace
    if not (caps and caps.configuration):
        return
    try:
        result = await asyncio.wait_for(ls.workspace_configuration_async(
            types.ConfigurationParams(items=[types.ConfigurationItem(section="qwen")])), 10)
    except Exception as exc:  # a client that fails this request keeps initializationOptions
        log.warning("workspace/configuration failed: %s", exc)
        return
    if result and isinstance(result[0], dict):
        ls.update_settings(workspace_settings=result[0])


def _path(uri: str) -> str | None:
    return to_fs_path(uri) if uri.startswith("file:") else None


def _text(ls: QwenLanguageServer, uri: str) -> tuple[bool, str | None]:
    """Return whether the editor has `uri` open, and its text unless it is very large (held in
    pieces, which the index and the edit history leave out: see lsp_server.large_text)."""
    doc = ls.workspace.text_documents.get(unquote(uri)) or ls.workspace.text_documents.get(uri)
    if doc is None:
        return False, None
    return True, (None if large_source(doc) is not None else doc.source)


def _to_index(ls: QwenLanguageServer, uri: str) -> None:
    """Give the index the open buffer's text: it wins over what is on disk."""
    path = _path(uri)
    is_open, text = _text(ls, uri)
    if ls.context is not None and path and is_open:
        if text is None:
            ls.context.document_oversize(path)
        else:
            ls.context.document_changed(path, text)


def register(server: QwenLanguageServer,
             on_initialized: Callable[[QwenLanguageServer], None]) -> None:
    """Register lifecycle and document-sync handlers; `on_initialized` starts the work that
    waits for the client's settings (the repository index)."""

    @server.feature(types.INITIALIZE)
    def initialize(ls: QwenLanguageServer, params: types.InitializeParams) -> None:
        ls.update_settings(init_options=params.initialization_options)

    @server.feature(types.INITIALIZED)
    async def initialized(ls: QwenLanguageServer, params: types.InitializedParams) -> None:
        caps = ls.client_capabilities.workspace
        dyn = caps and caps.did_change_configuration
        if dyn and dyn.dynamic_registration:
            try:
                await ls.client_register_capability_async(types.RegistrationParams(
                    registrations=[types.Registration(
                        id="qwen-configuration",
                        method=types.WORKSPACE_DID_CHANGE_CONFIGURATION,
                        register_options=types.DidChangeConfigurationRegistrationOptions(
                            section="qwen"))]))
            except Exception as exc:
                log.warning("could not register for configuration changes: %s", exc)
        await _pull_configuration(ls)
        ls.set_status("idle", "ready")
        on_initialized(ls)

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def did_change_configuration(
        ls: QwenLanguageServer, params: types.DidChangeConfigurationParams
    ) -> None:
        settings = params.settings
        if isinstance(settings, dict) and settings:
            ls.update_settings(workspace_settings=settings)
        await _pull_configuration(ls)

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: QwenLanguageServer, params: types.DidOpenTextDocumentParams) -> None:
        uri = params.text_document.uri
        text = _text(ls, uri)[1]
        if text is not None:
            ls.next_edit.document_opened(uri, text)
        _to_index(ls, uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: QwenLanguageServer, params: types.DidChangeTextDocumentParams) -> None:
        # The text moved on: any suggestion being computed for it is stale.
        uri = params.text_document.uri
        is_open, text = _text(ls, uri)
        ls.pipeline.document_changed(uri, text)
        # The edit history of next-edit suggestions (none in a very large buffer).
        current = ls.document(uri) if ls.next_edit.enabled() and text is not None else None
        if current is not None:
            ls.next_edit.document_changed(current.uri, current.path, current.rel, current.text)
        elif text is not None:
            ls.next_edit.remember(uri, text)
        elif is_open:
            ls.next_edit.document_closed(uri)
        _to_index(ls, uri)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: QwenLanguageServer, params: types.DidSaveTextDocumentParams) -> None:
        path = _path(params.text_document.uri)
        if ls.context is not None and path:
            ls.context.files_changed([(path, "changed")])

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: QwenLanguageServer, params: types.DidCloseTextDocumentParams) -> None:
        ls.pipeline.cancel(params.text_document.uri)
        ls.next_edit.document_closed(params.text_document.uri)
        path = _path(params.text_document.uri)
        if ls.context is not None and path:
            ls.context.document_closed(path)

    @server.feature(types.SHUTDOWN)
    async def shutdown(ls: QwenLanguageServer, params: None) -> None:
        ls.cancel_background()
        if ls.context is not None:
            ls.context.close()
        await ls.close_clients()
