"""LSP positions <-> offsets into Python strings; the only place that converts between them.

LSP counts `character` in UTF-16 code units unless the client negotiated UTF-8 or UTF-32;
Python strings index code points; tree-sitter speaks UTF-8 bytes. Out-of-range positions are
clamped, never raised: editors send them during fast edits.
"""

from __future__ import annotations

import re

UTF8 = "utf-8"
UTF16 = "utf-16"
UTF32 = "utf-32"

# LSP knows three line endings; Python's str.splitlines knows eight (form feed among them).
_EOL = re.compile(r"\r\n|\r|\n")
_LINES = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")
# Characters str.splitlines breaks at that LSP does not: where none occurs, it agrees.
_OTHER_BREAKS = ("\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029")


def split_lines(text: str) -> tuple[str, ...]:
    """Split text into lines with their endings, the way LSP counts lines."""
    if not any(ch in text for ch in _OTHER_BREAKS):
        return tuple(text.splitlines(keepends=True))  # the same lines, at C speed
    return tuple(_LINES.findall(text))


def units(text: str, encoding: str = UTF16) -> int:
    """Return the length of `text` in the code units of `encoding`."""
    if encoding == UTF32 or text.isascii():
        return len(text)
    if encoding == UTF8:
        return len(text.encode("utf-8", "surrogatepass"))
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def line_start(text: str, line: int) -> int:
    """Return the offset where 0-based `line` starts (the end of text when beyond it)."""
    if line <= 0:
        return 0
    if "\r" not in text or text.count("\r") == text.count("\r\n"):
        return _nth_line_start(text, line)  # \n and \r\n endings: the common case
    for n, match in enumerate(_EOL.finditer(text), start=1):
        if n == line:
            return match.end()
    return len(text)


_CHUNK = 1 << 16


def _nth_line_start(text: str, line: int) -> int:
    """Return where `line` starts in text whose lines all end in \n, at C speed: whole chunks
    are skipped by counting their newlines, so a line deep in a 50 MB buffer costs
    milliseconds, not a million calls."""
    pos, left = 0, line
    while len(text) - pos > _CHUNK:
        count = text.count("\n", pos, pos + _CHUNK)
        if count >= left:
            break
        left -= count
        pos += _CHUNK
    for _ in range(left):
        nl = text.find("\n", pos)
        if nl == -1:
            return len(text)
        pos = nl + 1
    return pos


def _line_end(text: str, start: int) -> int:
    match = _EOL.search(text, start)
    return match.start() if match else len(text)


def _column_to_index(line_text: str, character: int, encoding: str) -> int:
    if encoding == UTF32 or line_text.isascii():
        return min(max(0, character), len(line_text))
    count = 0
    for i, ch in enumerate(line_text):
        if count >= character:
            return i
        cp = ord(ch)
        if encoding == UTF8:
            count += 1 if cp < 0x80 else 2 if cp < 0x800 else 3 if cp < 0x10000 else 4
        else:
            count += 2 if cp > 0xFFFF else 1
    return len(line_text)


def offset_at(text: str, line: int, character: int, encoding: str = UTF16) -> int:
    """Return the string offset of an LSP position, clamped into the document."""
    if line < 0:
        return 0
    start = line_start(text, line)
    end = _line_end(text, start)
    return start + _column_to_index(text[start:end], character, encoding)


def span_at(text: str, start: tuple[int, int], end: tuple[int, int],
            encoding: str = UTF16) -> tuple[int, int]:
    """Return the string offsets of an LSP range's ends, clamped like `offset_at`; a range on
    one line (most edits) looks its line up once."""
    if start[0] < 0 or end[0] != start[0]:
        return offset_at(text, *start, encoding), offset_at(text, *end, encoding)
    begin = line_start(text, start[0])
    line_text = text[begin:_line_end(text, begin)]
    return (begin + _column_to_index(line_text, start[1], encoding),
            begin + _column_to_index(line_text, end[1], encoding))


def position_at(text: str, offset: int, encoding: str = UTF16) -> tuple[int, int]:
    """Return the (line, character) LSP position of a string offset."""
    offset = max(0, min(offset, len(text)))
    if "\r" not in text:
        line = text.count("\n", 0, offset)
        start = text.rfind("\n", 0, offset) + 1
        return line, units(text[start:offset], encoding)
    if 0 < offset < len(text) and text[offset - 1 : offset + 1] == "\r\n":
        offset -= 1  # inside a CRLF: no position names it; use the line's end
    line, start = 0, 0
    for match in _EOL.finditer(text, 0, offset):
        line, start = line + 1, match.end()
    return line, units(text[start:offset], encoding)


def line_count(text: str) -> int:
    """Return the number of line breaks in text (the index of its last line), LSP's way."""
    n = text.count("\n")
    return n if "\r" not in text else n + text.count("\r") - text.count("\r\n")


def byte_offset(text: str, offset: int) -> int:
    """Return the UTF-8 byte offset of a string offset (what tree-sitter expects)."""
    head = text[:offset]
    return len(head) if head.isascii() else len(head.encode("utf-8", "surrogatepass"))


def newline_above(text: str, offset: int, lines: int) -> int:
    """Return the index of the `lines`-th newline before `offset` (0 when there are fewer):
    text[newline_above(...):offset] is the cursor's line so far and the lines above it."""
    for _ in range(lines):
        offset = text.rfind("\n", 0, offset)
        if offset <= 0:
            return 0
    return offset


def newline_below(text: str, offset: int, lines: int) -> int:
    """Return the index of the `lines`-th newline after `offset` (len(text) when there are
    fewer), not counting one right at `offset`."""
    for _ in range(lines):
        nxt = text.find("\n", offset + 1)
        if nxt < 0:
            return len(text)
        offset = nxt
    return offset


def window(text: str, offset: int, limit: int) -> tuple[str, int]:
    """Return (part of text, offset in it): at most about `limit` characters around `offset`,
    cut at line starts, so work on a huge buffer only ever touches the cursor's surroundings."""
    if len(text) <= limit:
        return text, offset
    lo = max(0, min(offset - limit // 2, len(text) - limit))  # near an end: use what is left
    hi = min(len(text), lo + limit)
    if lo > 0:  # from the first line that starts inside the window
        nl = text.find("\n", lo, offset)
        lo = nl + 1 if nl >= 0 else lo
    if hi < len(text):  # to the end of the last line that ends inside it
        nl = text.rfind("\n", offset, hi)
        hi = nl + 1 if nl >= 0 else hi
    return text[lo:hi], offset - lo
