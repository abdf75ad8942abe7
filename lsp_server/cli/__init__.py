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
from typing import Any

from lsp_server import __version__, logs
from lsp_server.cli.doctor import doctor as run_doctor
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
    doctor.set_defaults(func=run_doctor)

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
    in_terminal = sys.stdin.isatty()
    if in_terminal:
        # A person, not an editor: let Ctrl-C end it at once (the thread blocked reading
        # stdin would otherwise keep the process alive). Set before the slow imports and the
        # banner, whatever SIGINT was on entry: a shell without job control starts a
        # background job with SIGINT ignored, and a Ctrl-C before this line was then dropped,
        # so the server served on after a Ctrl-C sent as soon as the banner showed.
        signal.signal(signal.SIGINT, _exit_on_interrupt)

    from lsp_server._pygls_compat import FramingError
    from lsp_server.server import create_server

    if in_terminal:
        print(
            "qwen-lsp: serving LSP on stdio; editors start this for you; see `qwen-lsp --help`",
            file=sys.stderr,
            flush=True,
        )
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
