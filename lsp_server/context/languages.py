"""The one registry of language facts: names, ids, files, grammars, syntax and test layout.

Every place that needs to know something about a language asks here (a brace language? its
line comment? where do its tests go?) instead of keeping its own set of names. Names are the
server's canonical ones (`python`, `javascript`, `typescript`, `tsx`, ...); whatever an editor
sends goes through `canonical_language` first.
"""

from __future__ import annotations

import importlib
import os
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from tree_sitter import Language, Parser


@dataclass(frozen=True)
class UnitTestLayout:
    """Where generated tests for a source file go, and how to pick their framework.

    `style` names the layout rule (`chat/action_specs.test_file_for`): ``python`` (test_x.py in a
    tests folder), ``javascript`` (x.test.ext next to the source), ``go`` (x_test.go),
    ``java`` (the mirror under src/test/java), ``rust`` (tests/x.rs), ``sibling`` (test_x.ext
    next to the source). `frameworks` are names looked for in the existing tests and in
    `project_file`, first match wins; `default_framework` is what to ask for otherwise.
    """

    style: str = "sibling"
    default_framework: str = "the project's usual unit test framework"
    frameworks: tuple[str, ...] = ()
    project_file: str | None = None


_PYTHON_TESTS = UnitTestLayout("python", "pytest (plain test functions and assert)", ("unittest",))
_JS_TESTS = UnitTestLayout(
    "javascript",
    "node:test (import { test } from 'node:test' and assert from 'node:assert')",
    ("vitest", "jest", "mocha"),
    "package.json",
)
_C_STRINGS = ('"', "'")
_JS_STRINGS = ('"', "'", "`")
_BLOCK_C = ("/*", "*/")


@dataclass(frozen=True)
class LanguageSpec:
    """One language we can parse and everything the server knows about it."""

    name: str
    extensions: tuple[str, ...]
    language_ids: tuple[str, ...]  # LSP language ids editors send (VS Code's, Neovim's)
    module: str  # the tree-sitter grammar's Python module (from the `tree-sitter-*` wheel)
    entry: str = "language"  # the function in `module` that returns the grammar
    aliases: tuple[str, ...] = ()  # other spellings: Neovim filetypes, short names
    brace: bool = True  # blocks are { ... } (False: blocks by indentation)
    line_comment: str = "//"
    block_comment: tuple[str, str] | None = _BLOCK_C
    quotes: tuple[str, ...] = _C_STRINGS  # string delimiters a lexer must skip, longest first
    resolver: str = ""  # the import-resolution rule set (`context/index.py`); "" = its name
    tests: UnitTestLayout = UnitTestLayout()
    type_hints: bool = False  # has type annotations (or JSDoc types) a code action can add
    indent: str = "  "  # one level of indentation in the language's common style

    @property
    def grammar_package(self) -> str:
        """Return the PyPI distribution that ships the grammar (declared in pyproject.toml)."""
        return self.module.replace("_", "-")

    @property
    def import_resolver(self) -> str:
        """Return the key of the import resolver for this language."""
        return self.resolver or self.name


LANGUAGES: tuple[LanguageSpec, ...] = (
    LanguageSpec("python", (".py", ".pyi"), ("python",), "tree_sitter_python",
                 aliases=("py", "python3"), brace=False, line_comment="#", block_comment=None,
                 quotes=('"""', "'''", '"', "'"), indent="    ", tests=_PYTHON_TESTS,
                 type_hints=True),
    LanguageSpec("javascript", (".js", ".mjs", ".cjs", ".jsx"), ("javascript", "javascriptreact"),
                 "tree_sitter_javascript", aliases=("js", "jsx", "javascript.jsx"),
                 quotes=_JS_STRINGS, tests=_JS_TESTS, type_hints=True),
    LanguageSpec("typescript", (".ts", ".mts", ".cts"), ("typescript",), "tree_sitter_typescript",
                 "language_typescript", aliases=("ts",), quotes=_JS_STRINGS,
                 resolver="javascript", tests=_JS_TESTS, type_hints=True),
    LanguageSpec("tsx", (".tsx",), ("typescriptreact",), "tree_sitter_typescript", "language_tsx",
                 aliases=("typescript.tsx",), quotes=_JS_STRINGS, resolver="javascript",
                 tests=_JS_TESTS, type_hints=True),
    LanguageSpec("go", (".go",), ("go",), "tree_sitter_go", aliases=("golang",),
                 quotes=_JS_STRINGS, indent="\t",
                 tests=UnitTestLayout("go", "the standard testing package (table-driven tests)")),
    # A quote in Rust is as often a lifetime as a char literal: a lexer ignores it.
    LanguageSpec("rust", (".rs",), ("rust",), "tree_sitter_rust", aliases=("rs",),
                 quotes=('"',), indent="    ",
                 tests=UnitTestLayout("rust", "Rust's built-in #[test] functions")),
    LanguageSpec("java", (".java",), ("java",), "tree_sitter_java",
                 tests=UnitTestLayout("java", "JUnit 5")),
    LanguageSpec("c", (".c", ".h"), ("c",), "tree_sitter_c"),
    LanguageSpec("cpp", (".cc", ".cpp", ".cxx", ".hpp", ".hh", ".hxx", ".c++", ".h++"), ("cpp",),
                 "tree_sitter_cpp", aliases=("c++",), resolver="c"),
)

_BY_NAME = {spec.name: spec for spec in LANGUAGES}
_BY_EXTENSION = {ext: spec.name for spec in LANGUAGES for ext in spec.extensions}

# Languages we have no grammar for but whose spellings differ between editors.
_OTHER_ALIASES = {"sh": "shellscript", "bash": "shellscript", "text": "plaintext"}

# Other spellings editors use for one language: VS Code's ids, Neovim's filetypes, and ours.
# Every language name the server compares (a document's languageId, the entries of
# `completion.disabledLanguages`) goes through `canonical_language` first.
LANGUAGE_ALIASES: dict[str, str] = {
    **{spec.name: spec.name for spec in LANGUAGES},
    **{lid: spec.name for spec in LANGUAGES for lid in spec.language_ids},
    **{alias: spec.name for spec in LANGUAGES for alias in spec.aliases},
    **_OTHER_ALIASES,
}

# Blocks in braces: a completion closes them, a snippet of one ends with its closing brace.
BRACE_LANGUAGES = frozenset(spec.name for spec in LANGUAGES if spec.brace)
# JavaScript and its dialects: one module system, one test layout, one set of quotes.
JAVASCRIPT_FAMILY = frozenset(spec.name for spec in LANGUAGES
                              if spec.import_resolver == "javascript")
# Languages whose code can carry type annotations (the "Add type hints" action).
TYPED_LANGUAGES = frozenset(spec.name for spec in LANGUAGES if spec.type_hints)
# The files an import of a JavaScript module may name, in the order a bundler tries them.
JS_MODULE_EXTENSIONS = (".ts", ".tsx", ".d.ts", ".js", ".jsx", ".mjs", ".cjs", ".mts", ".cts")
# What a lexer of an unknown language takes for strings.
DEFAULT_QUOTES = _C_STRINGS


def canonical_language(name: str) -> str:
    """Return the one name the server uses for a language id, filetype or setting entry.

    Names without an alias (languages we have no grammar for, say ``markdown``) come back
    lower-cased, so that comparing them still works.
    """
    key = name.strip().lower()
    return LANGUAGE_ALIASES.get(key, key)


def language_spec(name: str | None) -> LanguageSpec | None:
    """Return the registry entry of a language (any spelling), or None when we have none."""
    return _BY_NAME.get(canonical_language(name)) if name else None


def editor_language_id(name: str) -> str:
    """Return the LSP language id an editor sends for a language (VS Code's spelling)."""
    spec = language_spec(name)
    return spec.language_ids[0] if spec else canonical_language(name)


def is_brace_language(name: str | None) -> bool:
    """Return whether a language writes its blocks in braces."""
    spec = language_spec(name)
    return spec is not None and spec.brace


def line_comment(name: str | None) -> str | None:
    """Return what starts a line comment in a language, or None for unknown languages."""
    spec = language_spec(name)
    return spec.line_comment if spec else None


def string_quotes(name: str | None) -> tuple[str, ...]:
    """Return the string delimiters a lexer must skip in a language, longest first."""
    spec = language_spec(name)
    return spec.quotes if spec else DEFAULT_QUOTES


def indent_unit(name: str | None) -> str:
    """Return one level of indentation in a language's common style (4 spaces if unknown)."""
    spec = language_spec(name)
    return spec.indent if spec else "    "


def unit_test_layout(name: str | None) -> UnitTestLayout:
    """Return where a language's generated tests go and how their framework is picked."""
    spec = language_spec(name)
    return spec.tests if spec else UnitTestLayout()


def language_for_path(path: str) -> str | None:
    """Return the language name for a file path, or None when we have no grammar for it."""
    return _BY_EXTENSION.get(os.path.splitext(path)[1].lower())


def language_for_document(path: str, language_id: str | None = None) -> str | None:
    """Return the language of a document, trusting the editor's language id over the extension."""
    if language_id and canonical_language(language_id) in _BY_NAME:
        return canonical_language(language_id)
    return language_for_path(path)


@cache
def get_language(name: str) -> Language:
    """Return the tree-sitter Language for a language name (loaded once per process)."""
    spec = _BY_NAME[name]
    factory: Callable[[], object] = getattr(importlib.import_module(spec.module), spec.entry)
    return Language(factory())


def get_parser(name: str) -> Parser:
    """Return a new parser for a language; parsers are not thread-safe, so never share one."""
    return Parser(get_language(name))


_local = threading.local()


def thread_parser(language: str) -> Parser:
    """Return this thread's parser for a language (made once per thread and language)."""
    parsers: dict[str, Parser] = _local.__dict__.setdefault("parsers", {})
    parser = parsers.get(language)
    if parser is None:
        parser = parsers[language] = get_parser(language)
    return parser


# TypeScript 4.7's variance annotations (`class Route<in out T>`), which the packaged grammar
# predates: it reads them as errors, and loses the declarations around them.
_TS_VARIANCE = re.compile(rb"([<,]\s*)(in\s+out|in|out)(?=\s+[A-Za-z_$])")
_TS_GRAMMARS = frozenset({"typescript", "tsx"})
# A generic call signature on a line of its own after a member that ends without `;`
# (`<A, B>(self: A, f: B): A`, Effect's every overloaded function type; its type parameters
# may be a list of their own lines, opened by a lone `<`): the grammar reads it
# as type arguments of the line before. Its indentation's first column becomes the `;` that
# TypeScript infers there (not in TSX, where such lines are elements).
_TS_CALL_SIGNATURE = re.compile(rb"\n[ \t](?=[ \t]*<(?:[^;\n]*>[ \t]*\(|[ \t]*\r?\n))")
_TS_LINE_COMMENT = re.compile(rb"[ \t]*//")


def _ends_member(data: bytes, end: int) -> bool:
    """Return whether the code before `end`, comments and blanks skipped, ends a member
    (a name, a closing bracket, a type's `>`; not `=>`, `,`, `(`, `{`, `=`)."""
    while True:
        while end > 0 and data[end - 1] in b" \t\r\n":
            end -= 1
        if data.endswith(b"*/", 0, end):
            end = data.rfind(b"/*", 0, end - 2)
            if end < 0:
                return False
            continue
        line = data.rfind(b"\n", 0, end) + 1
        if _TS_LINE_COMMENT.match(data, line):
            end = line
            continue
        last = data[end - 1:end]
        return last.isalnum() or last in (b"_", b"$", b")", b"]", b"}") or (
            last == b">" and data[end - 2:end - 1] != b"=")


def _call_signature_separators(data: bytes) -> bytes:
    out: bytearray | None = None
    for m in _TS_CALL_SIGNATURE.finditer(data):
        if _ends_member(data, m.start()):
            out = bytearray(data) if out is None else out
            out[m.start() + 1] = ord(";")
    return data if out is None else bytes(out)


def for_grammar(data: bytes, language: str) -> bytes:
    """Return source bytes as the language's grammar can read them: valid syntax that the
    packaged grammar does not know yet becomes spaces, or the `;` TypeScript infers, of the
    same length, so every position in the tree is still a position in the source. What
    the index and the context's checks parse goes through here (about 10 ms a megabyte);
    parses that compare a buffer with itself (errors before and after a completion) need
    not."""
    if language in _TS_GRAMMARS and (b"in " in data or b"out " in data):
        data = _TS_VARIANCE.sub(lambda m: m[1] + b" " * len(m[2]), data)
    if language == "typescript":
        data = _call_signature_separators(data)
    return data


def parses(text: str, language: str) -> bool:
    """Return whether text parses as code of the language without errors."""
    data = for_grammar(text.encode("utf-8", "surrogatepass"), language)
    return not thread_parser(language).parse(data).root_node.has_error
