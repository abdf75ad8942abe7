"""What `qwen/stats` reports: completion and next-edit counters, endpoints, process, index."""

from __future__ import annotations

import asyncio
import os
from typing import TYPE_CHECKING, Any

from lsp_server.logs import mask_value

if TYPE_CHECKING:
    from lsp_server.completion.pipeline import CompletionPipeline
    from lsp_server.context.repo_context import RepoContext
    from lsp_server.model.pool import EndpointPool
    from lsp_server.nextedit.service import NextEditService


def rss_bytes() -> int:
    """Return this process's resident memory (Linux /proc; peak RSS elsewhere)."""
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def server_stats(pipeline: CompletionPipeline, next_edit: NextEditService,
                 endpoints: EndpointPool, context: RepoContext | None) -> dict[str, Any]:
    """Return the server's counters and state, with every secret in them masked."""
    out = pipeline.stats.as_dict()
    out["nextEdit"] = next_edit.stats.as_dict()
    serving = endpoints.serving
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
    } for m in endpoints.members]
    out["process"] = {"rssMb": round(rss_bytes() / 2**20, 1),
                      "tasks": len(asyncio.all_tasks())}
    if context is not None:
        out["index"] = {"ready": context.ready,
                        "similarCodeReady": context.index.chunks.ready}
    return mask_value(out)  # a base URL may carry a password
