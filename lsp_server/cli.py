"""qwen-lsp [serve] | complete FILE:LINE:COL | doctor | context | index."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from dataclasses import dataclass
from typing import Any

from lsp_server import __version__, logs

_DESCRIPTION = """\
A language server that brings Qwen coder models to your editor: inline completions
(fill-in-the-middle), code actions and chat, against Model Studio (DashScope), vLLM,
SGLang, Ollama, llama.cpp or LM Studio.

With no subcommand it serves LSP over stdio; editors launch it that way."""

_EPILOG = """\
endpoint configuration (LSP settings win over environment variables):
  QWEN_LSP_BASE_URL          e.g. http://127.0.0.1:8000/v1 (vLLM), http://127.0.0.1:11434 (Ollama)
  QWEN_LSP_PROVIDER          openai | dashscope | ollama | llamacpp (guessed from the URL if unset)
  QWEN_LSP_API_KEY           bearer token, if the endpoint needs one
  QWEN_LSP_COMPLETION_MODEL  model for inline completions (FIM)
  QWEN_LSP_CHAT_MODEL        model for chat and code actions
  DASHSCOPE_API_KEY          selects Model Studio (international endpoint) unless a URL is set
  OPENAI_API_KEY, OPENAI_BASE_URL, OPENAI_MODEL  also honoured (as Qwen Code uses them)
With nothing set: Ollama at http://127.0.0.1:11434 with qwen2.5-coder:1.5b-base.

examples:
  qwen-lsp complete src/app.py:41:8      suggestion at line 42, column 9 (0-based, UTF-16)
  qwen-lsp doctor                        check the endpoint and say how to fix what fails"""


def _build_parser() -> argparse.ArgumentParser:
    from lsp_server.context import commands as context_commands

    parser = argparse.ArgumentParser(
        prog="qwen-lsp", description=_DESCRIPTION, epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"qwen-lsp {__version__}")
    parser.add_argument("--log-level", default=os.environ.get("QWEN_LSP_LOG_LEVEL", "INFO"),
                        help="logging level for stderr (default INFO)")
    parser.add_argument("--log-file", help="also append logs to this file")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = sub.add_parser("serve", help="serve LSP over stdio (the default)")
    serve.set_defaults(func=_serve)

    complete = sub.add_parser(
        "complete", help="print the suggestion the editor would show at FILE:LINE:COL",
        description="Print the inline completion at a position (0-based line, 0-based UTF-16 "
                    "column) of a file, as the language server would offer it.")
    complete.add_argument("location", metavar="FILE:LINE:COL")
    complete.add_argument("--json", action="store_true", help="print JSON with timings")
    complete.set_defaults(func=_complete)

    doctor = sub.add_parser(
        "doctor", help="check the configured endpoint and explain how to fix failures",
        description="Check that the endpoint is reachable, accepts the API key, serves the "
                    "model, and answers a tiny FIM request; print a verdict and fixes.")
    doctor.add_argument("--json", action="store_true", help="print the checks as JSON")
    doctor.set_defaults(func=_doctor)

    context_commands.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    logs.setup(args.log_level, args.log_file)
    func = getattr(args, "func", _serve)
    try:
        return int(func(args) or 0)
    except KeyboardInterrupt:
        return 130


def _serve(args: argparse.Namespace) -> int:
    from lsp_server.server import create_server

    # stdout carries the protocol: anything printed by accident goes to stderr instead.
    protocol_out = sys.stdout.buffer
    sys.stdout = sys.stderr
    create_server().start_io(sys.stdin.buffer, protocol_out)
    return 0


# -- complete ---------------------------------------------------------------------------
def _parse_location(location: str) -> tuple[str, int, int]:
    path, line, col = location.rsplit(":", 2)
    return path, int(line), int(col)


def _complete(args: argparse.Namespace) -> int:
    from lsp_server.completion.pipeline import CompletionInput, CompletionPipeline
    from lsp_server.context.engine import RepoContext
    from lsp_server.context.languages import language_for_path
    from lsp_server.model.errors import ModelError
    from lsp_server.model.pool import EndpointPool
    from lsp_server.positions import offset_at
    from lsp_server.settings import resolve_settings

    try:
        path, line, col = _parse_location(args.location)
    except ValueError:
        print(f"qwen-lsp: expected FILE:LINE:COL, got {args.location!r}", file=sys.stderr)
        return 2
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        print(f"qwen-lsp: cannot read {path}: {exc.strerror}", file=sys.stderr)
        return 2
    if b"\0" in data[:8192]:
        print(f"qwen-lsp: {path} looks binary; no completion", file=sys.stderr)
        return 2
    text = data.decode("utf-8", "replace")
    abspath = os.path.abspath(path)
    settings, problems = resolve_settings(None, os.environ)
    for problem in problems:
        print(f"qwen-lsp: {problem}", file=sys.stderr)

    root = _repo_root(abspath)
    relative = os.path.relpath(abspath, root).replace(os.sep, "/")
    context = RepoContext([root]) if settings.index.enabled else None

    served = settings.completion.model

    async def run() -> tuple[Any, float]:
        nonlocal served
        endpoints = EndpointPool(settings.endpoints)
        pipeline = CompletionPipeline(endpoints, lambda: settings, context=lambda: context)
        started = time.perf_counter()
        try:
            if context is not None:
                context.build_sync()  # persistent: a second run re-parses nothing
            result = await pipeline.complete(CompletionInput(
                document_key=abspath, text=text,
                offset=offset_at(text, line, col), path=abspath,
                relative_path=relative,
                repo_name=os.path.basename(root), language=language_for_path(path),
            ), explicit=True)
            member = endpoints.serving or endpoints.primary
            info = member.client.info
            served = (member.client.served_model or (info.model if info else None)
                      or served)
        finally:
            await endpoints.aclose()
            if context is not None:
                context.close()
        return result, (time.perf_counter() - started) * 1000

    try:
        completion, ms = asyncio.run(run())
    except ModelError as err:
        print(f"qwen-lsp: {err.message}", file=sys.stderr)
        return 1
    suggestion = completion.text if completion else ""
    if args.json:
        print(json.dumps({"completion": suggestion, "ms": round(ms, 1), "model": served}))
    elif suggestion:
        print(suggestion)
    else:
        print("qwen-lsp: no suggestion at that position", file=sys.stderr)
    return 0


def _repo_root(path: str) -> str:
    """Return the nearest enclosing directory that holds a .git, else the file's directory."""
    here = os.path.dirname(path)
    probe = here
    while True:
        if os.path.exists(os.path.join(probe, ".git")):
            return probe
        parent = os.path.dirname(probe)
        if parent == probe:
            return here
        probe = parent


# -- doctor -----------------------------------------------------------------------------
@dataclass
class _Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    warning: bool = False  # works, but poorly: does not make the verdict "not working"

    @property
    def passes(self) -> bool:
        return self.ok or self.warning


_NOT_QWEN_FIM = ("this model does not know Qwen's FIM tokens; completions will be poor: use a "
                 "Qwen2.5-Coder base or Qwen3-Coder model")


async def _run_doctor() -> tuple[dict[str, str], list[_Check]]:
    from lsp_server.model.client import ModelClient
    from lsp_server.model.dialects import CompletionRequest
    from lsp_server.model.errors import ErrorKind, ModelError
    from lsp_server.prompt import STOP_TOKENS, build_fim_prompt
    from lsp_server.settings import describe, resolve_settings

    settings, problems = resolve_settings(None, os.environ)
    summary = describe(settings)
    checks = [_Check("settings", not problems, "; ".join(problems) or "valid",
                     "fix the settings named above" if problems else "")]
    client = ModelClient(settings.endpoint)
    ep = settings.endpoint
    try:
        try:
            models = await client.list_models()
        except ModelError as err:
            reachable = err.kind not in (ErrorKind.UNREACHABLE, ErrorKind.TIMEOUT, ErrorKind.TLS)
            checks.append(_Check("reachable", reachable,
                                 f"{ep.base_url} answered" if reachable else err.message,
                                 "" if reachable else _fix_for(err, settings)))
            if reachable:
                checks.append(_Check("auth", err.kind != ErrorKind.AUTH, err.message,
                                     _fix_for(err, settings)))
            return summary, checks
        checks.append(_Check("reachable", True, f"{ep.base_url} answered"))
        checks.append(_Check("auth", True, "accepted" if ep.api_key else "no key needed"))
        model = settings.completion.model
        present = (not model) or any(m == model or m == f"{model}:latest" for m in models)
        shown = ", ".join(models[:8]) + (" ..." if len(models) > 8 else "")
        served = model or (models[0] if models else "?")
        checks.append(_Check(
            "model", present,
            f"{served} is served" if present
            else f"{model} is not among the served models ({shown or 'none'})",
            "" if present else _model_fix(settings.endpoint.provider, model)))
        if not present:
            return summary, checks
        prompt = build_fim_prompt("def add(a, b):\n    return ", "\n")
        started = time.perf_counter()
        first = None
        text = ""
        try:
            async with asyncio.timeout(settings.completion.timeout_ms / 1000 * 3):
                async for piece in client.stream_completion(CompletionRequest(
                        prompt, model, 8, 0.0, STOP_TOKENS)):
                    first = first or time.perf_counter()
                    text += piece
        except (ModelError, TimeoutError) as err:
            message = err.message if isinstance(err, ModelError) else "timed out"
            checks.append(_Check("fim", False, message,
                                 _fix_for(err, settings) if isinstance(err, ModelError) else
                                 "the model may still be loading: try again, or use a smaller "
                                 "model"))
            return summary, checks
        total = (time.perf_counter() - started) * 1000
        ttft = ((first or time.perf_counter()) - started) * 1000
        checks.append(_Check("fim", True,
                             f"answered {text!r} in {total:.0f} ms "
                             f"(first token after {ttft:.0f} ms)"))
        checks.extend(await _model_checks(client, model))
    finally:
        await client.aclose()
    return summary, checks


async def _model_checks(client: Any, model: str) -> list[_Check]:
    """Return what the server says of its context size, and whether its tokenizer knows
    Qwen's FIM and repository tokens (where it can tokenize)."""
    from lsp_server.prompt import FILE_SEP, FIM_MIDDLE, FIM_PREFIX, FIM_SUFFIX, REPO_NAME

    checks = []
    info = await client.server_info()
    if info.context:
        checks.append(_Check("context", True, f"{info.context} tokens (from {info.source}); "
                                              "prompts are fitted under it"))
    else:
        checks.append(_Check("context", True, "the endpoint does not say; prompts keep their "
                                              "budgets (cap them with QWEN_LSP_PROMPT_TOKENS)"))
    counts = {}
    for token in (FIM_PREFIX, FIM_SUFFIX, FIM_MIDDLE, REPO_NAME, FILE_SEP):
        found = await client.count_tokens(token, model)
        if found is None:
            return checks  # the server cannot tokenize: nothing to tell
        counts[token] = found.tokens
    split = {t: n for t, n in counts.items() if n != 1}
    if split:
        checks.append(_Check("fim-tokens", False, _NOT_QWEN_FIM + " (" + ", ".join(
            f"{t} is {n} tokens" for t, n in split.items()) + ")",
            "set QWEN_LSP_COMPLETION_MODEL to a Qwen coder model", warning=True))
    else:
        checks.append(_Check("fim-tokens", True, "each FIM and repository token is one token"))
    return checks


def _fix_for(err: Any, settings: Any) -> str:
    from lsp_server.model.errors import ErrorKind

    ep = settings.endpoint
    if err.kind == ErrorKind.UNREACHABLE:
        if ep.provider == "ollama":
            return ("start Ollama (`ollama serve`), or point QWEN_LSP_BASE_URL / "
                    "qwen.endpoint.baseUrl at your server")
        return "start the server, or set QWEN_LSP_BASE_URL / qwen.endpoint.baseUrl to its URL"
    if err.kind == ErrorKind.AUTH:
        return ("set QWEN_LSP_API_KEY (or DASHSCOPE_API_KEY) to a valid key; Model Studio keys "
                "only work with the base URL of their region")
    if err.kind == ErrorKind.TLS:
        return "set qwen.endpoint.caBundle (or SSL_CERT_FILE) to your CA certificates"
    if err.kind == ErrorKind.NOT_FOUND:
        return ("check QWEN_LSP_PROVIDER and QWEN_LSP_BASE_URL (OpenAI-compatible servers "
                "usually end in /v1)")
    if err.kind == ErrorKind.RATE_LIMITED:
        return "wait, or raise the quota of your account"
    if err.kind == ErrorKind.TIMEOUT:
        return "the server is slow or still loading the model: try again"
    return "see the message above; run with --log-level DEBUG for details"


def _model_fix(provider: str, model: str) -> str:
    if provider == "ollama":
        return f"run `ollama pull {model}`, or set QWEN_LSP_COMPLETION_MODEL to a listed model"
    return "set QWEN_LSP_COMPLETION_MODEL (qwen.completion.model) to one of the listed models"


def _doctor(args: argparse.Namespace) -> int:
    summary, checks = asyncio.run(_run_doctor())
    ok = all(c.passes for c in checks)
    warned = any(c.warning and not c.ok for c in checks)
    if args.json:
        print(json.dumps({"ok": ok, "warnings": warned, "endpoint": summary,
                          "checks": [c.__dict__ for c in checks]}, indent=2))
        return 0 if ok else 1
    for key, value in summary.items():
        print(f"{key:>16}: {value}")
    print()
    for c in checks:
        print(f"[{'ok' if c.ok else 'warn' if c.warning else 'FAIL'}] {c.name}: {c.detail}")
        if c.fix:
            print(f"       fix: {c.fix}")
    print()
    if not ok:
        print("verdict: not working; apply the fix above, then run `qwen-lsp doctor` again")
    elif warned:
        print("verdict: working, but see the warning above")
    else:
        print("verdict: ready")
    return 0 if ok else 1
