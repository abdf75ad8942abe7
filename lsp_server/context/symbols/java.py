"""Java: package, imports, types and their members."""

from __future__ import annotations

from tree_sitter import Node

from lsp_server.context.symbols.base import (
    _IDENT_STR,
    _comment_doc,
    _Extractor,
    _head,
    _text,
    _whole,
    type_name_of,
)
from lsp_server.context.symbols.model import Import

_JAVA_TYPES = {
    "class_declaration": "class", "interface_declaration": "interface",
    "enum_declaration": "enum", "record_declaration": "class",
    "annotation_type_declaration": "interface",
}


class _Java(_Extractor):
    def run(self, root: Node) -> None:
        src = self.src
        for child in root.named_children:
            if child.type not in ("package_declaration", "import_declaration"):
                continue
            # The dotted name; annotations (package-info.java) and comments are not part of it.
            target = next((c for c in child.named_children
                           if c.type in ("scoped_identifier", "identifier")), None)
            path = "".join(_text(src, target).split())
            if not path:
                continue
            if child.type == "package_declaration":
                self.out.package = path
            elif any(c.type == "asterisk" for c in child.named_children):
                # `import a.b.*` (a package) or `import static a.b.C.*` (a class's members)
                self.out.imports.append(Import(path, (), "", child.start_point.row, True))
            else:
                # `import a.b.C`, `import a.b.C.Inner`, `import static a.b.C.member`
                base, _, leaf = path.rpartition(".")
                self.out.imports.append(Import(base, ((leaf, leaf),), "",
                                               child.start_point.row))
        self.body(root, "")

    def body(self, node: Node, container: str) -> None:
        src = self.src
        for child in node.named_children:
            t = child.type
            if t in _JAVA_TYPES:
                name = _text(src, child.child_by_field_name("name"))
                body = child.child_by_field_name("body")
                bases = []
                for f in ("superclass", "interfaces"):
                    sub = child.child_by_field_name(f)
                    if sub is not None:
                        bases += [b for b in _IDENT_STR.findall(_text(src, sub))
                                  if b not in ("extends", "implements")]
                self.add(name, _JAVA_TYPES[t], container, child, _head(src, child, body),
                         _comment_doc(src, child), bases=tuple(bases))
                if body is not None:
                    self.body(body, name)
            elif t in ("method_declaration", "constructor_declaration"):
                name = _text(src, child.child_by_field_name("name"))
                body = child.child_by_field_name("body")
                self.add(name, "method", container, child, _head(src, child, body),
                         _comment_doc(src, child),
                         type_name_of(_text(src, child.child_by_field_name("type"))))
            elif t in ("field_declaration", "constant_declaration"):
                ftype = type_name_of(_text(src, child.child_by_field_name("type")))
                for d in child.children_by_field_name("declarator"):
                    self.add(_text(src, d.child_by_field_name("name")), "field", container,
                             child, _whole(src, child), _comment_doc(src, child), ftype)
            elif t == "enum_body_declarations":
                self.body(child, container)

