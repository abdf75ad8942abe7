"""TypeScript monorepo: workspace packages by name, tsconfig paths, exports, re-exports."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from lsp_server.context.repo_context import RepoContext
from lsp_server.context.symbols import Import
from tests.unit._ctx_helpers import built_engine, fixture_engine, fixture_repo


@pytest.fixture(scope="module")
def mono(tmp_path_factory: pytest.TempPathFactory):
    with fixture_engine("ctx_monorepo", tmp_path_factory.mktemp("mono")) as built:
        yield built


@pytest.mark.parametrize(
    ("specifier", "target"),
    [
        # package.json "exports" conditions, the built file mapped back to its source
        ("@acme/shared", "packages/shared/src/index.ts"),
        ("@acme/shared/money", "packages/shared/src/money.ts"),
        # "types"/"main" naming lib/index.d.ts, whose source is src/index.ts
        ("@acme/legacy", "packages/legacy/src/index.ts"),
        # tsconfig "paths" inherited through "extends"
        ("@lib/strings", "packages/utils/src/strings.ts"),
        # "baseUrl": a specifier relative to the root
        ("packages/shared/src/user", "packages/shared/src/user.ts"),
        # a `.js` specifier naming the `.ts` source
        ("./money.js", "packages/shared/src/money.ts"),
    ],
)
def test_specifiers_resolve_to_sources(mono, specifier: str, target: str) -> None:
    root, engine = mono
    importer = root / "packages" / "shared" / "src" / "index.ts"
    if not specifier.startswith("."):
        importer = root / "apps" / "web" / "src" / "checkout.ts"
    found = engine.index.resolve_import(str(importer), Import(specifier), "typescript")
    assert [Path(p).relative_to(root).as_posix() for p in found] == [target]


def test_workspace_globs_decide_which_package_json_counts(mono) -> None:
    root, engine = mono
    # examples/demo has a package.json of the same name, outside the workspace globs.
    workspace = engine.index._js_workspace()
    assert Path(workspace.packages["@acme/shared"]) == root / "packages" / "shared"
    assert Path(workspace.packages["@acme/web"]) == root / "apps" / "web"  # pnpm-workspace


def test_a_package_named_like_the_root_is_the_package(tmp_path: Path) -> None:
    """A monorepo's root package.json may carry its main package's name (`lexical` beside
    packages/lexical): imports of that name mean the workspace's package."""
    root = fixture_repo("ctx_monorepo", tmp_path)
    manifest = root / "package.json"
    manifest.write_text(manifest.read_text().replace('"acme"', '"@acme/shared"'))
    with built_engine(root, tmp_path / "cache") as engine:
        assert _resolves(root, engine, "@acme/shared") == ["packages/shared/src/index.ts"]


def test_a_default_import_is_the_file_s_default_export(tmp_path: Path) -> None:
    """`import place from "./position"` binds the `export default` function, not the first
    declaration of its file; `export default px;` below `function px` binds px."""
    (tmp_path / "position.ts").write_text(
        "const observerConfig = { subtree: true };\n\n"
        "export default function placeOnRange(range: Range): void {}\n")
    (tmp_path / "px.ts").write_text(
        "const UNIT = 'px';\n\nfunction px(value: number): string { return value + UNIT }\n\n"
        "export default px;\n")
    text = ('import place from "./position";\nimport toPx from "./px";\n\n'
            "export function mark(range: Range) {\n  place(range);\n  toPx(1);\n  \n}\n")
    (tmp_path / "mark.ts").write_text(text)
    with built_engine(tmp_path, tmp_path / "cache") as engine:
        files = engine.context_files(str(tmp_path / "mark.ts"), text, text.rindex("  \n") + 2,
                                     3000)
    blocks = {f.path: f.text for f in files}
    assert "export default function placeOnRange(range: Range): void" in blocks.get(
        "position.ts", ""), blocks
    assert "observerConfig" not in blocks.get("position.ts", "")
    assert "function px(value: number): string" in blocks.get("px.ts", ""), blocks
    assert "UNIT" not in blocks.get("px.ts", "")


@pytest.mark.parametrize(
    ("line", "rel", "definition"),
    [
        # `export * from "./money.js"` in the barrel
        (
            "  const total = addMoney(cart.total(), shipping);\n",
            "packages/shared/src/money.ts",
            "export function addMoney(a: Money, b: Money): Money",
        ),
        # `export { formatUser as describeUser } from "./user.js"`
        (
            "  const label = describeUser(user);\n",
            "packages/shared/src/user.ts",
            "export function formatUser(user: User): string",
        ),
        (
            "  const rounded = legacyRound(total.cents);\n",
            "packages/legacy/src/index.ts",
            "export function legacyRound(cents: number): number",
        ),
        (
            "  const slug = slugify(label);\n",
            "packages/utils/src/strings.ts",
            "export function slugify(title: string): string",
        ),
        # a class member declared as an arrow-function property
        (
            "  cart.addItem({ sku: slug, price: total });\n",
            "packages/shared/src/cart.ts",
            "addItem = (item: Item, quantity: number = 1): void =>",
        ),
    ],
)
def test_definitions_across_workspace_packages(mono, line: str, rel: str, definition: str) -> None:
    root, engine = mono
    path = root / "apps" / "web" / "src" / "checkout.ts"
    text = path.read_text()
    assert line in text
    buffer = text.replace(line, "  \n")
    offset = buffer.index("  \n", buffer.index("export function checkout")) + 2
    files = engine.context_files(str(path), buffer, offset, 3000)
    engine.document_closed(str(path))
    blocks = {f.path: f.text for f in files}
    assert definition in blocks.get(rel, ""), blocks.keys()
    assert not any(p.startswith("examples/") for p in blocks)


def test_configuration_is_read_through_the_scanner(tmp_path: Path) -> None:
    """An ignored package.json is never opened: its package does not resolve by name."""
    root = fixture_repo("ctx_monorepo", tmp_path)
    (root / ".qwenignore").write_text("packages/legacy/package.json\n")
    engine = RepoContext([str(root)], cache_dir=str(tmp_path / "cache"), workers=1)
    engine.build_sync()
    importer = str(root / "apps" / "web" / "src" / "checkout.ts")
    assert engine.index.resolve_import(importer, Import("@acme/legacy"), "typescript") == []
    assert engine.index.resolve_import(importer, Import("@acme/shared"), "typescript")
    engine.close()


def test_members_of_a_receiver_typed_at_the_cursor(mono) -> None:
    """`cart.` just typed: the members of Cart, a workspace package's class, come first."""
    root, engine = mono
    path = root / "apps" / "web" / "src" / "checkout.ts"
    text = path.read_text()
    at = text.index("  cart.addItem(") + len("  cart.")
    buffer = text[:at] + "\n" + text[at:].split("\n", 1)[1]
    files = engine.context_files(str(path), buffer, at, 700)
    engine.document_closed(str(path))
    cart = {f.path: f.text for f in files}.get("packages/shared/src/cart.ts", "")
    assert "addItem = (item: Item, quantity: number = 1): void =>" in cart
    assert "total(): Money" in cart


def _config_saved(engine: RepoContext, path: Path, kind: str = "changed") -> None:
    """Report a configuration file as the editor's watcher would, and wait until applied."""
    before = engine.index.config_version
    engine.files_changed([(str(path), kind)])
    deadline = time.monotonic() + 10
    while engine.index.config_version == before and time.monotonic() < deadline:
        time.sleep(0.02)
    assert engine.index.config_version > before, f"{path.name} was not followed"


def _tax_tool(root: Path) -> None:
    """A directory outside every workspace glob, reachable only once configuration says so."""
    (root / "tools" / "tax").mkdir(parents=True)
    (root / "tools" / "tax" / "rates.ts").write_text(
        "export function applyTax(amount: number, rate: number): number {\n"
        "  return amount * (1 + rate);\n}\n")
    (root / "tools" / "tax" / "package.json").write_text(
        '{ "name": "@acme/tax", "main": "rates.ts" }\n')


@pytest.fixture
def tax(tmp_path: Path):
    root = fixture_repo("ctx_monorepo", tmp_path)
    _tax_tool(root)
    with built_engine(root, tmp_path / "cache") as engine:
        yield root, engine


def _resolves(root: Path, engine: RepoContext, specifier: str) -> list[str]:
    importer = root / "apps" / "web" / "src" / "checkout.ts"
    found = engine.index.resolve_import(str(importer), Import(specifier), "typescript")
    return [Path(p).relative_to(root).as_posix() for p in found]


def test_an_edited_extends_target_changes_the_paths(tax) -> None:
    """tsconfig.base.json (reached only through `extends`) gains, then loses, an alias."""
    root, engine = tax
    path = root / "apps" / "web" / "src" / "pricing.ts"
    buffer = ('import * as tax from "@tax/rates";\n\n'
              "export function price(n: number) {\n  return tax.")
    assert _resolves(root, engine, "@tax/rates") == []
    assert engine.context_files(str(path), buffer, len(buffer), 3000) == []
    base = root / "tsconfig.base.json"
    original = base.read_text()
    base.write_text(original.replace('"@lib/*"', '"@tax/*": ["tools/tax/*"],\n      "@lib/*"'))
    _config_saved(engine, base)
    assert _resolves(root, engine, "@tax/rates") == ["tools/tax/rates.ts"]
    files = {f.path: f.text for f in engine.context_files(str(path), buffer, len(buffer), 3000)}
    assert "export function applyTax(amount: number, rate: number): number" in files.get(
        "tools/tax/rates.ts", ""), files
    base.write_text(original)
    _config_saved(engine, base)
    assert _resolves(root, engine, "@tax/rates") == []
    # The same stretch of editing: the block chosen under the old paths goes too.
    assert engine.context_files(str(path), buffer, len(buffer), 3000) == []


def test_a_new_workspace_glob_and_a_deleted_one(tax) -> None:
    root, engine = tax
    assert _resolves(root, engine, "@acme/tax") == []
    pnpm = root / "pnpm-workspace.yaml"
    pnpm.write_text(pnpm.read_text() + '  - "tools/*"\n')
    _config_saved(engine, pnpm)
    assert _resolves(root, engine, "@acme/tax") == ["tools/tax/rates.ts"]
    pnpm.unlink()  # package.json's "workspaces" (packages/* only) decides again
    _config_saved(engine, pnpm, "deleted")
    assert _resolves(root, engine, "@acme/tax") == []
    assert _resolves(root, engine, "@acme/shared") == ["packages/shared/src/index.ts"]


def test_a_renamed_package_and_a_created_tsconfig(tax) -> None:
    root, engine = tax
    assert _resolves(root, engine, "@acme/text/strings") == []
    manifest = root / "packages" / "utils" / "package.json"
    manifest.write_text(manifest.read_text().replace("@acme/utils", "@acme/text"))
    _config_saved(engine, manifest)
    assert _resolves(root, engine, "@acme/text/strings") == ["packages/utils/src/strings.ts"]
    # A tsconfig.json created next to the importer maps a specifier of its own.
    local = root / "apps" / "web" / "tsconfig.json"
    local.write_text(
        '{ "compilerOptions": { "paths": { "~rates": ["../../tools/tax/rates.ts"] } } }')
    _config_saved(engine, local, "created")
    assert _resolves(root, engine, "~rates") == ["tools/tax/rates.ts"]


def test_other_files_leave_resolution_alone(tax) -> None:
    root, engine = tax
    assert _resolves(root, engine, "@acme/shared")
    before = engine.index.config_version
    readme = root / "README.md"
    readme.write_text("# acme\n")
    unrelated = root / "tools" / "tax" / "fixture.json"
    unrelated.write_text("{}\n")
    assert not engine.index.config_changed(str(readme))
    assert not engine.index.config_changed(str(unrelated))
    assert engine.index.config_version == before
