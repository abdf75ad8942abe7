"""Go: package clause, functions and methods by receiver, types, struct fields."""

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


def _result_type(src: bytes, function: Node) -> str:
    """Return the type name of a Go function's first result, named or not: `*RequestCtx`
    of `(ctx *RequestCtx)`, `Foo` of `(*Foo, error)`."""
    result = function.child_by_field_name("result")
    if result is not None and result.type == "parameter_list":
        first = next((p for p in result.named_children
                      if p.type == "parameter_declaration"), None)
        result = first.child_by_field_name("type") if first is not None else None
    return type_name_of(_text(src, result))


class _Go(_Extractor):
    def run(self, root: Node) -> None:
        src = self.src
        for child in root.named_children:
            t = child.type
            if t == "package_clause":
                for sub in child.named_children:
                    self.out.package = _text(src, sub)
            elif t == "import_declaration":
                self.imports(child)
            elif t == "function_declaration":
                self.function(child, "", "function")
            elif t == "method_declaration":
                recv = child.child_by_field_name("receiver")
                owner = ""
                if recv is not None:
                    for p in recv.named_children:
                        owner = type_name_of(_text(src, p.child_by_field_name("type")))
                self.function(child, owner, "method")
            elif t == "type_declaration":
                for spec in child.named_children:
                    if spec.type in ("type_spec", "type_alias"):
                        self.type_spec(spec, child)
            elif t in ("const_declaration", "var_declaration"):
                kind = "constant" if t == "const_declaration" else "variable"
                # A grouped `var ( ... )` holds its specs in a `var_spec_list`.
                specs = [s for c in child.named_children
                         for s in (c.named_children if c.type == "var_spec_list" else (c,))
                         if s.type in ("const_spec", "var_spec")]
                for s in specs:
                    tname = type_name_of(_text(src, s.child_by_field_name("type")))
                    sig = _whole(src, child) if len(specs) == 1 else "\t" + _text(src, s)
                    for n in s.children_by_field_name("name"):
                        self.add(_text(src, n), kind, "", s, sig, _comment_doc(src, child)
                                 if len(specs) == 1 else _comment_doc(src, s), tname,
                                 start=child if len(specs) == 1 else s)

    def function(self, node: Node, owner: str, kind: str) -> None:
        src = self.src
        body = node.child_by_field_name("body")
        name = _text(src, node.child_by_field_name("name"))
        self.add(name, kind, owner, node, _head(src, node, body), _comment_doc(src, node),
                 _result_type(src, node))

    def type_spec(self, spec: Node, decl: Node) -> None:
        src = self.src
        name = _text(src, spec.child_by_field_name("name"))
        tnode = spec.child_by_field_name("type")
        start = decl if decl.named_child_count == 1 else spec
        doc = _comment_doc(src, start)
        if tnode is not None and tnode.type in ("struct_type", "interface_type"):
            kind = "struct" if tnode.type == "struct_type" else "interface"
            body = None
            for sub in tnode.named_children:
                if sub.type == "field_declaration_list":
                    body = sub
            if kind == "interface":
                body = tnode
            head = "type " + src[spec.start_byte:tnode.start_byte].decode(
                "utf-8", "replace") + kind
            bases: list[str] = []
            self.add(name, kind, "", spec, head, doc, start=start)
            definition = self.out.definitions[-1]
            if body is None:
                return
            for member in body.named_children:
                mt = member.type
                if mt == "field_declaration":
                    names = member.children_by_field_name("name")
                    ftype = _text(src, member.child_by_field_name("type"))
                    if not names:
                        bases.append(type_name_of(ftype))
                    for n in names:
                        self.add(_text(src, n), "field", name, member,
                                 "\t" + _text(src, member), "", type_name_of(ftype))
                elif mt in ("method_elem", "method_spec"):
                    mname = _text(src, member.child_by_field_name("name"))
                    self.add(mname, "method", name, member, "\t" + _text(src, member),
                             _comment_doc(src, member), _result_type(src, member))
                elif mt in ("type_elem", "constraint_elem", "interface_type_name"):
                    bases.append(type_name_of(_text(src, member)))
            definition.bases = tuple(b for b in bases if b)
        else:
            sig = _whole(src, decl) if start is decl else "type " + _whole(src, spec).lstrip()
            self.add(name, "type", "", spec, sig, doc, type_name_of(_text(src, tnode)),
                     start=start)

    def imports(self, node: Node) -> None:
        src = self.src
        specs: list[Node] = []
        for child in node.named_children:
            if child.type == "import_spec":
                specs.append(child)
            elif child.type == "import_spec_list":
                specs.extend(c for c in child.named_children if c.type == "import_spec")
        for spec in specs:
            path = _string_content(_text(src, spec.child_by_field_name("path")))
            alias = _text(src, spec.child_by_field_name("name")) or path.rsplit("/", 1)[-1]
            self.out.imports.append(Import(path, (), alias, spec.start_point.row, alias == "."))

