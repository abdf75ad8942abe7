"""Facts about the document around the cursor, computed once per call and shared by the rules."""

from __future__ import annotations

from lsp_server.completion.postprocess.languages import BLOCK_TYPES, DEFINITION
from lsp_server.completion.postprocess.lexer import Scan, left_open, scan_brackets
from lsp_server.completion.postprocess.model import PostContext
from lsp_server.completion.postprocess.parse import Syntax

_ANCHOR_BACK = 16_000


def _anchor(prefix: str, language: str | None) -> tuple[int, int]:
    """Return where the definition around the cursor starts, and its indentation (-1: unknown).

    That is the last line before the cursor that is less indented than everything after it
    and starts a definition (or sits at column 0): lexing and parsing can start there.
    """
    line_start = prefix.rfind("\n") + 1
    current = prefix[line_start:]
    nearest = len(current) - len(current.lstrip(" \t")) if current.strip() else 1 << 30
    # Python parses a lone indented definition well; brace languages need the whole class.
    nested = language in (None, "python")

    def starts(line: str, indent: int) -> bool:
        if indent == 0:
            return line[:1].isalpha() or line[:1] in "_@"
        return nested and DEFINITION.match(line) is not None

    if current.strip() and starts(current, nearest):
        return line_start, nearest  # the cursor is on the definition's first line
    limit = max(0, len(prefix) - _ANCHOR_BACK)
    pos = line_start
    while pos > limit:
        begin = prefix.rfind("\n", 0, pos - 1) + 1
        line = prefix[begin : pos - 1]
        pos = begin
        text = line.lstrip(" \t")
        if not text:
            continue
        indent = len(line) - len(text)
        if indent < nearest:
            nearest = indent
            if starts(line, indent):
                return begin, indent
    if limit == 0:
        return 0, -1
    return prefix.find("\n", limit) + 1, -1


_WINDOW_AHEAD = 8_000


def _window(ctx: PostContext) -> tuple[int, int]:
    """Return the str range worth parsing: the definition around the cursor and what follows.

    A half-typed string or block can make tree-sitter's error recovery crawl through the rest
    of a large file; parsing only the enclosing definition keeps every parse to a few ms.
    """
    start, anchor = _anchor(ctx.prefix, ctx.language)
    prefix, suffix = ctx.prefix, ctx.suffix
    ahead = suffix[:_WINDOW_AHEAD]
    end = len(ahead)
    offset = ahead.find("\n") + 1
    while 0 < offset < len(ahead):
        nl = ahead.find("\n", offset)
        line = ahead[offset : nl if nl >= 0 else len(ahead)]
        text = line.lstrip(" \t")
        if text and len(line) - len(text) <= max(anchor, 0):
            # The next definition at the anchor's depth; a closing line still belongs to ours.
            end = (nl + 1 if nl >= 0 else len(ahead)) if text[:1] in ")]}" else offset
            break
        if nl < 0:
            break
        offset = nl + 1
    else:
        if len(suffix) > _WINDOW_AHEAD:
            end = ahead.rfind("\n") + 1
    return start, len(prefix) + end


class Facts:
    """Lazily computed facts about the document around the cursor."""

    def __init__(self, ctx: PostContext) -> None:
        self.ctx = ctx
        self._prefix_scan: Scan | None = None
        self._suffix_scan: Scan | None = None
        self._window: tuple[int, int] | None = None
        self._syntax: Syntax | None = None

    @property
    def window(self) -> tuple[int, int]:
        """Return the str range around the cursor that lexing and parsing look at."""
        if self._window is None:
            self._window = _window(self.ctx)
        return self._window

    @property
    def prefix_scan(self) -> Scan:
        """Return the lexer's view of the prefix from the window start to the cursor."""
        if self._prefix_scan is None:
            start = self.window[0]
            self._prefix_scan = scan_brackets(self.ctx.prefix[start:], self.ctx.language)
        return self._prefix_scan

    @property
    def needed(self) -> list[str]:
        """Openers of the prefix that the suffix does not close: the suggestion may close them."""
        return left_open([o for o, _ in self.prefix_scan.stack], self.suffix_scan.unmatched)

    @property
    def suffix_scan(self) -> Scan:
        """Return the lexer's view of the suffix up to the window end, in the cursor's state."""
        if self._suffix_scan is None:
            want = len(self.prefix_scan.stack)
            if want == 0 and not self.prefix_scan.state:
                self._suffix_scan = Scan([], [], "")
            else:
                # Only up to the window's end: past it, closers belong to outer definitions.
                ahead = self.window[1] - len(self.ctx.prefix)
                self._suffix_scan = scan_brackets(
                    self.ctx.suffix[:ahead], self.ctx.language, self.prefix_scan.state,
                    stop_unmatched=want,
                )
        return self._suffix_scan

    @property
    def syntax(self) -> Syntax | None:
        """Return the document parsed around the cursor, or None without a grammar."""
        language = self.ctx.language
        if language is None or language not in BLOCK_TYPES:
            return None
        if self._syntax is None:
            self._syntax = Syntax(self.ctx, language, self.window)
        return self._syntax
