"""C and C++: includes, macros, functions, records, typedefs, declarations."""

from __future__ import annotations

from tree_sitter import Node

from lsp_server.context.symbols.base import (
    _comment_doc,
    _Extractor,
    _head,
    _text,
    _whole,
    type_name_of,
)
from lsp_server.context.symbols.model import Import

_C_TRANSPARENT = frozenset({
    "preproc_ifdef", "preproc_if", "preproc_else", "preproc_elif", "preproc_elifdef",
    "linkage_specification", "declaration_list", "template_declaration",
})
_C_TYPES = {
    "struct_specifier": "struct", "class_specifier": "class", "union_specifier": "union",
    "enum_specifier": "enum",
}
_C_NAME_TYPES = frozenset({
    "identifier", "field_identifier", "type_identifier", "qualified_identifier",
    "destructor_name", "operator_name", "primitive_type",
})


def _c_declarator_name(node: Node | None) -> tuple[Node | None, bool]:
    """Follow nested declarators to the declared name; also say whether it is a function."""
    is_function = False
    while node is not None and node.type not in _C_NAME_TYPES:
        if node.type == "function_declarator":
            is_function = True
        inner = node.child_by_field_name("declarator")
        if inner is None:
            named = [c for c in node.named_children if c.type in _C_NAME_TYPES]
            return (named[0] if named else None), is_function
        node = inner
    return node, is_function


class _C(_Extractor):
    def run(self, root: Node) -> None:
        self.body(root, "")

    def body(self, node: Node, container: str) -> None:
        src = self.src
        for child in node.named_children:
            t = child.type
            if t in _C_TRANSPARENT:
                body = child.child_by_field_name("body")
                self.body(body if body is not None else child, container)
            elif t == "namespace_definition":
                body = child.child_by_field_name("body")
                if body is not None:
                    self.body(body, container)
            elif t == "preproc_include":
                self.include(child)
            elif t in ("preproc_def", "preproc_function_def"):
                self.add(_text(src, child.child_by_field_name("name")), "macro", container,
                         child, _whole(src, child), _comment_doc(src, child))
            elif t == "function_definition":
                self.function(child, container, child.child_by_field_name("body"))
            elif t in ("declaration", "field_declaration"):
                self.declaration(child, container)
            elif t == "type_definition":
                self.typedef(child, container)
            elif t in _C_TYPES:
                self.record(child, container, child)

    def include(self, node: Node) -> None:
        """Record `#include "x.h"` as module `x.h` and `#include <x.h>` as `<x.h>` (the search
        differs); an include brings in everything the header declares, so it is a wildcard."""
        path = node.child_by_field_name("path")
        if path is None or path.type not in ("string_literal", "system_lib_string"):
            return  # `#include MACRO`: unknowable without the preprocessor
        name = _text(self.src, path).strip().strip("<>\"").strip().replace("\\", "/")
        if not name:
            return
        module = f"<{name}>" if path.type == "system_lib_string" else name
        self.out.imports.append(Import(module, (), "", node.start_point.row, True))

    def function(self, node: Node, container: str, body: Node | None) -> None:
        src = self.src
        name_node, _ = _c_declarator_name(node.child_by_field_name("declarator"))
        if name_node is None:
            return
        name = _text(src, name_node)
        owner = container
        if name_node.type == "qualified_identifier":
            scope, _, name = name.rpartition("::")
            owner = scope.rsplit("::", 1)[-1]
        kind = "method" if owner else "function"
        self.add(name, kind, owner, node, _head(src, node, body), _comment_doc(src, node),
                 type_name_of(_text(src, node.child_by_field_name("type"))))

    def declaration(self, node: Node, container: str) -> None:
        src = self.src
        tnode = node.child_by_field_name("type")
        if tnode is not None and tnode.type in _C_TYPES and tnode.child_by_field_name(
                "body") is not None:
            self.record(tnode, container, node)
        for d in node.children_by_field_name("declarator"):
            name_node, is_function = _c_declarator_name(d)
            if name_node is None:
                continue
            if is_function:
                self.function(node, container, None)
                return
            if node.type == "field_declaration" or node.parent is None or \
                    node.parent.type in ("translation_unit", "declaration_list"):
                kind = "field" if container else "variable"
                self.add(_text(src, name_node), kind, container, node, _whole(src, node),
                         _comment_doc(src, node), type_name_of(_text(src, tnode)))

    def typedef(self, node: Node, container: str) -> None:
        src = self.src
        tnode = node.child_by_field_name("type")
        names = [_text(src, _c_declarator_name(d)[0])
                 for d in node.children_by_field_name("declarator")]
        if tnode is not None and tnode.type in _C_TYPES and tnode.child_by_field_name(
                "body") is not None:
            self.record(tnode, container, node, alias=names[0] if names else "")
        else:
            for n in names:
                self.add(n, "type", container, node, _whole(src, node),
                         _comment_doc(src, node), type_name_of(_text(src, tnode)))

    def record(self, node: Node, container: str, start: Node, alias: str = "") -> None:
        src = self.src
        body = node.child_by_field_name("body")
        name = _text(src, node.child_by_field_name("name")) or alias
        kind = _C_TYPES[node.type]
        if not name:
            return
        if kind == "enum" or body is None:
            after = start.next_sibling  # `enum e { A };`: the `;` is not the specifier's
            text = _whole(src, start) + (";" if after is not None and after.type == ";" else "")
            self.add(name, kind, container, node, text, _comment_doc(src, start), start=start)
            return
        bases = tuple(type_name_of(_text(src, c)) for c in node.named_children
                      if c.type == "base_class_clause")
        # A typedef's name goes where a stub closes the record (`} point_t;`).
        self.add(name, kind, container, node, _head(src, node, body, start),
                 _comment_doc(src, start), alias, bases=bases, start=start)
        self.body(body, name)

