"""`qwen/chat` (streamed as `qwen/chatDelta` notifications) and `qwen/chatReset`.

LSP has no chat, so these are custom methods. A chat request resolves with the whole answer
after its deltas; `$/cancelRequest` cancels the handler's task, which closes the HTTP stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams

from lsp_server.chat.prompts import Focus, chat_messages, context_block
from lsp_server.chat.session import SessionStore
from lsp_server.features.documents import Document, document, plain, workspace_root
from lsp_server.model.dialects import ChatDelta, ChatRequest
from lsp_server.model.errors import ErrorKind, ModelError
from lsp_server.model.pool import Member
from lsp_server.outbound import TokenRestorer, gate, restore_tokens
from lsp_server.positions import line_count, offset_at
from lsp_server.prompt import CHAT_STOP_TOKENS, ContextFile, SpecialTokenFilter
from lsp_server.server import QwenLanguageServer

log = logging.getLogger(__name__)

CHAT_REQUEST = "qwen/chat"
CHAT_DELTA = "qwen/chatDelta"
CHAT_RESET = "qwen/chatReset"
REQUEST_FAILED = -32803  # LSP ErrorCodes.RequestFailed

_stores: weakref.WeakKeyDictionary[QwenLanguageServer, SessionStore] = (
    weakref.WeakKeyDictionary())


def sessions(ls: QwenLanguageServer) -> SessionStore:
    """Return the chat sessions of a server."""
    store = _stores.get(ls)
    if store is None:
        store = _stores[ls] = SessionStore()
    return store


def may_send(ls: QwenLanguageServer, path: str | None) -> bool:
    """Return whether a file's content may leave the machine (secrets, ignored files: no)."""
    if path is None or ls.context is None:
        return True
    try:
        return bool(ls.context.may_send(path))
    except Exception:  # when unsure, send nothing
        log.exception("may_send failed for %s", path)
        return False


def range_offsets(doc: Document, rng: Any) -> tuple[int, int] | None:
    """Return string offsets of an LSP range (dict or lsprotocol), ordered; None if absent."""
    rng = plain(rng)
    if not isinstance(rng, Mapping):
        return None
    try:
        s, e = rng["start"], rng["end"]
        start = offset_at(doc.text, int(s["line"]), int(s["character"]), doc.encoding)
        end = offset_at(doc.text, int(e["line"]), int(e["character"]), doc.encoding)
    except (KeyError, TypeError, ValueError):
        return None
    return (start, end) if start <= end else (end, start)


def invalid_range(doc: Document, rng: Any) -> str | None:
    """Return why an LSP range given by a client cannot name a place in `doc`, or None.

    Characters past a line's end are clamped (LSP allows it), but a negative number or a line
    past the document's end is refused: clamped, such a range became the whole document.
    """
    rng = plain(rng)
    if not isinstance(rng, Mapping):
        return None
    last = line_count(doc.text)
    for name in ("start", "end"):
        pos = rng.get(name)
        try:
            line, character = int(pos["line"]), int(pos["character"])
        except (KeyError, TypeError, ValueError):
            return f"the range's {name} is not a position"
        if line < 0 or character < 0:
            return f"the range's {name} ({line}:{character}) is negative"
        if line > last:
            return (f"the range's {name} is on line {line}, past the document's end "
                    f"(line {last})")
    return None


def repo_context(ls: QwenLanguageServer, doc: Document, offset: int,
                 budget: int) -> Sequence[ContextFile]:
    """Return repository context for a position, never from files that may not be sent."""
    if ls.context is None or doc.path is None or budget <= 0:
        return []
    try:
        files = ls.context.context_files(doc.path, doc.text, offset, budget)
    except Exception:  # context is an enhancement: answer without it
        log.exception("repository context failed for %s", doc.path)
        return []
    root = workspace_root(ls, doc.path)
    return [f for f in files
            if may_send(ls, os.path.join(root, f.path) if root else f.path)]


def model_failure(ls: QwenLanguageServer, err: ModelError) -> JsonRpcException:
    """Report an endpoint failure to the user and return the error the request fails with."""
    ls.report_model_error(err)
    return JsonRpcException(err.message, code=REQUEST_FAILED)


async def ask_model(
    ls: QwenLanguageServer,
    req: ChatRequest,
    on_delta: Callable[[ChatDelta], None] | None = None,
) -> str:
    """Stream one chat request within qwen.chat.timeoutMs; return the answer (no reasoning)."""
    timeout_ms = ls.settings.chat.timeout_ms
    parts: list[str] = []
    shown = False  # once the user saw part of an answer, another endpoint can't redo it

    # Every chat-route prompt (chat, Explain, rewrites, tests) leaves through the one gate.
    req = dataclasses.replace(req, messages=gate().messages(req.messages))

    async def attempt(member: Member) -> str:
        parts.clear()
        # One filter per kind of text: a special token split across deltas is still cut.
        filters = {False: SpecialTokenFilter(), True: SpecialTokenFilter()}
        # What the user sees has the tokens the gate neutralised as their own text again (a
        # zero-width space copied out of a chat answer would end up in their code), even split
        # across deltas. The answer returned keeps them neutralised: edits restore them after
        # the answer is cleaned (cleaning strips control tokens), `stream_answer` for display.
        restorer = TokenRestorer()

        def show(text: str, reasoning: bool) -> None:
            nonlocal shown
            if text and on_delta is not None:
                shown = True
                on_delta(ChatDelta(text, reasoning))

        def emit(text: str, reasoning: bool) -> None:
            if not text:
                return
            if reasoning:
                show(restore_tokens(text), True)
                return
            parts.append(text)
            show(restorer.feed(text), False)

        stream = member.client.stream_chat(dataclasses.replace(
            req, model=member.settings.chat_model or req.model, stop=CHAT_STOP_TOKENS))
        async with contextlib.aclosing(stream):
            async for delta in stream:
                emit(filters[delta.reasoning].feed(delta.text), delta.reasoning)
        for reasoning, held in filters.items():
            emit(held.flush(), reasoning)
        show(restorer.flush(), False)
        return "".join(parts)

    ls.set_busy(True)
    try:
        async with asyncio.timeout(max(1, timeout_ms) / 1000):
            answer = await ls.endpoints.run(attempt, may_fail_over=lambda: not shown)
    except TimeoutError:
        ls.set_busy(False)
        raise ModelError(ErrorKind.TIMEOUT, f"the answer took longer than qwen.chat.timeoutMs "
                                            f"({timeout_ms} ms)") from None
    except asyncio.CancelledError:
        ls.set_busy(False)
        raise
    ls.report_model_ok()
    ls.set_busy(False)
    return answer


async def stream_answer(
    ls: QwenLanguageServer,
    *,
    session_id: str,
    request_id: str,
    messages: list[dict[str, str]],
    thinking: bool,
) -> str:
    """Stream a chat answer to the client as `qwen/chatDelta`; return the answer text."""
    s = ls.settings.chat
    req = ChatRequest(messages, s.model, s.max_tokens, s.temperature, thinking)

    def notify(delta: ChatDelta) -> None:
        payload: dict[str, Any] = {"sessionId": session_id, "requestId": request_id,
                                   "delta": delta.text}
        if delta.reasoning:
            payload["kind"] = "reasoning"
        ls.protocol.notify(CHAT_DELTA, payload)

    return restore_tokens(await ask_model(ls, req, notify))


def request_id(ls: QwenLanguageServer) -> str:
    """Return the JSON-RPC id of the request being handled, as a string."""
    return str(ls.protocol.msg_id)


def focus_from(ls: QwenLanguageServer, context: Any) -> tuple[Document | None, Focus | None]:
    """Return the document and focus a chat context names (uri and optional range)."""
    context = plain(context) if context is not None else {}
    if not isinstance(context, Mapping) or not context.get("uri"):
        return None, None
    doc = document(ls, str(context["uri"]))
    if doc is None or not may_send(ls, doc.path):
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
            repo = repo_context(ls, doc, focus.start, settings.context_chars // 2)
        session = sessions(ls).get(session_id, settings.history_tokens)
        messages = chat_messages(session.messages(), message,
                                 context=context_block(focus, repo, settings.context_chars),
                                 dropped_turns=session.dropped)
        try:
            text = await stream_answer(ls, session_id=session_id, request_id=rid,
                                       messages=messages, thinking=settings.thinking)
        except ModelError as err:
            raise model_failure(ls, err) from None
        session.add(message, text)
        return {"sessionId": session_id, "requestId": rid, "text": text}

    @server.feature(CHAT_RESET)
    def chat_reset(ls: QwenLanguageServer, params: Any) -> dict[str, Any]:
        p = plain(params)
        session_id = str(p.get("sessionId") or "default") if isinstance(p, Mapping) else "default"
        return {"sessionId": session_id, "reset": sessions(ls).reset(session_id)}
