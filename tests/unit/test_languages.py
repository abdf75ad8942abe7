"""The language registry is consistent: one answer per extension, alias and grammar."""

from __future__ import annotations

import importlib
import re
import tomllib
from pathlib import Path

import pytest

from lsp_server.context.languages import (
    BRACE_LANGUAGES,
    JAVASCRIPT_FAMILY,
    LANGUAGE_ALIASES,
    LANGUAGES,
    TYPED_LANGUAGES,
    canonical_language,
    editor_language_id,
    get_parser,
    indent_unit,
    is_brace_language,
    language_for_document,
    language_for_path,
    language_spec,
    line_comment,
    string_quotes,
    unit_test_layout,
)

NAMES = [spec.name for spec in LANGUAGES]


def test_every_extension_maps_to_one_language():
    seen: dict[str, str] = {}
    for spec in LANGUAGES:
        for ext in spec.extensions:
            assert ext.startswith(".") and ext == ext.lower(), ext
            assert ext not in seen, f"{ext} is claimed by {seen.get(ext)} and {spec.name}"
            seen[ext] = spec.name
            assert language_for_path(f"src/file{ext}") == spec.name
            assert language_for_path(f"src/FILE{ext.upper()}") == spec.name


def test_every_id_and_alias_canonicalises_to_its_language():
    owners: dict[str, str] = {}
    for spec in LANGUAGES:
        assert len(set(NAMES)) == len(NAMES)
        for spelling in (spec.name, *spec.language_ids, *spec.aliases):
            assert owners.setdefault(spelling, spec.name) == spec.name, spelling
            assert canonical_language(spelling) == spec.name
            assert canonical_language(f" {spelling.upper()} ") == spec.name
            assert language_spec(spelling) is spec
        assert spec.language_ids and canonical_language(editor_language_id(spec.name)) == spec.name
    for spelling, name in LANGUAGE_ALIASES.items():
        assert canonical_language(name) == name, f"{spelling} -> {name} is not canonical"


@pytest.mark.parametrize(("editor_id", "language"), [
    ("typescriptreact", "tsx"), ("tsx", "tsx"), ("typescript.tsx", "tsx"),
    ("javascriptreact", "javascript"), ("jsx", "javascript"), ("javascript.jsx", "javascript"),
    ("python3", "python"), ("golang", "go"), ("c++", "cpp"), ("bash", "shellscript"),
    ("Markdown", "markdown"),
])
def test_both_editors_spellings_meet(editor_id, language):
    assert canonical_language(editor_id) == language


def test_the_editor_id_wins_over_the_extension():
    assert language_for_document("/x/a.js", "typescriptreact") == "tsx"
    assert language_for_document("/x/a.tsx", "plaintext") == "tsx"
    assert language_for_document("/x/notes.txt", "markdown") is None


@pytest.mark.parametrize("name", NAMES)
def test_every_grammar_module_imports_and_parses(name):
    spec = language_spec(name)
    assert spec is not None
    assert callable(getattr(importlib.import_module(spec.module), spec.entry))
    tree = get_parser(name).parse(b"x\n")
    assert tree.root_node is not None


def test_every_grammar_package_is_a_declared_dependency():
    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    declared = {re.split(r"[<>=!~ ;\[]", dep, maxsplit=1)[0].lower()
                for dep in tomllib.loads(pyproject.read_text())["project"]["dependencies"]}
    assert {spec.grammar_package for spec in LANGUAGES} <= declared


def test_syntax_facts_hang_together():
    assert BRACE_LANGUAGES == {s.name for s in LANGUAGES} - {"python"}
    assert JAVASCRIPT_FAMILY == {"javascript", "typescript", "tsx"}
    assert TYPED_LANGUAGES == JAVASCRIPT_FAMILY | {"python"}
    for spec in LANGUAGES:
        assert spec.line_comment and spec.quotes
        assert spec.brace == (spec.block_comment == ("/*", "*/"))
        assert spec.quotes == tuple(sorted(spec.quotes, key=len, reverse=True))
    assert line_comment("python") == "#" and line_comment("typescriptreact") == "//"
    assert is_brace_language("javascriptreact") and not is_brace_language("python")
    assert line_comment("markdown") is None and not is_brace_language(None)
    assert string_quotes("typescriptreact") == ('"', "'", "`")
    assert [indent_unit(n) for n in ("python", "tsx", "go", "rust", "java", None)] == [
        "    ", "  ", "\t", "    ", "  ", "    "]
    assert string_quotes("rust") == ('"',) and string_quotes(None) == ('"', "'")
    resolvers = {s.name: s.import_resolver for s in LANGUAGES}
    assert resolvers == {"python": "python", "javascript": "javascript",
                         "typescript": "javascript", "tsx": "javascript", "go": "go",
                         "rust": "rust", "java": "java", "c": "c", "cpp": "c"}


def test_test_layouts_per_language():
    assert {unit_test_layout(n).style for n in JAVASCRIPT_FAMILY} == {"javascript"}
    assert unit_test_layout("typescriptreact").project_file == "package.json"
    assert unit_test_layout("python").style == "python"
    assert unit_test_layout("go").style == "go"
    assert unit_test_layout("c").style == unit_test_layout("markdown").style == "sibling"
