"""QwenLanguageServer: owns the settings, the model client, the pipeline and the context engine."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import sys
from collections.abc import Coroutine, Mapping
from typing import Any, BinaryIO
from urllib.parse import unquote

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from lsp_server import __version__
from lsp_server._pygls_compat import FramedStdin, large_source
from lsp_server.chat.planner import ActionPlanner
from lsp_server.chat.service import ChatService
from lsp_server.completion.pipeline import CompletionPipeline
from lsp_server.context.languages import canonical_language, language_for_document
from lsp_server.context.repo_context import RepoContext
from lsp_server.documents import Document
from lsp_server.features import (
    chat,
    code_actions,
    indexing,
    inline_completion,
    lifecycle,
    next_edit,
)
from lsp_server.large_text import return_freed_pieces
from lsp_server.logs import mask, mask_value
from lsp_server.model import qwen_tokenizer
from lsp_server.model.client import preload_http_stack
from lsp_server.model.errors import ModelError
from lsp_server.model.health import EndpointHealth
from lsp_server.model.pool import EndpointPool
from lsp_server.nextedit.service import NextEditService
from lsp_server.settings import describe, resolve_settings
from lsp_server.wire import WireProtocol

log = logging.getLogger(__name__)


STATUS_NOTIFICATION = "qwen/status"


class QwenLanguageServer(LanguageServer):
    """The language server; feature modules register their handlers on it."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        super().__init__("qwen-lsp", __version__,
                         text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
                         protocol_cls=WireProtocol)
        self._env = dict(os.environ if env is None else env)
        self._init_options: Any = None
        self._workspace_settings: Any = None
        self.settings, problems = resolve_settings(None, self._env)
        self._startup_problems = problems
        self.endpoints = EndpointPool(self.settings.endpoints)
        self.context: RepoContext | None = None
        self.pipeline = CompletionPipeline(self.endpoints, lambda: self.settings,
                                           context=lambda: self.context)
        self._next_edit_pool: EndpointPool | None = None
        self.next_edit = NextEditService(self.next_edit_endpoints, lambda: self.settings,
                                         context=lambda: self.context)
        self.chat = ChatService(self.endpoints, lambda: self.settings,
                                context=lambda: self.context, root_of=self.workspace_root,
                                status=self)
        self.actions = ActionPlanner(self.chat, lambda: self.settings, document=self.document,
                                     root_of=self.workspace_root)
        self._background: set[asyncio.Task[Any]] = set()
        self._shown_error: str | None = None
        self._state = "idle"
        self._last_status: dict[str, Any] = {}

    # -- settings --------------------------------------------------------------------
    def update_settings(
        self, *, init_options: Any = None, workspace_settings: Any = None
    ) -> list[str]:
        """Re-resolve settings from the LSP layers given so far; return the problems found."""
        if init_options is not None:
            self._init_options = init_options
        if workspace_settings is not None:
            self._workspace_settings = workspace_settings
        settings, problems = resolve_settings((self._init_options, self._workspace_settings),
                                              self._env)
        self.endpoints.update(settings.endpoints)
        if settings.next_edit_endpoints != settings.endpoints:
            if self._next_edit_pool is None:
                self._next_edit_pool = EndpointPool(settings.next_edit_endpoints)
            else:
                self._next_edit_pool.update(settings.next_edit_endpoints)
        self.settings = settings
        log.info("settings: %s", describe(settings))
        for problem in problems:
            self.show_once(problem, types.MessageType.Warning, key=problem)
        return problems

    def start_context(self, roots: list[str]) -> None:
        """Create the repository index for the workspace folders (built in the background)."""
        if self.context is not None or not roots or not self.settings.index.enabled:
            return
        self.context = RepoContext(roots, max_files=self.settings.index.max_files)

    def start_io(self, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None) -> None:
        """Serve over stdio; a broken message frame raises FramingError (see _pygls_compat)."""
        preload_http_stack()
        return_freed_pieces()
        super().start_io(FramedStdin(stdin or sys.stdin.buffer), stdout)

    def next_edit_endpoints(self) -> EndpointPool:
        """Return the endpoints next-edit requests go to (nextEdit.endpoint, else these)."""
        s = self.settings
        if self._next_edit_pool is not None and s.next_edit_endpoints != s.endpoints:
            return self._next_edit_pool
        return self.endpoints

    # -- documents -------------------------------------------------------------------
    def _folder_of(self, path: str) -> tuple[str, str] | None:
        """Return (root, name) of the workspace folder that holds `path`."""
        for folder in self.workspace.folders.values():
            root = to_fs_path(folder.uri)
            if root and path.startswith(root.rstrip(os.sep) + os.sep):
                return root, folder.name
        return None

    def document(self, uri: str, lines: tuple[int, int] | None = None) -> Document | None:
        """Return the open document at `uri`, or None when the editor has not opened it.

        A very large buffer comes as a window of whole lines around `lines` (first, last;
        the top of the buffer without), never as one string (see lsp_server.large_text)."""
        docs = self.workspace.text_documents
        doc = docs.get(unquote(uri)) or docs.get(uri)
        if doc is None:
            return None
        path = to_fs_path(uri) if uri.startswith("file:") else None
        rel, repo = (os.path.basename(path) if path else uri.rsplit("/", 1)[-1]), None
        folder = self._folder_of(path) if path else None
        if folder is not None:
            rel, repo = os.path.relpath(path, folder[0]).replace(os.sep, "/"), folder[1]
        encoding = str(
            getattr(doc.position_codec.encoding, "value", None)
            or doc.position_codec.encoding
            or "utf-16"
        )
        big = large_source(doc)
        around = sorted(lines or (0, 0))  # a range may come reversed
        first, text = big.window(*around) if big is not None else (0, doc.source)
        return Document(
            uri,
            path,
            rel,
            text,
            doc.version,
            language_for_document(path or uri, doc.language_id),
            encoding,
            repo,
            canonical_language(doc.language_id) if doc.language_id else None,
            first_line=first,
            whole=big is None,
        )

    def workspace_root(self, path: str) -> str | None:
        """Return the workspace folder that holds `path`."""
        folder = self._folder_of(path)
        return folder[0] if folder else None

    # -- background work ---------------------------------------------------------------
    def spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Run a coroutine in the background, keeping a reference so it is not collected."""
        task = asyncio.ensure_future(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def cancel_background(self) -> None:
        """Cancel every background task still running (at shutdown)."""
        for task in list(self._background):
            task.cancel()

    @property
    def health(self) -> EndpointHealth:
        """Return the health of the endpoint to call next."""
        return self.endpoints.primary.health

    def freeze_long_lived_objects(self) -> None:
        """Leave what start-up and indexing built out of the cycle collector's full passes.

        A full pass over them held the event loop for 30-55 ms at random moments; what is
        alive once the index is ready (modules, converters, the index) lives as long as the
        server, and what it frees later goes by reference counting."""
        gc.freeze()

    async def close_clients(self) -> None:
        """Close every HTTP client the server opened, and the token-counting process."""
        qwen_tokenizer.close()
        await self.endpoints.aclose()
        if self._next_edit_pool is not None:
            await self._next_edit_pool.aclose()

    # -- telling the user ------------------------------------------------------------
    def window_show_message(self, params: types.ShowMessageParams) -> None:
        """Show a message, with every secret in it masked."""
        params.message = mask(params.message)
        super().window_show_message(params)

    def window_log_message(self, params: types.LogMessageParams) -> None:
        """Log a message in the client, with every secret in it masked."""
        params.message = mask(params.message)
        super().window_log_message(params)

    def show_once(self, message: str, kind: types.MessageType, *, key: str) -> None:
        """Show a message unless the same one is already showing; always log it."""
        log.warning("%s", message)
        self.window_log_message(types.LogMessageParams(kind, message))
        if key != self._shown_error:
            self._shown_error = key
            self.window_show_message(types.ShowMessageParams(kind, f"Qwen: {message}"))

    def report_model_error(self, error: ModelError) -> None:
        """Tell the user about an endpoint failure once per outage; log every time."""
        self.set_status("error", error.message)
        self.show_once(error.message, types.MessageType.Error, key=f"model:{error.kind.value}")

    def report_model_ok(self) -> None:
        """Clear the error state once a request reached an endpoint and succeeded.

        An answer from the cache, or none because every endpoint is paused after failures,
        says nothing about the outage: the status stays `error` and its message is not
        shown again until a request succeeds.
        """
        if self.endpoints.failing:
            return
        if self._shown_error and self._shown_error.startswith("model:"):
            self._shown_error = None
        if self._state == "error":
            self.set_status("idle")

    def set_busy(self, busy: bool) -> None:
        """Show `requesting` while a request runs, `idle` after; an outage keeps `error`."""
        if not self.endpoints.failing:
            self.set_status("requesting" if busy else "idle")

    def set_status(self, state: str, message: str | None = None) -> None:
        """Send `qwen/status` when the state or the serving endpoint changes."""
        serving = self.endpoints.serving or self.endpoints.primary
        payload: dict[str, Any] = {
            "state": state,
            "endpoint": serving.settings.base_url,
            "provider": serving.settings.provider,
            "model": serving.settings.completion_model,
        }
        if payload == self._last_status and message is None:
            return
        self._state, self._last_status = state, dict(payload)
        if message:
            payload["message"] = message
        self.protocol.notify(STATUS_NOTIFICATION, mask_value(payload))

    def report_server_error(self, error: Exception, source: Any) -> None:
        """Log internal errors instead of popping a message per failure."""
        log.error("internal error (%s): %s", getattr(source, "__name__", source), error)


def create_server(env: Mapping[str, str] | None = None) -> QwenLanguageServer:
    """Return a server with every feature registered.

    Feature modules import this module only for type checking, so importing them at the top
    makes no cycle.
    """
    server = QwenLanguageServer(env)
    lifecycle.register(server, on_initialized=indexing.start)
    indexing.register(server)
    inline_completion.register(server)
    code_actions.register(server)
    chat.register(server)
    next_edit.register(server)
    return server

