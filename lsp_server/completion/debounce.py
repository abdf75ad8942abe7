"""When to call the model after a keystroke: the adaptive debounce, the steady-typing request.

The debounce waits for a pause; while the user types steadily, a request goes out anyway.
"""

from __future__ import annotations

import statistics
from collections import deque
from collections.abc import Callable, Sequence

from lsp_server.settings import CompletionSettings

_TYPING_GAP_MAX = 1.0  # seconds; a longer gap is a pause, not typing speed


class TypingPace:
    """This user's pace, learnt from the gaps between keystrokes (one instance per server,
    since the user types in one place at a time)."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._gaps: deque[float] = deque(maxlen=30)
        self._last_edit_at: float | None = None
        self.unanswered_since: float | None = None  # first keystroke no request went out for

    def keystroke(self) -> None:
        """Note a keystroke now."""
        now = self._clock()
        if self._last_edit_at is not None and now - self._last_edit_at < _TYPING_GAP_MAX:
            self._gaps.append(now - self._last_edit_at)
        self._last_edit_at = now
        if self.unanswered_since is None:
            self.unanswered_since = now

    def answered(self) -> None:
        """A request went out, or a suggestion was reused: the steady-typing clock restarts."""
        self.unanswered_since = None

    def debounce_seconds(self, cs: CompletionSettings, latencies_ms: Sequence[float]) -> float:
        """Return how long to wait before calling the model after a keystroke.

        A pause a little longer than this user's usual gap between keystrokes means they
        stopped typing; when the model answers faster than they type, a wasted request is
        cheap, so wait less.
        """
        low, high = cs.debounce_min_ms / 1000, max(cs.debounce_min_ms, cs.debounce_max_ms) / 1000
        if not self._gaps:
            return low
        gap = statistics.median(self._gaps)
        delay = 1.2 * gap
        if latencies_ms and statistics.median(latencies_ms) / 1000 < gap:
            delay /= 2
        return min(high, max(low, delay))

    def keystroke_delay(self, cs: CompletionSettings,
                        latencies_ms: Sequence[float]) -> tuple[float, bool]:
        """Return how long to wait before calling the model, and whether the user is typing
        steadily.

        The debounce waits for a pause; a user typing steadily faster than it never pauses,
        so, at most debounceMaxMs after the first keystroke that no request went out for,
        one goes out anyway, and it is kept through the next keystrokes until its first
        piece shows whether they typed what it writes. Its answer then appears mid-typing,
        as the user types through it.
        """
        delay = self.debounce_seconds(cs, latencies_ms)
        if self.unanswered_since is None:
            return delay, False
        cap = cs.debounce_max_ms / 1000
        left = max(0.0, cap - (self._clock() - self.unanswered_since))
        return (left, True) if left < delay else (delay, False)
