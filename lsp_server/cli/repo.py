"""The `qwen-lsp index` and `qwen-lsp context` subcommands."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from typing import TYPE_CHECKING

from lsp_server.cli.inputs import (
    EXIT_CODES_HELP,
    check_directory,
    check_may_send,
    check_position,
    read_text,
    whole_number,
)

if TYPE_CHECKING:
    from lsp_server.model.client import ModelClient

# A token budget is checked against the configured endpoint's tokenizer this many times,
# shrinking the character budget each time it was over.
_FIT_ROUNDS = 3


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the repository-context subcommands to the CLI."""
    index = subparsers.add_parser(
        "index",
        help="build or refresh the persistent repository index",
        description="Scan ROOT (honouring .gitignore and .qwenignore), parse what changed, and "
        "print files, symbols, re-parsed vs reused, skips by reason, time, memory. "
        "The index stays on this machine, in the user cache directory.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    index.add_argument("root", metavar="ROOT")
    index.add_argument("--json", action="store_true", help="print the figures as JSON")
    index.add_argument(
        "--workers",
        type=whole_number(1),
        default=2,
        help="parser processes, at least 1 (default 2)",
    )
    index.set_defaults(func=_index)

    context = subparsers.add_parser(
        "context",
        help="print the exact prompt the server would send for a cursor",
        description="Print the repository-level FIM prompt for a cursor (0-based line and "
        "UTF-16 character), using the persistent index of ROOT.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    context.add_argument("--root", required=True)
    context.add_argument("--file", required=True, help="the current file")
    context.add_argument("--line", type=int, required=True)
    context.add_argument("--character", type=int, required=True)
    context.add_argument("--text-file", help="stands in for the unsaved buffer of --file")
    budget = context.add_mutually_exclusive_group()
    budget.add_argument(
        "--budget-chars", type=whole_number(0), help="cap for the cross-file context part"
    )
    budget.add_argument(
        "--budget-tokens",
        type=whole_number(0),
        help="the same cap, in tokens: counted by the configured endpoint's "
        "tokenizer when it has one (vLLM, llama.cpp), else estimated",
    )
    context.add_argument(
        "--json", action="store_true", help="print {prompt, snippets, timings_ms} as JSON"
    )
    context.set_defaults(func=_context)


def _index(args: argparse.Namespace) -> int:
    from lsp_server.context.repo_context import RepoContext

    root = check_directory(args.root)
    engine = RepoContext([root], workers=args.workers)
    try:
        stats = engine.build_sync()
        stores = engine.index.store_files()
    finally:
        engine.close()
    figures = stats.as_dict()
    figures["root"] = root
    figures["index_files"] = stores
    figures["index_mb"] = round(_disk_mb(stores), 1)
    if args.json:
        print(json.dumps(figures, indent=2))
        return 0
    print(f"root       {root}")
    print(f"files      {stats.files}")
    print(f"symbols    {stats.symbols}")
    print(f"reparsed   {stats.parsed}")
    print(f"reused     {stats.reused}")
    skipped = ", ".join(f"{k} {v}" for k, v in sorted(stats.skipped.items())) or "none"
    print(f"skipped    {skipped}")
    print(f"seconds    {stats.seconds:.2f}")
    print(f"peak RSS   {stats.peak_rss_mb:.0f} MB")
    for store in stores:
        print(f"stored in  {store} ({_disk_mb([store]):.1f} MB)")
    print(
        "The index stays on this machine: nothing in it is sent anywhere. Delete that file "
        f"(or all of {os.path.dirname(stores[0]) if stores else 'the index directory'}) "
        "to drop it; it is rebuilt when needed."
    )
    return 0


def _disk_mb(stores: list[str]) -> float:
    """Return the size of index files on disk, with their sqlite journals, in MB."""
    total = 0
    for store in stores:
        for part in (store, f"{store}-wal", f"{store}-shm"):
            try:
                total += os.path.getsize(part)
            except OSError:
                pass
    return total / 2**20


def _context(args: argparse.Namespace) -> int:
    """Print the prompt through the server's own code path (`CompletionPipeline.prompt_for`),
    with the settings the environment gives, for the buffer the server would hold."""
    from dataclasses import replace

    from lsp_server.completion.pipeline import CompletionInput, CompletionPipeline
    from lsp_server.context.languages import language_for_path
    from lsp_server.context.repo_context import RepoContext
    from lsp_server.model.pool import EndpointPool
    from lsp_server.model.tokens import TokenMeter
    from lsp_server.outbound import gate
    from lsp_server.positions import offset_at
    from lsp_server.prompt import context_part
    from lsp_server.settings import resolve_settings

    started = time.perf_counter()
    root = os.path.realpath(check_directory(args.root))
    path = os.path.realpath(args.file)
    source = args.text_file or args.file
    text = read_text(source)
    check_position(text, args.line, args.character, source)
    settings, _ = resolve_settings(None, os.environ)
    meter = TokenMeter()
    counter: ModelClient | None = None
    budget = settings.completion.context_chars  # what the server passes
    if args.budget_chars is not None:
        budget = max(0, args.budget_chars)
    elif args.budget_tokens is not None:
        counter = _token_counter()
        budget = meter.chars(max(0, args.budget_tokens))
    engine = RepoContext([root])
    endpoints = EndpointPool(settings.endpoints)
    pipeline = CompletionPipeline(endpoints, lambda: settings, context=lambda: engine)
    runner = asyncio.Runner()  # one loop for every count: the client's connections live on it
    try:
        t0 = time.perf_counter()
        stats = engine.build_sync()
        engine.index.fill_chunks()  # as the server once its similar-code index is ready
        # As the language server: windows of files on disk are read off the request path, so
        # a first request at a cursor goes without those not read yet.
        engine.blocking_reads = False
        t1 = time.perf_counter()
        offset = offset_at(text, args.line, args.character)
        check_may_send(args.file, lambda _: engine.may_send(path))
        inp = CompletionInput(
            document_key=path, text=text, offset=offset, path=path,
            relative_path=os.path.relpath(path, root).replace(os.sep, "/"),
            repo_name=os.path.basename(os.path.abspath(args.root)),
            language=language_for_path(path))

        def prompt_within(chars: int) -> str:
            engine.forget_cursors()  # each try is a first request, as for a fresh server
            return pipeline.prompt_for(inp, replace(settings, completion=replace(
                settings.completion, context_chars=chars)))

        prompt = prompt_within(budget)
        context_tokens: int | None = None
        for _ in range(_FIT_ROUNDS if counter is not None else 0):
            part = context_part(gate().context_files(
                engine.last_explained.files if engine.last_explained else []))
            count = runner.run(counter.count_tokens(part)) if part else None
            if count is None:
                break
            meter.source, context_tokens = "endpoint", count.tokens
            if count.tokens <= args.budget_tokens:
                break
            budget = int(budget * args.budget_tokens / count.tokens * 0.97)
            prompt = prompt_within(budget)
            context_tokens = None
        explained = engine.last_explained
    finally:
        engine.close()
        if counter is not None:
            runner.run(counter.aclose())
        runner.run(endpoints.aclose())
        runner.close()
    files = explained.files if explained is not None else []
    timings = dict(explained.timings_ms) if explained is not None else {}
    timings["index"] = round((t1 - t0) * 1e3, 3)
    timings["command"] = round((time.perf_counter() - started) * 1e3, 3)
    if args.json:
        snippets = [{"path": s.rel, "start_line": s.start_line, "end_line": s.end_line,
                     "source": s.source, "score": s.score}
                    for s in (explained.snippets if explained is not None else [])]
        report: dict = {"prompt": prompt, "snippets": snippets, "timings_ms": timings}
        if args.budget_tokens is not None:
            report["tokens"] = {"budget": args.budget_tokens, "counted_by": meter.source,
                                "context": context_tokens if context_tokens is not None
                                else meter.tokens(len(context_part(files)))}
        print(json.dumps({**report,
                          "index": {"files": stats.files, "reparsed": stats.parsed,
                                    "reused": stats.reused}}, indent=2))
    else:
        sys.stdout.write(prompt)
        if not prompt.endswith("\n"):
            sys.stdout.write("\n")
    return 0


def _token_counter() -> ModelClient | None:
    """Return a client for the configured endpoint (environment), to count tokens with."""
    from lsp_server.model.client import ModelClient
    from lsp_server.settings import resolve_settings

    settings, _ = resolve_settings(None, os.environ)
    if settings.endpoint.provider in ("dashscope", "ollama"):
        return None  # no tokenizer route: don't open a connection for nothing
    return ModelClient(settings.endpoint)
