"""textDocument/inlineCompletion (LSP 3.18), the acceptance command and `qwen/stats`."""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any
from urllib.parse import unquote

from lsprotocol import types

from lsp_server.completion.pipeline import CompletionInput
from lsp_server.features.documents import document
from lsp_server.model.errors import ModelError
from lsp_server.positions import offset_at
from lsp_server.server import QwenLanguageServer

ACCEPT_COMMAND = "qwen.didAccept"
PARTIAL_ACCEPT_NOTIFICATION = "qwen/didPartiallyAccept"
STATS_REQUEST = "qwen/stats"


def _rss_bytes() -> int:
    """Return this process's resident memory (Linux /proc; peak RSS elsewhere)."""
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


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
        uri = params.text_document.uri
        doc = document(ls, uri)
        if doc is None:  # never read unopened files from disk on the hot path
            return None
        text, version = doc.text, doc.version
        pos = params.position
        inp = CompletionInput(
            document_key=uri,
            text=text,
            offset=offset_at(text, pos.line, pos.character, doc.encoding),
            path=doc.path,
            relative_path=doc.rel if doc.path else None,
            repo_name=doc.repo,
            language=doc.language,
            received_at=received,
        )
        explicit = params.context.trigger_kind == types.InlineCompletionTriggerKind.Invoked
        ls.set_busy(True)
        try:
            completion = await ls.pipeline.complete(inp, explicit=explicit)
        except ModelError as err:
            ls.report_model_error(err)
            return None
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

    @server.command(ACCEPT_COMMAND)
    def did_accept(ls: QwenLanguageServer, *args: Any) -> None:
        ls.pipeline.accepted(_completion_id(args))

    @server.feature(PARTIAL_ACCEPT_NOTIFICATION)
    def did_partially_accept(ls: QwenLanguageServer, params: Any) -> None:
        ls.pipeline.stats.partially_accepted += 1

    @server.feature(STATS_REQUEST)
    def stats(ls: QwenLanguageServer, params: Any) -> dict[str, Any]:
        out = ls.pipeline.stats.as_dict()
        serving = ls.endpoints.serving
        out["serving"] = serving.settings.base_url if serving else None
        out["endpoints"] = [{
            "provider": m.settings.provider,
            "baseUrl": m.settings.base_url,
            "model": m.settings.completion_model,
            "lastError": m.health.last_error.message if m.health.last_error else None,
            "pausedForSeconds": round(m.health.seconds_until_retry(), 1),
            "openConnections": m.client.open_connections(),
            "charsPerToken": round(m.tokens.chars_per_token, 3),
            "tokenCounts": m.tokens.source,
            "contextWindow": m.tokens.max_context,
            "promptCache": m.client.prompt_cache.as_dict(),
        } for m in ls.endpoints.members]
        out["process"] = {"rssMb": round(_rss_bytes() / 2**20, 1),
                          "tasks": len(asyncio.all_tasks())}
        return out
