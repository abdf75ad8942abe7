"""One retrieval's inputs, which every step that gathers candidates reads."""

from __future__ import annotations

from dataclasses import dataclass

from lsp_server.context.index import RepoIndex
from lsp_server.context.symbols import FileSymbols


@dataclass(frozen=True, slots=True)
class Query:
    """The cursor to find context for, and the index and caches to find it in."""

    index: RepoIndex
    path: str
    text: str
    offset: int
    current: FileSymbols
    caches: dict[str, dict]  # lookups valid for the index's current generation
    in_test: bool  # the current file is a test


class _Step:
    """Base of the steps of one retrieval (scope, types, ranking): the query's fields."""

    def __init__(self, query: Query) -> None:
        self.index = query.index
        self.path = query.path
        self.text = query.text
        self.offset = query.offset
        self.current = query.current
        self.lang = query.current.language
        self.caches = query.caches
        self.in_test = query.in_test
