"""Which code an action works on: the selection, or the definition around the cursor."""

from __future__ import annotations

from functools import lru_cache

from tree_sitter import Node

from lsp_server.context.languages import get_parser
from lsp_server.positions import byte_offset

# Node types that make a sensible unit to explain or rewrite, per grammar.
_DEFINITIONS: dict[str, frozenset[str]] = {
    "python": frozenset({"function_definition", "class_definition"}),
    "javascript": frozenset({"function_declaration", "generator_function_declaration",
                             "class_declaration", "method_definition", "function_expression",
                             "arrow_function"}),
    "go": frozenset({"function_declaration", "method_declaration", "type_declaration"}),
    "rust": frozenset({"function_item", "impl_item", "struct_item", "enum_item", "trait_item"}),
    "java": frozenset({"method_declaration", "constructor_declaration", "class_declaration",
                       "interface_declaration", "enum_declaration"}),
    "c": frozenset({"function_definition", "struct_specifier"}),
    "cpp": frozenset({"function_definition", "class_specifier", "struct_specifier"}),
}
_DEFINITIONS["typescript"] = _DEFINITIONS["javascript"] | {
    "interface_declaration", "abstract_class_declaration", "type_alias_declaration",
    "enum_declaration"}
_DEFINITIONS["tsx"] = _DEFINITIONS["typescript"]
# Wrappers that belong to the definition they hold (decorators, export, const f = () => ...).
_WRAPPERS = frozenset({"decorated_definition", "export_statement", "lexical_declaration",
                       "variable_declaration", "variable_declarator"})
_NAME_FIELDS = ("name", "declarator")


@lru_cache(maxsize=8)
def _parse(text: str, language: str) -> Node | None:
    """Return the syntax tree's root; cached because editors ask for actions on every move."""
    if language not in _DEFINITIONS:
        return None
    try:
        parser = get_parser(language)
    except (ImportError, KeyError, AttributeError):  # grammar wheel missing or renamed
        return None
    return parser.parse(text.encode("utf-8", "surrogatepass")).root_node


def _char_offset(data: bytes, byte: int) -> int:
    return len(data[:byte].decode("utf-8", "surrogatepass"))


def _outermost_wrapper(node: Node) -> Node:
    while node.parent is not None and node.parent.type in _WRAPPERS:
        node = node.parent
    return node


def whole_lines(text: str, start: int, end: int) -> tuple[int, int]:
    """Widen [start, end) to whole lines, without the last line's newline."""
    start = text.rfind("\n", 0, start) + 1
    nl = text.find("\n", end)
    end = len(text) if nl == -1 else nl
    return start, end


def enclosing_definition(text: str, offset: int, language: str | None) -> tuple[int, int] | None:
    """Return the whole-line range of the innermost definition around `offset`, if any."""
    if language is None or (root := _parse(text, language)) is None:
        return None
    kinds = _DEFINITIONS[language]
    data = text.encode("utf-8", "surrogatepass")
    point = byte_offset(text, offset)
    node: Node | None = root.descendant_for_byte_range(point, point)
    while node is not None:
        if node.type in kinds and not (node.type in ("arrow_function", "function_expression")
                                       and node.parent is not None
                                       and node.parent.type not in _WRAPPERS):
            node = _outermost_wrapper(node)
            return whole_lines(text, _char_offset(data, node.start_byte),
                               _char_offset(data, node.end_byte))
        node = node.parent
    return None


def definition_named(text: str, language: str | None, name: str) -> tuple[int, int] | None:
    """Return the whole-line range of the first definition called `name`, if any."""
    if language is None or (root := _parse(text, language)) is None:
        return None
    kinds = _DEFINITIONS[language]
    data = text.encode("utf-8", "surrogatepass")
    stack = [root]
    while stack:
        node = stack.pop(0)
        if node.type in kinds and _name_of(node) == name:
            node = _outermost_wrapper(node)
            return whole_lines(text, _char_offset(data, node.start_byte),
                               _char_offset(data, node.end_byte))
        stack.extend(node.children)
    return None


def first_definition_name(code: str, language: str | None) -> str | None:
    """Return the name of the first top-level definition in `code`, if any."""
    if language is None or (root := _parse(code, language)) is None:
        return None
    kinds = _DEFINITIONS[language]
    stack = list(root.children)
    while stack:
        node = stack.pop(0)
        if node.type in kinds and (name := _name_of(node)):
            return name
        if node.type in _WRAPPERS:
            stack[:0] = node.children
    return None


def _name_of(node: Node) -> str | None:
    for field_name in _NAME_FIELDS:
        child = node.child_by_field_name(field_name)
        while child is not None and child.type not in ("identifier", "type_identifier",
                                                         "property_identifier",
                                                         "field_identifier"):
            inner = child.child_by_field_name("declarator") or child.child_by_field_name("name")
            child = inner
        if child is not None and child.text is not None:
            return child.text.decode("utf-8", "replace")
    return None


def widen_selection(text: str, start: int, end: int) -> tuple[int, int]:
    """Widen a multi-line selection to whole lines; leave a selection within one line alone."""
    if "\n" not in text[start:end].rstrip("\n"):
        return start, end
    line_start = text.rfind("\n", 0, start) + 1
    if not text[line_start:start].strip():
        start = line_start
    if end > 0 and text[end - 1] != "\n":
        nl = text.find("\n", end)
        end = len(text) if nl == -1 else nl
    return start, end
