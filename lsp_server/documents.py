"""The open documents as handlers and domain services see them: text, version, paths, encoding.

The server looks documents up (`QwenLanguageServer.document`); this module holds what they are
and the plain-data helpers every feature shares, free of pygls and lsprotocol.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lsp_server.large_text import LARGE
from lsp_server.nextedit.service import NextEditRequest
from lsp_server.positions import line_count, offset_at, position_at

# Why whole-document work is refused in a very large buffer (see lsp_server.large_text).
TOO_LARGE = (f"the file is too large for this (over {LARGE:,} characters); completions and "
             "chat still work on the lines around the cursor")


@dataclass(frozen=True)
class Document:
    """An open document as the server holds it."""

    uri: str
    path: str | None
    rel: str
    text: str
    version: int | None
    language: str | None
    encoding: str
    repo: str | None = None
    language_id: str | None = None  # the editor's, in its canonical spelling
    # A very large buffer is seen through a window of whole lines: `text` starts at line
    # `first_line` of the buffer, and `whole` is False.
    first_line: int = 0
    whole: bool = True

    def offset(self, line: int, character: int) -> int:
        """Return the offset in `text` of an LSP position in the buffer (clamped)."""
        return offset_at(self.text, line - self.first_line, character, self.encoding)

    def position(self, offset: int) -> tuple[int, int]:
        """Return the LSP position in the buffer of an offset in `text`."""
        line, character = position_at(self.text, offset, self.encoding)
        return line + self.first_line, character


def next_edit_request(doc: Document, offset: int, *, explicit: bool,
                      received: float | None) -> NextEditRequest:
    """Return the next-edit request for a cursor in an open document."""
    return NextEditRequest(key=doc.uri, text=doc.text, version=doc.version, offset=offset,
                           path=doc.path, rel=doc.rel, language=doc.language,
                           received_at=received, explicit=explicit)


def _field(value: Any, name: str) -> Any:
    """Return a field of a dict or of an attrs object (an lsprotocol range or position)."""
    if isinstance(value, Mapping):
        return value[name]
    try:
        return getattr(value, name)
    except AttributeError:
        raise KeyError(name) from None


def _position(rng: Any, name: str) -> tuple[int, int]:
    pos = _field(rng, name)
    return int(_field(pos, "line")), int(_field(pos, "character"))


def _is_range(rng: Any) -> bool:
    return isinstance(rng, Mapping) or hasattr(rng, "start")


def range_lines(rng: Any) -> tuple[int, int] | None:
    """Return the first and last line of an LSP range (dict or lsprotocol); None if absent."""
    try:
        return _position(rng, "start")[0], _position(rng, "end")[0]
    except (KeyError, TypeError, ValueError):
        return None


def range_offsets(doc: Document, rng: Any) -> tuple[int, int] | None:
    """Return string offsets of an LSP range (dict or lsprotocol), ordered; None if absent."""
    if not _is_range(rng):
        return None
    try:
        (sl, sc), (el, ec) = _position(rng, "start"), _position(rng, "end")
        start, end = doc.offset(sl, sc), doc.offset(el, ec)
    except (KeyError, TypeError, ValueError):
        return None
    return (start, end) if start <= end else (end, start)


def invalid_range(doc: Document, rng: Any) -> str | None:
    """Return why an LSP range given by a client cannot name a place in `doc`, or None.

    Characters past a line's end are clamped (LSP allows it), but a negative number or a line
    past the document's end is refused: clamped, such a range became the whole document.
    """
    if not _is_range(rng):
        return None
    last = doc.first_line + line_count(doc.text)
    for name in ("start", "end"):
        try:
            line, character = _position(rng, name)
        except (KeyError, TypeError, ValueError):
            return f"the range's {name} is not a position"
        if line < 0 or character < 0:
            return f"the range's {name} ({line}:{character}) is negative"
        if line < doc.first_line:
            return f"the range's {name} is on line {line}, before the lines the server reads"
        if line > last:
            return (f"the range's {name} is on line {line}, past the document's end "
                    f"(line {last})")
    return None
