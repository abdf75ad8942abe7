"""Extract definitions with signatures, imports and identifier references from one source file.

`model` holds what is extracted, `base` what every extractor shares, and one module per
language (or family: JavaScript/TypeScript, C/C++) walks its tree-sitter syntax tree;
`_EXTRACTORS` below maps a language to its extractor.
"""

from __future__ import annotations

from collections.abc import Callable

from lsp_server.context.languages import for_grammar, get_parser
from lsp_server.context.symbols.base import (
    MAX_DECLARATION_LINES,
    MAX_DOC_CHARS,
    MAX_FIELDS_PER_CLASS,
    MAX_SIGNATURE_CHARS,
    _Extractor,
    type_name_of,
)
from lsp_server.context.symbols.c import _C
from lsp_server.context.symbols.go import _Go
from lsp_server.context.symbols.java import _Java
from lsp_server.context.symbols.javascript import _JavaScript
from lsp_server.context.symbols.model import CONTAINER_KINDS, Definition, FileSymbols, Import
from lsp_server.context.symbols.python import _Python
from lsp_server.context.symbols.references import STOP_WORDS, references_of
from lsp_server.context.symbols.rust import _Rust

__all__ = [
    "CONTAINER_KINDS",
    "MAX_DECLARATION_LINES",
    "MAX_DOC_CHARS",
    "MAX_FIELDS_PER_CLASS",
    "MAX_SIGNATURE_CHARS",
    "STOP_WORDS",
    "Definition",
    "FileSymbols",
    "Import",
    "extract",
    "references_of",
    "type_name_of",
]

_EXTRACTORS: dict[str, Callable[[bytes, FileSymbols], _Extractor]] = {
    "python": _Python, "javascript": _JavaScript, "typescript": _JavaScript, "tsx": _JavaScript,
    "go": _Go, "rust": _Rust, "java": _Java, "c": _C, "cpp": _C,
}

_PARSERS: dict[str, object] = {}


def extract(src: bytes, language: str, *, with_references: bool = True) -> FileSymbols:
    """Parse one file's bytes and return its definitions, imports and references."""
    parser = _PARSERS.get(language)
    if parser is None:
        parser = _PARSERS[language] = get_parser(language)
    tree = parser.parse(for_grammar(src, language))  # type: ignore[attr-defined]
    out = FileSymbols(language, line_count=src.count(b"\n") + 1)
    extractor = _EXTRACTORS[language](src, out)
    extractor.run(tree.root_node)  # type: ignore[attr-defined]
    if with_references:
        out.references = references_of(src)
    return out
