"""`qwen/chat` (streamed as `qwen/chatDelta` notifications) and `qwen/chatReset`.

LSP has no chat, so these are custom methods. A chat request resolves with the whole answer
after its deltas; `$/cancelRequest` cancels the handler's task, which closes the HTTP stream.
The chat service (`lsp_server.chat.service`) does the work; this module translates.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from pygls.exceptions import JsonRpcInvalidParams

from lsp_server.chat.prompts import Focus
from lsp_server.documents import Document, range_lines, range_offsets
from lsp_server.model.errors import ModelError
from lsp_server.prompt import ContextFile
from lsp_server.wire import (
    CHAT_REQUEST,
    CHAT_RESET,
    ChatContext,
    ChatParams,
    ChatResetParams,
    ChatResetResult,
    ChatResult,
    chat_delta_sender,
    model_failure,
    request_id,
)

if TYPE_CHECKING:
    from lsp_server.server import QwenLanguageServer


def focus_from(ls: QwenLanguageServer,
               context: ChatContext | None) -> tuple[Document | None, Focus | None]:
    """Return the document and focus a chat context names (uri and optional range)."""
    if context is None or not context.uri:
        return None, None
    doc = ls.document(context.uri, range_lines(context.range))
    if doc is None or not ls.chat.may_send(doc.path):
        return doc, None
    span = range_offsets(doc, context.range)
    start, end = span if span is not None else (0, 0)
    return doc, Focus(doc.rel, doc.language, doc.text, start, end)


def register(server: QwenLanguageServer) -> None:
    """Register the chat methods."""

    @server.feature(CHAT_REQUEST)
    async def chat(ls: QwenLanguageServer, params: ChatParams | None) -> ChatResult:
        if params is None or not (params.message or "").strip():
            raise JsonRpcInvalidParams("qwen/chat needs a non-empty message")
        session_id = params.session_id or "default"
        message = params.message or ""
        rid = request_id(ls)
        settings = ls.settings.chat
        doc, focus = focus_from(ls, params.context)
        repo: Sequence[ContextFile] = []
        if focus is not None and doc is not None and params.context is not None \
                and params.context.include_repo_context:
            repo = ls.chat.repo_context(doc, focus.start, settings.context_chars // 2)
        try:
            text = await ls.chat.turn(session_id, message, focus=focus, repo=repo,
                                      thinking=settings.thinking,
                                      on_delta=chat_delta_sender(ls, session_id, rid))
        except ModelError as err:
            raise model_failure(ls, err) from None
        return ChatResult(session_id, rid, text)

    @server.feature(CHAT_RESET)
    def chat_reset(ls: QwenLanguageServer, params: ChatResetParams | None) -> ChatResetResult:
        session_id = (params.session_id if params else None) or "default"
        return ChatResetResult(session_id, ls.chat.reset(session_id))
