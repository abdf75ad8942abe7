"""What the post-processor is given besides the suggestion, and what it answers."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class PostContext:
    """Everything a rule may look at besides the suggestion itself."""

    prefix: str
    suffix: str
    language: str | None
    multiline: bool
    max_lines: int = 8
    tab_size: int | None = None
    insert_spaces: bool | None = None
    document_key: str | None = None


@dataclass
class PostResult:
    """The text to show ("" shows nothing) and the rules that changed it."""

    text: str
    rule_hits: list[str] = field(default_factory=list)

