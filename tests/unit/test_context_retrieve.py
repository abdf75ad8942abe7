"""Retrieval: the right cross-file definitions for a cursor, ranked, within budget, stable."""

from __future__ import annotations

from pathlib import Path

import pytest

from lsp_server.context.index import FileEntry
from lsp_server.context.languages import get_parser
from lsp_server.context.repo_context import RepoContext
from lsp_server.context.retrieve import FILE_HEADER_CHARS, render_definition
from lsp_server.context.retrieve.budget import select
from lsp_server.context.retrieve.infer import _receiver_at
from lsp_server.context.retrieve.model import _Cand
from lsp_server.context.symbols import Definition, FileSymbols
from tests.unit._ctx_helpers import add_unwanted_files, built_engine, fixture_repo


@pytest.fixture
def py_engine(tmp_path: Path):
    root = fixture_repo("ctx_py", tmp_path)
    add_unwanted_files(root)
    with built_engine(root, tmp_path / "cache") as engine:
        yield root, engine


def _cursor_after(text: str, marker: str) -> int:
    return text.index(marker) + len(marker)


def _blocks(engine: RepoContext, path: Path, text: str, offset: int, budget: int = 6000):
    return {cf.path: cf.text for cf in engine.context_files(str(path), text, offset, budget)}


def _context_of(root: Path, path: Path, text: str, offset: int, budget: int = 6000):
    """Write the file being edited, index the repository and return the context's blocks."""
    path.write_text(text)
    with built_engine(root, root / "cache") as engine:
        return _blocks(engine, path, text, offset, budget)


def test_imported_definitions_and_receiver_members(py_engine) -> None:
    root, engine = py_engine
    path = root / "shop" / "checkout.py"
    text = path.read_text()
    # Blank the line that calls the gateway: the model must still see `charge`.
    line = "        return self.gateway.charge(total, token)\n"
    buffer = text.replace(line, "        \n")
    offset = buffer.index("        \n", buffer.index("total = ")) + 8
    blocks = _blocks(engine, path, buffer, offset)
    assert "shop/checkout.py" not in blocks  # the current file goes in FIM form, not here
    gateway = blocks["shop/payments/gateway.py"]
    assert "def charge(self, amount_cents: int, token: str) -> str:" in gateway
    assert "class PaymentGateway:" in gateway
    assert "def make_gateway(endpoint: str) -> PaymentGateway:" in gateway
    models = blocks["shop/models.py"]
    assert "class Cart:" in models and "def add_item(self, item: Item, quantity: int = 1)" in models
    # Signatures with their doc line, not bodies.
    assert "raise NotImplementedError" not in gateway
    assert '"""Charge a card token and return the transaction id."""' in gateway


def test_secrets_in_snippets_are_redacted(py_engine) -> None:
    root, engine = py_engine
    path = root / "shop" / "checkout.py"
    text = path.read_text() + "\nfrom .payments.gateway import API_KEY\nprint(API_KEY)\n"
    blocks = _blocks(engine, path, text, len(text))
    gateway = blocks["shop/payments/gateway.py"]
    assert "API_KEY" in gateway
    assert "sk-live-0123456789" not in gateway


def test_budget_is_respected_and_order_is_stable(py_engine) -> None:
    root, engine = py_engine
    path = root / "shop" / "checkout.py"
    text = path.read_text()
    offset = _cursor_after(text, "total = self.cart.total_cents()\n")
    for budget in (0, 80, 200, 400, 6000):
        files = engine.context_files(str(path), text, offset, budget)
        used = sum(len(f.text) + len(f.path) + 14 for f in files)
        assert used <= budget
    assert engine.context_files(str(path), text, offset, 0) == []
    first = engine.context_files(str(path), text, offset, 6000)
    # Typing on the same line must not reorder the context (servers cache prompt prefixes).
    typed = text[:offset] + "        ret" + text[offset:]
    again = engine.context_files(str(path), typed, offset + 11, 6000)
    assert [f.path for f in first] == [f.path for f in again]
    assert [f.path for f in first] == sorted(f.path for f in first) or len(first) > 1


def test_never_from_ignored_or_secret_files(py_engine) -> None:
    root, engine = py_engine
    path = root / "shop" / "report.py"
    text = "from shop.private.internal import hidden_helper\nhidden_helper()\n"
    blocks = _blocks(engine, path, text, len(text))
    assert not any("private" in p for p in blocks)
    assert not engine.may_send(str(root / ".env"))
    assert not engine.may_send(str(root / "shop" / "secret_notes.py"))
    assert engine.may_send(str(root / "shop" / "models.py"))


def test_typescript_member_of_parameter_property(tmp_path: Path) -> None:
    root = fixture_repo("ctx_ts", tmp_path)
    engine = RepoContext([str(root)], cache_dir=str(tmp_path / "cache"), workers=1)
    engine.build_sync()
    path = root / "src" / "service.ts"
    text = path.read_text().replace("    const user = this.repo.findById(id);\n", "    \n")
    offset = text.index("    \n    return user") + 4
    blocks = _blocks(engine, path, text, offset)
    user = blocks["src/models/user.ts"]
    assert "findById(id: string): User | undefined" in user
    assert "export interface User" in user
    engine.close()


def test_go_package_import_and_methods(tmp_path: Path) -> None:
    root = fixture_repo("ctx_go", tmp_path)
    engine = RepoContext([str(root)], cache_dir=str(tmp_path / "cache"), workers=1)
    engine.build_sync()
    path = root / "main.go"
    text = path.read_text().replace('\ts.Put("apple", 3)\n', "\t\n")
    offset = text.index("\t\n\tfmt.Println") + 1
    blocks = _blocks(engine, path, text, offset)
    store = blocks["store/store.go"]
    assert "func (s *Store) Put(name string, n int)" in store
    assert "func NewStore() *Store" in store
    engine.close()


def test_non_indexed_language_gets_no_context(py_engine) -> None:
    root, engine = py_engine
    assert engine.context_files(str(root / "notes.md"), "# hi\n", 3, 6000) == []


def test_doc_lines_give_way_to_more_definitions_in_a_tight_budget() -> None:
    """Definitions of middling evidence come without their doc lines first: in a budget
    that holds two heads but not a head with its doc and another head, both heads win."""
    doc = "Return the thing, after checking every rule that applies to it here."
    defs = [Definition(f"fn{i}", "function", "", i * 5, i * 5 + 3,
                       f"def fn{i}(value: int) -> int:", doc) for i in range(2)]
    entry = FileEntry("/r/mod.py", "mod.py", "/r", FileSymbols("python", defs))
    head = len(render_definition(defs[0], "python", with_doc=False)) + 1
    budget = 40 + 2 * head + len("mod.py") + FILE_HEADER_CHARS + 10
    cands = {id(d): _Cand(entry, d, score, "import")
             for d, score in zip(defs, (0.7, 0.6), strict=True)}
    blocks = select(cands, budget, sticky=frozenset(), skip=set(), tier0=set(), caches={})
    assert [s.start_line for b in blocks for s in b.snippets] == [0, 5]
    # The strongest evidence keeps its doc line from the start.
    cands = {id(d): _Cand(entry, d, score, "import")
             for d, score in zip(defs, (1.3, 0.6), strict=True)}
    blocks = select(cands, budget, sticky=frozenset(), skip=set(), tier0=set(), caches={})
    assert doc in blocks[0].text


def test_of_equal_evidence_the_shorter_definition_goes_first() -> None:
    """A long definition (a type spelled over many lines) and a one-line head with slightly
    less evidence, in a budget for only one of them: the head, which costs a tenth as
    much, is taken; with clearly stronger evidence the long one still wins."""
    long_sig = "export type Options = {\n" + "".join(
        f"  setting{i}?: boolean | 'always' | ((value: unknown) => boolean)\n"
        for i in range(6)) + "}"
    long_def = Definition("Options", "type", "", 0, 7, long_sig)
    short_def = Definition("remove", "function", "", 10, 12,
                           "export function remove(key: string): void")
    entry = FileEntry("/r/mod.ts", "mod.ts", "/r", FileSymbols("typescript",
                                                               [long_def, short_def]))
    budget = len(long_sig) + len("mod.ts") + FILE_HEADER_CHARS + 20

    def chosen(long_score: float) -> list[str]:
        cands = {id(long_def): _Cand(entry, long_def, long_score, "import"),
                 id(short_def): _Cand(entry, short_def, 0.5, "type")}
        blocks = select(cands, budget, sticky=frozenset(), skip=set(), tier0=set(),
                        caches={})
        return [s.start_line for b in blocks for s in b.snippets]

    assert chosen(0.52) == [10]
    assert chosen(1.2)[0] == 0


def _reach_repo(root: Path) -> Path:
    """A class whose methods reach a base class and a field's type in other files; the
    method at the cursor takes a parameter of a third type with many methods."""
    src = root / "src"
    src.mkdir(parents=True)
    (src / "removable.ts").write_text(
        "export abstract class Removable {\n"
        "  protected scheduleGc(): void {\n    this.clearGcTimeout()\n  }\n"
        "  protected clearGcTimeout(): void {}\n}\n")
    (src / "retryer.ts").write_text(
        "export interface Retryer {\n  start: () => Promise<void>\n"
        "  canStart: () => boolean\n  cancelRetry: () => void\n}\n")
    (src / "options.ts").write_text("export interface FetchOptions {\n" + "".join(
        f"  setting{i}(value: number, fallback: string): string\n" for i in range(10)) + "}\n")
    query = src / "query.ts"
    query.write_text(
        "import type { FetchOptions } from './options'\n"
        "import { Removable } from './removable'\n"
        "import type { Retryer } from './retryer'\n\n"
        "export class Query extends Removable {\n  #retryer: Retryer\n\n"
        "  fetch(options: FetchOptions): void {\n    \n  }\n}\n")
    return query


def test_what_this_reaches_in_a_method_comes_before_a_parameter_type(
        tmp_path: Path) -> None:
    """In a method, the members of the class's base and of its fields' types (first uses of
    `this.x()` / `this.#retryer.x()`) outrank those of a type the method merely takes."""
    query = _reach_repo(tmp_path)
    text = query.read_text()
    at = "  fetch(options: FetchOptions): void {\n    "
    offset = text.index(at) + len(at)
    with built_engine(tmp_path, tmp_path / "cache") as engine:
        blocks = _blocks(engine, query, text, offset, budget=500)
    assert "canStart: () => boolean" in blocks.get("src/retryer.ts", ""), blocks
    assert "clearGcTimeout(): void" in blocks.get("src/removable.ts", ""), blocks


def test_members_of_an_imported_instance_are_candidates(tmp_path: Path) -> None:
    """`import { onlineManager }` (an instance, `new OnlineManager()`): what the file will
    call on it are its class's members, even before it is used."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "manager.ts").write_text(
        "export class OnlineManager {\n  isOnline(): boolean {\n    return true\n  }\n"
        "  setOnline(online: boolean): void {}\n}\n\n"
        "export const onlineManager = new OnlineManager()\n")
    path = src / "fetch.ts"
    text = ("import { onlineManager } from './manager'\n\n"
            "export function canFetch(): boolean {\n  return \n}\n")
    path.write_text(text)
    with built_engine(tmp_path, tmp_path / "cache") as engine:
        blocks = _blocks(engine, path, text, text.index("return ") + len("return "))
    assert "isOnline(): boolean" in blocks.get("src/manager.ts", ""), blocks


def test_members_another_class_cannot_call_are_not_offered_as_next(tmp_path: Path) -> None:
    """Through a field (`this.#cache.x()`) only the field's class's public members can
    come next: its `private` and `protected` ones and its `#` fields are not ranked as
    such; a base class's protected members are (a subclass calls them)."""
    query = _reach_repo(tmp_path)
    (tmp_path / "src" / "cache.ts").write_text(
        "export class Cache {\n  #entries = new Map<string, number>()\n"
        "  private evict(key: string): void {}\n  protected touch(key: string): void {}\n"
        "  remove(key: string): void {}\n}\n")
    text = query.read_text().replace(
        "import type { Retryer } from './retryer'\n",
        "import type { Retryer } from './retryer'\nimport type { Cache } from './cache'\n"
    ).replace("  #retryer: Retryer\n", "  #retryer: Retryer\n  #cache: Cache\n")
    query.write_text(text)
    at = "  fetch(options: FetchOptions): void {\n    "
    offset = text.index(at) + len(at)
    with built_engine(tmp_path, tmp_path / "cache") as engine:
        explained = engine.explain(str(query), text, offset, 6000)
    score = {(s.rel, s.start_line): s.score for s in explained.snippets}
    remove, evict, touch = (score.get(("src/cache.ts", line), 0.0) for line in (4, 2, 3))
    assert remove > 2 * max(evict, touch), score
    # Removable is Query's base: its protected member ranks like a public one.
    assert score.get(("src/removable.ts", 4), 0.0) >= remove * 0.8, score


def test_members_of_an_imported_object_literal_are_its_properties_definitions(
        tmp_path: Path) -> None:
    """`export const aggregationFns = { sum, extent, mid: median }`: `aggregationFns.x`
    reaches the definitions its properties name (in its file, or imported there), both
    while the member is typed and, for the properties not used yet, for a first use."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "median.ts").write_text(
        "export function median(values: number[]): number {\n  return values[0]\n}\n")
    (src / "aggregationFns.ts").write_text(
        "import { median } from './median'\n\n"
        "const sum = (values: number[]): number => values.reduce((a, b) => a + b, 0)\n\n"
        "function extent(values: number[]): [number, number] {\n  return [0, 1]\n}\n\n"
        "export const aggregationFns = {\n  sum,\n  extent,\n  mid: median,\n}\n")
    filler = "".join(f"export interface Option{i} {{\n  value{i}: string\n}}\n" for i in range(60))
    (src / "options.ts").write_text(filler)
    path = src / "grouping.ts"
    names = ", ".join(f"Option{i}" for i in range(60))
    head = (f"import {{ {names} }} from './options'\n"
            "import { aggregationFns } from './aggregationFns'\n\n"
            "export function pick(kind: string) {\n  if (kind === 'sum') {\n"
            "    return aggregationFns.sum\n  }\n  return aggregationFns.")
    typed = head + "\n}\n"
    blank = head[:-len("aggregationFns.")] + "\n}\n"
    path.write_text(typed)
    with built_engine(tmp_path, tmp_path / "cache") as engine:
        while_typed = _blocks(engine, path, typed, len(head), 1500)
        first_use = _blocks(engine, path, blank, len(head) - len("aggregationFns."), 1500)
    for blocks in (while_typed, first_use):
        fns = blocks.get("src/aggregationFns.ts", "")
        assert "const sum = (values: number[]): number =>" in fns, blocks
        assert "function extent(values: number[]): [number, number]" in fns, blocks
        assert "export function median(values: number[]): number" in blocks.get(
            "src/median.ts", ""), blocks


@pytest.mark.parametrize("imported", [False, True])
def test_a_constant_beside_an_interface_of_its_name_is_typed_by_its_own_type(
        tmp_path: Path, imported: bool) -> None:
    """`export interface $ZodType {...}` and `export const $ZodType: $constructor<$ZodType>`:
    `$ZodType.init(inst, def)` reads the constant, so the members are those of
    `$constructor`, declared in another file, not the interface's."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "core.ts").write_text(
        "export interface $constructor<T> {\n  init(inst: T, def: unknown): void;\n}\n"
        "export function $constructor<T>(name: string): $constructor<T> {\n"
        "  return {} as $constructor<T>\n}\n")
    filler = "".join(f"export interface Option{i} {{\n  value{i}: string\n}}\n"
                     for i in range(60))
    (src / "options.ts").write_text(filler)
    declared = ("export interface $ZodType {\n  _zod: unknown;\n  parse(x: unknown): unknown;\n}\n"
                "export const $ZodType: core.$constructor<$ZodType> = core.$constructor('t');\n")
    names = ", ".join(f"Option{i}" for i in range(60))
    head = f"import {{ {names} }} from './options'\n"
    if imported:
        (src / "types.ts").write_text("import * as core from './core'\n" + declared)
        head += "import { $ZodType } from './types'\n\n"
    else:
        head += "import * as core from './core'\n" + declared
    head += ("\nexport function a(inst: unknown): void {\n  $ZodType.init(inst, {});\n}\n\n"
             "export function b(inst: unknown): void {\n  ")
    text = head + "\n}\n"
    path = src / "schemas.ts"
    path.write_text(text)
    with built_engine(tmp_path, tmp_path / "cache") as engine:
        blocks = _blocks(engine, path, text, len(head), 1000)
    assert "init(inst: T, def: unknown): void;" in blocks.get("src/core.ts", ""), blocks


def test_a_module_member_used_far_from_the_cursor_is_a_candidate(tmp_path: Path) -> None:
    """`from app import routing`, then `routing.APIRoute` 200 lines above the cursor: the
    member is in scope like an imported name (ranked below the cursor's own evidence)."""
    app = tmp_path / "app"
    app.mkdir()
    (app / "__init__.py").write_text("")
    (app / "routing.py").write_text(
        "class APIRoute:\n    def matches(self, path: str) -> bool:\n        return True\n")
    filler = "".join(f"def step{i}(x: int) -> int:\n    return x\n\n" for i in range(70))
    text = ("from app import routing\n\n\ndef build(route: routing.APIRoute) -> None:\n"
            f"    pass\n\n\n{filler}\ndef later() -> None:\n    \n")
    blocks = _context_of(tmp_path, app / "main.py", text, len(text) - 1)
    assert "class APIRoute" in blocks.get("app/routing.py", ""), blocks


def test_an_import_used_far_away_named_like_the_code_here_comes_first(tmp_path: Path) -> None:
    """Of 40 names the file imports but uses only far from the cursor, the one named like
    the list being written (`VisibilityInstance` among `CoreInstance`, `HeadersInstance`)
    is shown in a tight budget."""
    src = tmp_path / "src"
    src.mkdir()
    features = ["Core", "Headers", "Visibility", "Ordering", "Pinning", "Filters"]
    others = [f"Option{i}" for i in range(40)]
    for name in [f"{f}Instance" for f in features] + others:
        (src / f"{name}.ts").write_text(f"export interface {name} {{\n  id: string\n}}\n")
    imports = "".join(f"import type {{ {n} }} from './{n}'\n"
                      for n in others + [f"{f}Instance" for f in features[::-1]])
    listed = "".join(f"    {f}Instance,\n" if f != "Visibility" else "    \n"
                     for f in features)
    far = "".join(f"export function use{i}(o: Option{i}): string {{\n  return o.id\n}}\n"
                  for i in range(40))
    gap = "\n" * 60
    text = (f"{imports}\n{far}{gap}export interface Table\n  extends\n"
            f"{listed.rstrip(chr(10))}\n    {{}}\n")
    path = src / "types.ts"
    path.write_text(text)
    at = text.index("    \n") + 4
    with built_engine(tmp_path, tmp_path / "cache") as engine:
        blocks = _blocks(engine, path, text, at, 1200)
    assert "interface VisibilityInstance" in blocks.get("src/VisibilityInstance.ts", ""), \
        sorted(blocks)


def test_a_package_reaches_its_submodules_and_re_exports(tmp_path: Path) -> None:
    """`import lib` whose `__init__.py` has `from . import lowlevel`, and `lowlevel.py` has
    `from ._core import current_task`: `lib.lowlevel.current_task()` reaches the definition
    in `_core/_run.py`, near the cursor and far from it."""
    lib = tmp_path / "lib"
    (lib / "_core").mkdir(parents=True)
    (lib / "__init__.py").write_text("from . import lowlevel\nfrom ._sync import Lock\n")
    (lib / "lowlevel.py").write_text("from ._core import current_task, checkpoint\n")
    (lib / "_core" / "__init__.py").write_text("from ._run import current_task, checkpoint\n")
    (lib / "_core" / "_run.py").write_text(
        "def current_task() -> object:\n    return object()\n\n\n"
        "async def checkpoint() -> None:\n    pass\n")
    (lib / "_sync.py").write_text("class Lock:\n    def acquire(self) -> None:\n        pass\n")
    filler = "".join(f"def step{i}(x: int) -> int:\n    return x\n\n" for i in range(70))
    near = ("import lib\n\n\nasync def run() -> None:\n    lock = lib.Lock()\n"
            "    task = lib.lowlevel.current_task()\n    \n")
    far = f"{near[:-5]}\n\n{filler}\nasync def later() -> None:\n    \n"
    for text in (near, far):
        blocks = _context_of(tmp_path, tmp_path / "app.py", text, len(text) - 1, 1500)
        assert "def current_task" in blocks.get("lib/_core/_run.py", ""), blocks
        assert "class Lock" in blocks.get("lib/_sync.py", ""), blocks


def test_a_module_named_like_its_main_type_reaches_it(tmp_path: Path) -> None:
    """`import type * as Scope from "./Scope.js"`, then `Scope.Scope` far above the cursor
    (Effect's way: each module is named like its main type): the interface is in scope."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "Scope.ts").write_text(
        "export interface Scope {\n  readonly close: () => void\n}\n"
        "export const make = (): Scope => ({ close: () => {} })\n")
    filler = "".join(f"export const step{i} = (x: number): number => x + {i}\n"
                     for i in range(120))
    text = ('import type * as Scope from "./Scope.js"\n\n'
            "export const scoped = (scope: Scope.Scope): void => scope.close()\n\n"
            f"{filler}\nexport const later = (): void => {{\n  \n}}\n")
    blocks = _context_of(tmp_path, src / "main.ts", text, text.rindex("  \n") + 2, 1200)
    assert "interface Scope" in blocks.get("src/Scope.ts", ""), blocks


def test_a_module_member_is_bound_only_where_the_file_writes_it(tmp_path: Path) -> None:
    """Every module of Effect declares `map`: a file that calls `core.map` next to the
    cursor and `Option.some` far above gets core's `map`, not Option's or Array's."""
    src = tmp_path / "src"
    src.mkdir()
    for module in ("core", "Option", "Arr"):
        (src / f"{module}.ts").write_text(
            f"export const map = <A, B>(self: {module}Of<A>, f: (a: A) => B): {module}Of<B> =>"
            " f as any\n"
            f"export const some = <A>(a: A): {module}Of<A> => a as any\n"
            f"export type {module}Of<A> = {{ readonly value: A }}\n")
    filler = "".join(f"export const step{i} = (x: number): number => x + {i}\n"
                     for i in range(120))
    text = ('import * as core from "./core.js"\nimport * as Option from "./Option.js"\n'
            'import * as Arr from "./Arr.js"\n\n'
            "export const first = Option.some(1)\nexport const all = Arr.some(2)\n\n"
            f"{filler}\nexport const later = (x: core.coreOf<number>) =>\n"
            "  core.map(x, (n) => n + 1)\n\n")
    blocks = _context_of(tmp_path, src / "main.ts", text, len(text) - 1, 6000)
    assert "export const map" in blocks.get("src/core.ts", ""), blocks
    assert "export const map" not in blocks.get("src/Option.ts", ""), blocks
    assert "export const map" not in blocks.get("src/Arr.ts", ""), blocks


def test_what_a_package_imports_is_offered_for_first_uses_of_it(tmp_path: Path) -> None:
    """`from .. import _core` whose `__init__.py` only imports from its submodules: with
    `_core.current_task()` just above, `_core.wait_task_rescheduled` (not used yet) is
    offered, from the submodule that defines it."""
    lib = tmp_path / "lib"
    (lib / "_core").mkdir(parents=True)
    (lib / "__init__.py").write_text("")
    (lib / "_core" / "__init__.py").write_text(
        "from ._run import current_task\nfrom ._traps import wait_task_rescheduled\n")
    (lib / "_core" / "_run.py").write_text("def current_task() -> object:\n    return 1\n")
    (lib / "_core" / "_traps.py").write_text(
        "async def wait_task_rescheduled(abort_fn: object) -> object:\n    return abort_fn\n")
    text = ("from . import _core\n\n\nasync def park() -> None:\n"
            "    task = _core.current_task()\n    \n")
    blocks = _context_of(tmp_path, lib / "lot.py", text, len(text) - 1, 1500)
    assert "def wait_task_rescheduled" in blocks.get("lib/_core/_traps.py", ""), blocks


# The index cuts files into 20-line windows: padded by 14 lines, the code like the cursor's
# fills the end of one, and what it calls next starts the next.
@pytest.mark.parametrize("padding", [0, 14])
def test_what_code_like_this_calls_elsewhere_comes_next(tmp_path: Path, padding: int) -> None:
    """Every view of the app reads the header, parses the token, then checks its
    signature: a new view that has just parsed one is shown `verify_signature`, among
    forty helpers of the same module, as widely used, that nothing near the cursor names."""
    app = tmp_path / "app"
    app.mkdir()
    (app / "__init__.py").write_text("")
    helpers = "".join(f"def helper_{i}(value):\n    return value\n\n\n" for i in range(40))
    (app / "auth.py").write_text(
        "def parse_token(header):\n    return header.split()[-1]\n\n\n" + helpers +
        "def verify_signature(token, key):\n    return bool(token and key)\n")
    for n in range(6):  # each helper as widely used as `verify_signature`
        (app / f"jobs_{n}.py").write_text("from app import auth\n\n" + "".join(
            f"auth.helper_{i}(job, config_{n})\n" + "\n" * 19 for i in range(40)))
    for view in ("orders", "invoices", "payments", "refunds", "shipments", "returns"):
        (app / f"{view}.py").write_text(
            "from app import auth\n\n\n" + "# views\n" * padding +
            f"def list_{view}(request, settings):\n"
            "    header = request.headers['Authorization']\n"
            "    token = auth.parse_token(header)\n"
            "    if not auth.verify_signature(token, settings.signing_key):\n"
            "        raise PermissionError(header)\n"
            f"    return request.db.query('{view}')\n")
    text = ("from app import auth\n\n\ndef list_customers(request, settings):\n"
            "    header = request.headers['Authorization']\n"
            "    token = auth.parse_token(header)\n    \n")
    blocks = _context_of(tmp_path, app / "customers.py", text, len(text) - 1, 300)
    assert "def verify_signature(token, key)" in blocks.get("app/auth.py", ""), blocks


def test_a_dollar_sign_is_a_letter_of_javascript_names(tmp_path: Path) -> None:
    """`$pos` and `pos` are two variables (ProseMirror's style): typing `$pos.` asks for the
    members of `$pos`'s type, not those of `pos`'s."""
    (tmp_path / "model.ts").write_text(
        "export class Position {\n" + "".join(
            f"  shift{i}(by: number): Position {{ return this }}\n" for i in range(20)) +
        "}\n\nexport class ResolvedPos {\n" + "".join(
            f"  indexAfter{i}(depth: number): number {{ return depth }}\n" for i in range(20))
        + "}\n")
    text = ('import { Position, ResolvedPos } from "./model"\n\n'
            "export function step(pos: Position, $pos: ResolvedPos) {\n"
            "  const at = $pos.\n}\n")
    blocks = _context_of(tmp_path, tmp_path / "step.ts", text, text.index("$pos.\n") + 5, 900)
    model = blocks.get("model.ts", "")
    assert "indexAfter0(depth: number): number" in model, blocks
    assert "shift0(" not in model, blocks


def test_an_imported_dollar_function_used_far_above_is_still_in_scope(tmp_path: Path) -> None:
    """Lexical's `$getRoot` is a name of its own: used 100 lines above the cursor, it counts
    as a name the file uses, as `getRoot` would."""
    (tmp_path / "utils.ts").write_text(
        "export function $getRoot(): RootNode { return root }\n"
        "export function $createTextNode(text: string): TextNode { return new TextNode(text) }\n"
        "export class RootNode {}\nexport class TextNode { constructor(t: string) {} }\n")
    filler = "".join(f"  const v{i} = {i}\n" for i in range(100))
    text = ('import { $getRoot, $createTextNode } from "./utils"\n\n'
            "export function build() {\n  const root = $getRoot()\n" + filler + "  \n}\n")
    blocks = _context_of(tmp_path, tmp_path / "build.ts", text, text.rindex("  \n") + 2, 1500)
    assert "export function $getRoot(): RootNode" in blocks.get("utils.ts", ""), blocks


def _classes(*names: str, n: int = 20) -> str:
    """Classes of n methods each, named apart: what of each a context shows tells which
    type the cursor's receiver was taken for."""
    return "".join(
        f"export class {name} {{\n" + "".join(
            f"  {name.lower()}Method{i}(depth: number): number {{ return depth }}\n"
            for i in range(n)) + "}\n\n" for name in names)


def _shown_of_types(tmp_path: Path, types: str, rel: str, text: str,
                    marker: str) -> tuple[str, dict[str, str]]:
    """Write types.ts, edit `rel` with the cursor after `marker`, and return what the
    context shows of types.ts, and all of it."""
    (tmp_path / "types.ts").write_text(types)
    offset = text.index(marker) + len(marker)
    blocks = _context_of(tmp_path, tmp_path / rel, text, offset, 900)
    return blocks.get("types.ts", ""), blocks


@pytest.mark.parametrize("lines, typed", [
    # The type of a member of a call's result, not of the call's result.
    ("  let $before = $pos.parent(), kind = $before.node().type\n  kind.", "NodeType"),
    # Destructured fields, renamed or not.
    ("  const {$from, $to: end} = state.selection\n  $from.", "ResolvedPos"),
    ("  const {$from, $to: end} = state.selection\n  end.", "NodeType"),
    # An element of a typed array, by index or as a loop's variable.
    ("  let top = this.frontier[this.depth]\n  top.", "ResolvedPos"),
    ("  let top = this.kinds[this.depth]\n  top.", "NodeType"),
    ("  for (const range of state.selection.ranges) {\n    range.", "ResolvedPos"),
    ("  for (const kind of state.selection.kinds) {\n    kind.", "NodeType"),
    # Optional chaining and non-null assertions.
    ("  const kind = $pos?.parent()!.node().type\n  kind.", "NodeType"),
    # A call whose type arguments go on over the next lines; one declared 80 lines up.
    ("  const kind = make<{\n    depth: number\n  }>({ depth: 1 })\n  kind.", "NodeType"),
    ("  const kind = make(1)\n" + "  this.depth += 1\n" * 80 + "  kind.", "NodeType"),
])
def test_a_receiver_s_type_follows_fields_calls_elements_and_destructuring(
        tmp_path: Path, lines: str, typed: str) -> None:
    """What `x.` is typed on is inferred through `a.b().c`, `const {a, b: c} = x`,
    `xs[i]`, `for (const x of xs)` and `a?.b()!.c`: the context holds that type's members,
    not those of a type a step short of it, or of its sibling. (Without the inference, the
    parameter's type `Decoy` would fill the budget.)"""
    (tmp_path / "types.ts").write_text(_classes("NodeType", "ResolvedPos", "Decoy"))
    (tmp_path / "model.ts").write_text(
        'import { NodeType, ResolvedPos } from "./types"\n\n'
        "export class Node {\n  type: NodeType\n}\n\n"
        "export class Pos {\n  parent(): Pos { return this }\n"
        "  node(): Node { return null! }\n}\n\n"
        "export class Selection {\n  $from: ResolvedPos\n  $to: NodeType\n"
        "  ranges: readonly ResolvedPos[]\n  kinds: readonly NodeType[]\n}\n\n"
        "export class State {\n  selection: Selection\n}\n\n"
        "export function make<T>(x: T): NodeType { return null! }\n")
    text = ('import { Pos, State, make } from "./model"\n'
            'import { Decoy, NodeType, ResolvedPos } from "./types"\n\n'
            "export class Fitter {\n  frontier: ResolvedPos[] = []\n  kinds: NodeType[] = []\n"
            f"  depth = 0\n\n  fit(state: State, $pos: Pos, hint: Decoy) {{\n{lines}\n  }}\n}}\n")
    offset = text.index(lines) + len(lines)
    blocks = _context_of(tmp_path, tmp_path / "fit.ts", text, offset, 900)
    other = "ResolvedPos" if typed == "NodeType" else "NodeType"
    shown = blocks.get("types.ts", "")
    assert f"{typed.lower()}Method0(depth: number): number" in shown, blocks
    assert f"{other.lower()}Method0(" not in shown, blocks


def test_a_variable_named_like_a_keyword_has_its_type(tmp_path: Path) -> None:
    """ProseMirror names its parameters `type` (`type: NodeType`)."""
    (tmp_path / "types.ts").write_text(_classes("NodeType", "Decoy"))
    text = ('import { Decoy, NodeType } from "./types"\n\n'
            "export function wrap(hint: Decoy, type: NodeType) {\n  hint.decoyMethod1(0)\n"
            "  type.\n}\n")
    offset = text.index("  type.\n") + len("  type.")
    blocks = _context_of(tmp_path, tmp_path / "wrap.ts", text, offset, 900)
    assert "nodetypeMethod0(depth: number): number" in blocks.get("types.ts", ""), blocks


@pytest.mark.parametrize("lines", [
    "    for (const d of this.descriptors.values()) {\n      d.",
    "    this.descriptors.get(handle)?.",
    "    const found = this.byName.get(name)!\n    found.",
])
def test_a_map_s_values_have_its_value_type(tmp_path: Path, lines: str) -> None:
    """A map is typed as its values (`new Map<Handle, Descriptor>()`, not its key type
    `Handle`), and `get`, `values` give them."""
    text = ('import { Decoy, Descriptor, Handle } from "./types"\n\n'
            "export class Manager {\n"
            "  private descriptors = new Map<Handle, Descriptor>()\n"
            "  private byName: Map<Handle, Descriptor> = new Map()\n\n"
            f"  reset(handle: Handle, name: Handle, hint: Decoy) {{\n{lines}\n  }}\n}}\n")
    shown, blocks = _shown_of_types(tmp_path, _classes("Handle", "Descriptor", "Decoy"),
                                    "manager.ts", text, lines)
    assert "descriptorMethod0(depth: number): number" in shown, blocks
    assert "handleMethod0(" not in shown and "decoyMethod0(" not in shown, blocks


@pytest.mark.parametrize("lines", [
    "    if (this.#state instanceof Paused) {\n      this.#state.",
    "    if (hint instanceof Paused) {\n      hint.",
])
def test_a_test_of_a_value_s_class_tells_its_type(tmp_path: Path, lines: str) -> None:
    """`x instanceof Paused` narrows `x: State | Paused` (and `hint: Decoy | Paused`)."""
    text = ('import { Decoy, Paused, State } from "./types"\n\n'
            "export class Stream {\n  #state: State | Paused\n\n"
            f"  run(hint: Decoy | Paused) {{\n{lines}\n  }}\n}}\n")
    shown, blocks = _shown_of_types(tmp_path, _classes("State", "Decoy", "Paused"),
                                    "stream.ts", text, lines)
    assert "pausedMethod0(depth: number): number" in shown, blocks
    assert "decoyMethod0(" not in shown and "stateMethod0(" not in shown, blocks


@pytest.mark.parametrize("line", [
    "    const id = (await Registry.device(1, f(2))).",
    "    this.byName.get(name).",
])
def test_a_member_typed_on_a_call_s_result_is_of_the_result_s_type(
        tmp_path: Path, line: str) -> None:
    """`Registry.device(...).` and `this.byName.get(name).` are about a Device, not the
    Registry named on the line or the Decoy the line above uses."""
    types = (_classes("Decoy", "Device") + "export class Registry {\n"
             "  static device(a: number, b: number): Device { return null! }\n"
             + "".join(f"  registryMethod{i}(depth: number): number {{ return depth }}\n"
                       for i in range(20)) + "}\n")
    text = ('import { Decoy, Device, Registry } from "./types"\n\n'
            "export class Room {\n  byName: Map<string, Device>\n\n"
            "  async run(hint: Decoy, name: string) {\n    hint.decoyMethod3(1)\n"
            f"{line}\n  }}\n}}\n")
    shown, blocks = _shown_of_types(tmp_path, types, "room.ts", text, line)
    assert "deviceMethod0(depth: number): number" in shown, blocks
    assert "decoyMethod0(" not in shown and "registryMethod0(" not in shown, blocks


@pytest.mark.parametrize("lines, typed", [
    ("    if ($isElementNode(parent)) {\n      parent.", "elementnode"),
    ("    if (\n      $isElementNode(parent) &&\n      parent.size > 1\n    ) {\n      parent.",
     "elementnode"),
    ("    const ok = $isElementNode(parent) && parent.", "elementnode"),
    ("    if (!$isElementNode(this.#parent)) {\n      return\n    }\n    this.#parent.",
     "elementnode"),
    ("    if (!$isElementNode(parent)) return;\n    parent.", "elementnode"),
    ("    assertElement(parent)\n    parent.", "elementnode"),
    # Where the test does not hold: after its block, and inside a negated one.
    ("    if ($isElementNode(parent)) {\n      return\n    }\n    parent.", "lexicalnode"),
    ("    if (!$isElementNode(parent)) {\n      parent.", "lexicalnode"),
    # Which of a union's types it is, a guard does not tell.
    ("    if ($isEither(parent)) {\n      parent.", "lexicalnode"),
])
def test_a_type_guard_s_call_tells_its_argument_s_type(tmp_path: Path, lines: str,
                                                       typed: str) -> None:
    """Lexical's idiom: `$isElementNode(node)`, declared `node is ElementNode`, makes
    `node.` about ElementNode where the test holds (and a guard's result is a boolean, not
    its type)."""
    types = (_classes("LexicalNode", "ElementNode", "Decoy")
             + "export function $isElementNode(\n  node: LexicalNode | null,\n"
             "): node is ElementNode {\n  return node instanceof ElementNode\n}\n\n"
             "export const assertElement = (node: LexicalNode): asserts node is ElementNode"
             " => {}\nexport function $isEither(node: LexicalNode): node is ElementNode | Decoy"
             " {\n  return true\n}\n")
    text = ('import { $isEither, $isElementNode, assertElement, Decoy, LexicalNode } '
            'from "./types"\n\n'
            "export class Walker {\n  #parent: LexicalNode\n\n"
            f"  walk(parent: LexicalNode, hint: Decoy) {{\n{lines}\n  }}\n}}\n")
    shown, blocks = _shown_of_types(tmp_path, types, "walker.ts", text, lines)
    other = "lexicalnode" if typed == "elementnode" else "elementnode"
    assert f"{typed}Method0(depth: number): number" in shown, blocks
    assert f"{other}Method0(" not in shown and "decoyMethod0(" not in shown, blocks


@pytest.mark.parametrize("lines, typed", [
    ("    if isinstance(node.value, Call):\n        node.value.", "alpha"),
    ("    if not isinstance(node.value, Call):\n        return\n\n    node.value.", "alpha"),
    ("    assert isinstance(node.value, Call)\n    node.value.", "alpha"),
    ("    if isinstance(node.value, Call):\n        return\n    node.value.", "gamma"),
])
def test_a_python_isinstance_test_tells_the_type(tmp_path: Path, lines: str,
                                                 typed: str) -> None:
    (tmp_path / "shapes.py").write_text(_python_classes(("Call", "alpha"), ("Decoy", "gamma")))
    text = ("from shapes import Call, Decoy\n\n\nclass Node:\n    value: Decoy\n\n\n"
            f"def visit(node: Node):\n{lines}")
    blocks = _context_of(tmp_path, tmp_path / "visit.py", text, len(text), 900)
    shown = blocks.get("shapes.py", "")
    other = "gamma" if typed == "alpha" else "alpha"
    assert f"def {typed}0(self, depth: int) -> int" in shown, blocks
    assert f"def {other}0(" not in shown, blocks


def test_a_python_loop_variable_has_its_list_s_element_type(tmp_path: Path) -> None:
    (tmp_path / "shapes.py").write_text("".join(
        f"class {name}:\n" + "".join(f"    def {verb}{i}(self, depth: int) -> int:"
                                     "\n        return depth\n\n" for i in range(20))
        for name, verb in (("Item", "alpha"), ("Order", "beta"), ("Decoy", "gamma")))
        + "class Store:\n    items: list[Item]\n    orders: list[Order]\n")
    text = ("from shapes import Decoy, Store\n\n\nclass Cart:\n    store: Store\n\n"
            "    def total(self, hint: Decoy):\n        for x in self.store.orders:\n"
            "            x.")
    blocks = _context_of(tmp_path, tmp_path / "cart.py", text, len(text), 900)
    shown = blocks.get("shapes.py", "")
    assert "def beta0(self, depth: int) -> int" in shown, blocks
    assert "def alpha0(" not in shown, blocks


def _python_classes(*names_and_verbs: tuple[str, str]) -> str:
    return "".join(f"class {name}:\n" + "".join(
        f"    def {verb}{i}(self, depth: int) -> int:\n        return depth\n\n"
        for i in range(20)) for name, verb in names_and_verbs)


def test_a_python_field_set_from_a_parameter_has_its_type(tmp_path: Path) -> None:
    """`self.flow.` where `__init__` did `self.flow = flow` with `flow: FlowControl`."""
    (tmp_path / "shapes.py").write_text(_python_classes(("FlowControl", "alpha"),
                                                        ("Decoy", "gamma")))
    text = ("from shapes import Decoy, FlowControl\n\n\nclass Cycle:\n"
            "    def __init__(self, flow: FlowControl, hint: Decoy) -> None:\n"
            "        self.flow = flow\n        self.hint = hint\n\n"
            "    async def send(self):\n        self.flow.")
    blocks = _context_of(tmp_path, tmp_path / "cycle.py", text, len(text), 900)
    shown = blocks.get("shapes.py", "")
    assert "def alpha0(self, depth: int) -> int" in shown, blocks
    assert "def gamma0(" not in shown, blocks


@pytest.mark.parametrize("lines", [
    "    for worker in worker_class.all():\n        worker.",
    "    worker = config.worker_class(raw)\n    worker.",
])
def test_a_call_whose_type_is_unknown_gives_none(tmp_path: Path, lines: str) -> None:
    """`for worker in worker_class.all():` with `Queue.all -> list[Queue]` and
    `Worker.all -> list[Worker]`: which one is called is unknown, so `worker.` is about the
    class it is named after, not the first `all` found. Nor does calling a field tell
    what it gives (`self.worker_class = import_attribute(name)`)."""
    (tmp_path / "shapes.py").write_text(
        _python_classes(("Queue", "alpha"), ("Worker", "beta"))
        + "\n\ndef queues() -> list[Queue]:\n    return []\n\n\n"
        "class QueueSet:\n    @classmethod\n    def all(cls) -> list[Queue]:\n        return []\n"
        "\n\nclass WorkerSet:\n    @classmethod\n    def all(cls) -> list[Worker]:\n"
        "        return []\n\n\ndef import_attribute(name: str) -> Queue:\n    return None\n"
        "\n\nclass Config:\n    def __init__(self, name):\n"
        "        self.worker_class = import_attribute(name)\n")
    text = f"def show(worker_class, config, raw):\n{lines}"
    blocks = _context_of(tmp_path, tmp_path / "show.py", text, len(text), 900)
    shown = blocks.get("shapes.py", "")
    assert "def beta0(self, depth: int) -> int" in shown, blocks
    assert "def alpha0(" not in shown, blocks


def test_a_receiver_declared_at_the_top_of_the_file_has_its_type(tmp_path: Path) -> None:
    """`_idle_workers.` in a function, with `_idle_workers: RunVar[Workers] = RunVar(...)`
    at the top of the file, is about RunVar's members."""
    (tmp_path / "shapes.py").write_text("".join(
        f"class {name}:\n" + "".join(f"    def {verb}{i}(self, depth: int) -> int:"
                                     "\n        return depth\n\n" for i in range(20))
        for name, verb in (("RunVar", "alpha"), ("Decoy", "gamma"))))
    text = ("from shapes import Decoy, RunVar\n\n_idle_workers: RunVar[list] = RunVar('w')\n"
            + "".join(f"CONSTANT_{i} = {i}\n" for i in range(30)) +
            "\n\ndef run(hint: Decoy):\n    _idle_workers.")
    blocks = _context_of(tmp_path, tmp_path / "run.py", text, len(text), 900)
    assert "def alpha0(self, depth: int) -> int" in blocks.get("shapes.py", ""), blocks


def test_a_constant_that_holds_a_function_ranks_as_a_function(tmp_path: Path) -> None:
    """`export const map: {...} = dual(2, (self, f) => ...)` (Effect's style) is a function
    as much as `export function` is: named a line closer to the cursor, it comes first."""
    (tmp_path / "lib.ts").write_text(
        "export const pipeMap: { (self: number): number } = dual(1, (self: number) => self)\n"
        "export function otherFn(x: number): number { return x }\n")
    text = ('import { otherFn, pipeMap } from "./lib"\n\n'
            "export function run(x: number) {\n  const a = otherFn(x)\n  const b = pipeMap\n"
            "  \n}\n")
    offset = text.index("  \n}") + 2
    blocks = _context_of(tmp_path, tmp_path / "run.ts", text, offset, 150)
    assert "export const pipeMap" in blocks.get("lib.ts", ""), blocks


_SPECS = (
    'import { ParserState, SerializerState } from "./types"\n\n'
    "export interface NodeParserSpec {\n  runner: (state: ParserState, node: string) => void\n}"
    "\n\nexport interface NodeSerializerSpec {\n"
    "  runner: (state: SerializerState, node: string) => void\n}\n\n"
    "export interface NodeSchema {\n  parseMarkdown: NodeParserSpec\n"
    "  toMarkdown: NodeSerializerSpec\n}\n\n"
    "export type Plugin = { meta?: string } & ((state: ParserState) => void)\n\n"
    "export type Listener = (entry: SerializerState, source: string) => void\n\n"
    "export function schema(name: string, factory: (state: ParserState) => NodeSchema) {}\n\n"
    "export class Store {\n  listen(fn: Listener): void {}\n}\n")


@pytest.mark.parametrize("lines, typed", [
    # A property of an object literal, as the type of the property holding it declares it.
    ("export const spec: NodeSchema = {\n  parseMarkdown: {\n    runner: (state, node) => {\n"
     "      state.", "ParserState"),
    ("export const spec: NodeSchema = {\n  toMarkdown: {\n    runner: (state) => {\n"
     "      state.", "SerializerState"),
    # A variable of a function type.
    ("export const plugin: Plugin = (state) => {\n  state.", "ParserState"),
    # An argument, as the parameter it is given to declares it (directly or by an alias).
    ('schema("x", state => {\n  state.', "ParserState"),
    ("export function watch(store: Store, hint: Decoy) {\n"
     "  store.listen(async (entry, source) => {\n    entry.", "SerializerState"),
])
def test_a_callback_s_parameters_have_the_types_its_target_declares(
        tmp_path: Path, lines: str, typed: str) -> None:
    """`runner: (state, node) =>` declares no types, but what it is given to does: the
    context holds the members of the type the callback's parameter is declared with there."""
    (tmp_path / "types.ts").write_text(_classes("ParserState", "SerializerState", "Decoy"))
    (tmp_path / "spec.ts").write_text(_SPECS)
    text = ('import { NodeSchema, Plugin, Store, schema } from "./spec"\n'
            'import { Decoy } from "./types"\n\n' + lines)
    blocks = _context_of(tmp_path, tmp_path / "use.ts", text, len(text), 900)
    other = "SerializerState" if typed == "ParserState" else "ParserState"
    shown = blocks.get("types.ts", "")
    assert f"{typed.lower()}Method0(depth: number): number" in shown, blocks
    assert f"{other.lower()}Method0(" not in shown, blocks


def test_an_imported_name_the_file_does_not_use_yet_comes_first(tmp_path: Path) -> None:
    """Of 30 imported names, 29 used far from the cursor, the one the file uses nowhere yet
    (`Option17`) is what it was imported for: in a tight budget, it is shown."""
    src = tmp_path / "src"
    src.mkdir()
    names = [f"Option{i}" for i in range(30)]
    for name in names:
        (src / f"{name}.ts").write_text(f"export function make{name}(id: string): number "
                                        f"{{\n  return id.length\n}}\n"
                                        f"export interface {name} {{\n  id: string\n}}\n")
    imports = "".join(f"import type {{ {n} }} from './{n}'\n" for n in names)
    far = "".join(f"export function use{i}(o: {n}): string {{\n  return o.id\n}}\n"
                  for i, n in enumerate(names) if n != "Option17")
    text = f"{imports}\n{far}{chr(10) * 60}export function next(): void {{\n  \n}}\n"
    path = src / "use.ts"
    path.write_text(text)
    at = text.index("void {\n  \n") + len("void {\n  ")
    with built_engine(tmp_path, tmp_path / "cache") as engine:
        blocks = _blocks(engine, path, text, at, 600)
    assert "interface Option17" in blocks.get("src/Option17.ts", ""), sorted(blocks)


def test_a_type_alias_of_an_object_type_has_members(tmp_path: Path) -> None:
    """`provider: Provider` with `type Provider = { updateThread(...): void; ... }`: what
    `this.provider.` reaches are the alias's members, shown inside it as code."""
    src = tmp_path / "src"
    src.mkdir()
    members = "".join(f"  method{i}(id: string): void;\n" for i in range(30))
    (src / "types.ts").write_text(
        "export type Provider = {\n" + members +
        "  updateThread(\n    id: string,\n    data: { resolved: boolean },\n  ): void;\n};\n")
    text = ("import type { Provider } from './types'\n\nexport class Store {\n"
            "  constructor(private readonly provider: Provider) {}\n\n"
            "  resolve(id: string): void {\n    this.provider.updateThread(id, "
            "{ resolved: true })\n  }\n}\n")
    path = src / "store.ts"
    path.write_text(text)
    at = text.index("updateThread(id")
    with built_engine(tmp_path, tmp_path / "cache") as engine:
        blocks = _blocks(engine, path, text[:at] + text[at + len("updateThread"):], at)
    shown = blocks["src/types.ts"]
    assert "export type Provider = {" in shown
    assert "updateThread(id: string, data: { resolved: boolean }): void;" in shown
    assert not get_parser("typescript").parse(shown.encode()).root_node.has_error


def _editor_of_forty_one_members(root: Path, name: str) -> None:
    """Write editor.ts: class Editor with forty short members and `name`, whose head is
    the longest."""
    (root / "editor.ts").write_text(
        "export class Editor {\n" + "".join(f"  action{i}(depth: number): number {{ return 1 }}\n"
                                              for i in range(40))
        + f"  {name}(index: number, options: {{ deep: boolean, strict: boolean, "
          "cached: boolean }): string { return '' }\n}\n")


def test_members_of_x_typed_named_like_what_they_are_assigned_to_come_first(
        tmp_path: Path) -> None:
    """`const block = editor.` among forty members of Editor: the one named like the
    variable (`blockAt`) is shown in a tight budget, though its head is the longest."""
    _editor_of_forty_one_members(tmp_path, "blockAt")
    text = ('import { Editor } from "./editor"\n\n'
            "export function run(editor: Editor): void {\n  const block = editor.")
    blocks = _context_of(tmp_path, tmp_path / "run.ts", text, len(text), 400)
    assert "blockAt(index: number" in blocks.get("editor.ts", ""), blocks


def test_members_the_file_already_calls_on_the_receiver_come_first(tmp_path: Path) -> None:
    """`editor.` among forty members of Editor, sixty lines below a call of
    `editor.moveTo(...)`: that member is shown in a tight budget, the others not."""
    _editor_of_forty_one_members(tmp_path, "moveTo")
    text = ('import { Editor } from "./editor"\n\n'
            "export function run(editor: Editor): void {\n  editor.moveTo(1, {})\n"
            + "  step()\n" * 60 + "  const next = editor.")
    blocks = _context_of(tmp_path, tmp_path / "run.ts", text, len(text), 400)
    assert "moveTo(index: number" in blocks.get("editor.ts", ""), blocks


def test_an_untyped_python_name_is_a_member_of_the_class_it_is_named_after(
        tmp_path: Path) -> None:
    """dramatiq's middleware takes `broker` and `message` without annotations, and keeps
    `self.broker`: right after `broker.` (or `self.broker.`, `target_broker.`), Broker's
    methods are what comes next, among forty other classes' methods."""
    (tmp_path / "broker.py").write_text(
        "class Broker:\n    def get_actor(self, name):\n        return name\n\n"
        "    def emit_after(self, signal, *args):\n        pass\n")
    (tmp_path / "others.py").write_text("".join(
        f"class Other{i}:\n    def act{i}(self, depth, width):\n        return depth\n\n"
        for i in range(40)))
    for receiver in ("broker", "self.broker", "target_broker"):
        text = ("from others import *\n\n\nclass Worker:\n"
                "    def __init__(self, broker):\n        self.broker = broker\n\n"
                f"    def after(self, broker, target_broker, message):\n        {receiver}.")
        blocks = _context_of(tmp_path, tmp_path / "worker.py", text, len(text), 500)
        assert "def get_actor(self, name)" in blocks.get("broker.py", ""), (receiver, blocks)


def test_a_variable_declared_from_itself_far_up_is_read_once(tmp_path: Path) -> None:
    """`let node = node.parent`, far above `node.`: looking its type up reads that line,
    which asks for `node`'s type again; it is read once, not until the stack runs out."""
    (tmp_path / "types.ts").write_text(_classes("NodeType"))
    text = ('import { NodeType } from "./types"\n\nexport function walk(start: NodeType) {\n'
            "  let node = node.parent\n  let a = b, b = a\n" + "  step()\n" * 80 + "  node.")
    blocks = _context_of(tmp_path, tmp_path / "walk.ts", text, len(text), 900)
    assert "types.ts" in blocks


def test_a_call_s_type_arguments_may_go_on_over_the_next_lines() -> None:
    """`createStore<{` (the object type on the lines below) is a call, whose result a
    variable holds; `a < b` is no call."""
    for line, expr in (("const store = createStore<{", "createStore()"),
                       ("const box = make<Point>(x).value", "make().value"),
                       ("const ok = a < b", "a")):
        assert _receiver_at(line, line.index("=") + 2) == expr, line
