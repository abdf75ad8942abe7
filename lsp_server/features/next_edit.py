"""`textDocument/copilotInlineEdit` (next-edit suggestions, as GitHub Copilot's language server
answers it), the acceptance command, and the shown/rejected notifications.

Request params: `{textDocument: {uri, version}, position, context: {triggerKind}}` (1 Invoked,
2 Automatic). Result: `{edits: [{range, text, textDocument: {uri, version}, command}]}`, plus
`refused: reason` when the document's text may never be sent (secret or ignored file).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pygls.exceptions import JsonRpcInvalidParams

from lsp_server.documents import TOO_LARGE, Document, next_edit_request
from lsp_server.model.errors import ModelError
from lsp_server.nextedit.service import NextEdit
from lsp_server.wire import command, plain

if TYPE_CHECKING:
    from lsp_server.server import QwenLanguageServer

INLINE_EDIT_REQUEST = "textDocument/copilotInlineEdit"
SHOWN_NOTIFICATION = "textDocument/didShowInlineEdit"
REJECTED_NOTIFICATION = "qwen/didRejectInlineEdit"
ACCEPT_EDIT_COMMAND = "qwen.didAcceptEdit"
INVOKED = 1


def _position(value: Any) -> tuple[int, int]:
    if not isinstance(value, Mapping):
        raise JsonRpcInvalidParams("position: expected {line, character}")
    line, character = value.get("line"), value.get("character")
    if not isinstance(line, int) or not isinstance(character, int) or isinstance(
            line, bool) or isinstance(character, bool) or line < 0 or character < 0:
        raise JsonRpcInvalidParams("position: line and character must be non-negative integers")
    return line, character


def _lsp_range(doc: Document, start: int, end: int) -> dict[str, Any]:
    (sl, sc), (el, ec) = doc.position(start), doc.position(end)
    return {"start": {"line": sl, "character": sc}, "end": {"line": el, "character": ec}}


def edit_item(doc: Document, edit: NextEdit) -> dict[str, Any]:
    """Return an edit as the protocol carries it."""
    return {
        "range": _lsp_range(doc, edit.start, edit.end),
        "text": edit.text,
        "textDocument": {"uri": doc.uri, "version": doc.version},
        "command": {"title": "Accept next edit", "command": ACCEPT_EDIT_COMMAND,
                    "arguments": [{"id": edit.id}]},
    }


def edit_id(item: Any) -> str:
    """Return the id an edit object carries in its command (`arguments[0].id`)."""
    item = plain(item)
    while isinstance(item, list | tuple) and item:
        item = item[0]
    if not isinstance(item, Mapping):
        return ""
    if "id" in item:
        return str(item["id"] or "")
    command = item.get("command")
    if isinstance(command, Mapping):
        return edit_id(command.get("arguments"))
    return ""


def register(server: QwenLanguageServer) -> None:
    """Register next-edit suggestions."""

    @server.feature(INLINE_EDIT_REQUEST)
    async def inline_edit(ls: QwenLanguageServer, params: Any) -> dict[str, Any]:
        received = time.perf_counter()
        p = plain(params)
        if not isinstance(p, Mapping):
            raise JsonRpcInvalidParams("expected {textDocument, position, context}")
        td = p.get("textDocument")
        if not isinstance(td, Mapping) or not isinstance(td.get("uri"), str):
            raise JsonRpcInvalidParams("textDocument.uri: expected a string")
        line, character = _position(p.get("position"))
        context = p.get("context") if isinstance(p.get("context"), Mapping) else {}
        explicit = context.get("triggerKind") == INVOKED
        if not ls.next_edit.enabled():
            return {"edits": []}
        doc = ls.document(td["uri"], (line, line))
        version = td.get("version")
        if doc is None or (isinstance(version, int) and version != doc.version):
            return {"edits": []}  # not open, or asked about a text we no longer have
        if not doc.whole:
            return {"edits": [], "refused": TOO_LARGE}
        offset = doc.offset(line, character)
        try:
            pred = await ls.next_edit.predict(
                next_edit_request(doc, offset, explicit=explicit, received=received))
        except ModelError as err:
            ls.report_model_error(err)
            return {"edits": []}
        ls.report_model_ok()
        if pred.refused:
            return {"edits": [], "refused": pred.refused}
        now = ls.document(doc.uri)
        if now is None or now.version != doc.version or now.text != doc.text:
            return {"edits": []}  # never an edit computed for an older version
        return {"edits": [edit_item(doc, e) for e in pred.edits]}

    @command(server, ACCEPT_EDIT_COMMAND)
    def did_accept_edit(ls: QwenLanguageServer, *args: Any) -> None:
        ls.next_edit.accepted(edit_id(list(args)))

    @server.feature(SHOWN_NOTIFICATION)
    def did_show(ls: QwenLanguageServer, params: Any) -> None:
        p = plain(params)
        ls.next_edit.shown(edit_id(p.get("item") if isinstance(p, Mapping) else None))

    @server.feature(REJECTED_NOTIFICATION)
    def did_reject(ls: QwenLanguageServer, params: Any) -> None:
        p = plain(params)
        if not isinstance(p, Mapping):
            return
        reason = p.get("reason")
        ls.next_edit.rejected(edit_id(p.get("item")),
                              reason if isinstance(reason, str) and reason else None)
