"""Prompt formats of the next-edit models: how each was trained to see the edit, and how its
answer is read back into the new text of the editable region."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from lsp_server.nextedit.history import Hunk
from lsp_server.nextedit.region import Region
from lsp_server.prompt import ContextFile

CURSOR = "<|user_cursor_is_here|>"
REGION_START = "<|editable_region_start|>"
REGION_END = "<|editable_region_end|>"
START_OF_FILE = "<|start_of_file|>"


@dataclass(frozen=True)
class NextEditInput:
    """Everything a format may put in a prompt. Text that leaves the machine passes `gate`."""

    path: str  # relative to the workspace, as the model sees it
    language: str | None
    text: str
    offset: int  # the cursor
    region: Region
    original_region: str  # the region's text before the user's last edit in it
    history: Sequence[Hunk] = ()  # oldest first
    context_files: Sequence[ContextFile] = ()
    gate: Callable[[str], str] = lambda s: s

    @property
    def region_text(self) -> str:
        return self.text[self.region.start : self.region.end]

    def lines_before(self, count: int) -> str:
        """Return up to `count` whole lines above the region."""
        start = self.region.start
        for _ in range(count):
            if start <= 0:
                break
            start = self.text.rfind("\n", 0, start - 1) + 1
        return self.text[start : self.region.start]

    def lines_after(self, count: int) -> str:
        """Return up to `count` whole lines below the region."""
        end = self.region.end
        for _ in range(count):
            if end >= len(self.text):
                break
            nl = self.text.find("\n", end)
            end = len(self.text) if nl < 0 else nl + 1
        return self.text[self.region.end : end]


@dataclass(frozen=True)
class ModelPrompt:
    """One request to the model: a raw completion prompt, or chat messages."""

    kind: Literal["completion", "chat"]
    prompt: str = ""
    messages: list[dict[str, str]] = field(default_factory=list)
    stop: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        """Return everything sent, as one string (for prefix-reuse measures and the CLI)."""
        if self.kind == "completion":
            return self.prompt
        return "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n"
                       for m in self.messages)


class Format(Protocol):
    """A next-edit prompt format."""

    name: str

    def build(self, inp: NextEditInput) -> ModelPrompt: ...

    def parse(self, answer: str, inp: NextEditInput) -> str | None: ...


def get_format(name: str) -> Format:
    """Return the format called `name` (`sweep`, `zeta`, `instinct`, `chat`)."""
    from lsp_server.nextedit.formats import chat, instinct, sweep, zeta

    return {"sweep": sweep.FORMAT, "zeta": zeta.FORMAT, "instinct": instinct.FORMAT,
            "chat": chat.FORMAT}.get(name, chat.FORMAT)


def with_cursor(inp: NextEditInput, marker: str) -> str:
    """Return the region's text, gated, with `marker` at the cursor."""
    at = min(max(inp.offset, inp.region.start), inp.region.end) - inp.region.start
    region = inp.region_text
    return inp.gate(region[:at]) + marker + inp.gate(region[at:])


def diff_block(hunk: Hunk, gate: Callable[[str], str]) -> str:
    """Return a hunk as a unified diff body, gated."""
    return gate(hunk.unified())


def ensure_newline(text: str) -> str:
    """Return text ending with a newline (empty stays empty)."""
    return text if not text or text.endswith("\n") else text + "\n"
