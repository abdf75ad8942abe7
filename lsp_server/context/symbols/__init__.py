"""Extract definitions with signatures, imports and identifier references from one source file.

`model` holds what is extracted, `base` what every extractor shares, and one module per
language (or family: JavaScript/TypeScript, C/C++) walks its tree-sitter syntax tree;
`_EXTRACTORS` below maps a language to its extractor.
"""

from __future__ import annotations

import re
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


# A member access the user is typing (`util.` at a line's end, `this?.`, `p->`, `Foo::`),
# with the name before it.
_TYPING_ACCESS = re.compile(rb"([\w$]*)(?<=[\w$)\]>])[ \t]*(?:\?\.|\.|->|::)(?=[ \t]*\r?$)", re.M)


def extract(src: bytes, language: str, *, with_references: bool = True) -> FileSymbols:
    """Parse one file's bytes and return its definitions, imports and references."""
    parser = _PARSERS.get(language)
    if parser is None:
        parser = _PARSERS[language] = get_parser(language)
    grammar_src = for_grammar(src, language)
    tree = parser.parse(grammar_src)  # type: ignore[attr-defined]
    out = _symbols(src, language, tree.root_node)  # type: ignore[attr-defined]
    if tree.root_node.has_error:  # type: ignore[attr-defined]
        # A buffer mid-edit: `util.` typed in a method makes Python's grammar wrap the whole
        # file in one error, and the file seems to declare and import nothing. Read it
        # without the member access being typed (the same length: positions hold), as it
        # will be once the member is typed, unless that finds less.
        repaired = _TYPING_ACCESS.sub(_untyped, grammar_src)
        if repaired != grammar_src:
            other = _symbols(src, language, parser.parse(repaired).root_node)  # type: ignore
            if len(other.definitions) + len(other.imports) >= \
                    len(out.definitions) + len(out.imports):
                out = other
    if with_references:
        out.references = references_of(src)
    return out


_OPENERS = {ord("("): ord(")"), ord("["): ord("]"), ord("{"): ord("}")}
_QUOTED = re.compile(rb"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'|`[^`]*`")


def _untyped(m: re.Match[bytes]) -> bytes:
    """Return a typed member access as its receiver's name (`util.` reads `util`), or, when
    its line leaves brackets open, as their closers (`(nodes.` reads `()`: the rest of the
    file is no longer inside the parenthesis). Always of the same length."""
    typed = m[0]
    line = m.string[m.string.rfind(b"\n", 0, m.start()) + 1:m.start()]
    stack: list[int] = []
    for c in _QUOTED.sub(b"", line):
        if c in _OPENERS:
            stack.append(_OPENERS[c])
        elif stack and c == stack[-1]:
            stack.pop()
    if stack and len(stack) <= len(typed):
        return bytes(reversed(stack)).ljust(len(typed))
    return m[1].ljust(len(typed))


def _symbols(src: bytes, language: str, root: object) -> FileSymbols:
    out = FileSymbols(language, line_count=src.count(b"\n") + 1)
    _EXTRACTORS[language](src, out).run(root)  # type: ignore[arg-type]
    return out
