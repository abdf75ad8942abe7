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
import os
import re
import time
from importlib.metadata import version
from json.decoder import scanstring
from typing import Any, BinaryIO
from urllib.parse import unquote

import attrs
from cattrs.errors import BaseValidationError
from cattrs.v import transform_error
from lsprotocol.types import EXIT, TEXT_DOCUMENT_DID_CHANGE, TEXT_DOCUMENT_DID_OPEN
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams, JsonRpcInvalidRequest
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.json_rpc import JsonRPCResponseMessage
from pygls.workspace import Workspace
from pygls.workspace.text_document import TextDocument

from lsp_server.large_text import LARGE, PIECE, SMALL, LargeText
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
def _source(self: TextDocument) -> str:
    # A very large buffer is held as a LargeText; whoever asks pygls for one string gets it
    # (slowly): the server itself reads such buffers through windows (server.document).
    if isinstance(self._source, LargeText):
        return self._source.text()
    return _pygls_source(self)


def large_source(doc: TextDocument) -> LargeText | None:
    """Return the buffer's text when it is held in pieces (a very large buffer), else None."""
    return doc._source if isinstance(doc._source, LargeText) else None


def _lsp_lines(self: TextDocument) -> tuple[str, ...]:
    return split_lines(self.source)


def _encoding(doc: TextDocument) -> str:
    codec = doc.position_codec.encoding
    return str(getattr(codec, "value", None) or codec or "utf-16")


def _apply_incremental_change(self: TextDocument, change: Any) -> None:
    """Splice an incremental change in by offsets, without splitting the document."""
    rng, encoding = change.range, _encoding(self)
    big = large_source(self)
    if big is not None:
        start = big.offset(rng.start.line, rng.start.character, encoding)
        end = big.offset(rng.end.line, rng.end.character, encoding)
        big.splice(start, max(start, end), change.text)
        if len(big) < SMALL:
            self._source = big.text()
        return
    text = self.source
    start, end = span_at(
        text, (rng.start.line, rng.start.character), (rng.end.line, rng.end.character), encoding
    )
    if isinstance(change.text, LargeText) or len(text) + len(change.text) > LARGE:
        self._source = LargeText([text[:start], change.text, text[max(start, end):]])
    else:
        self._source = text[:start] + change.text + text[max(start, end) :]


def _remove_text_document(self: Workspace, doc_uri: str) -> None:
    doc = self.text_documents.get(unquote(doc_uri))
    _pygls_remove(self, doc_uri)
    big = large_source(doc) if doc is not None else None
    if big is not None:
        big.discard()


_pygls_remove = Workspace.remove_text_document
Workspace.remove_text_document = _remove_text_document  # type: ignore[method-assign]
_pygls_source = TextDocument.source.fget  # type: ignore[attr-defined]
TextDocument.source = property(_source)  # type: ignore[method-assign,assignment]
# pygls splits documents with str.splitlines, which also breaks lines at form feeds, \x1c-\x1e,
# \x85 and \u2028/\u2029; LSP breaks them only at \n, \r\n and \r. Edits that count lines
# past such a character would land in the wrong place (found by tests/e2e/test_fuzz.py).
TextDocument.lines = property(_lsp_lines)  # type: ignore[method-assign,assignment]
# pygls applies every incremental change by splitting the whole document into lines and
# joining them again: a keystroke in a 50 MB buffer cost a second and hundreds of MB. The
# offsets come from lsp_server.positions, which counts lines the LSP way too; buffers over
# large_text.LARGE characters are held in pieces, so a keystroke copies one piece.
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
        holders: list[tuple[int, LargeText]] = []
        if _large and "jsonrpc" in data:  # a message with very large strings
            holders = _text_holders(data)
            data = _restore(data)
        message = self._structure(data)
        if holders:
            _put_texts(message, holders)
        return message

    def _structure(self, data: dict[str, Any]) -> Any:
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


# -- very large strings -------------------------------------------------------------------
# pygls reads message bodies in a thread but decodes their JSON on the event loop: a 50 MB
# didOpen held the loop (every request waiting) for 200-300 ms. A body over LARGE bytes has
# its long strings decoded in the reading thread instead, a window at a time (the loop runs in
# between), into LargeText pieces; the body the loop decodes holds a short placeholder for
# each, which `QwenProtocol.structure_message` puts back.
_PLACEHOLDER = f"\ue000qwen-lsp large string {os.urandom(8).hex()} "
_large: dict[str, LargeText] = {}
_HIGH_SURROGATE = re.compile(rb"\\u[dD][89abAB][0-9a-fA-F]{2}")
_FIRST_WINDOW, _WINDOW = 512, PIECE  # bytes: a window decodes to at most a piece


def _backslashes_before(body: bytes, lo: int, at: int) -> int:
    """Return where the run of backslashes that ends just before `at` starts (not below lo)."""
    while at > lo and body[at - 1] == 0x5C:
        at -= 1
    return at


def _string_cut(body: bytes, lo: int, cut: int) -> int:
    """Move `cut` back to where the JSON string text body[lo:cut] ends on a whole UTF-8
    character, a whole escape and a whole surrogate pair; lo when there is no such place."""
    if cut >= len(body):
        return len(body)
    while cut > lo and body[cut] & 0xC0 == 0x80:
        cut -= 1
    last = body.rfind(b"\\", max(lo, cut - 12), cut)
    if last < 0:
        return cut  # no escape (of at most 12 bytes, a surrogate pair) can straddle cut
    # Before a run of backslashes is a boundary: what precedes is a character or the end of
    # an escape (an escape holds no backslash after its first byte).
    run = _backslashes_before(body, lo, last + 1)
    if run - 6 >= lo and _HIGH_SURROGATE.fullmatch(body, run - 6, run):
        first = _backslashes_before(body, lo, run - 5)
        if (run - 6 - first) % 2 == 0:  # the high half of a pair: keep the two together
            return first
    return run


def _decode_string(body: bytes, start: int) -> tuple[list[str], int]:
    """Decode the JSON string whose text starts at body[start], a window at a time: return its
    pieces and the index of its closing quote. Raises ValueError when it is not valid JSON."""
    pieces: list[str] = []
    pos, size = start, _FIRST_WINDOW
    while True:
        if pos >= len(body):
            raise ValueError("an unterminated string")
        cut = _string_cut(body, pos, pos + size)
        if cut <= pos:
            size *= 4
            continue
        window = body[pos:cut].decode("utf-8")
        text, end = scanstring(window + '"', 0, True)
        pieces.append(text)
        if end <= len(window):  # the string's own closing quote
            return pieces, pos + len(window[: end - 1].encode("utf-8"))
        pos, size = cut, min(size * 4, _WINDOW)
        if len(pieces) % 4 == 0:
            time.sleep(0)  # let the event loop run


def split_large_strings(body: bytes) -> bytes:
    """Return `body` with each string over LARGE bytes replaced by a placeholder (see above);
    `body` itself when it has none or is not valid JSON (json.loads reports that as before)."""
    _large.clear()  # the previous message is decoded by now: its leftovers are garbage
    if len(body) < LARGE:
        return body
    out: list[bytes] = []
    done = pos = 0
    try:
        while (quote := body.find(b'"', pos)) >= 0:
            pieces, end = _decode_string(body, quote + 1)
            if end - quote > LARGE:
                key = f"{_PLACEHOLDER}{len(_large)}"
                _large[key] = LargeText.of_pieces(pieces)
                out += [body[done:quote], b'"', key.encode(), b'"']
                done = end + 1
            pos = end + 1
    except (ValueError, UnicodeDecodeError):
        _large.clear()
        return body
    if not out:
        return body
    out.append(body[done:])
    return b"".join(out)


def _large_string(value: Any) -> LargeText | None:
    return _large.pop(value, None) if isinstance(value, str) and value.startswith(
        _PLACEHOLDER) else None


def _restored_key(key: str) -> str:
    big = _large_string(key)
    return key if big is None else big.text()


def _restore(value: Any) -> Any:
    """Return `value` with every placeholder put back as an ordinary string."""
    if isinstance(value, dict):
        return {_restored_key(k): _restore(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_restore(v) for v in value]
    big = _large_string(value)
    return value if big is None else big.text()


def _text_holders(data: dict[str, Any]) -> list[tuple[int, LargeText]]:
    """Take the placeholders of document texts out of a didOpen or didChange message: where
    each was (-1: the opened document; n: the n-th change) and its LargeText. Their
    placeholders stay in `data` until the message is structured."""
    params = data.get("params")
    if not isinstance(params, dict):
        return []
    if data.get("method") == TEXT_DOCUMENT_DID_OPEN:
        item = params.get("textDocument")
        big = _large_string(item.get("text")) if isinstance(item, dict) else None
        return [(-1, big)] if big is not None else []
    if data.get("method") == TEXT_DOCUMENT_DID_CHANGE:
        changes = params.get("contentChanges")
        return [(n, big) for n, change in enumerate(changes if isinstance(changes, list) else [])
                if isinstance(change, dict) and (big := _large_string(change.get("text")))]
    return []


def _put_texts(message: Any, holders: list[tuple[int, LargeText]]) -> None:
    for where, big in holders:
        params = getattr(message, "params", None)
        try:
            item = params.text_document if where < 0 else params.content_changes[where]
        except (AttributeError, IndexError, TypeError):
            continue
        # lsprotocol validates `text` as a str on assignment; the pieces stand for it.
        object.__setattr__(item, "text", big)


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
        return split_large_strings(self._raw.read(n))
