"""Very large open buffers, held in pieces so that no keystroke copies the whole text.

A Python string is one block of memory: inserting a character in a 50 MB buffer copies 50 MB
(50-150 ms, the whole server waiting). Buffers over `LARGE` characters are held here instead,
as a list of pieces of about 64 K characters with the line breaks each one holds; an edit
copies one piece or two, and finding a line skips whole pieces. Features see such a buffer
through a window of whole lines around the place they work on (`window`), never as one string.
"""

from __future__ import annotations

import bisect
import ctypes
import threading
import time
from collections.abc import Iterable
from itertools import accumulate

from lsp_server.positions import UTF16, line_count, line_start, offset_at

PIECE = 1 << 16
# Above this many characters an open buffer is held in pieces; below SMALL it is one string
# again (the gap keeps a buffer near the limit from switching back and forth).
LARGE = 2_000_000
SMALL = 1_000_000
# A window shows whole lines around the place asked for: this many lines around it, aligned
# so that nearby requests see the same window, and at most WINDOW_CHARS characters of them.
WINDOW_LINES = 2048
WINDOW_CHARS = 1 << 20


def _flat(parts: Iterable[str | LargeText]) -> Iterable[str]:
    for part in parts:
        if isinstance(part, LargeText):
            yield from part._pieces
        else:
            yield part


def _rechunk(parts: Iterable[str | LargeText]) -> list[str]:
    """Cut `parts` into pieces of at most PIECE characters (small parts are merged), none but
    the last ending in \\r, so that no \\r\\n line break is split between two pieces."""
    out: list[str] = []
    small: list[str] = []
    size = 0

    def flush() -> None:
        nonlocal size
        if small:
            joined = "".join(small)
            out.extend(joined[i:i + PIECE] for i in range(0, len(joined), PIECE))
            small.clear()
            size = 0

    for part in _flat(parts):
        if len(part) > 2 * PIECE:
            flush()
            out.extend(part[i:i + PIECE] for i in range(0, len(part), PIECE))
        elif part:
            small.append(part)
            size += len(part)
            if size >= PIECE:
                flush()
    flush()
    return _whole_crlf(out)


def _whole_crlf(pieces: list[str]) -> list[str]:
    """Move a \r that ends a piece to the next one (so no \r\n is split); drop empties."""
    for i in range(len(pieces) - 1):
        if pieces[i].endswith("\r"):
            kept = pieces[i].rstrip("\r")
            pieces[i], pieces[i + 1] = kept, pieces[i][len(kept):] + pieces[i + 1]
    return [p for p in pieces if p]


def return_freed_pieces() -> None:
    """Have the C heap give each piece's memory back to the system as soon as it is freed
    (glibc; elsewhere nothing).

    glibc serves blocks over a threshold with mmap, returned at free, but raises the
    threshold as big blocks come and go: pieces then landed in the heap, which keeps freed
    memory (a 20 MB buffer left 35 MB behind after didClose; malloc_trim held every malloc of
    the event loop for 70 ms). A fixed threshold just under a piece keeps them on mmap."""
    try:
        ctypes.CDLL("libc.so.6").mallopt(-3, PIECE)  # M_MMAP_THRESHOLD
    except (OSError, AttributeError):
        pass


class LargeText:
    """A text held in pieces; offsets and LSP positions as in one string of the same text."""

    __slots__ = ("_breaks", "_length", "_lines_before", "_pieces", "_starts")

    def __init__(self, parts: Iterable[str | LargeText] = ()) -> None:
        self._pieces = _rechunk(parts)
        self._breaks = [line_count(p) for p in self._pieces]
        self._starts: list[int] = []
        self._lines_before: list[int] = []
        self._length = sum(len(p) for p in self._pieces)

    @classmethod
    def of_pieces(cls, pieces: list[str]) -> LargeText:
        """Return the text of `pieces` as they are, each of at most PIECE characters (as
        the reading thread decodes them): nothing is copied."""
        text = cls()
        text._pieces = _whole_crlf(pieces)
        text._breaks = [line_count(p) for p in text._pieces]
        text._length = sum(map(len, text._pieces))
        return text

    def __len__(self) -> int:
        return self._length

    def __repr__(self) -> str:
        return f"LargeText({self._length} characters in {len(self._pieces)} pieces)"

    def text(self) -> str:
        """Return the whole text as one string (str() gives only a summary, for logs)."""
        return "".join(self._pieces)

    def discard(self) -> None:
        """Empty this text, freeing its pieces in a thread of their own (a few at a time, so
        the event loop runs between): freed at once, a 50 MB text held it for 15 ms."""
        pieces, self._pieces, self._breaks, self._starts, self._length = (
            self._pieces, [], [], [], 0)

        def free() -> None:
            while pieces:
                del pieces[-16:]
                time.sleep(0)

        threading.Thread(target=free, name="qwen-lsp free", daemon=True).start()

    # -- looking up --------------------------------------------------------------------------
    def _index(self) -> tuple[list[int], list[int]]:
        if len(self._starts) != len(self._pieces):
            self._starts = [0, *accumulate(len(p) for p in self._pieces)][:-1]
            self._lines_before = [0, *accumulate(self._breaks)][:-1]
        return self._starts, self._lines_before

    def line_count(self) -> int:
        """Return the number of line breaks (the index of the last line), LSP's way."""
        return sum(self._breaks)

    def line_start(self, line: int) -> int:
        """Return the offset where 0-based `line` starts (the end of the text beyond it)."""
        if line <= 0 or not self._pieces:
            return 0
        starts, before = self._index()
        # The last piece with fewer breaks before it than `line` holds the line's start.
        k = bisect.bisect_left(before, line) - 1
        start = line_start(self._pieces[k], line - before[k])
        return starts[k] + start

    def offset(self, line: int, character: int, encoding: str = UTF16) -> int:
        """Return the offset of an LSP position, clamped into the text like `offset_at`."""
        if line < 0:
            return 0
        start = self.line_start(line)
        # A line's first `character` code units hold at most `character` code points.
        head = self.slice(start, start + max(0, character) + 2)
        return start + offset_at(head, 0, character, encoding)

    def slice(self, start: int, end: int) -> str:
        """Return the text between two offsets."""
        start, end = max(0, start), min(end, self._length)
        if start >= end:
            return ""
        starts, _ = self._index()
        first = bisect.bisect_right(starts, start) - 1
        last = bisect.bisect_right(starts, end - 1) - 1
        if first == last:
            return self._pieces[first][start - starts[first]:end - starts[first]]
        return "".join([self._pieces[first][start - starts[first]:],
                        *self._pieces[first + 1:last],
                        self._pieces[last][:end - starts[last]]])

    def window(self, first: int, last: int) -> tuple[int, str]:
        """Return whole lines around lines `first`..`last`: the first line's number and text.

        The window is aligned, so requests on nearby lines see the same one, and holds at
        most WINDOW_CHARS characters beside the lines asked for."""
        lo = max(0, (first // WINDOW_LINES) * WINDOW_LINES - WINDOW_LINES)
        hi = (last // WINDOW_LINES) * WINDOW_LINES + 2 * WINDOW_LINES
        start, end = self.line_start(lo), self.line_start(hi)
        if end - start > WINDOW_CHARS + (self.line_start(last + 1) - self.line_start(first)):
            # Long lines: fewer of them around the lines asked for.
            lo, hi = max(0, first - 64), last + 64
            start, end = self.line_start(lo), self.line_start(hi)
        return lo, self.slice(start, end)

    # -- editing -----------------------------------------------------------------------------
    def splice(self, start: int, end: int, text: str | LargeText) -> None:
        """Replace the text between two offsets with `text`."""
        start = max(0, min(start, self._length))
        end = max(start, min(end, self._length))
        if not self._pieces:
            self._pieces = _rechunk([text])
            self._breaks = [line_count(p) for p in self._pieces]
            self._length, self._starts = len(text), []
            return
        starts, _ = self._index()
        first = max(0, bisect.bisect_right(starts, start) - 1)
        last = max(0, bisect.bisect_right(starts, max(start, end - 1)) - 1)
        head = self._pieces[first][:start - starts[first]]
        tail = self._pieces[last][end - starts[last]:]
        # The piece after the change too: a \r the change ends with must join it.
        stop = min(last + 2, len(self._pieces))
        parts = [head, text, tail, *self._pieces[last + 1:stop]]
        new = _rechunk(parts)
        self._pieces[first:stop] = new
        self._breaks[first:stop] = [line_count(p) for p in new]
        self._length += len(text) - (end - start)
        self._starts = []
