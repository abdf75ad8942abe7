"""What the model is asked for a cursor: one line or a few, and the FIM prompt in budget.

The prompt fits the endpoint's token budget and leaves through the one outgoing gate.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from lsp_server.model.dialects import CompletionRequest
from lsp_server.model.pool import EndpointPool, Member
from lsp_server.model.tokens import fit_budgets
from lsp_server.outbound import gate
from lsp_server.prompt import STOP_TOKENS, ContextFile, fit_suffix, split_document
from lsp_server.settings import Settings

if TYPE_CHECKING:
    from lsp_server.completion.pipeline import CompletionInput

_BLOCK_OPENERS = (":", "{", "(", "[", "=>", "->", " do", " then", "\\")
_SINGLE_LINE_MAX_TOKENS = 64
_DESCRIBE_WAIT_S = 1.0  # how long a first prompt waits to learn the endpoint's context size


class ContextSource(Protocol):
    """Cross-file context for a cursor (the repository index implements this)."""

    def context_files(
        self, path: str, text: str, offset: int, budget_chars: int
    ) -> Sequence[ContextFile]: ...

    def may_send(self, path: str) -> bool: ...


def is_multiline(text: str, offset: int) -> bool:
    """Decide whether a suggestion may span lines, from where the cursor is.

    Mid-line (code after the cursor): finish this line only. On a blank line inside an open
    block, or at the end of a line that opens one: allow a few lines.
    """
    line_begin = text.rfind("\n", 0, offset) + 1
    line_end = text.find("\n", offset)
    line_end = len(text) if line_end == -1 else line_end
    before, after = text[line_begin:offset], text[offset:line_end]
    if after.strip():
        return False
    if before.strip():
        return before.rstrip().endswith(_BLOCK_OPENERS)
    # Blank line: open block when indented, or when the previous code line opens one.
    if before:
        return True
    prev = text[:line_begin].rstrip()
    return prev.endswith(_BLOCK_OPENERS)


class RequestBuilder:
    """Builds the completion request for a cursor; one instance per server."""

    def __init__(self, endpoints: EndpointPool,
                 context: Callable[[], ContextSource | None]) -> None:
        self._endpoints = endpoints
        self._context = context
        self._describing: dict[Any, asyncio.Future] = {}

    async def request_for(self, inp: CompletionInput, settings: Settings,
                          multiline: bool) -> CompletionRequest:
        """Return the request for this cursor (a one-line answer gets a small token limit)."""
        cs = settings.completion
        await self._describe(self._endpoints.primary)  # its context size bounds the prompt
        prompt = self.prompt_for(inp, settings)
        return CompletionRequest(
            prompt=prompt,
            model=cs.model,
            max_tokens=cs.max_tokens if multiline else min(cs.max_tokens,
                                                           _SINGLE_LINE_MAX_TOKENS),
            temperature=cs.temperature,
            stop=STOP_TOKENS,
        )

    def prompt_for(self, inp: CompletionInput, settings: Settings) -> str:
        """Return the FIM prompt the endpoint is sent for this cursor."""
        cs = settings.completion
        context = self._context()
        prefix_chars, suffix_chars, context_chars = fit_budgets(
            cs.prefix_chars, cs.suffix_chars, cs.context_chars, prompt_tokens=cs.prompt_tokens,
            answer_tokens=cs.max_tokens, meter=self._endpoints.primary.tokens)
        prefix, suffix = split_document(inp.text, inp.offset, prefix_chars, suffix_chars)
        files: Sequence[ContextFile] = ()
        if context is not None and inp.path:
            files = context.context_files(inp.path, inp.text, inp.offset, context_chars)
        suffix = fit_suffix(suffix, suffix_chars, prefix, files)
        # Keys pasted into the current file leave the machine no more than those elsewhere,
        # and repository text cannot inject control tokens: the one outgoing gate.
        return gate().fim_prompt(prefix, suffix, repo_name=inp.repo_name,
                                 current_path=inp.relative_path, context_files=files)

    async def _describe(self, member: Member) -> None:
        """Learn the endpoint's context size before its first prompt is built: asked once
        per endpoint, waited for briefly (the answer still lands for later prompts)."""
        if member.described:
            return
        task = self._describing.get(member.settings)
        if task is None or task.done():
            task = self._describing[member.settings] = asyncio.ensure_future(member.describe())
            task.add_done_callback(lambda t: t.cancelled() or t.exception())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(task), _DESCRIBE_WAIT_S)
