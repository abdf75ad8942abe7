"""textDocument/inlineCompletion (LSP 3.18), the acceptance command and `qwen/stats`."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from lsprotocol import types

from lsp_server.completion.pipeline import CompletionInput
from lsp_server.documents import Document, next_edit_request
from lsp_server.model.errors import ModelError
from lsp_server.nextedit.service import NextEdit
from lsp_server.stats import server_stats
from lsp_server.wire import command

if TYPE_CHECKING:
    from lsp_server.server import QwenLanguageServer

ACCEPT_COMMAND = "qwen.didAccept"
ACCEPT_EDIT_COMMAND = "qwen.didAcceptEdit"  # registered with next-edit suggestions
PARTIAL_ACCEPT_NOTIFICATION = "qwen/didPartiallyAccept"
STATS_REQUEST = "qwen/stats"
_BUSY_AFTER_S = 0.1


def _completion_id(args: Any) -> str:
    """Return the completion id from the command's arguments (`[{"id": ...}]`)."""
    while isinstance(args, list | tuple) and args:
        args = args[0]
    value = args.get("id") if isinstance(args, dict) else getattr(args, "id", None)
    return str(value or "")


def register(server: QwenLanguageServer) -> None:
    """Register inline completion and the acceptance bookkeeping."""

    @server.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions())
    async def inline_completion(
        ls: QwenLanguageServer, params: types.InlineCompletionParams
    ) -> types.InlineCompletionList | None:
        received = time.perf_counter()
        uri, pos = params.text_document.uri, params.position
        doc = ls.document(uri, (pos.line, pos.line))
        if doc is None:  # never read unopened files from disk on the hot path
            return None
        text, version = doc.text, doc.version
        inp = CompletionInput(
            document_key=uri,
            text=text,
            offset=doc.offset(pos.line, pos.character),
            path=doc.path,
            relative_path=doc.rel if doc.path else None,
            repo_name=doc.repo,
            language=doc.language,
            language_id=doc.language_id,
            received_at=received,
        )
        explicit = params.context.trigger_kind == types.InlineCompletionTriggerKind.Invoked
        # Say "requesting" only for a request still running after a moment: a quick one
        # needs no spinner, and the notification stays off the way to the endpoint.
        busy = asyncio.get_running_loop().call_later(_BUSY_AFTER_S, ls.set_busy, True)
        try:
            if ls.next_edit.enabled() and doc.whole:
                bridged = await _next_edit_on_line(ls, doc, inp.offset, explicit, received)
                if bridged is not None:
                    return bridged
            completion = await ls.pipeline.complete(inp, explicit=explicit)
        except ModelError as err:
            ls.report_model_error(err)
            return None
        finally:
            busy.cancel()
        ls.report_model_ok()
        ls.set_busy(False)
        current = ls.workspace.text_documents.get(unquote(uri))
        if completion is None or current is None or current.version != version:
            return None  # never show a suggestion computed for older text
        ls.pipeline.stats.shown += 1
        return types.InlineCompletionList(items=[types.InlineCompletionItem(
            insert_text=completion.text,
            range=types.Range(start=pos, end=pos),
            command=types.Command(title="Qwen: suggestion accepted", command=ACCEPT_COMMAND,
                                  arguments=[{"id": completion.id}]),
        )])

    async def _next_edit_on_line(ls: QwenLanguageServer, doc: Document, offset: int,
                                 explicit: bool, received: float
                                 ) -> types.InlineCompletionList | None:
        """Offer the next-edit prediction of this cursor as an in-line replacement when it
        stays on the cursor's line; None sends the request on to the completion model."""
        try:
            pred = await ls.next_edit.predict(next_edit_request(
                doc, offset, explicit=explicit, received=received))
        except ModelError as err:
            ls.report_model_error(err)
            return None
        current = ls.workspace.text_documents.get(unquote(doc.uri))
        if current is None or current.version != doc.version:
            return types.InlineCompletionList(items=[])
        item = _on_cursor_line(doc, offset, pred.edits)
        if item is None:
            return None
        ls.report_model_ok()
        ls.set_busy(False)
        return types.InlineCompletionList(items=[item])

    @command(server, ACCEPT_COMMAND)
    def did_accept(ls: QwenLanguageServer, *args: Any) -> None:
        ls.pipeline.accepted(_completion_id(args))

    @server.feature(PARTIAL_ACCEPT_NOTIFICATION)
    def did_partially_accept(ls: QwenLanguageServer, params: Any) -> None:
        ls.pipeline.stats.partially_accepted += 1

    @server.feature(STATS_REQUEST)
    def stats(ls: QwenLanguageServer, params: Any) -> dict[str, Any]:
        return server_stats(ls.pipeline, ls.next_edit, ls.endpoints, ls.context)


def _on_cursor_line(doc: Document, offset: int,
                    edits: list[NextEdit]) -> types.InlineCompletionItem | None:
    """Return the edit as an inline completion replacing part of the cursor's line (LSP
    3.18 ranges of inline completions stay on one line), or None when it goes elsewhere."""
    if len(edits) != 1:
        return None
    edit = edits[0]
    text = doc.text
    line_begin = text.rfind("\n", 0, offset) + 1
    line_end = text.find("\n", offset)
    line_end = len(text) if line_end < 0 else line_end
    if not (line_begin <= edit.start and edit.end <= line_end):
        return None
    start, end = min(edit.start, offset), max(edit.end, offset)
    insert = text[start : edit.start] + edit.text + text[edit.end : end]
    (sl, sc), (el, ec) = doc.position(start), doc.position(end)
    return types.InlineCompletionItem(
        insert_text=insert,
        range=types.Range(start=types.Position(sl, sc), end=types.Position(el, ec)),
        command=types.Command(title="Accept next edit", command=ACCEPT_EDIT_COMMAND,
                              arguments=[{"id": edit.id}]))
