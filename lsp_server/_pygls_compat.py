"""Workarounds for pygls behaviours that break LSP promises, all in one place.

Each one names the pygls behaviour it corrects and is covered by a test that fails if pygls
changes under it (tests/unit/test_pygls_compat.py, tests/e2e/test_protocol_errors.py,
tests/e2e/test_code_actions.py for cancelling a command). They were written against pygls
2.1; `check_pygls_version` refuses a pygls outside the range they were checked with, so an
upgrade is a conscious step that re-runs those tests.
"""

from __future__ import annotations

import asyncio
import logging
import re
from importlib.metadata import version
from typing import Any, BinaryIO

import attrs
from cattrs.errors import BaseValidationError
from cattrs.v import transform_error
from lsprotocol.types import EXIT
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams, JsonRpcInvalidRequest
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.json_rpc import JsonRPCResponseMessage
from pygls.workspace.text_document import TextDocument

from lsp_server.positions import span_at, split_lines

log = logging.getLogger(__name__)

# The pygls versions these workarounds were written for and tested with: [lowest, highest).
PYGLS_TESTED = ((2, 1), (2, 2))


def check_pygls_version(found: str | None = None) -> None:
    """Raise when the installed pygls is outside the range the workarounds below were made for."""
    found = found or version("pygls")
    numbers = tuple(int(n) for n in re.findall(r"\d+", found)[:2])
    low, high = PYGLS_TESTED
    if not low <= numbers < high:
        raise RuntimeError(
            f"qwen-lsp was tested with pygls {low[0]}.{low[1]} up to (not including) "
            f"{high[0]}.{high[1]}, found {found}: check lsp_server/_pygls_compat.py against it "
            "and widen PYGLS_TESTED once its tests pass"
        )


check_pygls_version()


# -- documents ------------------------------------------------------------------------------
def _lsp_lines(self: TextDocument) -> tuple[str, ...]:
    return split_lines(self.source)


def _apply_incremental_change(self: TextDocument, change: Any) -> None:
    """Splice an incremental change in by offsets, without splitting the document."""
    text = self.source
    encoding = str(
        getattr(self.position_codec.encoding, "value", None)
        or self.position_codec.encoding
        or "utf-16"
    )
    rng = change.range
    start, end = span_at(
        text, (rng.start.line, rng.start.character), (rng.end.line, rng.end.character), encoding
    )
    self._source = text[:start] + change.text + text[max(start, end) :]


# pygls splits documents with str.splitlines, which also breaks lines at form feeds, \x1c-\x1e,
# \x85 and \u2028/\u2029; LSP breaks them only at \n, \r\n and \r. Edits that count lines
# past such a character would land in the wrong place (found by tests/e2e/test_fuzz.py).
TextDocument.lines = property(_lsp_lines)  # type: ignore[method-assign,assignment]
# pygls applies every incremental change by splitting the whole document into lines and
# joining them again: a keystroke in a 50 MB buffer cost a second and hundreds of MB. The
# offsets come from lsp_server.positions, which counts lines the LSP way too.
TextDocument._apply_incremental_change = _apply_incremental_change  # type: ignore[method-assign]


# -- messages -------------------------------------------------------------------------------
@attrs.define
class InvalidRequestMessage:
    """A request pygls could not decode: answered with an error instead of being dropped."""

    id: int | str
    method: str
    jsonrpc: str
    message: str


def _describe(exc: BaseException) -> str:
    if isinstance(exc, BaseValidationError):
        try:
            return "; ".join(transform_error(exc, path="params")[:5]).replace("$.params.", "")
        except Exception:  # transform_error knows only cattrs' own exceptions
            pass
    return str(exc) or type(exc).__name__


class QwenProtocol(LanguageServerProtocol):
    """pygls' protocol, answering every request and not leaking notification futures."""

    def structure_message(self, data: dict[str, Any]) -> Any:
        # pygls raises JsonRpcInvalidParams out of json.loads when a request's params do not
        # fit its type (`params: {}` or `null`, a negative position, a codeAction without a
        # range); its read loop logs it and never answers, so the client waits forever.
        try:
            return super().structure_message(data)
        except Exception as exc:
            cause = exc.__cause__ or exc
            method = data.get("method")
            if "id" in data and isinstance(method, str) and isinstance(data["id"], int | str):
                return InvalidRequestMessage(
                    data["id"], method, data.get("jsonrpc", ""), _describe(cause)
                )
            if "id" in data and method is None and "result" in data:
                # A client's answer to our request that does not fit its type: hand it over
                # as it came rather than leave the request waiting for ever.
                log.warning("a client answer did not fit its type: %s", _describe(cause))
                return JsonRPCResponseMessage(data["id"], data.get("jsonrpc", ""), data["result"])
            log.warning(
                "ignoring a malformed %s message: %s", method or "response", _describe(cause)
            )
            return None

    def handle_message(self, message: Any) -> None:
        if message is None:
            return
        if isinstance(message, InvalidRequestMessage):
            if self._shutdown:
                self._refuse_after_shutdown(message.id, message.method)
                return
            log.warning("invalid params for %s: %s", message.method, message.message)
            error = JsonRpcInvalidParams(f"invalid params for {message.method}: {message.message}")
            self._send_response(message.id, None, error.to_response_error())
            return
        # pygls drops every request that arrives after `shutdown` without an answer; the
        # spec wants InvalidRequest for them (notifications are still dropped, exit works).
        method = getattr(message, "method", None)
        if (
            self._shutdown
            and method not in (None, EXIT)
            and getattr(message, "id", None) is not None
        ):
            self._refuse_after_shutdown(message.id, method)
            return
        super().handle_message(message)

    def _send_handler_result(self, future: Any, *, msg_id: Any) -> None:
        # pygls logs every JsonRpcException a handler raises as an ERROR with a traceback and
        # reports it as a server error, but handlers raise them on purpose to answer with an
        # error (a refused action, invalid params, an endpoint failure already reported).
        error = None if future.cancelled() else future.exception()
        if isinstance(error, JsonRpcException):
            self._request_futures.pop(msg_id, None)
            log.info("request %s answered with error %s: %s", msg_id, error.code, error.message)
            self._send_response(msg_id, error=error.to_response_error())
            return
        super()._send_handler_result(future, msg_id=msg_id)

    def _refuse_after_shutdown(self, msg_id: int | str, method: str) -> None:
        error = JsonRpcInvalidRequest(f"the server is shutting down: {method} refused")
        self._send_response(msg_id, None, error.to_response_error())

    def _handle_notification(self, method_name: str, params: Any) -> None:
        super()._handle_notification(method_name, params)
        # pygls files the future of every generator-based notification handler (its own
        # didOpen, didChange, didClose...) under a fresh id in _request_futures and never
        # removes it: about 700 bytes per keystroke. Finished ones serve no one.
        futures = self._request_futures
        for key in [k for k, f in futures.items() if f.done()]:
            futures.pop(key, None)


def follow_command_cancellation(protocol: LanguageServerProtocol) -> None:
    """Cancel the running command's task when the client cancels its `workspace/executeCommand`.

    pygls runs command handlers as a child task of the executeCommand request and files only
    the parent under the request id in its private `_request_futures`, so `$/cancelRequest`
    cancels the parent alone and the command (a model stream) runs on. This links the two.
    """
    task = asyncio.current_task()
    futures = getattr(protocol, "_request_futures", None)
    parent = futures.get(protocol.msg_id) if isinstance(futures, dict) else None
    if task is None or parent is None or parent is task:
        return
    parent.add_done_callback(lambda f: f.cancelled() and task.cancel())


# -- framing --------------------------------------------------------------------------------
MAX_HEADER_LINE = 8 * 1024
MAX_BODY_BYTES = 512 * 1024 * 1024
_CONTENT_LENGTH = re.compile(rb"Content-Length: (\d+)\r\n")


class FramingError(Exception):
    """The client's byte stream no longer follows the base protocol's framing."""


class FramedStdin:
    """Stdin for pygls' reader that stops at the first broken header instead of going deaf.

    pygls' read loop skips a header it cannot parse (no, a negative or a non-numeric
    Content-Length) and then reads the message body as more headers, forever; a huge length
    makes it wait for bytes that never come. Here such a header raises FramingError out of
    `start_io`, and the caller exits so the client can restart the server.
    """

    def __init__(self, raw: BinaryIO, max_body: int = MAX_BODY_BYTES) -> None:
        self._raw = raw
        self._max_body = max_body
        self._length: int | None = None

    def readline(self, size: int = -1) -> bytes:
        line = self._raw.readline(MAX_HEADER_LINE + 1)
        if not line:
            return line
        if len(line) > MAX_HEADER_LINE:
            raise FramingError(f"a header line longer than {MAX_HEADER_LINE} bytes")
        if not line.strip():
            if self._length is None:
                raise FramingError("a message without a valid Content-Length header")
            return line
        name = line.split(b":", 1)[0].strip().lower()
        if name == b"content-length":
            match = _CONTENT_LENGTH.fullmatch(line)
            if match is None:
                raise FramingError(f"an invalid header {line[:80]!r}")
            length = int(match.group(1))
            if not 0 < length <= self._max_body:
                raise FramingError(
                    f"a Content-Length of {length} bytes (the limit is {self._max_body})"
                )
            self._length = length
        elif b":" not in line:
            raise FramingError(f"an invalid header {line[:80]!r}")
        return line

    def read(self, n: int = -1) -> bytes:
        self._length = None
        return self._raw.read(n)
