"""Extract definitions with signatures, imports and identifier references from one source file."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from tree_sitter import Node

from lsp_server.context.languages import get_parser

CONTAINER_KINDS = frozenset({
    "class", "interface", "struct", "enum", "trait", "union", "namespace", "impl", "module",
})
MAX_SIGNATURE_CHARS = 600
MAX_DOC_CHARS = 140
MAX_FIELDS_PER_CLASS = 40
MAX_DECLARATION_LINES = 12  # short type aliases, enums, constants are shown whole

_IDENT = re.compile(rb"[A-Za-z_][A-Za-z0-9_]*")
_IDENT_STR = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_QUALIFIED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:(?:\.|::)[A-Za-z_][A-Za-z0-9_]*)*")
_DOC_QUOTE = re.compile(r"^[rRbBuUfF]{0,2}(?:\"\"\"|'''|\"|')")
STOP_WORDS = frozenset(
    b"""and as assert async await break case catch class const continue def default del delete
    do elif else enum except export extends false False final finally fn for from func function
    go if impl implements import in interface is lambda let match mod mut new nil None not null
    or package pass private protected pub public raise return self Self static struct super
    switch this throw true True try type typeof use var void while with yield int str bool
    float string number any char long short unsigned signed double byte""".split()
)
# Wrappers around the type that matters: `Optional[Session]` is about `Session`.
_TYPE_WRAPPERS = frozenset(
    """Optional Union List Dict Set FrozenSet Tuple Sequence Mapping MutableMapping Iterable
    Iterator Generator AsyncIterator AsyncGenerator Awaitable Coroutine Callable Type ClassVar
    Final Annotated list dict set frozenset tuple type Promise Array ReadonlyArray Readonly Partial
    Required Record Map Set Observable Option Result Box Rc Arc Vec RefCell Mutex Cell Ref RefMut
    Pin HashMap BTreeMap std shared_ptr unique_ptr weak_ptr vector optional const mut dyn impl
    None null undefined void any unknown int str bool float bytes string number boolean object
    error byte rune uint8 int64 int32 uint64 uint32 float64 float32 interface struct chan func
    map self Self this public private protected virtual extends implements""".split()
)
_SELF_FIELD = re.compile(
    rb"self\.([A-Za-z_][A-Za-z0-9_]*)\s*(?::\s*([^=\n]+?))?\s*=(?!=)\s*([A-Za-z_][\w.]*\()?"
)


@dataclass(slots=True)
class Definition:
    """One named definition: where it is, what it is, and the head text a prompt shows."""

    name: str
    kind: str
    container: str
    start_line: int
    end_line: int
    signature: str
    doc: str = ""
    type_name: str = ""  # declared type of a field/variable, or return type of a function
    bases: tuple[str, ...] = ()

    def to_tuple(self) -> tuple:
        """Return a plain tuple for the persistent index."""
        return (self.name, self.kind, self.container, self.start_line, self.end_line,
                self.signature, self.doc, self.type_name, self.bases)


@dataclass(slots=True)
class Import:
    """One import: the module, the names it binds, and the file it resolves to in the repo."""

    module: str
    names: tuple[tuple[str, str], ...] = ()  # (name in the module, local alias)
    alias: str = ""  # local name bound to the module itself
    line: int = 0
    wildcard: bool = False

    def to_tuple(self) -> tuple:
        """Return a plain tuple for the persistent index."""
        return (self.module, self.names, self.alias, self.line, self.wildcard)


@dataclass(slots=True)
class FileSymbols:
    """Everything the index keeps about one file."""

    language: str
    definitions: list[Definition] = field(default_factory=list)
    imports: list[Import] = field(default_factory=list)
    references: tuple[str, ...] = ()
    package: str = ""
    line_count: int = 0

    def to_tuple(self) -> tuple:
        """Return a plain, marshal-friendly tuple for the persistent index."""
        return (self.language, tuple(d.to_tuple() for d in self.definitions),
                tuple(i.to_tuple() for i in self.imports), self.references, self.package,
                self.line_count)

    @classmethod
    def from_tuple(cls, data: tuple) -> FileSymbols:
        """Rebuild from `to_tuple` output."""
        lang, defs, imports, refs, package, line_count = data
        return cls(lang, [Definition(*d) for d in defs], [Import(*i) for i in imports],
                   refs, package, line_count)


def _text(src: bytes, node: Node | None) -> str:
    if node is None:
        return ""
    return src[node.start_byte:node.end_byte].decode("utf-8", "replace")


def _indent(src: bytes, start: int) -> str:
    line_start = src.rfind(b"\n", 0, start) + 1
    lead = src[line_start:start]
    if lead.strip():
        return ""
    return lead.decode("utf-8", "replace")


def _head(src: bytes, node: Node, body: Node | None, start: Node | None = None) -> str:
    """Return the declaration head (from start to body), with its first line's indentation."""
    begin = (start or node).start_byte
    end = body.start_byte if body is not None else node.end_byte
    text = src[begin:end].decode("utf-8", "replace").rstrip()
    if "\n" in text:
        # Comments between a head and its body belong to the body, not the signature.
        lines = text.split("\n")
        while len(lines) > 1 and lines[-1].lstrip().startswith(("#", "//")):
            lines.pop()
        text = "\n".join(lines).rstrip()
    if len(text) > MAX_SIGNATURE_CHARS:
        cut = text.rfind("\n", 0, MAX_SIGNATURE_CHARS)
        text = text[: cut if cut > 0 else MAX_SIGNATURE_CHARS] + " ..."
    return _indent(src, begin) + text


def _whole(src: bytes, node: Node, start: Node | None = None) -> str:
    """Return a short declaration whole, or its first lines when it is long."""
    begin = (start or node).start_byte
    text = src[begin:node.end_byte].decode("utf-8", "replace").rstrip()
    lines = text.split("\n")
    if len(lines) > MAX_DECLARATION_LINES:
        text = "\n".join(lines[:MAX_DECLARATION_LINES]) + "\n..."
    if len(text) > MAX_SIGNATURE_CHARS * 2:
        text = text[: MAX_SIGNATURE_CHARS * 2] + " ..."
    return _indent(src, begin) + text


def type_name_of(text: str) -> str:
    """Return the bare name of the type that matters in a type expression, or ''."""
    if not text:
        return ""
    for qualified in _QUALIFIED.findall(text):
        ident = re.split(r"\.|::", qualified)[-1]
        if ident not in _TYPE_WRAPPERS:
            return ident
    return ""


def _first_doc_line(raw: str) -> str:
    for line in raw.splitlines():
        line = _DOC_QUOTE.sub("", line.strip()).strip().strip("/*#!\"'").strip()
        if line and not line.startswith("@"):
            return line[:MAX_DOC_CHARS]
    return ""


def _comment_doc(src: bytes, node: Node) -> str:
    """Return the first line of the comment block right above a node."""
    prev = node.prev_named_sibling
    first: Node | None = None
    row = node.start_point.row
    while prev is not None and prev.type in ("comment", "line_comment", "block_comment"):
        if prev.end_point.row < row - 1:
            break
        first = prev
        row = prev.start_point.row
        prev = prev.prev_named_sibling
    if first is None:
        return ""
    return _first_doc_line(src[first.start_byte:node.start_byte].decode("utf-8", "replace"))


class _Extractor:
    def __init__(self, src: bytes, out: FileSymbols) -> None:
        self.src = src
        self.out = out

    def add(self, name: str, kind: str, container: str, node: Node, signature: str,
            doc: str = "", type_name: str = "", bases: tuple[str, ...] = (),
            start: Node | None = None) -> None:
        if not name:
            return
        self.out.definitions.append(Definition(
            name, kind, container, (start or node).start_point.row, node.end_point.row,
            signature, doc, type_name, bases,
        ))


# --- Python -----------------------------------------------------------------------------------

_PY_TRANSPARENT = frozenset({
    "if_statement", "elif_clause", "else_clause", "try_statement", "except_clause",
    "finally_clause", "block", "with_statement",
})


class _Python(_Extractor):
    def run(self, root: Node) -> None:
        self.body(root, "", False)

    def body(self, node: Node, container: str, in_class: bool) -> None:
        for child in node.named_children:
            t = child.type
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
                if arg.type in ("identifier", "attribute"):
                    bases.append(_text(self.src, arg).rsplit(".", 1)[-1])
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
            self.out.definitions.append(Definition(fname, "field", cls, row, row, sig, "",
                                                   tname))
            count += 1
            if count >= MAX_FIELDS_PER_CLASS:
                break

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


# --- JavaScript / TypeScript ------------------------------------------------------------------

_JS_FUNCTION_VALUES = frozenset({
    "arrow_function", "function_expression", "function", "generator_function",
})
_JS_CLASSES = frozenset({"class_declaration", "abstract_class_declaration", "class"})


def _string_content(text: str) -> str:
    return text.strip().strip("'\"`")


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
            name = _text(src, child.child_by_field_name("name"))
            self.add(name, "type", container, child, _whole(src, child, start),
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
        ret = node.child_by_field_name("return_type")
        self.add(name, kind, container, node, _head(src, node, body, start),
                 _comment_doc(src, start), type_name_of(_text(src, ret)), start=start)
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

    def klass(self, node: Node, container: str, start: Node) -> None:
        src = self.src
        name = _text(src, node.child_by_field_name("name"))
        body = node.child_by_field_name("body")
        bases: list[str] = []
        for sub in node.named_children:
            if sub.type == "class_heritage":
                bases = [b for b in _IDENT_STR.findall(_text(src, sub))
                         if b not in ("extends", "implements") and b not in _TYPE_WRAPPERS]
        self.add(name, "class", container, node, _head(src, node, body, start),
                 _comment_doc(src, start), bases=tuple(bases), start=start)
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
                    ftype = _text(src, value.child_by_field_name("constructor"))
                if value is not None and value.type in _JS_FUNCTION_VALUES:
                    ret = _text(src, value.child_by_field_name("return_type")).lstrip(":")
                    self.add(_text(src, key), "method", name, member,
                             _head(src, member, value.child_by_field_name("body")),
                             _comment_doc(src, member), type_name_of(ret.strip()))
                else:
                    self.add(_text(src, key), "field", name, member,
                             _whole(src, member).split("\n", 1)[0], _comment_doc(src, member),
                             type_name_of(ftype))

    def interface(self, node: Node, container: str, start: Node) -> None:
        src = self.src
        name = _text(src, node.child_by_field_name("name"))
        body = node.child_by_field_name("body")
        bases: list[str] = []
        for sub in node.named_children:
            if sub.type == "extends_type_clause":
                bases = [b for b in _IDENT_STR.findall(_text(src, sub))
                         if b != "extends" and b not in _TYPE_WRAPPERS]
        self.add(name, "interface", container, node, _head(src, node, body, start),
                 _comment_doc(src, start), bases=tuple(bases), start=start)
        if body is None:
            return
        for member in body.named_children:
            if member.type in ("property_signature", "method_signature"):
                key = _text(src, member.child_by_field_name("name"))
                kind = "method" if member.type == "method_signature" else "field"
                tnode = member.child_by_field_name("type") or member.child_by_field_name(
                    "return_type")
                self.add(key, kind, name, member, _whole(src, member).rstrip(";,"),
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
                ret = value.child_by_field_name("return_type")
                self.add(name, "function", container, node,
                         _head(src, node, value.child_by_field_name("body"), start),
                         _comment_doc(src, start), type_name_of(_text(src, ret)), start=start)
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
                tname = type_name_of(_text(src, value.child_by_field_name("constructor")))
            kind = "constant" if name.isupper() else "variable"
            self.add(name, kind, container, node, _whole(src, node, start),
                     _comment_doc(src, start), tname, start=start)

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


# --- Go ---------------------------------------------------------------------------------------


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
                specs = [s for s in child.named_children if s.type in ("const_spec", "var_spec")]
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
        result = node.child_by_field_name("result")
        self.add(name, kind, owner, node, _head(src, node, body), _comment_doc(src, node),
                 type_name_of(_text(src, result)))

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
                    result = member.child_by_field_name("result")
                    self.add(mname, "method", name, member, "\t" + _text(src, member),
                             _comment_doc(src, member), type_name_of(_text(src, result)))
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


# --- Rust -------------------------------------------------------------------------------------


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


# --- Java -------------------------------------------------------------------------------------

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


# --- C / C++ ----------------------------------------------------------------------------------

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
            self.add(name, kind, container, node, _whole(src, start), _comment_doc(src, start),
                     start=start)
            return
        bases = tuple(type_name_of(_text(src, c)) for c in node.named_children
                      if c.type == "base_class_clause")
        self.add(name, kind, container, node, _head(src, node, body, start),
                 _comment_doc(src, start), bases=bases, start=start)
        self.body(body, name)


_EXTRACTORS: dict[str, Callable[[bytes, FileSymbols], _Extractor]] = {
    "python": _Python, "javascript": _JavaScript, "typescript": _JavaScript, "tsx": _JavaScript,
    "go": _Go, "rust": _Rust, "java": _Java, "c": _C, "cpp": _C,
}

_PARSERS: dict[str, object] = {}


def references_of(src: bytes) -> tuple[str, ...]:
    """Return the distinct identifiers a file uses, without keywords."""
    found = set(_IDENT.findall(src))
    found -= STOP_WORDS
    return tuple(sorted(x.decode("ascii") for x in found if len(x) > 1))


def extract(src: bytes, language: str, *, with_references: bool = True) -> FileSymbols:
    """Parse one file's bytes and return its definitions, imports and references."""
    parser = _PARSERS.get(language)
    if parser is None:
        parser = _PARSERS[language] = get_parser(language)
    tree = parser.parse(src)  # type: ignore[attr-defined]
    out = FileSymbols(language, line_count=src.count(b"\n") + 1)
    extractor = _EXTRACTORS[language](src, out)
    extractor.run(tree.root_node)  # type: ignore[attr-defined]
    if with_references:
        out.references = references_of(src)
    return out
