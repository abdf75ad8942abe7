"""Language facts the post-processor relies on: the registry's quotes, comments and brace
languages, and the grammar node types of definitions and blocks."""

from __future__ import annotations

import re

from lsp_server.context.languages import BRACE_LANGUAGES, line_comment, string_quotes

# The registry's facts, under the names the rules use.
BRACE_LANGS = BRACE_LANGUAGES
quotes = string_quotes
__all__ = ["BLOCK_TYPES", "BRACE_LANGS", "DEFINITION", "PYTHON_COMPOUND", "line_comment", "quotes"]


# A line that starts a definition, in any language: lexing and parsing may start there.
DEFINITION = re.compile(
    r"[ \t]*(?:@|(?:async|def|class|func|function|export|pub|fn|impl|public|private|protected"
    r"|static|interface|type|const|let|var|void|int|template|struct|enum)\b)"
)

# Tree-sitter node types of the blocks a multi-line suggestion must not run out of.
BLOCK_TYPES: dict[str, frozenset[str]] = {
    "python": frozenset({"block"}),
    "javascript": frozenset({"statement_block", "class_body", "switch_body"}),
    "typescript": frozenset(
        {"statement_block", "class_body", "switch_body", "interface_body", "enum_body"}
    ),
    "go": frozenset({"block", "field_declaration_list", "method_spec_list"}),
    "rust": frozenset({"block", "declaration_list", "field_declaration_list", "match_block"}),
    "java": frozenset(
        {"block", "class_body", "interface_body", "switch_block", "constructor_body", "enum_body"}
    ),
    "c": frozenset({"compound_statement", "field_declaration_list", "enumerator_list"}),
    "cpp": frozenset(
        {"compound_statement", "field_declaration_list", "declaration_list", "enumerator_list"}
    ),
}
BLOCK_TYPES["tsx"] = BLOCK_TYPES["typescript"]

# A Python compound statement header, which needs a colon and a body.
PYTHON_COMPOUND = re.compile(
    r"[ \t]*(?:if|elif|else|for|while|with|try|except|finally|def|class|async)\b"
)

