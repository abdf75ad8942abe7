"""Logging to stderr with secrets masked, whatever a library decides to log, from the first byte.

`mask` is the one masking pass for everything the server says: log records (pygls logs whole
messages at DEBUG, `initialize` and its API key included, before settings are even read),
`window/showMessage` and `window/logMessage`, `qwen/status`, `qwen/stats`, chat errors and the
CLI's `doctor` report. It masks registered secrets (the configured keys, a base URL's
password), any `apiKey`/`api_key`/password/secret field whatever its value's type, the token of
an `Authorization` header, URL passwords, and key-shaped strings.
"""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

from lsp_server.context.redact import redact as redact_key_shapes

_SECRETS: set[str] = set()
_MIN_SECRET = 6
MASK = "***"

# `apiKey: ...`, `"api_key": ...`, `api_key=...` (reprs), with a string, number, list or
# object value: the value goes, whatever its type.
_SECRET_FIELD = re.compile(
    r"""(?P<head>(?<![A-Za-z0-9])(?P<q>['"]?)(?:x-)?(?:api[_-]?key|apikey|password|passwd|
    client[_-]?secret|secret[_-]?key|access[_-]?token|auth[_-]?token|authorization)(?P=q)
    \s*[:=]\s*)
    (?P<value>(?:bearer|basic|token)\s+[^\s,;)}\]'"]+|'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"|\[[^\]\n]*\]|\{[^{}\n]*\}|[^\s,;)}\]]+)""",
    re.I | re.X,
)
_BEARER = re.compile(r"(?i)\b(bearer|basic|token)\s+[A-Za-z0-9._~+/=\-]{6,}")
_URL_USERINFO = re.compile(r"(?P<head>\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^/\s:@'\"]*:)[^/\s@'\"]+@")


def add_secret(value: Any) -> None:
    """Never let `value` appear in a log line or message from now on."""
    if isinstance(value, str) and len(value) >= _MIN_SECRET:
        _SECRETS.add(value)


def _field(match: re.Match[str]) -> str:
    value = match.group("value")
    if value[:1] in "'\"" and len(value) >= 2:
        return match.group("head") + value[0] + MASK + value[0]
    return match.group("head") + MASK


def mask(text: str) -> str:
    """Return `text` with every secret the server knows of, or can recognise, masked."""
    if not text:
        return text
    for secret in _SECRETS:
        if secret in text:
            text = text.replace(secret, MASK)
    text = _SECRET_FIELD.sub(_field, text)
    text = _BEARER.sub(lambda m: f"{m.group(1)} {MASK}", text)
    if "://" in text:
        text = _URL_USERINFO.sub(lambda m: m.group("head") + MASK + "@", text)
    return redact_key_shapes(text)


def mask_value(value: Any) -> Any:
    """Return JSON-like data with every string in it masked (keys kept)."""
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, dict):
        return {k: mask_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_value(v) for v in value]
    return value


class _MaskingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return mask(super().format(record))


def setup(level: str, log_file: str | None = None) -> None:
    """Send logs to stderr (stdout carries the protocol), and to `log_file` if given."""
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file:
        handlers.append(logging.FileHandler(log_file))
    formatter = _MaskingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in handlers:
        handler.setFormatter(formatter)
    logging.basicConfig(level=getattr(logging, level.upper(), logging.INFO), handlers=handlers,
                        force=True)
    # These log every message and request at INFO (payloads included): debug runs only.
    quiet = logging.DEBUG if level.upper() == "DEBUG" else logging.WARNING
    for name in ("pygls", "httpx", "httpcore"):
        logging.getLogger(name).setLevel(quiet)
