"""Symbol extraction per language: definitions with signatures and docs, imports, references."""

from __future__ import annotations

from lsp_server.context.symbols import FileSymbols, extract, type_name_of


def _defs(src: str, lang: str) -> dict[tuple[str, str], object]:
    out = extract(src.encode(), lang)
    return {(d.container, d.name): d for d in out.definitions}


def test_python_definitions_fields_and_docs() -> None:
    src = '''
import os.path
import numpy as np
from .sessions import Session, request as req
from ..x import *

MAX = 10

class Client(Base):
    """A client.

    More."""
    timeout: float = 3.0

    def __init__(self, session: Session | None = None):
        # why, not what
        self.session = session or Session()
        self.adapter: HTTPAdapter = make()

    @property
    def name(self) -> str:
        return "x"

    async def send(self, request,
                   **kwargs) -> Optional[Response]:
        """Send it."""
'''
    defs = _defs(src, "python")
    client = defs[("", "Client")]
    assert client.kind == "class" and client.bases == ("Base",) and client.doc == "A client."
    assert client.signature == "class Client(Base):"
    assert defs[("", "MAX")].kind == "constant"
    send = defs[("Client", "send")]
    assert send.kind == "method" and send.type_name == "Response" and send.doc == "Send it."
    assert send.signature.startswith("    async def send(self, request,\n")
    assert defs[("Client", "name")].kind == "property"
    assert defs[("Client", "adapter")].type_name == "HTTPAdapter"
    assert defs[("Client", "timeout")].kind == "field"
    assert "# why" not in defs[("Client", "__init__")].signature
    imports = extract(src.encode(), "python").imports
    assert [(i.module, i.names, i.alias, i.wildcard) for i in imports] == [
        ("os.path", (), "os.path", False),
        ("numpy", (), "np", False),
        (".sessions", (("Session", "Session"), ("request", "req")), "", False),
        ("..x", (), "", True),
    ]


def test_a_python_field_set_from_a_parameter_has_the_parameter_s_type() -> None:
    src = '''
class Cycle:
    def __init__(self, flow: "FlowControl", transport, limit: int = 3, *,
                 conn: Optional[Conn] = None) -> None:
        self.flow = flow  # shared with the protocol
        self.transport = transport
        self.conn = conn
        self.limit = limit
        self.backup = spare

    @classmethod
    def reset(cls, flow: Other):
        self.other = flow
'''
    defs = _defs(src, "python")
    assert defs[("Cycle", "flow")].type_name == "FlowControl"
    assert defs[("Cycle", "conn")].type_name == "Conn"
    # Unannotated, a builtin, or not a parameter: no type.
    assert [defs[("Cycle", n)].type_name for n in ("transport", "limit", "backup")] == \
        ["", "", ""]
    # Each method's own parameters.
    assert defs[("Cycle", "other")].type_name == "Other"


def test_typescript_classes_interfaces_and_imports() -> None:
    src = '''
import { Foo, Bar as Baz } from './foo';
import * as util from "../util";
import Def from 'def';
export * from './all';
const fs = require('fs');

/** The service. */
export class Service extends BaseService implements IService {
  private readonly cache: Map<string, Foo> = new Map();
  constructor(private http: HttpClient) { super(); }
  async fetch(url: string): Promise<Response> { return this.http.get(url); }
}
export interface IService { fetch(url: string): Promise<Response>; name: string; }
export type Id = string | number;
export const make = (x: string): Bar => new Bar(x);
'''
    defs = _defs(src, "typescript")
    service = defs[("", "Service")]
    assert service.doc == "The service." and service.bases == ("BaseService", "IService")
    assert defs[("Service", "fetch")].type_name == "Response"
    assert defs[("Service", "http")].type_name == "HttpClient"  # parameter property
    assert defs[("IService", "fetch")].kind == "method"
    # An interface member keeps the separator the source writes after it.
    assert defs[("IService", "fetch")].signature.endswith("Promise<Response>;")
    assert defs[("IService", "name")].signature.endswith("name: string;")
    assert defs[("", "Id")].kind == "type"
    assert defs[("", "make")].kind == "function"
    out = extract(src.encode(), "typescript")
    mods = {(i.module, i.alias, i.wildcard) for i in out.imports}
    assert ("./foo", "", False) in mods and ("../util", "util", False) in mods
    assert ("./all", "", True) in mods and ("fs", "fs", False) in mods
    assert len([d for d in out.definitions if d.name == "Service"]) == 1


def test_tsx_and_javascript() -> None:
    tsx = "export function App(props: Props): JSX.Element { return <div/>; }\n"
    assert _defs(tsx, "tsx")[("", "App")].kind == "function"
    js = "class A { m() {} }\nfunction f(a) {}\nmodule.exports = { f };\n"
    defs = _defs(js, "javascript")
    assert ("A", "m") in defs and ("", "f") in defs


def test_go_types_methods_and_imports() -> None:
    src = '''package server

import (
	"fmt"
	h "net/http"
)

// Server serves things.
type Server struct {
	Base
	client *h.Client
}

type Handler interface {
	ServeHTTP(w h.ResponseWriter, r *h.Request)
}

// NewServer makes one.
func NewServer(addr string) *Server { return &Server{} }

func (s *Server) Serve(l net.Listener) error { return nil }
'''
    out = extract(src.encode(), "go")
    defs = {(d.container, d.name): d for d in out.definitions}
    assert out.package == "server"
    assert defs[("", "Server")].kind == "struct" and defs[("", "Server")].bases == ("Base",)
    assert defs[("", "Server")].doc == "Server serves things."
    assert defs[("Server", "client")].type_name == "Client"
    assert defs[("Server", "Serve")].signature == "func (s *Server) Serve(l net.Listener) error"
    assert defs[("", "NewServer")].type_name == "Server"
    assert defs[("Handler", "ServeHTTP")].kind == "method"
    assert [(i.module, i.alias) for i in out.imports] == [("fmt", "fmt"), ("net/http", "h")]


def test_rust_java_c_cpp() -> None:
    rust = _defs("use std::collections::{HashMap, HashSet as HS};\n/// A point.\n"
                 "pub struct Point { pub x: f64 }\nimpl Point { pub fn new() -> Self { "
                 "Point { x: 0.0 } } }\ntrait Shape { fn area(&self) -> f64; }\n", "rust")
    assert rust[("", "Point")].doc == "A point."
    assert ("Point", "new") in rust and ("Shape", "area") in rust
    java = _defs("package a.b;\nimport java.util.List;\n/** A thing. */\npublic class Thing "
                 "extends Base { private List<String> names; public void run() {} }\n", "java")
    assert java[("", "Thing")].doc == "A thing." and ("Thing", "run") in java
    c = _defs('#include "foo.h"\n#define MAX 3\nstruct P { int x; };\n'
              "typedef struct { int a; } T;\nint add(int a, int b) { return a + b; }\n"
              "int proto(int);\n", "c")
    assert c[("", "add")].signature == "int add(int a, int b)"
    assert ("", "proto") in c and ("", "MAX") in c and ("P", "x") in c and ("", "T") in c
    cpp = _defs("namespace ns {\nclass Widget : public Base {\n public:\n  int size() const;\n"
                "};\nint Widget::size() const { return 0; }\n}\n", "cpp")
    assert cpp[("", "Widget")].bases == ("Base",)
    assert ("Widget", "size") in cpp


def test_references_and_roundtrip() -> None:
    out = extract(b"import os\n\ndef f(alpha):\n    return os.path.join(alpha, beta)\n",
                  "python")
    assert {"os", "path", "join", "alpha", "beta"} <= set(out.references)
    assert "def" not in out.references and "return" not in out.references
    again = FileSymbols.from_tuple(out.to_tuple())
    assert again == out


def test_type_name_of() -> None:
    assert type_name_of("Optional[Session]") == "Session"
    assert type_name_of("*http.Client") == "Client"
    assert type_name_of("Promise<Response>") == "Response"
    assert type_name_of("list[int]") == ""
    assert type_name_of("readonly ResolvedPos[]") == "ResolvedPos"
    assert type_name_of("map[Level]*color.Color") == "Color"  # what `m[k]` gives
    assert type_name_of("map[Level]string") == ""
    assert type_name_of("Option") == "Option"  # Go's `type Option func(*Options)`
    # A TypeScript function type: what calling it gives, not its first parameter's name.
    assert type_name_of("(state: ParserState, node: Node) => void") == ""
    assert type_name_of("<T>(make: (x: X) => T) => Store<T>") == "Store"
    assert type_name_of("Option<Token>") == "Token"
    # TypeScript's utility types keep the members of the type they are given.
    assert type_name_of('Omit<RouterOptions<T>, "history">') == "RouterOptions"
    assert type_name_of("Required<Pick<Options, K>>") == "Options"
    assert type_name_of("NonNullable<Session>") == "Session"
    # A map's values, what `m.get(k)` gives, not its key type.
    assert type_name_of("Map<TrackHandle, Descriptor>") == "Descriptor"
    assert type_name_of("Record<Key, Set<Job>>") == "Job"
    assert type_name_of("dict[JobId, list[Job]]") == "Job"
    assert type_name_of("Map<Key>") == "Key"


def test_a_go_function_s_type_is_its_first_result_s_named_or_not() -> None:
    src = ("package p\n\nfunc (s *Server) acquireCtx(c net.Conn) (ctx *RequestCtx) { return }\n"
           "func parse() (*Request, error) { return nil, nil }\n"
           "func count() (n int, err error) { return }\n"
           "type Pool interface {\n\tGet() (conn *Conn, err error)\n}\n")
    defs = _defs(src, "go")
    assert defs[("Server", "acquireCtx")].type_name == "RequestCtx"  # not `ctx`
    assert defs[("", "parse")].type_name == "Request"
    assert defs[("", "count")].type_name == ""
    assert defs[("Pool", "Get")].type_name == "Conn"


def test_typescript_maps_made_with_new_and_type_guards() -> None:
    src = """
export function $isText(node: Node | null): node is TextNode { return true }
export const assertText = (node: Node): asserts node is TextNode => {}
export class Manager {
  private byHandle = new Map<TrackHandle, Descriptor>()
  make(): Descriptor { return null! }
}
const byName = new Map<string, Participant>()
"""
    defs = _defs(src, "typescript")
    assert defs[("Manager", "byHandle")].type_name == "Descriptor"
    assert defs[("", "byName")].type_name == "Participant"
    assert defs[("Manager", "make")].type_name == "Descriptor"
    # A type guard returns a boolean: its `node is TextNode` names no type it returns.
    assert defs[("", "$isText")].type_name == "" and defs[("", "assertText")].type_name == ""


def test_broken_code_still_yields_definitions() -> None:
    defs = _defs("def ok(a):\n    return a\n\ndef broken(:\n    pass\n\nclass Fine:\n"
                 "    def m(self): ...\n", "python")
    assert ("", "ok") in defs and ("Fine", "m") in defs


def test_python_bases_written_with_type_arguments() -> None:
    """`class UDPSocket(UnreliableObjectStream[UDPPacketType])` inherits from
    UnreliableObjectStream; `Generic[T]` and `Protocol` say nothing of what it inherits."""
    src = b"class A(B[T], m.C[int], Generic[T], D, Protocol[T]):\n    pass\n"
    assert extract(src, "python").definitions[0].bases == ("B", "C", "D")


def test_go_grouped_variables_are_definitions() -> None:
    src = b"package p\n\nvar (\n\tErrClosed = errors.New(\"closed\")\n\tdebug bool\n)\n"
    found = {d.name: (d.kind, d.signature) for d in extract(src, "go").definitions}
    assert found == {"ErrClosed": ("variable", '\tErrClosed = errors.New("closed")'),
                     "debug": ("variable", "\tdebug bool")}


def test_a_buffer_with_a_member_access_being_typed_still_declares_and_imports() -> None:
    """`util.` typed in a method makes the grammar wrap the whole Python file in one error;
    the file must still import and declare what it does (its imports are what `util.`
    offers), and an open bracket on the typed line must not swallow the rest of the file."""
    py = '''from .. import util
from . import base


class Impl(base.Base):
    def run(self, x):
        if x:
            util.
                "a message",
            )
        return x

    def other(self):
        return 1


def helper():
    pass
'''
    out = extract(py.encode(), "python", with_references=False)
    assert [(i.module, i.names) for i in out.imports] == [("..", (("util", "util"),)),
                                                          (".", (("base", "base"),))]
    assert {(d.container, d.name) for d in out.definitions} >= {
        ("", "Impl"), ("Impl", "run"), ("Impl", "other"), ("", "helper")}
    bracket = "import os\n\nX = (os.path.\n\n\ndef f():\n    return X\n"
    assert ("", "f") in _defs(bracket, "python")
    ts = '''import { Store } from "./store";

export class Provider {
  private store = new Store();
  connect(): void {
    this.store.on("update", () => {
      this.
    });
  }
  disconnect(): void {}
}
'''
    defs = _defs(ts, "typescript")
    assert {("Provider", "connect"), ("Provider", "disconnect"), ("Provider", "store")} <= \
        set(defs)


def test_statements_a_python_parse_error_wraps_keep_their_level() -> None:
    """Where an error breaks a class (a return annotation being typed), its indented
    methods are not the module's functions."""
    src = """import typing as t
from . import nodes


class Parser:
    def parse_target(self, with_tuple: bool = True, extra=None) -> t.
        if with_tuple:
            target = self.parse_tuple(simplified=True, extra_end_rules=extra)
        else:
            target = self.parse_primary()
        target.set_ctx("store")
        return target

    def parse_expression(self, with_condexpr: bool = True) -> nodes.Expr:
        if with_condexpr:
            return self.parse_condexpr()
        return self.parse_or()

    def parse_or(self) -> nodes.Expr:
        lineno = self.stream.current.lineno
        left = self.parse_and()
        while self.stream.skip_if("name:or"):
            right = self.parse_and()
            left = nodes.Or(left, right, lineno=lineno)
        return left


def top():
    pass
"""
    out = extract(src.encode(), "python", with_references=False)
    assert len(out.imports) == 2
    assert ("", "Parser") in {(d.container, d.name) for d in out.definitions}
    assert not {d.name for d in out.definitions if not d.container} - {"Parser", "top"}
