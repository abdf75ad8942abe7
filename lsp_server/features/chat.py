"""`qwen/chat` (streamed as `qwen/chatDelta` notifications) and `qwen/chatReset`.

LSP has no chat, so these are custom methods. A chat request resolves with the whole answer
after its deltas; `$/cancelRequest` cancels the handler's task, which closes the HTTP stream.
The chat service (`lsp_server.chat.service`) does the work; this module translates.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pygls.exceptions import JsonRpcInvalidParams

from lsp_server.chat.prompts import Focus
from lsp_server.documents import Document, range_offsets
from lsp_server.model.errors import ModelError
from lsp_server.prompt import ContextFile
from lsp_server.wire import chat_delta_sender, model_failure, plain, request_id

if TYPE_CHECKING:
    from lsp_server.server import QwenLanguageServer

CHAT_REQUEST = "qwen/chat"
CHAT_RESET = "qwen/chatReset"


def focus_from(ls: QwenLanguageServer, context: Any) -> tuple[Document | None, Focus | None]:
    """Return the document and focus a chat context names (uri and optional range)."""
    context = plain(context) if context is not None else {}
    if not isinstance(context, Mapping) or not context.get("uri"):
        return None, None
    doc = ls.document(str(context["uri"]))
    if doc is None or not ls.chat.may_send(doc.path):
        return doc, None
    span = range_offsets(doc, context.get("range"))
    start, end = span if span is not None else (0, 0)
    return doc, Focus(doc.rel, doc.language, doc.text, start, end)


def register(server: QwenLanguageServer) -> None:
    """Register the chat methods."""

    @server.feature(CHAT_REQUEST)
    async def chat(ls: QwenLanguageServer, params: Any) -> dict[str, Any]:
        p = plain(params)
        if not isinstance(p, Mapping) or not str(p.get("message") or "").strip():
            raise JsonRpcInvalidParams("qwen/chat needs a non-empty message")
        session_id = str(p.get("sessionId") or "default")
        message = str(p["message"])
        rid = request_id(ls)
        settings = ls.settings.chat
        context = plain(p.get("context")) or {}
        doc, focus = focus_from(ls, context)
        repo: Sequence[ContextFile] = []
        if focus is not None and doc is not None and context.get("includeRepoContext"):
            repo = ls.chat.repo_context(doc, focus.start, settings.context_chars // 2)
        try:
            text = await ls.chat.turn(session_id, message, focus=focus, repo=repo,
                                      thinking=settings.thinking,
                                      on_delta=chat_delta_sender(ls, session_id, rid))
        except ModelError as err:
            raise model_failure(ls, err) from None
        return {"sessionId": session_id, "requestId": rid, "text": text}

    @server.feature(CHAT_RESET)
    def chat_reset(ls: QwenLanguageServer, params: Any) -> dict[str, Any]:
        p = plain(params)
        session_id = str(p.get("sessionId") or "default") if isinstance(p, Mapping) else "default"
        return {"sessionId": session_id, "reset": ls.chat.reset(session_id)}
