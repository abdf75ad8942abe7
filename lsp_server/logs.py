"""Logging to stderr with secrets redacted, whatever a library decides to log."""

from __future__ import annotations

import logging
import sys

_SECRETS: set[str] = set()
_MIN_SECRET = 6


def add_secret(value: str) -> None:
    """Never let `value` appear in a log line from now on."""
    if value and len(value) >= _MIN_SECRET:
        _SECRETS.add(value)


def redact(text: str) -> str:
    """Replace every registered secret in `text`."""
    for secret in _SECRETS:
        if secret in text:
            text = text.replace(secret, "***")
    return text


class _RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def setup(level: str, log_file: str | None = None) -> None:
    """Send logs to stderr (stdout carries the protocol), and to `log_file` if given."""
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file:
        handlers.append(logging.FileHandler(log_file))
    formatter = _RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in handlers:
        handler.setFormatter(formatter)
    logging.basicConfig(level=getattr(logging, level.upper(), logging.INFO), handlers=handlers,
                        force=True)
    # These log every message and request at INFO (payloads included): debug runs only.
    quiet = logging.DEBUG if level.upper() == "DEBUG" else logging.WARNING
    for name in ("pygls", "httpx", "httpcore"):
        logging.getLogger(name).setLevel(quiet)
