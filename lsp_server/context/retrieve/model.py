"""What retrieval returns: snippets of other files, grouped in blocks, and their cost."""

from __future__ import annotations

from dataclasses import dataclass, field

from lsp_server.context.index import FileEntry
from lsp_server.context.symbols import Definition

FILE_HEADER_CHARS = 14  # "<|file_sep|>" + newline around the path


@dataclass(slots=True)
class Snippet:
    """One piece of cross-file context chosen for a cursor."""

    path: str  # absolute
    rel: str
    start_line: int
    end_line: int
    text: str
    score: float
    source: str  # import | type | member | named | module | signature | recent | similar


@dataclass
class ContextBlock:
    """All snippets of one file, rendered as one `<|file_sep|>` block."""

    path: str  # absolute
    rel: str
    text: str
    snippets: list[Snippet] = field(default_factory=list)
    tier: int = 1


@dataclass(slots=True)
class RecentEdit:
    """A region the user changed in some open file."""

    path: str
    start_line: int
    end_line: int
    stamp: float


@dataclass(slots=True)
class _Cand:
    entry: FileEntry
    d: Definition
    score: float
    source: str
    with_doc: bool = True


def context_cost(piece: Snippet | ContextBlock) -> int:
    """Return how many prompt characters a snippet or block takes, its file header included."""
    return len(piece.text) + len(piece.rel) + FILE_HEADER_CHARS
