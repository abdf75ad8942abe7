"""Chat sessions: each keeps its turns within a token budget, oldest dropped first."""

from __future__ import annotations

from dataclasses import dataclass, field

from cachetools import LRUCache

# Qwen's tokenizer averages a little over 3 characters per token on code and English; an
# estimate is enough to keep the history inside its budget.
CHARS_PER_TOKEN = 3.2
_MAX_SESSIONS = 64


def estimate_tokens(text: str) -> int:
    """Return a rough token count for `text`."""
    return int(len(text) / CHARS_PER_TOKEN) + 1


@dataclass
class Turn:
    """One exchange: what the user asked and what the model answered."""

    user: str
    assistant: str

    def tokens(self) -> int:
        """Return the estimated tokens this turn costs in a prompt."""
        return estimate_tokens(self.user) + estimate_tokens(self.assistant) + 8


@dataclass
class ChatSession:
    """The turns of one conversation, capped at `max_tokens` (estimated)."""

    max_tokens: int
    turns: list[Turn] = field(default_factory=list)
    dropped: int = 0

    def add(self, user: str, assistant: str) -> None:
        """Record a finished turn, then drop the oldest turns beyond the budget."""
        self.turns.append(Turn(user, assistant))
        self._trim()

    def _trim(self) -> None:
        while len(self.turns) > 1 and self.tokens() > self.max_tokens:
            self.turns.pop(0)
            self.dropped += 1
        if self.turns and self.tokens() > self.max_tokens:
            # A single turn over budget keeps its start: the question and the answer's head.
            turn = self.turns[0]
            keep = max(0, int(self.max_tokens * CHARS_PER_TOKEN) // 2)
            self.turns[0] = Turn(turn.user[:keep], turn.assistant[:keep])

    def tokens(self) -> int:
        """Return the estimated tokens of the whole history."""
        return sum(t.tokens() for t in self.turns)

    def messages(self) -> list[dict[str, str]]:
        """Return the history as chat messages, oldest first."""
        out: list[dict[str, str]] = []
        for turn in self.turns:
            out.append({"role": "user", "content": turn.user})
            out.append({"role": "assistant", "content": turn.assistant})
        return out


class SessionStore:
    """Sessions by id; the least recently used are forgotten beyond a fixed number."""

    def __init__(self, max_sessions: int = _MAX_SESSIONS) -> None:
        self._sessions: LRUCache[str, ChatSession] = LRUCache(maxsize=max_sessions)

    def get(self, session_id: str, max_tokens: int) -> ChatSession:
        """Return the session, created empty if new; apply the current history budget."""
        session = self._sessions.get(session_id)
        if session is None:
            session = self._sessions[session_id] = ChatSession(max_tokens)
        elif session.max_tokens != max_tokens:
            session.max_tokens = max_tokens
            session._trim()
        return session

    def reset(self, session_id: str) -> bool:
        """Forget a session; return whether it existed."""
        return self._sessions.pop(session_id, None) is not None
