"""`qwen-lsp doctor`: check the endpoint as the server would use it; say how to fix what fails."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from dataclasses import dataclass
from typing import Any

from lsp_server import logs


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


# What to do about each kind of endpoint error (lsp_server.model.errors.ErrorKind values);
# an unreachable endpoint's advice depends on the settings (see _fix_for).
_FIXES = {
    "auth": "set QWEN_LSP_API_KEY (or DASHSCOPE_API_KEY) to a valid key; Model Studio keys "
            "only work with the base URL of their region",
    "tls": "set qwen.endpoint.caBundle (or SSL_CERT_FILE) to your CA certificates",
    "not_found": "check QWEN_LSP_PROVIDER and QWEN_LSP_BASE_URL (OpenAI-compatible servers "
                 "usually end in /v1)",
    "rate_limited": "wait, or raise the quota of your account",
    "timeout": "the server is slow or still loading the model: try again",
}


def _fix_for(err: Any, settings: Any) -> str:
    ep = settings.endpoint
    if err.kind == "unreachable":
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
    return _FIXES.get(err.kind, "see the message above; run with --log-level DEBUG for details")


def _model_fix(provider: str, model: str) -> str:
    if provider == "ollama":
        return f"run `ollama pull {model}`, or set QWEN_LSP_COMPLETION_MODEL to a listed model"
    return "set QWEN_LSP_COMPLETION_MODEL (qwen.completion.model) to one of the listed models"


def doctor(args: argparse.Namespace) -> int:
    """Run `qwen-lsp doctor`; return the exit code."""
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
