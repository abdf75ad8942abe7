"""Go: the whole package is in scope without imports, like an imported name elsewhere."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from lsp_server.context.repo_context import RepoContext
from lsp_server.context.symbols import Import
from tests.unit._ctx_helpers import built_engine, fixture_engine


@pytest.fixture(scope="module")
def gin(tmp_path_factory: pytest.TempPathFactory):
    with fixture_engine("ctx_gin", tmp_path_factory.mktemp("gin")) as built:
        yield built


def _blank(root: Path, rel: str, line: str, nth: int = -1) -> tuple[Path, str, int]:
    """Return the file's text with one occurrence of a line blanked, and the cursor there."""
    path = root / rel
    text = path.read_text()
    starts = [i for i in range(len(text)) if text.startswith(line, i)]
    at = starts[nth]
    indent = line[: len(line) - len(line.lstrip())]
    buffer = text[:at] + indent + "\n" + text[at + len(line) :]
    return path, buffer, at + len(indent)


def _context(engine: RepoContext, path: Path, text: str, offset: int, budget: int = 4000):
    files = engine.context_files(str(path), text, offset, budget)
    engine.document_closed(str(path))  # each test opens its own file alone
    return {cf.path: cf.text for cf in files}


def _context_of(root: Path, rel: str, text: str, offset: int, budget: int) -> dict[str, str]:
    """Write the file being edited, index the repository and return the context's blocks."""
    path = root / rel
    path.write_text(text)
    with built_engine(root, root / "cache") as engine:
        return _context(engine, path, text, offset, budget)


@pytest.mark.parametrize("budget", [2000, 4000])
def test_same_package_function_named_far_above_is_in_scope(gin, budget) -> None:
    root, engine = gin
    path, text, offset = _blank(root, "web_test.go", "\trouter := New()\n", nth=1)
    blocks = _context(engine, path, text, offset, budget)
    assert "func New(opts ...OptionFunc) *Engine" in blocks.get("web.go", "")


def test_same_package_function_from_a_test_file(gin) -> None:
    root, engine = gin
    path, text, offset = _blank(root, "web_test.go", "\tfs := Dir(root, false)\n")
    blocks = _context(engine, path, text, offset, 2000)
    assert "func Dir(root string, listDirectory bool) http.FileSystem" in blocks.get("fs.go", "")
    # The test helper of the same package is in scope for a test file.
    assert "func performRequest(" in blocks.get("helpers_test.go", "")


def test_method_of_the_receiver_type_from_another_file(gin) -> None:
    root, engine = gin
    path = root / "web_test.go"
    text = path.read_text()
    at = text.index("\t\tc.JSON(") + len("\t\tc.")
    blocks = _context(engine, path, text[:at] + "\n" + text[at:].split("\n", 1)[1], at, 1500)
    assert "func (c *Context) JSON(code int, obj any)" in blocks.get("context.go", "")


def test_external_test_package_sees_the_package(gin) -> None:
    root, engine = gin
    path = root / "web_external_test.go"
    text = path.read_text()
    at = text.index("\trouter.GET(") + len("\trouter.")
    buffer = text[:at] + "\n" + text[at:].split("\n", 1)[1]
    blocks = _context(engine, path, buffer, at, 2000)
    assert "func Default() *Engine" in blocks.get("web.go", "")
    assert "func (group *RouterGroup) GET(" in blocks.get("routergroup.go", "")


def test_non_test_files_do_not_see_test_files(gin) -> None:
    root, engine = gin
    path, text, offset = _blank(root, "routergroup.go", "\tgroup.engine.trees[method] = n\n")
    text = text[:offset] + "performRequest(group.engine, method, path)\n" + text[offset:]
    blocks = _context(engine, path, text, offset, 6000)
    assert not [p for p in blocks if p.endswith("_test.go")]


def test_versioned_import_path_is_the_package_its_files_declare(tmp_path: Path) -> None:
    """`import "example.com/lib/v2"` binds `lib`, the name the package's files declare."""
    root = tmp_path / "lib"
    (root / "cmd").mkdir(parents=True)
    (root / "go.mod").write_text("module example.com/lib/v2\n\ngo 1.20\n")
    (root / "lib.go").write_text(
        "package lib\n\n// Open opens a library handle.\nfunc Open(name string) *Handle {\n"
        "\treturn &Handle{name}\n}\n\n// Handle is an open library.\ntype Handle struct {\n"
        "\tname string\n}\n"
    )
    main = root / "cmd" / "main.go"
    main.write_text(
        'package main\n\nimport "example.com/lib/v2"\n\nfunc main() {\n'
        '\th := lib.Open("a")\n\t_ = h\n}\n'
    )
    engine = RepoContext([str(root)], cache_dir=str(tmp_path / "cache"), workers=1)
    engine.build_sync()
    text = main.read_text().replace("\t_ = h\n", "\t\n")
    offset = text.index("\t\n") + 1
    blocks = _context(engine, main, text, offset, 1500)
    engine.close()
    assert "func Open(name string) *Handle" in blocks.get("lib.go", "")


def test_first_use_of_an_imported_package_offers_its_popular_names(gin) -> None:
    """A function of a file that imports the package but calls nothing of it yet: the
    package's most used exported functions are offered (`New` is used all over the repo)."""
    root, engine = gin
    path = root / "cmd" / "server" / "main.go"
    filler = "".join(f"func step{i}() int {{ return {i} }}\n" for i in range(40))
    text = (
        'package main\n\nimport "example.com/web"\n\nfunc setup() {\n\t\n}\n\n'
        + filler
        + "\nfunc main() {\n\tsetup()\n\t_ = web.OptionFunc(nil)\n}\n"
    )
    offset = text.index("\t\n") + 1
    blocks = _context(engine, path, text, offset, 3000)
    assert "func New(opts ...OptionFunc) *Engine" in blocks.get("web.go", "")


def test_an_edited_go_mod_changes_where_imports_lead(tmp_path: Path) -> None:
    """The module path renamed in go.mod: imports under the new path resolve, the old do not."""
    with fixture_engine("ctx_go", tmp_path) as (root, engine):
        main = str(root / "main.go")

        def resolves(module: str) -> list[str]:
            found = engine.index.resolve_import(main, Import(module), "go")
            return [Path(p).relative_to(root).as_posix() for p in found]

        assert resolves("example.com/shop") == ["main.go"]
        assert resolves("example.org/market") == []
        gomod = root / "go.mod"
        gomod.write_text(gomod.read_text().replace("example.com/shop", "example.org/market"))
        engine.files_changed([(str(gomod), "changed")])
        deadline = time.monotonic() + 10
        while resolves("example.org/market") == [] and time.monotonic() < deadline:
            time.sleep(0.02)
        assert resolves("example.org/market") == ["main.go"]
        assert resolves("example.com/shop") == []


def test_first_use_of_a_popular_name_of_a_big_imported_package(tmp_path: Path) -> None:
    """`mw.` names a package of many files: its most used exported names are offered to
    a first use, wherever they are declared (here in the package's last file by name)."""
    (tmp_path / "go.mod").write_text("module example.com/app\n\ngo 1.21\n")
    mw = tmp_path / "mw"
    mw.mkdir()
    for i in range(20):
        (mw / f"a{i:02}.go").write_text(f"package mw\n\nfunc Helper{i}() {{}}\n")
    (mw / "z_request_id.go").write_text(
        "package mw\n\n// RequestID tags each request.\nfunc RequestID(next int) int {\n"
        "\treturn next\n}\n")
    for i in range(4):  # other programs of the repository use it
        d = tmp_path / f"cmd{i}"
        d.mkdir()
        (d / "main.go").write_text(
            'package main\n\nimport "example.com/app/mw"\n\n'
            f"func main() {{\n\tmw.Helper{i}()\n\t_ = mw.RequestID(1)\n}}\n")
    app = tmp_path / "app"
    app.mkdir()
    text = 'package main\n\nimport "example.com/app/mw"\n\nfunc main() {\n\tmw.Helper0()\n\t\n}\n'
    (app / "main.go").write_text(text)
    engine = RepoContext([str(tmp_path)], cache_dir=str(tmp_path / "cache"), workers=1)
    engine.build_sync()
    offset = text.index("\t\n}") + 1
    blocks = _context(engine, app / "main.go", text, offset, 6000)
    engine.close()
    assert "func RequestID(next int) int" in blocks.get("mw/z_request_id.go", ""), blocks


def _package_repo(tmp_path: Path) -> Path:
    """A package of many helpers and types, none used anywhere yet."""
    (tmp_path / "go.mod").write_text("module example.com/app\n\ngo 1.21\n")
    pkg = tmp_path / "web"
    pkg.mkdir()
    helpers = "".join(f"func helper{chr(65 + i % 26)}{i}(x int) int {{\n\treturn x\n}}\n\n"
                      for i in range(60))
    (pkg / "helpers.go").write_text(f"package web\n\n{helpers}")
    (pkg / "tree.go").write_text(
        "package web\n\nfunc countParams(path string) uint16 {\n\treturn 0\n}\n\n"
        "func countSections(path string) uint16 {\n\treturn 0\n}\n")
    kinds = ["json", "xml", "form", "query", "yaml", "toml", "header", "uri", "protobuf"]
    types = "".join(f"type {k}Binding struct{{}}\n\n" for k in kinds)
    types += "".join(f"type option{i} struct{{}}\n\n" for i in range(40))
    (pkg / "binding.go").write_text(f"package web\n\n{types}")
    return pkg


def test_a_first_use_named_like_the_code_around_it_comes_first(tmp_path: Path) -> None:
    """Of a package's 60 unused helpers, the one named like what the lines around the
    cursor call (`countSections` under `countParams(path)`) is shown in a tight budget;
    the same for a type among its siblings (`tomlBinding{}` after `yamlBinding{}`)."""
    pkg = _package_repo(tmp_path)
    text = ("package web\n\ntype Engine struct{ maxParams uint16 }\n\n"
            "func (e *Engine) addRoute(path string) {\n"
            "\tif n := countParams(path); n > e.maxParams {\n\t\tpanic(path)\n\t}\n\t\n}\n\n"
            "var (\n\tJSON = jsonBinding{}\n\tYAML = yamlBinding{}\n\t\n)\n")
    (pkg / "gin.go").write_text(text)
    with built_engine(tmp_path, tmp_path / "cache") as engine:
        at_call = text.index("\t\n}") + 1
        at_var = text.index("\t\n)") + 1
        calls = _context(engine, pkg / "gin.go", text, at_call, 700)
        types = _context(engine, pkg / "gin.go", text, at_var, 700)
    assert "func countSections(path string) uint16" in calls.get("web/tree.go", ""), calls
    assert "type tomlBinding struct" in types.get("web/binding.go", ""), types


def test_a_bare_name_is_never_a_method(tmp_path: Path) -> None:
    """`func (f *IntFlag) Names() []string {`: the bare `Names` declared there is no use of
    the 15 other types' `Names` methods (Go declares methods at the top level too), so
    they do not crowd out what the body calls; and `f(...).SetInternal(err)` is a method
    call, whatever the receiver."""
    (tmp_path / "go.mod").write_text("module example.com/cli\n\ngo 1.21\n")
    kinds = ["Bool", "Int", "Int64", "Uint", "Uint64", "Float64", "String", "Path",
             "Duration", "Generic", "Timestamp", "IntSlice", "StringSlice", "Float64Slice",
             "Int64Slice"]
    for k in kinds:
        (tmp_path / f"flag_{k.lower()}.go").write_text(
            f"package cli\n\ntype {k}Flag struct {{\n\tName    string\n\tAliases []string\n}}\n\n"
            f"// Names returns the names of the flag.\nfunc (f *{k}Flag) Names() []string {{\n"
            f"\treturn flagNames(f.Name, f.Aliases)\n}}\n")
    (tmp_path / "flag.go").write_text(
        "package cli\n\nfunc flagNames(name string, aliases []string) []string {\n"
        "\treturn append([]string{name}, aliases...)\n}\n")
    (tmp_path / "errors.go").write_text(
        "package cli\n\ntype HTTPError struct{ Internal error }\n\n"
        "func NewHTTPError(code int, message string) *HTTPError {\n\treturn &HTTPError{}\n}\n\n"
        "func (he *HTTPError) SetInternal(err error) *HTTPError {\n\treturn he\n}\n")
    text = ("package cli\n\nimport \"fmt\"\n\ntype TextFlag struct {\n\tName    string\n"
            "\tAliases []string\n}\n\nfunc (f *TextFlag) Names() []string {\n\t\n}\n\n"
            "func parse(err error) error {\n"
            "\treturn NewHTTPError(400, fmt.Sprintf(\"%v\", fmt.Sprint(err))).SetInternal(err)\n"
            "\t\n}\n")
    (tmp_path / "flag_text.go").write_text(text)
    with built_engine(tmp_path, tmp_path / "cache") as engine:
        body = _context(engine, tmp_path / "flag_text.go", text, text.index("\t\n}") + 1, 900)
        after = _context(engine, tmp_path / "flag_text.go", text, text.rindex("\t\n}") + 1, 900)
    assert "func flagNames(name string, aliases []string) []string" in body.get(
        "flag.go", ""), body
    assert "SetInternal(err error) *HTTPError" in after.get("errors.go", ""), after


def test_package_helpers_are_ranked_across_all_its_files(tmp_path: Path) -> None:
    """A package whose first files declare more helpers than are offered (fasthttp's
    args.go, bytesconv.go, client.go): the one named like the code around the cursor, in a
    file that sorts last, is still offered."""
    (tmp_path / "go.mod").write_text("module example.com/web\n\ngo 1.21\n")
    for first in "abc":
        (tmp_path / f"{first}_args.go").write_text("package web\n\n" + "".join(
            f"func {first}Arg{i}(b []byte) []byte {{\n\treturn b\n}}\n\n" for i in range(60)))
    (tmp_path / "z_compress.go").write_text(
        "package web\n\nfunc acquireDeflateWriter(level int) *deflateWriter {\n"
        "\treturn nil\n}\n\ntype deflateWriter struct{ level int }\n")
    text = ("package web\n\nfunc writeBody(level int) {\n"
            "\tgz := acquireGzipWriter(level)\n\tdefer releaseGzipWriter(gz)\n\t\n}\n\n"
            "func acquireGzipWriter(level int) *int {\n\treturn nil\n}\n\n"
            "func releaseGzipWriter(w *int) {}\n")
    blocks = _context_of(tmp_path, "http.go", text, text.index("\t\n}") + 1, 1500)
    assert "func acquireDeflateWriter(level int)" in blocks.get("z_compress.go", ""), blocks


def test_typing_a_package_name_offers_names_from_all_its_files(tmp_path: Path) -> None:
    """`web.` typed before the cursor: what the package exports comes from every one of its
    files, not the first dozen by name."""
    (tmp_path / "go.mod").write_text("module example.com/app\n\ngo 1.21\n")
    web = tmp_path / "web"
    web.mkdir()
    for i in range(20):
        (web / f"f{i:02d}.go").write_text(
            f"package web\n\nfunc Handler{i:02d}(path string) error {{\n\treturn nil\n}}\n")
    text = ('package main\n\nimport "example.com/app/web"\n\nfunc main() {\n\tweb.\n}\n')
    blocks = _context_of(tmp_path, "main.go", text, text.index("web.\n") + 4, 6000)
    assert "func Handler19(path string) error" in blocks.get("web/f19.go", ""), sorted(blocks)


def test_what_functions_named_like_this_one_call_comes_next(tmp_path: Path) -> None:
    """`GetStringSlice` is being written beside `GetBoolSlice`, `GetIntSlice`... in other
    files, each of which starts by calling the private `f.parsedValue(...)`: among the
    FlagSet's sixty methods, nothing near the cursor names, that one is what its first line
    most likely calls."""
    (tmp_path / "go.mod").write_text("module example.com/flags\n\ngo 1.21\n")
    methods = "".join(f"func (f *FlagSet) Define{i}Flag(name string, usage string) {{\n"
                      f"\tf.define(name, usage)\n}}\n\n" for i in range(60))
    (tmp_path / "flag.go").write_text(
        "package flags\n\ntype FlagSet struct{ flags map[string]string }\n\n" + methods +
        "func (f *FlagSet) define(name string, usage string) {}\n\n"
        "func (f *FlagSet) parsedValue(name string, ftype string, conv func(string) (any, "
        "error)) (any, error) {\n\treturn conv(f.flags[name])\n}\n")
    for kind in ("Bool", "Int", "Float", "Duration"):
        (tmp_path / f"{kind.lower()}_slice.go").write_text(
            f"package flags\n\nfunc {kind.lower()}SliceConv(val string) (any, error) {{\n"
            f"\treturn nil, nil\n}}\n\n"
            f"// Get{kind}Slice returns the value of a flag with the given name.\n"
            f"func (f *FlagSet) Get{kind}Slice(name string) (any, error) {{\n"
            f"\tval, err := f.parsedValue(name, \"{kind.lower()}Slice\", "
            f"{kind.lower()}SliceConv)\n\tif err != nil {{\n\t\treturn nil, err\n\t}}\n"
            f"\treturn val, nil\n}}\n")
    text = ("package flags\n\nfunc (f *FlagSet) GetStringSlice(name string) (any, error) {\n"
            "\t\n}\n\nfunc stringSliceConv(val string) (any, error) {\n\treturn nil, nil\n}\n")
    blocks = _context_of(tmp_path, "string_slice.go", text, text.index("\t\n}") + 1, 900)
    assert "parsedValue(name string, ftype string" in blocks.get("flag.go", ""), blocks


def test_a_plural_is_named_like_its_singular(tmp_path: Path) -> None:
    """`case []string:` under `case string: return String(key, val)`: `Strings`, among the
    package's sixty other constructors, is the one named like the code around it."""
    (tmp_path / "go.mod").write_text("module example.com/log\n\ngo 1.21\n")
    (tmp_path / "field.go").write_text(
        "package log\n\ntype Field struct{ Key string }\n\n"
        "func String(key string, val string) Field {\n\treturn Field{Key: key}\n}\n")
    (tmp_path / "array.go").write_text("package log\n\n" + "".join(
        f"func Array{i}(key string, val []int) Field {{\n\treturn Field{{Key: key}}\n}}\n\n"
        for i in range(60)) +
        "func Strings(key string, val []string) Field {\n\treturn Field{Key: key}\n}\n")
    text = ("package log\n\nfunc Any(key string, value interface{}) Field {\n"
            "\tswitch val := value.(type) {\n\tcase string:\n\t\treturn String(key, val)\n"
            "\tcase []string:\n\t\t\n\t}\n\treturn Field{}\n}\n")
    blocks = _context_of(tmp_path, "any.go", text, text.index("\t\t\n") + 2, 700)
    assert "func Strings(key string, val []string) Field" in blocks.get("array.go", ""), blocks


def test_a_helper_named_after_the_function_being_written(tmp_path: Path) -> None:
    """The first line of `New` most likely calls `debugPrintWARNINGNew`, though sixty
    `debugEngineN` helpers share more of their words with the lines around the cursor."""
    (tmp_path / "go.mod").write_text("module example.com/web\n\ngo 1.21\n")
    (tmp_path / "debug.go").write_text("package web\n\n" + "".join(
        f"func debugEngine{i}(engine *Engine) {{\n\tdebugPrint(\"engine {i}\")\n}}\n\n"
        for i in range(60)) +
        "func debugPrint(format string) {}\n\n"
        "func debugPrintWARNINGNew() {\n\tdebugPrint(\"running in debug mode\")\n}\n")
    text = ("package web\n\ntype Engine struct{ trees []string }\n\n"
            "func New() *Engine {\n\t\n\tengine := &Engine{}\n\treturn engine\n}\n")
    blocks = _context_of(tmp_path, "web.go", text, text.index("\t\n") + 1, 700)
    assert "func debugPrintWARNINGNew()" in blocks.get("debug.go", ""), blocks


@pytest.mark.parametrize("lines, typed", [
    ("\tfor _, x := range s.routes {\n\t\tx.", "Route"),
    ("\tfor _, x := range s.groups {\n\t\tx.", "Group"),
    # The first of two results is the value; the second, an error, says nothing.
    ("\tx, err := s.find()\n\t_ = err\n\tx.", "Route"),
    ("\tx := &s.groups[0]\n\tx.", "Group"),
    ("\tx := s.routes[0].group\n\tx.", "Group"),
    # A map's values.
    ("\tfor name, x := range s.byName {\n\t\tx.", "Route"),
    ("\tx := s.byName[\"home\"]\n\tx.", "Route"),
    # A type assertion, and a type switch's case.
    ("\tif x, ok := s.any.(*Group); ok {\n\t\tx.", "Group"),
    ("\tswitch x := s.any.(type) {\n\tcase *Route:\n\t\tx.", "Route"),
    ("\tswitch x := s.any.(type) {\n\tcase *Route:\n\t\treturn\n\tcase Group:\n\t\tx.",
     "Group"),
])
def test_a_go_receiver_s_type_follows_ranges_results_and_fields(
        tmp_path: Path, lines: str, typed: str) -> None:
    """`x.` after `for _, x := range xs`, `x, err := f()`, `x := &a.b[0].c`, `x := m[k]`,
    `x, ok := v.(*T)` or a type switch's `case *T:` is about that element's, result's,
    field's, map value's or asserted type; without it, the parameter's type would fill the
    budget."""
    decls = "".join(f"type {name} struct{{ group *Group }}\n\n" + "".join(
        f"func (r *{name}) {verb}{i}(depth int) int {{ return depth }}\n" for i in range(20))
        for name, verb in (("Route", "Alpha"), ("Group", "Beta"), ("Decoy", "Gamma")))
    (tmp_path / "types.go").write_text(
        f"package app\n\n{decls}\ntype Server struct {{\n\troutes []*Route\n"
        "\tgroups []Group\n\tbyName map[Group]*Route\n\tany Node\n}\n\n"
        "type Node interface {\n" + "".join(f"\tOmega{i}(depth int) int\n" for i in range(20))
        + "}\n\n"
        "func (s *Server) find() (*Route, error) { return nil, nil }\n")
    text = f"package app\n\nfunc serve(s *Server, hint *Decoy) {{\n{lines}\n}}\n"
    offset = text.index(lines) + len(lines)
    blocks = _context_of(tmp_path, "serve.go", text, offset, 900)
    shown = blocks.get("types.go", "")
    verb, other = ("Alpha", "Beta") if typed == "Route" else ("Beta", "Alpha")
    assert f") {verb}0(depth int) int" in shown, blocks
    assert f") {other}0(" not in shown and "Omega0(" not in shown, blocks


@pytest.mark.parametrize("head, typed", [
    ("func walk(root *node, hint *Decoy) {\n\troot.", "node"),  # the package's own type
    ("func walk(c *Decoy) {\n\tc.errors.", "errorMsgs"),  # a slice type with methods
])
def test_a_go_receiver_of_an_unexported_or_slice_type(tmp_path: Path, head: str,
                                                      typed: str) -> None:
    decls = "".join(f"type {name} {body}\n\n" + "".join(
        f"func (r {'' if body.startswith('[') else '*'}{name}) {verb}{i}(depth int) int "
        "{ return depth }\n" for i in range(20))
        for name, body, verb in (("node", "struct{}", "alpha"),
                                 ("errorMsgs", "[]*Error", "beta"),
                                 ("Error", "struct{}", "Gamma"),
                                 ("Decoy", "struct{ errors errorMsgs }", "Delta")))
    (tmp_path / "types.go").write_text(f"package app\n\n{decls}")
    text = f"package app\n\n{head}\n}}\n"
    blocks = _context_of(tmp_path, "walk.go", text, text.index(head) + len(head), 900)
    shown = blocks.get("types.go", "")
    verb = "alpha" if typed == "node" else "beta"
    assert f") {verb}0(depth int) int" in shown, blocks


def test_of_names_used_alike_a_function_comes_before_a_variable(tmp_path: Path) -> None:
    """The function's head tells how to call it; the variable's (`strChunked =
    []byte("chunked")`) tells little. With room for one, the function is shown, though the
    variable is named a line closer to the cursor."""
    (tmp_path / "args.go").write_text(
        "package app\n\nvar (\n\tstrChunked = []byte(\"chunked\")\n)\n\n"
        "func setArgBytes(h []byte, v []byte) []byte { return h }\n")
    text = ("package app\n\nfunc fill(h []byte) {\n\th = setArgBytes(h, nil)\n"
            "\tv := strChunked\n\t\n}\n")
    offset = text.index("\t\n}") + 1
    blocks = _context_of(tmp_path, "fill.go", text, offset, 110)
    assert "func setArgBytes(h []byte, v []byte) []byte" in blocks.get("args.go", ""), blocks
    assert "strChunked" not in blocks.get("args.go", ""), blocks


def test_a_named_non_struct_type_s_methods_come_with_its_variables(tmp_path: Path) -> None:
    """`var l Level` with `type Level int8`: Level has no struct or interface, but its
    methods are what `l` is for."""
    (tmp_path / "level.go").write_text(
        "package app\n\ntype Level int8\n\n"
        "func (l *Level) UnmarshalText(text []byte) error { return nil }\n\n"
        "type Decoy struct{}\n\n" + "".join(
            f"func (d *Decoy) Gamma{i}(depth int) int {{ return depth }}\n" for i in range(20)))
    text = "package app\n\nfunc parse(hint *Decoy) error {\n\tvar l Level\n\t\n}\n"
    offset = text.index("\t\n}") + 1
    blocks = _context_of(tmp_path, "parse.go", text, offset, 600)
    assert "func (l *Level) UnmarshalText(text []byte) error" in blocks.get("level.go", ""), \
        blocks


_HELPERS = "".join(f"func helper{i}(x int) int {{ return x }}\n" for i in range(30))


@pytest.mark.parametrize("declared, maker, text, budget", [
    # Among `Backoff(op, options ...Option)`'s arguments, what returns an Option.
    ("type Option func(*Options)\n\ntype Options struct{ n int }\n\n"
     "func Backoff(op func() error, options ...Option) error { return nil }\n",
     "func Retries(n int) Option",
     "func run() error {\n\treturn Backoff(func() error {\n\t\treturn nil\n\t},\n\t\t|\n\t)\n}\n",
     400),
    # In `Dial`, written to return a `*Conn`, the helper that makes one; far enough below
    # the head that the words near the cursor do not name a Conn.
    ("type Conn struct{ server bool }\n", "func newConn(server bool) *Conn",
     "func Dial(url string) (*Conn, error) {\n"
     + "\tif url == \"\" {\n\t\treturn nil, nil\n\t}\n" * 4 + "\t|\n}\n", 300),
    # Among the fields of a `&Command{...}` literal, what returns a field's type
    # (`MinimumNArgs(n)` makes the `Args PositionalArgs`).
    ("type PositionalArgs func(args []string) error\n\n"
     "type Command struct {\n\tUse  string\n\tArgs PositionalArgs\n}\n",
     "func MinimumNArgs(n int) PositionalArgs",
     "func complete() *Command {\n\treturn &Command{\n\t\tUse: \"complete\",\n\t\t|\n\t}\n}\n",
     400),
])
def test_what_makes_what_the_code_around_the_cursor_needs_comes_first(
        tmp_path: Path, declared: str, maker: str, text: str, budget: int) -> None:
    """Of thirty package functions as little used, the one that makes what the code
    around the cursor needs (the call's argument, the function's result, the literal's
    field) comes first."""
    (tmp_path / "lib.go").write_text(
        f"package app\n\n{declared}\n{_HELPERS}\n{maker} {{ return nil }}\n")
    text = "package app\n\n" + text
    offset = text.index("|")
    blocks = _context_of(tmp_path, "edit.go", text.replace("|", ""), offset, budget)
    assert maker in blocks.get("lib.go", ""), blocks


def test_a_func_literal_s_parameter_shadows_the_variable_above(tmp_path: Path) -> None:
    """`r := NewMux()` above, then `r.Route("/v1", func(r Router) {`: inside the literal,
    `r.` means a Router's methods; after its body, the Mux's again."""
    (tmp_path / "go.mod").write_text("module example.com/web\n\ngo 1.21\n")
    (tmp_path / "mux.go").write_text(
        "package web\n\ntype Mux struct{}\n\nfunc NewMux() *Mux { return &Mux{} }\n\n"
        + "".join(f"func (mx *Mux) Handle{i}(pattern string, depth int) {{}}\n"
                  for i in range(30)))
    (tmp_path / "router.go").write_text(
        "package web\n\ntype Router interface {\n"
        + "".join(f"\tMount{i}(pattern string, child Router)\n" for i in range(8)) + "}\n")
    head = ("package web\n\nfunc routes() {\n\tr := NewMux()\n\tr.Handle1(\"/\", 1)\n"
            "\tr.Route(\"/v1\", func(r Router) {\n")
    inside = head + "\t\tr."
    blocks = _context_of(tmp_path, "routes.go", inside, len(inside), 700)
    assert "Mount3(pattern string, child Router)" in blocks.get("router.go", ""), blocks
    after = head + "\t\tr.Mount1(\"/a\", nil)\n\t})\n\tr."
    blocks = _context_of(tmp_path, "routes.go", after, len(after), 700)
    assert "func (mx *Mux) Handle5(" in blocks.get("mux.go", ""), blocks


@pytest.mark.parametrize(("opened", "closing"), [
    ("\tu := acquireURI()\n", "func releaseURI(u *URI)"),
    ("\tmu.RLock()\n", "func (m *RWMutex) RUnlock()"),
])
def test_what_closes_what_the_code_above_opened_comes_first(
        tmp_path: Path, opened: str, closing: str) -> None:
    """Ten lines below `acquireURI()`, of thirty helpers named in part like the code around the
    cursor, `releaseURI` is likeliest; below `mu.RLock()`, `mu.RUnlock()`."""
    (tmp_path / "pool.go").write_text(
        "package app\n\ntype URI struct{ path string }\n\ntype RWMutex struct{}\n\n"
        "func acquireURI() *URI { return &URI{} }\n\nfunc releaseURI(u *URI) {}\n\n"
        "func (m *RWMutex) RLock() {}\n\nfunc (m *RWMutex) RUnlock() {}\n\n"
        + "".join(f"func (m *RWMutex) PathPiece{i}(n int) int {{ return n }}\n\n"
                  f"func pathPiece{i}(n int) int {{ return n }}\n\n" for i in range(15)))
    text = ("package app\n\nfunc handle(mu *RWMutex) int {\n" + opened
            + "".join(f"\tpath{i} := {i}\n" for i in range(10)) + "\t")
    blocks = _context_of(tmp_path, "handle.go", text + "\n}\n", len(text), 600)
    assert closing in blocks.get("pool.go", ""), blocks


def test_what_makes_the_name_the_lines_below_use_comes_first(tmp_path: Path) -> None:
    """The blank line above `if err != nil` and `req.Key = challengeKey` makes challengeKey:
    of thirty helpers named in part like it, `generateChallengeKey` is likeliest. A name
    the repository declares (`ipNetValue` below, in a type switch) is no such hint."""
    (tmp_path / "util.go").write_text(
        "package app\n\ntype ipNetValue struct{}\n\n"
        "func generateChallengeKey() (string, error) { return \"\", nil }\n\n"
        + "".join(f"func challengeStep{i}(n int) int {{ return n }}\n\n"
                  f"func keyPiece{i}(n int) int {{ return n }}\n\n"
                  f"func netValuePiece{i}(n int) int {{ return n }}\n\n" for i in range(10)))
    text = ("package app\n\ntype request struct{ Key string }\n\n"
            "func dial(req *request, v any) error {\n\t")
    below = ("\n\tif err != nil {\n\t\treturn err\n\t}\n\tswitch v.(type) {\n"
             "\tcase *ipNetValue:\n\t\treq.Key = challengeKey\n\t}\n\treturn nil\n}\n")
    blocks = _context_of(tmp_path, "dial.go", text + below, len(text), 400)
    shown = blocks.get("util.go", "")
    assert "func generateChallengeKey() (string, error)" in shown, blocks
    assert "func netValuePiece" not in shown, blocks


def test_what_the_function_this_one_varies_calls_comes_next(tmp_path: Path) -> None:
    """`PreparexContext` is `Preparex` with a context, and what Preparex calls next
    (`isUnsafe(p)`), of sixty helpers as much used, is likeliest, though Preparex's body
    lies across two of its file's 20-line windows."""
    (tmp_path / "go.mod").write_text("module example.com/sqlx\n\ngo 1.21\n")
    (tmp_path / "sqlx.go").write_text(
        "package sqlx\n\n" + "".join(f"var pad{i} = {i}\n" for i in range(16))
        + "func Preparex(p Preparer, query string) (*Stmt, error) {\n"
        "\ts, err := p.Prepare(query)\n\tif err != nil {\n\t\treturn nil, err\n\t}\n"
        "\treturn &Stmt{unsafe: isUnsafe(p), query: s}, err\n}\n\n"
        "type Preparer interface{ Prepare(q string) (string, error) }\n\n"
        "type Stmt struct {\n\tunsafe bool\n\tquery  string\n}\n")
    (tmp_path / "util.go").write_text(
        "package sqlx\n\n" + "".join(
            f"func checkValue{i}(p Preparer) bool {{ return false }}\n\n" for i in range(60))
        + "func isUnsafe(p Preparer) bool { return false }\n")
    (tmp_path / "uses.go").write_text(
        "package sqlx\n\nfunc useAll(p Preparer) {\n" + "".join(
            f"\tcheckValue{i}(p)\n" for i in range(60)) + "}\n")
    text = ("package sqlx\n\nfunc PreparexContext(ctx any, p Preparer, query string) "
            "(*Stmt, error) {\n\ts, err := p.Prepare(query)\n\tif err != nil {\n"
            "\t\treturn nil, err\n\t}\n\t")
    blocks = _context_of(tmp_path, "sqlx_context.go", text + "\n}\n", len(text), 700)
    assert "func isUnsafe(p Preparer) bool" in blocks.get("util.go", ""), blocks
