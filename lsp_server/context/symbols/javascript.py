"""JavaScript and TypeScript: classes, interfaces, functions, variables, ES imports,
re-exports and `require`."""

from __future__ import annotations

from tree_sitter import Node

from lsp_server.context.symbols.base import (
    _IDENT_STR,
    _NOT_TYPES,
    _TYPE_WRAPPERS,
    _comment_doc,
    _Extractor,
    _head,
    _string_content,
    _text,
    _too_long,
    _whole,
    type_name_of,
)
from lsp_server.context.symbols.model import Import

_JS_FUNCTION_VALUES = frozenset({
    "arrow_function", "function_expression", "function", "generator_function",
})
_JS_CLASSES = frozenset({"class_declaration", "abstract_class_declaration", "class"})


def _separator(member: Node) -> str:
    """Return the `;` or `,` written after an interface member, which its node leaves out:
    a stub shows the member as the source writes it."""
    nxt = member.next_sibling
    return nxt.type if nxt is not None and nxt.type in (";", ",") else ""


# An object literal's properties that name another definition (`{ sum, equals: isEqual }`):
# what `fns.sum` reaches. Kept as `key` or `key=name`, up to this many.
MAX_PROPERTIES = 250
_LITERAL_WRAPPERS = frozenset({"as_expression", "satisfies_expression", "parenthesized_expression"})


def _properties(src: bytes, value: Node | None) -> tuple[str, ...]:
    while value is not None and value.type in _LITERAL_WRAPPERS and value.named_child_count:
        value = value.named_children[0]
    if value is None or value.type != "object":
        return ()
    found: list[str] = []
    for prop in value.named_children:
        if prop.type == "shorthand_property_identifier":
            found.append(_text(src, prop))
        elif prop.type == "pair":
            key, target = prop.child_by_field_name("key"), prop.child_by_field_name("value")
            if key is not None and target is not None and target.type == "identifier" and \
                    key.type in ("property_identifier", "string"):
                k, t = _string_content(_text(src, key)), _text(src, target)
                found.append(k if k == t else f"{k}={t}")
        if len(found) >= MAX_PROPERTIES:
            break
    return tuple(found)


def _returned(src: bytes, function: Node) -> str:
    """Return the type name a function's return type declares; none for a type guard's
    (`node is TextNode` is a boolean)."""
    ret = function.child_by_field_name("return_type")
    if ret is None or ret.type in ("type_predicate_annotation", "asserts_annotation"):
        return ""
    return type_name_of(_text(src, ret).lstrip(":").strip())


def _constructed(src: bytes, new: Node) -> str:
    """Return the type a `new` expression makes, with its type arguments (`new Map<K, V>()`
    makes a `Map<K, V>`, whose values are V's)."""
    return _text(src, new.child_by_field_name("constructor")) + \
        _text(src, new.child_by_field_name("type_arguments"))


class _JavaScript(_Extractor):
    def run(self, root: Node) -> None:
        self.body(root, "")

    def body(self, node: Node, container: str) -> None:
        for child in node.named_children:
            self.statement(child, container, child)

    def statement(self, child: Node, container: str, start: Node) -> None:
        src = self.src
        t = child.type
        if t == "export_statement":
            decl = child.child_by_field_name("declaration")
            if decl is not None:
                self.statement(decl, container, child)
            source = child.child_by_field_name("source")
            if source is not None:
                self.reexport(child, source)
            elif decl is None:
                for sub in child.named_children:
                    if sub.type in _JS_CLASSES or sub.type in ("function_declaration",
                                                              "function_expression"):
                        self.statement(sub, container, child)
            return
        if t in _JS_CLASSES:
            self.klass(child, container, start)
        elif t in ("function_declaration", "generator_function_declaration",
                   "function_signature"):
            self.function(child, container, "function", start)
        elif t in ("lexical_declaration", "variable_declaration"):
            self.variables(child, container, start)
        elif t == "interface_declaration":
            self.interface(child, container, start)
        elif t == "type_alias_declaration":
            value = child.child_by_field_name("value")
            if value is not None and value.type == "object_type" and \
                    _too_long(_text(src, start)):
                # `type Provider = { getThread(id: string): Thread; ... }` is an interface
                # by another name: too long to show whole, its members are what `provider.`
                # reaches, each shown on its own.
                self.interface(child, container, start, value)
                return
            name = _text(src, child.child_by_field_name("name"))
            self.add(name, "type", container, child, _whole(src, child, start, value),
                     _comment_doc(src, start), start=start)
        elif t == "enum_declaration":
            name = _text(src, child.child_by_field_name("name"))
            self.add(name, "enum", container, child, _whole(src, child, start),
                     _comment_doc(src, start), start=start)
        elif t in ("internal_module", "module"):
            name = _text(src, child.child_by_field_name("name"))
            body = child.child_by_field_name("body")
            self.add(name, "namespace", container, child, _head(src, child, body, start),
                     start=start)
            if body is not None:
                self.body(body, name)
        elif t == "ambient_declaration":
            for sub in child.named_children:
                self.statement(sub, container, start)
        elif t == "expression_statement":
            for sub in child.named_children:
                if sub.type in ("internal_module", "module"):
                    self.statement(sub, container, start)
        elif t == "import_statement":
            self.imports(child)

    def function(self, node: Node, container: str, kind: str, start: Node) -> None:
        src = self.src
        name = _text(src, node.child_by_field_name("name"))
        body = node.child_by_field_name("body")
        self.add(name, kind, container, node, _head(src, node, body, start),
                 _comment_doc(src, start), _returned(src, node), start=start)
        if kind == "method" and name == "constructor":
            self.parameter_properties(node, container)

    def parameter_properties(self, node: Node, cls: str) -> None:
        """Record TypeScript `constructor(private x: T)` parameters: they are fields."""
        params = node.child_by_field_name("parameters")
        if params is None:
            return
        for p in params.named_children:
            if p.type not in ("required_parameter", "optional_parameter"):
                continue
            if not any(c.type in ("accessibility_modifier", "readonly") for c in p.children):
                continue
            pname = _text(self.src, p.child_by_field_name("pattern"))
            ptype = _text(self.src, p.child_by_field_name("type")).lstrip(":").strip()
            self.add(pname, "field", cls, p, "  " + _text(self.src, p).strip(), "",
                     type_name_of(ptype))

    def _bases(self, node: Node, clause: str) -> tuple[str, ...]:
        """Return the names a class's `extends`/`implements` (or an interface's `extends`)
        clause lists, without type wrappers."""
        for sub in node.named_children:
            if sub.type == clause:
                return tuple(b for b in _IDENT_STR.findall(_text(self.src, sub))
                             if b not in _NOT_TYPES and b not in _TYPE_WRAPPERS)
        return ()

    def klass(self, node: Node, container: str, start: Node) -> None:
        src = self.src
        name = _text(src, node.child_by_field_name("name"))
        body = node.child_by_field_name("body")
        self.add(name, "class", container, node, _head(src, node, body, start),
                 _comment_doc(src, start), bases=self._bases(node, "class_heritage"),
                 start=start)
        if body is None or not name:
            return
        for member in body.named_children:
            mt = member.type
            if mt in ("method_definition", "abstract_method_signature", "method_signature"):
                self.function(member, name, "method", member)
            elif mt in ("public_field_definition", "field_definition"):
                key = member.child_by_field_name("name") or member.child_by_field_name(
                    "property")
                ftype = _text(src, member.child_by_field_name("type")).lstrip(":").strip()
                value = member.child_by_field_name("value")
                if not ftype and value is not None and value.type == "new_expression":
                    ftype = _constructed(src, value)
                if value is not None and value.type in _JS_FUNCTION_VALUES:
                    self.add(_text(src, key), "method", name, member,
                             _head(src, member, value.child_by_field_name("body")),
                             _comment_doc(src, member), _returned(src, value))
                else:
                    self.add(_text(src, key), "field", name, member,
                             _whole(src, member), _comment_doc(src, member),
                             type_name_of(ftype))

    def interface(self, node: Node, container: str, start: Node,
                  body: Node | None = None) -> None:
        """Record an interface (or a type alias of an object type, whose `body` is given)
        and its members."""
        src = self.src
        name = _text(src, node.child_by_field_name("name"))
        body = body or node.child_by_field_name("body")
        self.add(name, "interface", container, node, _head(src, node, body, start),
                 _comment_doc(src, start), bases=self._bases(node, "extends_type_clause"),
                 start=start)
        if body is None:
            return
        for member in body.named_children:
            if member.type in ("property_signature", "method_signature"):
                key = _text(src, member.child_by_field_name("name"))
                kind = "method" if member.type == "method_signature" else "field"
                tnode = member.child_by_field_name("type") or member.child_by_field_name(
                    "return_type")
                self.add(key, kind, name, member, _whole(src, member) + _separator(member),
                         _comment_doc(src, member),
                         type_name_of(_text(src, tnode).lstrip(":").strip()))

    def variables(self, node: Node, container: str, start: Node) -> None:
        src = self.src
        for decl in node.named_children:
            if decl.type != "variable_declarator":
                continue
            name_node = decl.child_by_field_name("name")
            if name_node is None or name_node.type != "identifier":
                continue
            name = _text(src, name_node)
            value = decl.child_by_field_name("value")
            if value is not None and value.type in _JS_FUNCTION_VALUES:
                self.add(name, "function", container, node,
                         _head(src, node, value.child_by_field_name("body"), start),
                         _comment_doc(src, start), _returned(src, value), start=start)
                continue
            if value is not None and value.type == "call_expression":
                fn = _text(src, value.child_by_field_name("function"))
                if fn == "require":
                    args = value.child_by_field_name("arguments")
                    if args is not None and args.named_child_count:
                        mod = _string_content(_text(src, args.named_children[0]))
                        self.out.imports.append(Import(mod, (), name, node.start_point.row))
                    continue
            tname = type_name_of(_text(src, decl.child_by_field_name("type")).lstrip(":"))
            if not tname and value is not None and value.type == "new_expression":
                tname = type_name_of(_constructed(src, value))
            kind = "constant" if name.isupper() else "variable"
            self.add(name, kind, container, node, _whole(src, node, start),
                     _comment_doc(src, start), tname, _properties(src, value), start=start)

    def imports(self, node: Node) -> None:
        src = self.src
        source = node.child_by_field_name("source")
        if source is None:
            return
        module = _string_content(_text(src, source))
        names: list[tuple[str, str]] = []
        alias = ""
        for clause in node.named_children:
            if clause.type != "import_clause":
                continue
            for part in clause.named_children:
                if part.type == "identifier":
                    names.append(("default", _text(src, part)))
                elif part.type == "namespace_import":
                    ids = [c for c in part.named_children if c.type == "identifier"]
                    if ids:
                        alias = _text(src, ids[-1])
                elif part.type == "named_imports":
                    for spec in part.named_children:
                        if spec.type != "import_specifier":
                            continue
                        n = _text(src, spec.child_by_field_name("name"))
                        a = _text(src, spec.child_by_field_name("alias")) or n
                        names.append((n, a))
        self.out.imports.append(Import(module, tuple(names), alias, node.start_point.row))

    def reexport(self, node: Node, source: Node) -> None:
        src = self.src
        module = _string_content(_text(src, source))
        names: list[tuple[str, str]] = []
        wildcard = True
        for clause in node.named_children:
            if clause.type == "export_clause":
                wildcard = False
                for spec in clause.named_children:
                    if spec.type == "export_specifier":
                        n = _text(src, spec.child_by_field_name("name"))
                        a = _text(src, spec.child_by_field_name("alias")) or n
                        names.append((n, a))
        self.out.imports.append(Import(module, tuple(names), "", node.start_point.row,
                                       wildcard))

