"""The chat service: sessions, prompts, fail-over through the endpoint pool, streaming.

Both the chat and the code actions ask the model through `ChatService.ask`: every prompt
leaves through the one outgoing gate, within `qwen.chat.timeoutMs`, on the first endpoint of
the pool that answers (another one only while the user has seen nothing of the answer), with
Qwen's special tokens cut from what comes back. What the user is shown streams through a
callback; the service knows nothing of LSP.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol

from lsp_server.chat.prompts import Focus, chat_messages, context_block
from lsp_server.chat.session import SessionStore
from lsp_server.model.dialects import ChatDelta, ChatRequest
from lsp_server.model.errors import ErrorKind, ModelError
from lsp_server.outbound import TokenRestorer, gate, restore_tokens
from lsp_server.prompt import CHAT_STOP_TOKENS, ContextFile, SpecialTokenFilter

if TYPE_CHECKING:
    from lsp_server.context.repo_context import RepoContext
    from lsp_server.documents import Document
    from lsp_server.model.pool import EndpointPool, Member
    from lsp_server.settings import Settings

log = logging.getLogger(__name__)

DeltaCallback = Callable[[ChatDelta], None]


class Status(Protocol):
    """Where the service says that a request runs and that the endpoint answered."""

    def set_busy(self, busy: bool) -> None: ...

    def report_model_ok(self) -> None: ...


class ChatService:
    """Chat turns and one-shot answers for the chat and the code actions of one server."""

    def __init__(self, endpoints: EndpointPool, settings: Callable[[], Settings], *,
                 context: Callable[[], RepoContext | None],
                 root_of: Callable[[str], str | None], status: Status) -> None:
        self._endpoints = endpoints
        self._settings = settings
        self._context = context
        self._root_of = root_of
        self._status = status
        self.sessions = SessionStore()

    # -- what may be sent ----------------------------------------------------------------
    def may_send(self, path: str | None) -> bool:
        """Return whether a file's content may leave the machine (secrets, ignored files: no)."""
        context = self._context()
        if path is None or context is None:
            return True
        try:
            return bool(context.may_send(path))
        except Exception:  # when unsure, send nothing
            log.exception("may_send failed for %s", path)
            return False

    def repo_context(self, doc: Document, offset: int, budget: int) -> Sequence[ContextFile]:
        """Return repository context for a position, never from files that may not be sent."""
        context = self._context()
        if context is None or doc.path is None or budget <= 0:
            return []
        try:
            files = context.context_files(doc.path, doc.text, offset, budget)
        except Exception:  # context is an enhancement: answer without it
            log.exception("repository context failed for %s", doc.path)
            return []
        root = self._root_of(doc.path)
        return [f for f in files
                if self.may_send(os.path.join(root, f.path) if root else f.path)]

    # -- asking the model ----------------------------------------------------------------
    async def ask(self, req: ChatRequest, on_delta: DeltaCallback | None = None) -> str:
        """Stream one chat request within qwen.chat.timeoutMs; return the answer (no reasoning)."""
        timeout_ms = self._settings().chat.timeout_ms
        parts: list[str] = []
        shown = False  # once the user saw part of an answer, another endpoint can't redo it

        # Every chat-route prompt (chat, Explain, rewrites, tests) leaves through the one gate.
        req = dataclasses.replace(req, messages=gate().messages(req.messages))

        async def attempt(member: Member) -> str:
            parts.clear()
            # One filter per kind of text: a special token split across deltas is still cut.
            filters = {False: SpecialTokenFilter(), True: SpecialTokenFilter()}
            # What the user sees has the tokens the gate neutralised as their own text again
            # (a zero-width space copied out of a chat answer would end up in their code), even
            # split across deltas. The answer returned keeps them neutralised: edits restore
            # them after the answer is cleaned (cleaning strips control tokens), `turn` for
            # display.
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

        status = self._status
        status.set_busy(True)
        try:
            async with asyncio.timeout(max(1, timeout_ms) / 1000):
                answer = await self._endpoints.run(attempt, may_fail_over=lambda: not shown)
        except TimeoutError:
            status.set_busy(False)
            raise ModelError(ErrorKind.TIMEOUT, f"the answer took longer than "
                                                f"qwen.chat.timeoutMs ({timeout_ms} ms)") from None
        except asyncio.CancelledError:
            status.set_busy(False)
            raise
        status.report_model_ok()
        status.set_busy(False)
        return answer

    async def turn(self, session_id: str, message: str, *, focus: Focus | None,
                   repo: Sequence[ContextFile], thinking: bool,
                   on_delta: DeltaCallback) -> str:
        """Answer `message` in a session, streaming to `on_delta`; return the answer text.

        The session keeps the turn only when the answer is complete.
        """
        s = self._settings().chat
        session = self.sessions.get(session_id, s.history_tokens)
        messages = chat_messages(session.messages(), message,
                                 context=context_block(focus, repo, s.context_chars),
                                 dropped_turns=session.dropped)
        req = ChatRequest(messages, s.model, s.max_tokens, s.temperature, thinking)
        text = restore_tokens(await self.ask(req, on_delta))
        session.add(message, text)
        return text

    def reset(self, session_id: str) -> bool:
        """Forget a session; return whether it existed."""
        return self.sessions.reset(session_id)
