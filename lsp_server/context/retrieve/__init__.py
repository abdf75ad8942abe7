"""Rank cross-file snippets for a cursor from the index alone (no disk I/O) and fit a budget.

`retriever.Retriever` coordinates one retrieval: `scope` binds what names the file sees,
`cursor` reads what the lines around the cursor name, `infer` infers receiver types, `rank`
scores candidate definitions, `budget` selects within the budget and `render` shows them as
stubs; `similar` adds recently edited regions and similar windows.
"""

from lsp_server.context.retrieve.cursor import (
    WINDOW_LINES_ABOVE,
    WINDOW_LINES_BELOW,
    typed_receiver,
)
from lsp_server.context.retrieve.model import (
    FILE_HEADER_CHARS,
    ContextBlock,
    RecentEdit,
    Snippet,
    context_cost,
)
from lsp_server.context.retrieve.render import render_definition, render_file
from lsp_server.context.retrieve.retriever import Retriever
from lsp_server.context.retrieve.similar import SIMILAR_MIN_JACCARD, SIMILAR_WINDOW

__all__ = [
    "FILE_HEADER_CHARS",
    "SIMILAR_MIN_JACCARD",
    "SIMILAR_WINDOW",
    "WINDOW_LINES_ABOVE",
    "WINDOW_LINES_BELOW",
    "ContextBlock",
    "RecentEdit",
    "Retriever",
    "Snippet",
    "context_cost",
    "render_definition",
    "render_file",
    "typed_receiver",
]
