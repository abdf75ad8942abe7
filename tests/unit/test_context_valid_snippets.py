"""Every snippet the context holds parses as code of its language: no ERROR nodes."""

from __future__ import annotations

from pathlib import Path

import pytest

from lsp_server.context.languages import get_parser, language_for_path
from lsp_server.context.repo_context import RepoContext
from lsp_server.context.retrieve import render_definition
from lsp_server.context.symbols import Definition
from lsp_server.context.windows import whole_units
from tests.unit._ctx_helpers import fixture_repo


def _errors(language: str, text: str) -> bool:
    return get_parser(language).parse(text.encode()).root_node.has_error


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
