"""Python: functions, classes, `self.x` fields, module and `from` imports."""

from __future__ import annotations

import re

from tree_sitter import Node

from lsp_server.context.symbols.base import (
    MAX_FIELDS_PER_CLASS,
    _Extractor,
    _first_doc_line,
    _head,
    _text,
    _whole,
    type_name_of,
)
from lsp_server.context.symbols.model import Definition, Import

_SELF_FIELD = re.compile(
    rb"self\.([A-Za-z_][A-Za-z0-9_]*)\s*(?::\s*([^=\n]+?))?\s*=(?!=)\s*([A-Za-z_][\w.]*\()?"
)
# The rest of a `self.x = ` line that only names a variable: `flow` of `self.flow = flow`.
_BARE_VALUE = re.compile(rb"([A-Za-z_]\w*)[ \t]*(?:#[^\n]*)?(?:\n|$)")

_PY_TRANSPARENT = frozenset({
    "if_statement", "elif_clause", "else_clause", "try_statement", "except_clause",
    "finally_clause", "block", "with_statement",
})


class _Python(_Extractor):
    def run(self, root: Node) -> None:
        self.body(root, "", False)

    def body(self, node: Node, container: str, in_class: bool,
             children: list[Node] | None = None) -> None:
        for child in node.named_children if children is None else children:
            t = child.type
            if t == "ERROR":  # a line being typed (`if x.`) can wrap the rest of the file
                self.in_error(child, container, in_class)
                continue
            start = child
            decorators: list[str] = []
            if t == "decorated_definition":
                inner = child.child_by_field_name("definition")
                if inner is None:
                    continue
                decorators = [_text(self.src, d) for d in child.named_children
                              if d.type == "decorator"]
                child, t = inner, inner.type
            if t == "function_definition":
                self.function(child, container, in_class, decorators)
            elif t == "class_definition":
                self.klass(child, container, start)
            elif t == "expression_statement":
                self.assignment(child, container, in_class)
            elif t in ("import_statement", "import_from_statement", "future_import_statement"):
                if not in_class:
                    self.imports(child)
            elif t in _PY_TRANSPARENT:
                self.body(child, container, in_class)

    def in_error(self, node: Node, container: str, in_class: bool) -> None:
        """Read the statements a parse error holds. At the top level, only those that start a
        line: an indented `def` there is a method or a nested function whose class or
        function the error broke, not a function of the module."""
        self.body(node, container, in_class, None if container else
                  [c for c in node.named_children if c.start_point[1] == 0])

    def _doc(self, body: Node | None) -> str:
        if body is None or body.named_child_count == 0:
            return ""
        first = body.named_children[0]
        if first.type == "expression_statement" and first.named_child_count:
            s = first.named_children[0]
            if s.type == "string":
                return _first_doc_line(_text(self.src, s))
        return ""

    def function(self, node: Node, container: str, in_class: bool, decorators: list[str]) -> None:
        name = _text(self.src, node.child_by_field_name("name"))
        body = node.child_by_field_name("body")
        kind = "method" if in_class else "function"
        if any("property" in d or ".setter" in d for d in decorators):
            kind = "property"
        ret = node.child_by_field_name("return_type")
        self.add(name, kind, container, node, _head(self.src, node, body), self._doc(body),
                 type_name_of(_text(self.src, ret)))

    def klass(self, node: Node, container: str, start: Node) -> None:
        name = _text(self.src, node.child_by_field_name("name"))
        body = node.child_by_field_name("body")
        bases: list[str] = []
        supers = node.child_by_field_name("superclasses")
        if supers is not None:
            for arg in supers.named_children:
                if arg.type == "subscript":  # `Stream[T_Item]`, `Generic[T]`: the class itself
                    arg = arg.child_by_field_name("value") or arg
                if arg.type in ("identifier", "attribute"):
                    base = _text(self.src, arg).rsplit(".", 1)[-1]
                    if base not in ("Generic", "Protocol"):
                        bases.append(base)
        self.add(name, "class", container, node, _head(self.src, node, body), self._doc(body),
                 bases=tuple(bases), start=node)
        if body is None:
            return
        self.body(body, name, True)
        self.self_fields(body, name)

    def self_fields(self, body: Node, cls: str) -> None:
        """Record `self.x = ...` attributes, since Python declares most fields that way."""
        src = self.src
        chunk = src[body.start_byte:body.end_byte]
        if b"self." not in chunk:
            return
        known = {d.name for d in self.out.definitions if d.container == cls}
        base_row = body.start_point.row
        methods: list[tuple[int, int, dict[str, str]]] | None = None  # read when needed
        count = 0
        for m in _SELF_FIELD.finditer(chunk):
            fname = m.group(1).decode()
            if fname in known:
                continue
            known.add(fname)
            ann = (m.group(2) or b"").decode("utf-8", "replace")
            ctor = (m.group(3) or b"")[:-1].decode("utf-8", "replace")
            row = base_row + chunk.count(b"\n", 0, m.start())
            line_end = chunk.find(b"\n", m.start())
            line = chunk[m.start(): line_end if line_end >= 0 else len(chunk)]
            sig = line.decode("utf-8", "replace").strip()[:160]
            tname = type_name_of(ann) or (ctor.rsplit(".", 1)[-1] if ctor else "")
            if not tname and not ctor:
                bare = _BARE_VALUE.match(chunk, m.end())
                if bare is not None:  # `self.flow = flow`: the parameter's annotation
                    if methods is None:
                        methods = self._parameter_types(body)
                    tname = next((types.get(bare.group(1).decode(), "")
                                  for first, last, types in methods if first <= row <= last), "")
            self.out.definitions.append(Definition(fname, "field", cls, row, row, sig, "",
                                                   tname))
            count += 1
            if count >= MAX_FIELDS_PER_CLASS:
                break

    def _parameter_types(self, body: Node) -> list[tuple[int, int, dict[str, str]]]:
        """Return, for each method of a class body, its rows and the type names its
        parameters are annotated with."""
        found = []
        for child in body.named_children:
            if child.type == "decorated_definition":
                child = child.child_by_field_name("definition") or child
            params = child.child_by_field_name("parameters") \
                if child.type == "function_definition" else None
            if params is None:
                continue
            types = {}
            for p in params.named_children:
                if p.type in ("typed_parameter", "typed_default_parameter"):
                    name = p.child_by_field_name("name") or (
                        p.named_children[0] if p.named_children else None)
                    tname = type_name_of(_text(self.src, p.child_by_field_name("type")))
                    if name is not None and name.type == "identifier" and tname:
                        types[_text(self.src, name)] = tname
            if types:
                found.append((child.start_point.row, child.end_point.row, types))
        return found

    def assignment(self, node: Node, container: str, in_class: bool) -> None:
        if node.named_child_count == 0:
            return
        assign = node.named_children[0]
        if assign.type != "assignment":
            return
        left = assign.child_by_field_name("left")
        if left is None or left.type != "identifier":
            return
        name = _text(self.src, left)
        ann = assign.child_by_field_name("type")
        right = assign.child_by_field_name("right")
        tname = type_name_of(_text(self.src, ann))
        if not tname and right is not None and right.type == "call":
            fn = right.child_by_field_name("function")
            tname = _text(self.src, fn).rsplit(".", 1)[-1]
        kind = "field" if in_class else ("constant" if name.isupper() else "variable")
        self.add(name, kind, container, node, _whole(self.src, node), "", tname)

    def imports(self, node: Node) -> None:
        src = self.src
        line = node.start_point.row
        if node.type == "import_statement":
            for item in node.named_children:
                if item.type == "aliased_import":
                    mod = _text(src, item.child_by_field_name("name"))
                    alias = _text(src, item.child_by_field_name("alias"))
                else:
                    mod = _text(src, item)
                    alias = mod
                self.out.imports.append(Import(mod, (), alias, line))
            return
        if node.type == "future_import_statement":
            return
        module = _text(src, node.child_by_field_name("module_name"))
        names: list[tuple[str, str]] = []
        wildcard = False
        for item in node.children_by_field_name("name"):
            if item.type == "aliased_import":
                names.append((_text(src, item.child_by_field_name("name")),
                              _text(src, item.child_by_field_name("alias"))))
            else:
                n = _text(src, item)
                names.append((n, n))
        for item in node.named_children:
            if item.type == "wildcard_import":
                wildcard = True
        self.out.imports.append(Import(module, tuple(names), "", line, wildcard))

