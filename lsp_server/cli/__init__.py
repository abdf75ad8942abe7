"""qwen-lsp [serve] | complete FILE:LINE:COL | next-edit | doctor | context | index."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
import time
from dataclasses import dataclass
from typing import Any

from lsp_server import __version__, logs
from lsp_server.cli.inputs import (
    EXIT_CODES_HELP,
    EXIT_FAILED,
    EXIT_USAGE,
    CliError,
    check_directory,
    check_may_send,
    check_position,
    read_text,
)

_DESCRIPTION = """\
A language server that brings Qwen coder models to your editor: inline completions
(fill-in-the-middle), code actions and chat, against Model Studio (DashScope), vLLM,
SGLang, Ollama, llama.cpp or LM Studio.

With no subcommand it serves LSP over stdio; editors launch it that way."""

_EPILOG = (
    """\
endpoint configuration (LSP settings win over environment variables):
  QWEN_LSP_BASE_URL          e.g. http://127.0.0.1:8000/v1 (vLLM), http://127.0.0.1:11434 (Ollama)
  QWEN_LSP_PROVIDER          openai | dashscope | ollama | llamacpp (guessed from the URL if unset)
  QWEN_LSP_API_KEY           bearer token, if the endpoint needs one
  QWEN_LSP_COMPLETION_MODEL  model for inline completions (FIM)
  QWEN_LSP_CHAT_MODEL        model for chat and code actions
  QWEN_LSP_NEXT_EDIT_MODEL   model for next-edit suggestions (turns them on)
  QWEN_LSP_NEXT_EDIT_FORMAT  sweep | zeta | instinct | chat (guessed from the model name)
  DASHSCOPE_API_KEY          selects Model Studio (international endpoint) unless a URL is set
  OPENAI_API_KEY, OPENAI_BASE_URL, OPENAI_MODEL  also honoured (as Qwen Code uses them)
With nothing set: Ollama at http://127.0.0.1:11434 with qwen2.5-coder:1.5b-base.

examples:
  qwen-lsp complete src/app.py:41:8      suggestion at line 42, column 9 (0-based, UTF-16)
  qwen-lsp next-edit --root . --file src/app.py --line 41 --character 8 --before-file old.py
                                         the next edit after the change old.py -> src/app.py
  qwen-lsp doctor                        check the endpoint and say how to fix what fails


"""
    + EXIT_CODES_HELP
)

_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def _log_level(value: str) -> str:
    """An argparse type: one of the logging levels, in any case."""
    level = value.strip().upper()
    if level not in _LOG_LEVELS:
        raise argparse.ArgumentTypeError(
            f"expected one of {', '.join(_LOG_LEVELS)} (any case), got {value!r}"
        )
    return level


def _build_parser() -> argparse.ArgumentParser:
    from lsp_server.cli import repo as context_commands

    parser = argparse.ArgumentParser(
        prog="qwen-lsp",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"qwen-lsp {__version__}")
    parser.add_argument(
        "--log-level",
        type=_log_level,
        default="INFO",
        help="logging level for stderr: DEBUG, INFO, WARNING, ERROR or "
        "CRITICAL (default: $QWEN_LSP_LOG_LEVEL, else INFO)",
    )
    parser.add_argument("--log-file", help="also append logs to this file")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = sub.add_parser("serve", help="serve LSP over stdio (the default)")
    serve.set_defaults(func=_serve)

    complete = sub.add_parser(
        "complete",
        help="print the suggestion the editor would show at FILE:LINE:COL",
        description="Print the inline completion at a position (0-based line, 0-based UTF-16 "
        "column) of a file, as the language server would offer it.",
    )
    complete.add_argument("location", metavar="FILE:LINE:COL")
    complete.add_argument("--json", action="store_true", help="print JSON with timings")
    complete.set_defaults(func=_complete)

    nxt = sub.add_parser(
        "next-edit", help="print the next-edit prompt and the edits the model suggests",
        description="Print the prompt a next-edit request at a position would send (0-based "
                    "line, 0-based UTF-16 character) and the edits the endpoint answers.")
    nxt.add_argument("--root", default=".", help="workspace folder (default: the current one)")
    nxt.add_argument("--file", required=True, help="the file being edited (its current text)")
    nxt.add_argument("--line", type=int, required=True)
    nxt.add_argument("--character", type=int, required=True)
    nxt.add_argument("--before-file", help="the file before the user's last edit: seeds the "
                                           "edit history with that change")
    nxt.add_argument("--prompt-only", action="store_true",
                     help="print the prompt without calling the endpoint")
    nxt.add_argument("--json", action="store_true", help="print JSON (prompt, edits, timings)")
    nxt.set_defaults(func=_next_edit)

    doctor = sub.add_parser(
        "doctor",
        help="check the configured endpoint and explain how to fix failures",
        description="Check that the endpoint is reachable, accepts the API key, serves the "
        "model, and answers a tiny FIM request; print a verdict and fixes.",
    )
    doctor.add_argument("--json", action="store_true", help="print the checks as JSON")
    doctor.set_defaults(func=_doctor)

    context_commands.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = _build_parser()
    env_level = os.environ.get("QWEN_LSP_LOG_LEVEL", "").strip()
    if env_level:
        try:
            parser.set_defaults(log_level=_log_level(env_level))
        except argparse.ArgumentTypeError as exc:
            # An editor's environment is not a command line: say so, and keep serving.
            print(
                f"qwen-lsp: environment variable QWEN_LSP_LOG_LEVEL: {exc}; using INFO",
                file=sys.stderr,
            )
    args = parser.parse_args(argv)
    logs.setup(args.log_level, args.log_file)
    func = getattr(args, "func", _serve)
    try:
        return int(func(args) or 0)
    except CliError as err:
        print(f"qwen-lsp: {err.message}", file=sys.stderr)
        return err.code
    except KeyboardInterrupt:
        return 130


def _exit_on_interrupt(signum: int, frame: object) -> None:
    os._exit(130)


def _serve(args: argparse.Namespace) -> int:
    from lsp_server._pygls_compat import FramingError
    from lsp_server.server import create_server

    if sys.stdin.isatty():
        # A person, not an editor: say what this is, and let Ctrl-C end it at once (the
        # thread blocked reading stdin would otherwise keep the process alive).
        print(
            "qwen-lsp: serving LSP on stdio; editors start this for you; see `qwen-lsp --help`",
            file=sys.stderr,
            flush=True,
        )
        signal.signal(signal.SIGINT, _exit_on_interrupt)
    # stdout carries the protocol: anything printed by accident goes to stderr instead.
    protocol_out = sys.stdout.buffer
    sys.stdout = sys.stderr
    try:
        create_server().start_io(sys.stdin.buffer, protocol_out)
    except FramingError as exc:
        # The stream cannot be resynchronised: exit so the client restarts the server.
        logging.getLogger("lsp_server").error("the client sent %s; exiting", exc)
        return 3
    return 0


# -- complete ---------------------------------------------------------------------------
def _parse_location(location: str) -> tuple[str, int, int]:
    try:
        path, line, col = location.rsplit(":", 2)
        return path, int(line), int(col)
    except ValueError:
        raise CliError(
            f"expected FILE:LINE:COL (0-based whole numbers), got {location!r}", EXIT_USAGE
        ) from None


def _complete(args: argparse.Namespace) -> int:
    from lsp_server.completion.pipeline import CompletionInput, CompletionPipeline
    from lsp_server.context.languages import language_for_path
    from lsp_server.context.repo_context import RepoContext
    from lsp_server.context.scanner import is_secret_path
    from lsp_server.model.errors import ModelError
    from lsp_server.model.pool import EndpointPool
    from lsp_server.positions import offset_at
    from lsp_server.settings import resolve_settings

    path, line, col = _parse_location(args.location)
    text = read_text(path)
    check_position(text, line, col, path)
    abspath = os.path.abspath(path)
    settings, problems = resolve_settings(None, os.environ)
    for problem in problems:
        print(f"qwen-lsp: {problem}", file=sys.stderr)

    root = _repo_root(abspath)
    relative = os.path.relpath(abspath, root).replace(os.sep, "/")
    context = RepoContext([root]) if settings.index.enabled else None
    if not settings.completion.allow_in_secret_files:
        try:
            check_may_send(
                path, context.may_send if context is not None else lambda p: not is_secret_path(p)
            )
        except CliError:
            if context is not None:
                context.close()
            raise

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
        return EXIT_FAILED
    suggestion = completion.text if completion else ""
    if args.json:
        print(json.dumps({"completion": suggestion, "ms": round(ms, 1), "model": served}))
    elif suggestion:
        print(suggestion)
    else:
        print("qwen-lsp: no suggestion at that position", file=sys.stderr)
    return 0


def _next_edit(args: argparse.Namespace) -> int:
    import dataclasses

    from lsp_server.context.languages import language_for_path
    from lsp_server.context.repo_context import RepoContext
    from lsp_server.model.errors import ModelError
    from lsp_server.model.pool import EndpointPool
    from lsp_server.nextedit.service import NextEditRequest, NextEditService
    from lsp_server.positions import offset_at, position_at
    from lsp_server.settings import resolve_settings

    text = read_text(args.file)
    before = read_text(args.before_file) if args.before_file else None
    check_position(text, args.line, args.character, args.file)
    check_directory(args.root)
    settings, problems = resolve_settings(None, os.environ)
    for problem in problems:
        print(f"qwen-lsp: {problem}", file=sys.stderr)
    # Asked for on the command line: on, whatever qwen.nextEdit.enabled says.
    settings = dataclasses.replace(
        settings, next_edit=dataclasses.replace(settings.next_edit, enabled=True))
    root = os.path.abspath(args.root)
    abspath = os.path.abspath(args.file)
    rel = os.path.relpath(abspath, root).replace(os.sep, "/")
    context = RepoContext([root]) if settings.index.enabled and os.path.isdir(root) else None
    key = "file://" + abspath
    offset = offset_at(text, args.line, args.character)
    out: dict[str, Any] = {"format": settings.next_edit.format,
                           "model": settings.next_edit.model or "(the endpoint's model)"}

    async def run() -> None:
        pool = EndpointPool(settings.next_edit_endpoints)
        service = NextEditService(lambda: pool, lambda: settings, context=lambda: context)
        try:
            if context is not None:
                context.build_sync()
            if before is not None:
                service.document_opened(key, before)
                service.document_changed(key, abspath, rel, text)
            req = NextEditRequest(key, text, 1, offset, abspath, rel, language_for_path(abspath),
                                  explicit=True)
            started = time.perf_counter()
            prepared = service.prepare(req)
            if prepared is None:
                out["error"] = "this file's text may not be sent (a secret or ignored file)"
                return
            inp, prompt = prepared
            out["promptMs"] = round((time.perf_counter() - started) * 1000, 2)
            out["region"] = {"startLine": inp.region.start_line,
                             "endLine": inp.region.end_line}
            out["prompt"] = prompt.prompt if prompt.kind == "completion" else None
            out["messages"] = prompt.messages if prompt.kind == "chat" else None
            if args.prompt_only:
                return
            started = time.perf_counter()
            pred = await service.predict(req)
            out["ms"] = round((time.perf_counter() - started) * 1000, 1)
            out["answer"] = pred.answer
            out["dropped"] = pred.dropped or None
            out["edits"] = [{"range": {"start": dict(zip(("line", "character"),
                                                         position_at(text, e.start),
                                                         strict=True)),
                                       "end": dict(zip(("line", "character"),
                                                       position_at(text, e.end), strict=True))},
                             "text": e.text} for e in pred.edits]
        finally:
            await pool.aclose()
            if context is not None:
                context.close()

    code = 0
    try:
        asyncio.run(run())
    except ModelError as err:
        out["error"] = err.message
        code = 1
    if "error" in out and "prompt" not in out and "messages" not in out:
        code = 2
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        _print_next_edit(out)
    if "error" in out:
        print(f"qwen-lsp: {out['error']}", file=sys.stderr)
    return code


def _print_next_edit(out: dict[str, Any]) -> None:
    """Print the prompt and the edits for people."""
    if out.get("prompt") is not None:
        print(f"--- prompt ({out['format']}, raw completion) ---")
        print(out["prompt"])
    elif out.get("messages"):
        print(f"--- prompt ({out['format']}, chat) ---")
        for message in out["messages"]:
            print(f"[{message['role']}]\n{message['content']}")
    if "edits" not in out:
        return
    print("--- edits ---")
    for edit in out["edits"]:
        s, e = edit["range"]["start"], edit["range"]["end"]
        print(f"{s['line']}:{s['character']}-{e['line']}:{e['character']} -> {edit['text']!r}")
    if not out["edits"]:
        print(f"(none: {out.get('dropped') or 'no change'})")


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
    checks = [
        _Check(
            "settings",
            not problems,
            "; ".join(problems) or "valid",
            "fix the settings named above" if problems else "",
        )
    ]
    client = ModelClient(settings.endpoint)
    ep = settings.endpoint
    try:
        try:
            models = await client.list_models()
        except ModelError as err:
            reachable = err.kind not in (ErrorKind.UNREACHABLE, ErrorKind.TIMEOUT, ErrorKind.TLS)
            checks.append(
                _Check(
                    "reachable",
                    reachable,
                    f"{ep.base_url} answered" if reachable else err.message,
                    "" if reachable else _fix_for(err, settings),
                )
            )
            if reachable:
                checks.append(
                    _Check("auth", err.kind != ErrorKind.AUTH, err.message, _fix_for(err, settings))
                )
            return summary, checks
        checks.append(_Check("reachable", True, f"{ep.base_url} answered"))
        checks.append(_Check("auth", True, "accepted" if ep.api_key else "no key needed"))
        model = settings.completion.model
        present = (not model) or any(m == model or m == f"{model}:latest" for m in models)
        shown = ", ".join(models[:8]) + (" ..." if len(models) > 8 else "")
        served = model or (models[0] if models else "?")
        checks.append(
            _Check(
                "model",
                present,
                f"{served} is served"
                if present
                else f"{model} is not among the served models ({shown or 'none'})",
                "" if present else _model_fix(settings.endpoint.provider, model),
            )
        )
        if not present:
            return summary, checks
        prompt = build_fim_prompt("def add(a, b):\n    return ", "\n")
        started = time.perf_counter()
        first = None
        text = ""
        try:
            async with asyncio.timeout(settings.completion.timeout_ms / 1000 * 3):
                async for piece in client.stream_completion(
                    CompletionRequest(prompt, model, 8, 0.0, STOP_TOKENS)
                ):
                    first = first or time.perf_counter()
                    text += piece
        except (ModelError, TimeoutError) as err:
            message = err.message if isinstance(err, ModelError) else "timed out"
            checks.append(
                _Check(
                    "fim",
                    False,
                    message,
                    _fix_for(err, settings)
                    if isinstance(err, ModelError)
                    else "the model may still be loading: try again, or use a smaller model",
                )
            )
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
    info = await client.server_info(model)
    if info.context:
        checks.append(_Check("context", True, f"{info.context} tokens (from {info.source}); "
                                              "prompts are fitted under it"))
    else:
        checks.append(_Check("context", True, "the endpoint does not say; prompts keep their "
                                              "budgets (cap them with QWEN_LSP_PROMPT_TOKENS)"))
    counts = {}
    for token in (FIM_PREFIX, FIM_SUFFIX, FIM_MIDDLE, REPO_NAME, FILE_SEP):
        found = await client.count_tokens(token, model)
        if found is None:  # the server cannot tokenize: Qwen's tokenizer counts here
            checks.append(_local_token_counts())
            return checks
        counts[token] = found.tokens
    split = {t: n for t, n in counts.items() if n != 1}
    if split:
        checks.append(_Check("fim-tokens", False, _NOT_QWEN_FIM + " (" + ", ".join(
            f"{t} is {n} tokens" for t, n in split.items()) + ")",
            "set QWEN_LSP_COMPLETION_MODEL to a Qwen coder model", warning=True))
    else:
        checks.append(_Check("fim-tokens", True, "each FIM and repository token is one token"))
    return checks


def _local_token_counts() -> _Check:
    """Return whether prompts are counted with Qwen's own tokenizer where the endpoint
    cannot count."""
    from lsp_server.model import qwen_tokenizer

    if qwen_tokenizer.load() is not None:
        return _Check("token-counts", True, "the endpoint cannot count tokens: Qwen's own "
                                            "tokenizer counts them here")
    return _Check("token-counts", False, "the endpoint cannot count tokens and Qwen's "
                                         "tokenizer is missing: budgets assume 3.2 "
                                         "characters a token",
                  "reinstall qwen-lsp with its dependencies (tiktoken, qwen-tokenizer)",
                  warning=True)


def _fix_for(err: Any, settings: Any) -> str:
    from lsp_server.model.errors import ErrorKind

    ep = settings.endpoint
    if err.kind == ErrorKind.UNREACHABLE:
        if not ep.base_url.startswith(("http://", "https://")):
            return (
                "set the base URL where the settings check above says it came from to a "
                "URL starting with http:// or https://"
            )
        if ep.provider == "ollama":
            return (
                "start Ollama (`ollama serve`), or point QWEN_LSP_BASE_URL / "
                "qwen.endpoint.baseUrl at your server"
            )
        return "start the server, or set QWEN_LSP_BASE_URL / qwen.endpoint.baseUrl to its URL"
    if err.kind == ErrorKind.AUTH:
        return (
            "set QWEN_LSP_API_KEY (or DASHSCOPE_API_KEY) to a valid key; Model Studio keys "
            "only work with the base URL of their region"
        )
    if err.kind == ErrorKind.TLS:
        return "set qwen.endpoint.caBundle (or SSL_CERT_FILE) to your CA certificates"
    if err.kind == ErrorKind.NOT_FOUND:
        return (
            "check QWEN_LSP_PROVIDER and QWEN_LSP_BASE_URL (OpenAI-compatible servers "
            "usually end in /v1)"
        )
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

    def say(text: str = "") -> None:
        print(logs.mask(text))  # the report is pasted into bug reports: no key, no password

    if args.json:
        say(json.dumps({"ok": ok, "warnings": warned, "endpoint": summary,
                          "checks": [c.__dict__ for c in checks]}, indent=2))
        return 0 if ok else 1
    for key, value in summary.items():
        say(f"{key:>16}: {value}")
    say()
    for c in checks:
        say(f"[{'ok' if c.ok else 'warn' if c.warning else 'FAIL'}] {c.name}: {c.detail}")
        if c.fix:
            say(f"       fix: {c.fix}")
    say()
    if not ok:
        say("verdict: not working; apply the fix above, then run `qwen-lsp doctor` again")
    elif warned:
        say("verdict: working, but see the warning above")
    else:
        say("verdict: ready")
    return 0 if ok else 1
