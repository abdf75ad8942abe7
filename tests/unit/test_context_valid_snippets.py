"""Every snippet the context holds parses as code of its language: no ERROR nodes."""

from __future__ import annotations

from pathlib import Path

import pytest

from lsp_server.context.index import FileEntry
from lsp_server.context.languages import get_parser, language_for_path, parses
from lsp_server.context.repo_context import RepoContext
from lsp_server.context.retrieve import FILE_HEADER_CHARS, render_definition
from lsp_server.context.retrieve.budget import select
from lsp_server.context.retrieve.model import ContextBlock, _Cand
from lsp_server.context.retrieve.render import render_file
from lsp_server.context.symbols import MAX_SIGNATURE_CHARS, Definition, extract
from lsp_server.context.windows import whole_units
from tests.unit._ctx_helpers import fixture_repo


def _errors(language: str, text: str) -> bool:
    return get_parser(language).parse(text.encode()).root_node.has_error


def _entry(src: str, rel: str, language: str) -> FileEntry:
    """Return an index entry for a file of this source, as the index would hold it."""
    return FileEntry(f"/r/{rel}", rel, "/r", extract(src.encode(), language))


def _select(cands: dict[int, _Cand], budget: int) -> list[ContextBlock]:
    """Choose within budget, with nothing sticky, skipped or in the first tier."""
    return select(cands, budget, sticky=frozenset(), skip=set(), tier0=set(), caches={})


@pytest.mark.parametrize("fixture", ["ctx_gin", "ctx_go", "ctx_py", "ctx_ts", "ctx_monorepo"])
def test_every_block_parses(tmp_path: Path, fixture: str) -> None:
    root = fixture_repo(fixture, tmp_path)
    engine = RepoContext([str(root)], cache_dir=str(tmp_path / "cache"), workers=1)
    engine.build_sync()
    paths = [p for p in engine.index.paths() if language_for_path(p)]
    texts = {p: Path(p).read_text() for p in paths}
    # Every file open, one edited: similar windows and recent edits come from them too.
    for p, text in texts.items():
        engine.document_changed(p, text)
        engine.document_changed(p, text.replace("\n\n", "\n\n\n", 1))
    kinds: set[str] = set()
    checked = 0
    for p, text in texts.items():
        for offset in range(0, len(text), 61):
            explained = engine.explain(p, text, offset, 4000)
            kinds.update(s.source for s in explained.snippets)
            for f in explained.files:
                language = language_for_path(f.path)
                assert language is not None
                assert not _errors(language, f.text), f"{f.path} from {p}@{offset}:\n{f.text}"
                checked += 1
    engine.close()
    assert checked >= len(texts)
    assert {"import", "type", "similar"} & kinds


def test_go_methods_are_rendered_after_the_struct(tmp_path: Path) -> None:
    root = fixture_repo("ctx_gin", tmp_path)
    engine = RepoContext([str(root)], cache_dir=str(tmp_path / "cache"), workers=1)
    engine.build_sync()
    path = root / "web_test.go"
    text = path.read_text()
    at = text.index("\t\tc.JSON(") + len("\t\tc.")
    files = {f.path: f.text for f in engine.context_files(str(path), text, at, 3000)}
    engine.close()
    block = files["context.go"]
    struct_end = block.index("\n}\n", block.index("type Context struct {"))
    method = block.index("func (c *Context) JSON(code int, obj any)")
    assert method > struct_end  # after the struct's closing brace, not inside it
    assert not _errors("go", block)


def test_window_never_starts_inside_a_comment_block() -> None:
    text = (
        "export class A {\n  run(): void {}\n}\n\n"
        "/**\n * Make a B.\n *\n * @see A\n * @param x the input\n */\n"
        "export function makeB(x: number): number {\n  return x + 1;\n}\n\n"
        "export const C = 3;\n"
    )
    # Lines 7.. start at " * @see A": the comment is cut, so it is left out whole.
    window = whole_units(text, "typescript", 7, 15)
    assert window is not None
    assert not window.lstrip().startswith("*")
    assert window.startswith("export function makeB") and "export const C = 3;" in window
    assert not _errors("typescript", window)


def test_window_inside_a_long_function_keeps_its_head_and_braces() -> None:
    body = "".join(f"\tx{i} := {i}\n\t_ = x{i}\n" for i in range(30))
    text = f"package p\n\nfunc Long() {{\n{body}}}\n"
    window = whole_units(text, "go", 20, 39)
    assert window is not None
    assert window.startswith("func Long() {\n\t// ...\n")
    assert window.endswith("\t// ...\n}\n")
    assert not _errors("go", window)
    py = "class K:\n    def f(self):\n" + "".join(f"        y{i} = {i}\n" for i in range(40))
    window = whole_units(py, "python", 20, 30)
    assert window is not None and window.startswith("class K:\n    def f(self):\n")
    assert not _errors("python", window)


@pytest.mark.parametrize(
    ("language", "d"),
    [
        ("go", Definition("F", "function", "", 0, 3, "func F(a int) error")),
        ("go", Definition("X", "constant", "", 0, 0, "\tX = 3")),
        ("typescript", Definition("f", "function", "", 0, 3, "export function f(a: number)")),
        ("python", Definition("f", "function", "", 0, 3, "def f(a: int) -> str:", "Doc.")),
    ],
)
def test_stubs_parse(language: str, d: Definition) -> None:
    assert not _errors(language, render_definition(d, language) + "\n")


@pytest.mark.parametrize(
    ("language", "head", "compact"),
    [
        # type parameters and a parameter list written one item a line
        ("typescript", "export interface Options<\n  TData = unknown,\n  TError = Error,\n> {",
         "export interface Options<TData = unknown, TError = Error> {"),
        ("typescript", "  find<T>(\n    filters: Pick<Filters, 'key(s)'>,\n  ): T | undefined",
         "  find<T>(filters: Pick<Filters, 'key(s)'>): T | undefined"),
        ("python",
         "def load(\n    data: dict[\n        str, int\n    ],\n    *,\n    many: bool,\n) -> X:",
         "def load(data: dict[str, int], *, many: bool) -> X:"),
        ("go", "func (r *Mux) Handle(\n\tpattern string,\n\th Handler,\n) <-chan int",
         "func (r *Mux) Handle(pattern string, h Handler) <-chan int"),
        # Effect's `dual<\n  <A>(...`: joined as `<<`, a shift, it would not parse.
        ("typescript", "function pick(f: F): G<\n  <A>(self: A) => A,\n  <A>(a: A) => A\n>",
         "function pick(f: F): G< <A>(self: A) => A, <A>(a: A) => A>"),
    ],
)
def test_multi_line_heads_are_shown_on_one_line(language: str, head: str, compact: str) -> None:
    kind = "interface" if head.endswith("{") else "method" if head[0] == " " else "function"
    rendered = render_definition(Definition("x", kind, "", 0, 9, head), language,
                                 with_doc=False)
    assert rendered.startswith(compact)
    code = rendered + "\n}\n" if kind == "interface" else rendered + "\n"
    assert not _errors(language, "class A {\n" + code + "}\n" if kind == "method" else code)


@pytest.mark.parametrize(
    ("language", "head"),
    [
        ("python", "@property\ndef size(self) -> int:"),  # a break outside brackets
        ("typescript", "function f(opts: {\n  a: string\n  b: number\n}): void"),  # members
        ("typescript", "function f(\n  a: number, // the amount\n  b: number,\n)"),  # comment
        ("python", 'def f(\n    a: str = """x\n""",\n) -> None:'),  # a multi-line string
    ],
)
def test_line_breaks_that_mean_something_stay(language: str, head: str) -> None:
    rendered = render_definition(Definition("f", "function", "", 0, 9, head), language,
                                 with_doc=False)
    assert rendered.startswith(head)


@pytest.mark.parametrize(
    ("language", "src", "name", "shown"),
    [
        ("typescript", "export const CODES = {\n" + "".join(f"  K{i}: code({i}),\n"
                                                             for i in range(20))
         + "} as const;\n", "CODES", "export const CODES = { /* ... */ } as const;"),
        ("typescript", "export type Options = Base & {\n" + "".join(
            f"  k{i}?: string;\n" for i in range(20)) + "};\n", "Options",
         "export type Options = Base & { /* ... */ };"),
        ("python", "FILTERS = {\n" + "".join(f'    "f{i}": wrap(f{i}),\n' for i in range(20))
         + "}\n", "FILTERS", "FILTERS = {...}"),
        # Names of definitions, not values: nothing `X.member` would name.
        ("typescript", "export const plugins = [\n" + "".join(f"  plugin{i},\n" for i in range(14))
         + "].flat();\n", "plugins", "export const plugins = [ /* ... */ ].flat();"),
        # Plain values too many for one short line.
        ("python", "WORDS = [\n" + "".join(f'    "{"w" * 70}{i}",\n' for i in range(20))
         + "]\n", "WORDS", "WORDS = [...]"),
        # A conditional type has no bracket to elide: its value goes, after the `=` (a
        # comment before the value would swallow the elision).
        ("typescript", "export type DeepValue<\n  // the object\n  TValue,\n  TAccessor,\n> =\n"
         "  // recurse\n  unknown extends TValue\n    ? TValue\n" + "".join(
             f"    : TAccessor extends `key{i}` ? DeepValue<TValue[{i}], TAccessor>\n"
             for i in range(30))
         + "    : never\n", "DeepValue",
         "export type DeepValue<\n  // the object\n  TValue,\n  TAccessor,\n> = /* ... */ any"),
        ("go", "package p\n\nvar Codes = map[string]int{\n" + "".join(
            f'\t"k{i}": code({i}),\n' for i in range(20)) + "}\n", "Codes",
         "var Codes = map[string]int{ /* ... */ }"),
        # Effect's style: overloads documented one by one, then the implementation; each
        # part that spans lines elided.
        ("typescript", "export const mapAccum: {\n" + "".join(
            f"  /**\n   * Overload {i}, with an example:\n   *\n   * const x = mapAccum(xs)\n"
            f"   */\n  <S, A{i}>(self: Iterable<A{i}>, s: S): [S, Array<A{i}>]\n"
            for i in range(8)) + "} = dual(\n  2,\n  <S, A>(self: Iterable<A>, s: S) => {\n"
         + "".join(f"    const x{i} = step(self, s, {i})\n" for i in range(12))
         + "    return [s, []]\n  }\n)\n", "mapAccum",
         "export const mapAccum: { /* ... */ } = dual( /* ... */ )"),
    ],
)
def test_a_long_declaration_is_shown_with_its_inside_elided(
        language: str, src: str, name: str, shown: str) -> None:
    """A declaration too long to show whole keeps its head and its brackets, the inside
    elided the way the language allows, instead of being cut after a dozen lines."""
    d = next(d for d in extract(src.encode(), language).definitions if d.name == name)
    assert d.signature == shown
    assert not _errors(language, render_definition(d, language) + "\n")


@pytest.mark.parametrize(
    ("language", "src", "name", "shown"),
    [
        ("typescript", "export const Code = util.arrayToEnum([\n" + "".join(
            f'  "code_{i}",\n' for i in range(16)) + "]);\n", "Code",
         "export const Code = util.arrayToEnum([" + ", ".join(
             f'"code_{i}"' for i in range(16)) + "]);"),
        ("typescript", "export const FORMAT = {\n  // styles\n" + "".join(
            f"  k{i}: IS_K{i},\n" for i in range(14)) + "  neg: -1,\n  ref: Other.K,\n"
         "} as const;\n", "FORMAT", "export const FORMAT = { " + "".join(
             f"k{i}: IS_K{i}, " for i in range(14)) + "neg: -1, ref: Other.K } as const;"),
        ("typescript", "export enum Kind {\n" + "".join(f'  K{i} = "K{i}",\n' for i in range(14))
         + "}\n", "Kind", "export enum Kind { " + ", ".join(
             f'K{i} = "K{i}"' for i in range(14)) + " }"),
        ("python", "NAMES = {\n" + "".join(f'    MSG_{i}: "name-{i}",\n' for i in range(14))
         + "}\n", "NAMES", "NAMES = {" + ", ".join(
             f'MSG_{i}: "name-{i}"' for i in range(14)) + "}"),
        ("python", "__all__ = (\n" + "".join(f'    "Name{i}",\n' for i in range(14)) + ")\n",
         "__all__", "__all__ = (" + ", ".join(f'"Name{i}"' for i in range(14)) + ")"),
        ("go", "package p\n\nvar Codes = map[string]int{\n" + "".join(
            f'\t"k{i}": {i},\n' for i in range(14)) + "}\n", "Codes",
         "var Codes = map[string]int{" + ", ".join(f'"k{i}": {i}' for i in range(14)) + "}"),
    ],
)
def test_a_long_list_of_plain_values_is_shown_on_one_line(
        language: str, src: str, name: str, shown: str) -> None:
    """The values a table or enum holds are what `X.member` names: written one a line,
    too many lines to show whole, they are shown on one line (comments left out) rather
    than elided, as long as each is a name or a literal."""
    d = next(d for d in extract(src.encode(), language).definitions if d.name == name)
    assert d.signature == shown
    assert not _errors(language, render_definition(d, language) + "\n")


def test_a_long_object_type_alias_is_shown_with_the_members_chosen() -> None:
    """A type alias of an object type too long to show whole is a container, like an
    interface: its chosen members are shown inside it, and it is closed; a short one is
    shown whole."""
    src = ("export type Short = { x: number; y: number };\n"
           "export type Options = {\n" + "".join(f"  k{i}?: string;\n" for i in range(20))
           + "  open(\n    path: string,\n  ): void;\n};\n")
    entry = _entry(src, "options.ts", "typescript")
    defs = {d.name: d for d in entry.symbols.definitions}
    assert defs["Short"].signature == "export type Short = { x: number; y: number };"
    assert defs["open"].container == "Options" and defs["k3"].container == "Options"
    text = render_file(entry, [_Cand(entry, defs[n], 1.0, "type")
                               for n in ("Short", "Options", "open")])
    assert "export type Options = {\n  open(path: string): void;\n}" in text, text
    assert not _errors("typescript", text), text


def test_an_interface_in_a_namespace_is_closed_inside_it() -> None:
    """Containers nest: a member of an interface inside a namespace is rendered inside both,
    each closed in turn."""
    src = ("export namespace JSONRPC2 {\n  export type RequestId = number | string;\n"
           "  export interface BaseEnvelope {\n    id?: RequestId;\n  }\n"
           "  export interface Request extends BaseEnvelope {\n    method: string;\n  }\n}\n"
           "export function parse(x: string): JSONRPC2.Request { return JSON.parse(x) }\n")
    entry = _entry(src, "env.ts", "typescript")
    symbols = entry.symbols
    text = render_file(entry, [_Cand(entry, d, 1.0, "type") for d in symbols.definitions])
    assert not _errors("typescript", text), text
    assert text.count("}") == text.count("{")


def test_definitions_that_do_not_render_as_code_are_left_out() -> None:
    """A head cut for length (over MAX_SIGNATURE_CHARS) is not code: selection leaves it
    out and takes the next definition instead of showing it broken."""
    params = ", ".join(f"argument_number_{i}: int = {i}" for i in range(80))
    src = f"def huge({params}) -> None:\n    pass\n\n\ndef small(x: int) -> int:\n    return x\n"
    symbols = extract(src.encode(), "python")
    huge = next(d for d in symbols.definitions if d.name == "huge")
    assert len(huge.signature) <= MAX_SIGNATURE_CHARS + 10
    entry = FileEntry("/r/mod.py", "mod.py", "/r", symbols)
    cands = {id(d): _Cand(entry, d, 1.0 if d.name == "huge" else 0.5, "import")
             for d in symbols.definitions}
    blocks = _select(cands, 6000)
    assert [s.start_line for b in blocks for s in b.snippets] == [4]
    assert not _errors("python", blocks[0].text)


def test_a_window_that_loses_a_brace_is_not_shown() -> None:
    """A window cut inside a statement with two bodies (`try { } catch { }`) that would
    come out with a brace missing is not shown at all."""
    body = "".join(f"    step{i}();\n" for i in range(12))
    text = (f"export async function run(): Promise<void> {{\n  try {{\n{body}  }} catch (e) {{\n"
            f"{body}  }}\n}}\n")
    for a in range(0, 28):
        window = whole_units(text, "typescript", a, a + 14)
        assert window is None or not _errors("typescript", window), (a, window)


def test_go_constant_groups_keep_their_line_breaks() -> None:
    d = Definition("gzipScheme", "constant", "", 0, 2, 'const (\n\tgzipScheme = "gzip"\n)')
    assert render_definition(d, "go") == d.signature
    assert not _errors("go", render_definition(d, "go") + "\n")


@pytest.mark.parametrize(
    ("language", "src"),
    [
        ("typescript", "export enum Color {\n  Red,\n  Green,\n}\nexport class K {\n  x = 1\n}\n"),
        ("c", "enum color { RED, GREEN };\nstruct p { int x; };\n"
              "typedef struct { int y; } q_t;\ntypedef struct pt { double x; } pt_t;\n"),
        ("cpp", "class K : public B { public: int f(); };\nenum class E { A, B };\n"),
        ("rust", "pub enum E { A, B }\npub struct S { x: i32 }\n"),
        ("java", "enum E { A, B }\nclass K { int x; }\n"),
    ],
)
def test_every_container_closes_the_way_its_language_wants(language: str, src: str) -> None:
    """An enum shown whole gets no second brace; C and C++ records end with `;` (after the
    typedef name: `} point_t;`)."""
    symbols = extract(src.encode(), language)
    entry = FileEntry("/r/x", "x", "/r", symbols)
    text = render_file(entry, [_Cand(entry, d, 1.0, "type") for d in symbols.definitions])
    assert not _errors(language, text), text


def test_a_declaration_of_many_short_lines_is_shown_whole() -> None:
    """Type arguments written one a line make many lines but few characters: with no
    bracketed part to elide, such a declaration is shown whole, not cut."""
    src = ("export type InferRoutes<TTree extends AnyRoute> =\n  TTree extends Root<\n"
           + "    any,\n" * 14 + "    infer TRoutes extends RouteTypes\n  >\n"
           "    ? TRoutes\n    : never\n")
    d = extract(src.encode(), "typescript").definitions[0]
    assert d.signature == src.rstrip()
    assert not _errors("typescript", render_definition(d, "typescript") + "\n")


def test_typescript_variance_annotations_are_read_as_typescript() -> None:
    """`class Route<in out T>` (TypeScript 4.7) is valid code that the packaged grammar
    predates: the class and its members are still found, and shown."""
    src = ("export class Route<\n  in out TPath extends string = '/',\n  out TChildren = unknown,\n"
           "> {\n  id!: TPath\n  init = (opts: { index: number }): void => {\n    this.index = 1\n"
           "  }\n}\nexport function after(x: string): string {\n  return x\n}\n")
    assert _errors("typescript", src)  # what the grammar alone makes of it
    assert parses(src, "typescript")
    symbols = extract(src.encode(), "typescript")
    names = {(d.container, d.name) for d in symbols.definitions}
    assert {("", "Route"), ("Route", "init"), ("Route", "id"), ("", "after")} <= names
    entry = FileEntry("/r/route.ts", "route.ts", "/r", symbols)
    cands = {id(d): _Cand(entry, d, 1.0, "type") for d in symbols.definitions}
    blocks = _select(cands, 6000)
    text = blocks[0].text
    assert "in out TPath" in text and "init = (opts: { index: number }): void" in text, text
    assert parses(text, "typescript"), text


@pytest.mark.parametrize("language, src, kept", [
    ("python",
     'def encode(\n    obj: Annotated[Any, Doc("""\n' + "    The input object. " * 20
     + '\n    """)],\n    strict: bool = True,\n) -> Any:\n    return obj\n',
     'obj: Annotated[Any, Doc("...")]'),
    ("typescript",
     "export function warn(message: string = '" + "careful " * 20 + "'): void {}\n",
     "message: string = \"...\""),
])
def test_long_strings_in_a_head_are_elided(language: str, src: str, kept: str) -> None:
    """A parameter documented in a long string (FastAPI's `Annotated[str, Doc(...)]`)
    keeps the head short enough to be shown: the string becomes "...", and the head
    stays code."""
    d = extract(src.encode(), language).definitions[0]
    assert kept in d.signature and len(d.signature) < 120, d.signature
    text = render_definition(d, language)
    assert parses(text + "\n", language), text


def test_a_member_is_shown_inside_the_declaration_that_holds_it() -> None:
    """TypeScript merges an interface declared twice, and namespaces nest interfaces of one
    name: each member chosen alone is shown inside its own declaration, never after another
    one of the same name (which would leave it outside any braces)."""
    src = ("export interface Pool<A> extends Base<A> {\n  readonly id: A\n}\n"
           "export interface Pool<A> {\n  readonly size: number\n  readonly tail: A\n}\n"
           "export declare namespace Differ {\n  export namespace Chunk {\n"
           "    export interface Patch<A> {\n      readonly chunk: A\n    }\n  }\n"
           "  export namespace HashSet {\n    export interface Patch<A> {\n"
           "      readonly set: A\n    }\n  }\n}\n")
    entry = _entry(src, "pool.ts", "typescript")
    symbols = entry.symbols
    heads = [d for d in symbols.definitions if d.kind == "interface"]
    for member in ("size", "chunk"):
        d = next(x for x in symbols.definitions if x.name == member)
        # The first declaration of the name is chosen first, as an imported type would be.
        cands = {id(d): _Cand(entry, d, 0.9, "member"),
                 **{id(h): _Cand(entry, h, 1.0, "type") for h in heads[:1]}}
        text = _select(cands, 6000)[0].text
        assert parses(text, "typescript"), text
        assert f"readonly {member}" in text, text


def test_overloads_of_a_function_type_are_read_as_typescript() -> None:
    """`export const map: { <A, B>(f): ...\\n  <A, B>(self, f): ... } = dual(...)` (Effect's
    every function; a member that ends without `;`, then a generic call signature) is valid
    code that the packaged grammar reads as one type applied to the next: the file and every
    declaration after it were lost. Generic arrows that continue an expression stay as
    they are."""
    src = ("export const dual: {\n  /** data-last */\n  <A, B>(f: (a: A) => B): (self: A) => B\n"
           "  /** data-first */\n  <\n    A,\n    B\n  >(self: A, f: (a: A) => B): B\n"
           "} = (f: any) => f\n\nexport interface LazyArg<A> {\n  (): A\n}\n")
    assert _errors("typescript", src)  # what the grammar alone makes of it
    assert parses(src, "typescript")
    names = {d.name for d in extract(src.encode(), "typescript").definitions}
    assert {"dual", "LazyArg"} <= names, names
    for fine in ("export const curry = <A>(a: A) =>\n  <B>(b: B) => [a, b]\n",
                 "const spy = fn(\n  // any memoizer\n  <F>(f: F, x?: boolean) => f,\n)\n",
                 "export const g = pipe(\n  x,\n  /** then */\n  <A>(a: A) => a\n)\n"):
        assert not _errors("typescript", fine), fine
        assert parses(fine, "typescript"), fine


@pytest.mark.parametrize("language, src, shown, gone", [
    ("typescript",
     "export const cached: {\n  /**\n   * @since 2.0.0\n   */\n  (self: object): number\n"
     "  /** data-first */\n  (self: object, hash: number): number\n} = function() {\n"
     "  return 1\n}\n",
     "export const cached: {\n  (self: object): number\n  (self: object, hash: number): number\n}",
     "@since"),
    ("typescript",
     "export function open(path: string/* absolute */, mode/* r or w */: string): void {}\n",
     "open(path: string, mode: string)", "absolute"),
    ("python",
     "def connect(\n    host: str,  # the server\n    port: int = 80,\n) -> None:\n    pass\n",
     "def connect(host: str, port: int = 80) -> None", "the server"),
])
def test_comments_inside_a_head_are_left_out(language: str, src: str, shown: str,
                                            gone: str) -> None:
    """A head shows code: Effect documents each overload inside a function's type, which
    made a 1,500-character head (cut) of 200 characters of code."""
    d = extract(src.encode(), language).definitions[0]
    text = render_definition(d, language)
    assert shown in text and gone not in text, text
    assert parses(text, language), text


def test_go_specs_of_one_group_are_shown_in_one_group_without_alignment() -> None:
    """Constants chosen from one `const ( ... )` are shown in one, as the source has them,
    without gofmt's padding; a group of another kind, or further down, stays apart. The
    budget counts one group's `const (` and `)` once."""
    src = ("package binding\n\nconst (\n\tMIMEJSON              = \"application/json\"\n"
           "\tMIMEHTML              = \"text/html\"\n\t// MIMEXML is XML.\n"
           "\tMIMEXML               = \"application/xml\"\n)\n\n"
           "const (\n\tlevelA = iota\n\tlevelB\n)\n\nvar (\n\tdebug  = false\n\tquiet = true\n)\n")
    entry = _entry(src, "binding.go", "go")
    symbols = entry.symbols
    cands = {id(d): _Cand(entry, d, 1.0, "import") for d in symbols.definitions}
    text = _select(cands, 6000)[0].text
    assert text == ('const (\n\tMIMEJSON = "application/json"\n\tMIMEHTML = "text/html"\n'
                    '\t// MIMEXML is XML.\n\tMIMEXML = "application/xml"\n)\n'
                    "const (\n\tlevelA = iota\n\tlevelB\n)\n"
                    "var (\n\tdebug = false\n\tquiet = true\n)\n"), text
    assert parses(text, "go")
    # What the block costs with its header, and the 40 characters selection leaves spare.
    budget = len(text) + len("binding.go") + FILE_HEADER_CHARS + 40
    assert _select(cands, budget)[0].text == text


def test_a_declaration_in_two_build_tag_variants_is_shown_once() -> None:
    """gin's binding.go and binding_nomsgpack.go declare the same names under opposite build
    tags: one copy is worth showing, and the budget goes to something else."""
    src = "package binding\n\ntype Binding interface {\n\tName() string\n}\n"
    a, b = (_entry(src, n, "go") for n in ("binding.go", "binding_nomsgpack.go"))
    cands = {id(d): _Cand(e, d, 1.0 if e is a else 0.9, "import")
             for e in (a, b) for d in e.symbols.definitions}
    blocks = _select(cands, 6000)
    assert [blk.rel for blk in blocks] == ["binding.go"], blocks
