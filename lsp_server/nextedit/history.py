"""The user's recent edits, per document and across files, coalesced into hunks.

Every `didChange` gives the text before and after; the change is reduced to the lines it
touched. A burst of typing on one line (or in one block of lines) grows the last hunk instead
of adding one per keystroke; an undo is an edit like any other. Only files whose text may
leave the machine are recorded: the caller says so for each change.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from lsp_server.affixes import common_prefix, common_suffix
from lsp_server.positions import split_lines

MAX_HUNKS = 16
MAX_HUNK_CHARS = 2000  # each side of a hunk; a larger change is kept as its start
_COALESCE_SECONDS = 3.0  # typing on the same lines after a longer pause starts a new hunk


@dataclass
class Hunk:
    """Lines [line, line + len(old)) of `path` became `new` (both with line endings)."""

    key: str  # the document's URI
    path: str  # as shown to the model (relative to the workspace)
    line: int  # 0-based first line, in the text before the change
    old: str
    new: str
    at: float = field(default=0.0)

    @property
    def new_lines(self) -> int:
        return self.new.count("\n") + (0 if self.new.endswith("\n") or not self.new else 1)

    def unified(self) -> str:
        """Return the hunk as a unified diff body (`@@` header, `-`/`+` lines)."""
        old, new = _lines(self.old), _lines(self.new)
        head = f"@@ -{self.line + 1},{len(old)} +{self.line + 1},{len(new)} @@"
        return "\n".join([head, *("-" + x for x in old), *("+" + x for x in new)])


def _lines(text: str) -> list[str]:
    return text.replace("\r\n", "\n").split("\n")[:-1] if text.endswith("\n") else (
        text.replace("\r\n", "\n").split("\n") if text else [])


def changed_lines(before: str, after: str) -> tuple[int, str, str] | None:
    """Return (first line, old lines, new lines) that differ between two texts, whole lines
    with their endings; None when the texts are equal."""
    if before == after:
        return None
    start = common_prefix(before, after)
    end = common_suffix(before, after, min(len(before), len(after)) - start)
    line_begin = before.rfind("\n", 0, start) + 1
    old_tail, new_tail = len(before) - end, len(after) - end
    if (old_tail >= line_begin and new_tail >= line_begin
            and (old_tail == 0 or before[old_tail - 1] == "\n")
            and (new_tail == 0 or after[new_tail - 1] == "\n")):
        old_end, new_end = old_tail, new_tail  # whole lines inserted or removed
    else:
        old_end = before.find("\n", old_tail)
        old_end = len(before) if old_end < 0 else old_end + 1
        new_end = after.find("\n", new_tail)
        new_end = len(after) if new_end < 0 else new_end + 1
    # The tails after the changed lines are identical by construction.
    line = before.count("\n", 0, line_begin)
    return line, before[line_begin:old_end], after[line_begin:new_end]


class EditHistory:
    """Recent hunks across documents, oldest first, bounded in count and size."""

    def __init__(self, *, max_hunks: int = MAX_HUNKS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._hunks: deque[Hunk] = deque(maxlen=max_hunks)
        self._clock = clock

    def record(self, key: str, path: str, before: str, after: str) -> None:
        """Note that document `key` went from `before` to `after`."""
        found = changed_lines(before, after)
        if found is None:
            return
        line, old, new = found
        now = self._clock()
        last = self._hunks[-1] if self._hunks else None
        if last is not None and last.key == key and now - last.at < _COALESCE_SECONDS:
            merged = self._merge(last, line, old, new)
            if merged:
                last.at = now
                if last.old == last.new:  # typed and erased again: nothing happened
                    self._hunks.pop()
                return
        self._hunks.append(Hunk(key, path, line, _cap(old), _cap(new), now))

    @staticmethod
    def _merge(last: Hunk, line: int, old: str, new: str) -> bool:
        """Fold a change into the last hunk when it only touches the lines that hunk wrote."""
        span = last.new_lines
        if not (last.line <= line and line + _lines_count(old) <= last.line + max(span, 1)):
            return False
        if last.new == old and last.old == new and old != new and "\n" in old + new and (
                abs(len(old) - len(new)) > 1):
            return False  # an undo of the whole hunk is an edit of its own
        rows = list(split_lines(last.new))
        offset = line - last.line
        head = "".join(rows[:offset])
        tail = "".join(rows[offset + _lines_count(old):])
        if not (last.new.startswith(head) and "".join(rows[offset:offset + _lines_count(old)])
                == old):
            return False
        last.new = _cap(head + new + tail)
        return True

    def hunks(self, exclude: Callable[[Hunk], bool] | None = None) -> list[Hunk]:
        """Return the recorded hunks, oldest first."""
        return [h for h in self._hunks if exclude is None or not exclude(h)]

    def last(self, key: str) -> Hunk | None:
        """Return the latest hunk of a document."""
        return next((h for h in reversed(self._hunks) if h.key == key), None)

    def before_last(self, key: str, text: str) -> str:
        """Return document `key` as it was before its latest hunk (`text` when it has none,
        or when the hunk's lines are no longer where it left them)."""
        hunk = self.last(key)
        if hunk is None:
            return text
        rows = list(split_lines(text))
        count = _lines_count(hunk.new)
        if "".join(rows[hunk.line:hunk.line + count]) != hunk.new:
            return text
        return "".join(rows[:hunk.line]) + hunk.old + "".join(rows[hunk.line + count:])

    def forget(self, key: str) -> None:
        """Drop everything about a document (closed, or it became a secret)."""
        for hunk in [h for h in self._hunks if h.key == key]:
            self._hunks.remove(hunk)

    def __len__(self) -> int:
        return len(self._hunks)


def _lines_count(text: str) -> int:
    return text.count("\n") + (0 if text.endswith("\n") or not text else 1)


def _cap(text: str) -> str:
    if len(text) <= MAX_HUNK_CHARS:
        return text
    cut = text.rfind("\n", 0, MAX_HUNK_CHARS)
    return text[: cut + 1] if cut > 0 else text[:MAX_HUNK_CHARS]
