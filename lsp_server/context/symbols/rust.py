"""Rust: items, `impl` members, `mod` declarations and `use` trees."""

from __future__ import annotations

from tree_sitter import Node

from lsp_server.context.symbols.base import (
    _comment_doc,
    _Extractor,
    _head,
    _string_content,
    _text,
    _whole,
    type_name_of,
)
from lsp_server.context.symbols.model import Import


def _rust_segments(src: bytes, node: Node | None) -> list[str]:
    """Return the segments of a Rust path node (`::a::b` -> ['', 'a', 'b'])."""
    if node is None:
        return []
    text = "".join(_text(src, node).split())
    return [s.removeprefix("r#") for s in text.split("::")] if text else []


def _rust_relative_to_file(segs: list[str], inline: tuple[str, ...]) -> list[str]:
    """Rewrite a `self::`/`super::` path written inside inline `mod x { ... }` blocks so that it
    is relative to the module of the file instead (what import resolution starts from)."""
    if not inline or not segs or segs[0] not in ("self", "super"):
        return segs
    if segs[0] == "self":
        return ["self", *inline, *segs[1:]]
    ups = 0
    while ups < len(segs) and segs[ups] == "super":
        ups += 1
    if ups <= len(inline):
        return ["self", *inline[:len(inline) - ups], *segs[ups:]]
    return ["super"] * (ups - len(inline)) + segs[ups:]


class _Rust(_Extractor):
    def run(self, root: Node) -> None:
        self.body(root, "")

    def body(self, node: Node, container: str, inline: tuple[str, ...] = ()) -> None:
        src = self.src
        for child in node.named_children:
            t = child.type
            name = _text(src, child.child_by_field_name("name"))
            if t in ("function_item", "function_signature_item"):
                body = child.child_by_field_name("body")
                ret = child.child_by_field_name("return_type")
                self.add(name, "method" if container else "function", container, child,
                         _head(src, child, body), _comment_doc(src, child),
                         type_name_of(_text(src, ret)))
            elif t in ("struct_item", "enum_item", "union_item", "trait_item"):
                kind = {"struct_item": "struct", "enum_item": "enum", "union_item": "union",
                        "trait_item": "trait"}[t]
                body = child.child_by_field_name("body")
                if kind in ("enum",) or body is None:
                    self.add(name, kind, container, child, _whole(src, child),
                             _comment_doc(src, child))
                    continue
                self.add(name, kind, container, child, _head(src, child, body),
                         _comment_doc(src, child))
                if kind == "trait":
                    self.body(body, name, inline)
                else:
                    for f in body.named_children:
                        if f.type == "field_declaration":
                            ftype = _text(src, f.child_by_field_name("type"))
                            self.add(_text(src, f.child_by_field_name("name")), "field", name,
                                     f, "    " + _text(src, f), "", type_name_of(ftype))
            elif t == "impl_item":
                owner = type_name_of(_text(src, child.child_by_field_name("type")))
                body = child.child_by_field_name("body")
                if body is not None:
                    self.body(body, owner, inline)
            elif t == "mod_item":
                body = child.child_by_field_name("body")
                self.add(name, "module", container, child, _head(src, child, body))
                if body is not None:
                    self.body(body, name, (*inline, name.removeprefix("r#")))
                else:
                    self.mod_decl(child, name.removeprefix("r#"), inline)
            elif t in ("type_item", "const_item", "static_item", "macro_definition"):
                kind = {"type_item": "type", "const_item": "constant",
                        "static_item": "variable", "macro_definition": "macro"}[t]
                self.add(name, kind, container, child, _whole(src, child),
                         _comment_doc(src, child),
                         type_name_of(_text(src, child.child_by_field_name("type"))))
            elif t == "use_declaration":
                self.use(child.child_by_field_name("argument"), child.start_point.row, inline)
            elif t == "extern_crate_declaration":
                alias = _text(src, child.child_by_field_name("alias")) or name
                self.out.imports.append(Import("::" + name, (), alias, child.start_point.row))

    def mod_decl(self, node: Node, name: str, inline: tuple[str, ...]) -> None:
        """Record `mod foo;` as an import of the file that holds module foo."""
        module = "::".join(("self", *inline, name))
        if not inline:  # `#[path = "x.rs"] mod foo;` names the file relative to this one's dir
            prev = node.prev_named_sibling
            while prev is not None and prev.type == "attribute_item":
                attr = prev.named_children[0] if prev.named_child_count else None
                if attr is not None and attr.named_child_count and \
                        _text(self.src, attr.named_children[0]) == "path":
                    value = attr.child_by_field_name("value")
                    if value is not None and value.type == "string_literal":
                        module = _string_content(_text(self.src, value)) or module
                    break
                prev = prev.prev_named_sibling
        self.out.imports.append(Import(module, (), name, node.start_point.row))

    def use(self, arg: Node | None, line: int, inline: tuple[str, ...]) -> None:
        """Record a use tree as one Import per module path it names:
        `use crate::{a::X, b::{Y as Z, self}}` -> crate::a (X), crate::b (Y as Z; alias b)."""
        leaves: list[tuple[list[str], str, str]] = []  # (full path, local alias, kind)
        self._use_tree(arg, [], leaves)
        order: list[str] = []
        names: dict[str, list[tuple[str, str]]] = {}
        aliases: dict[str, str] = {}
        for segs, alias, kind in leaves:
            segs = _rust_relative_to_file(segs, inline)
            if not segs or not any(segs):
                continue
            if kind == "*":
                self.out.imports.append(Import("::".join(segs), (), "", line, True))
                continue
            if segs[-1] == "self":  # `{self}`: the module itself
                segs = segs[:-1]
                alias = alias or (segs[-1] if segs and segs[-1] not in (
                    "self", "super", "crate", "") else "")
                module = "::".join(segs)
                if module not in names:
                    order.append(module)
                    names[module] = []
                aliases[module] = alias
                continue
            module, leaf = "::".join(segs[:-1]), segs[-1]
            if module not in names:
                order.append(module)
                names[module] = []
            names[module].append((leaf, alias or leaf))
        for module in order:
            self.out.imports.append(
                Import(module, tuple(names[module]), aliases.get(module, ""), line))

    def _use_tree(self, node: Node | None, prefix: list[str],
                  out: list[tuple[list[str], str, str]]) -> None:
        if node is None:
            return
        src = self.src
        t = node.type
        if t == "scoped_use_list":
            here = prefix + _rust_segments(src, node.child_by_field_name("path"))
            self._use_tree(node.child_by_field_name("list"), here, out)
        elif t == "use_list":
            for item in node.named_children:
                self._use_tree(item, prefix, out)
        elif t == "use_as_clause":
            segs = prefix + _rust_segments(src, node.child_by_field_name("path"))
            out.append((segs, _text(src, node.child_by_field_name("alias")), ""))
        elif t == "use_wildcard":
            path = next((c for c in node.named_children if c.type != "comment"), None)
            out.append((prefix + _rust_segments(src, path), "", "*"))
        elif t not in ("comment", "line_comment", "block_comment"):
            out.append((prefix + _rust_segments(src, node), "", ""))

