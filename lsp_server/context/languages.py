"""Map files and LSP language ids to tree-sitter grammars from the official wheels."""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from tree_sitter import Language, Parser


@dataclass(frozen=True)
class LanguageSpec:
    """One language we can parse: its name, how to recognise it, where its grammar lives."""

    name: str
    extensions: tuple[str, ...]
    language_ids: tuple[str, ...]
    module: str
    entry: str = "language"


LANGUAGES: tuple[LanguageSpec, ...] = (
    LanguageSpec("python", (".py", ".pyi"), ("python",), "tree_sitter_python"),
    LanguageSpec(
        "javascript",
        (".js", ".mjs", ".cjs", ".jsx"),
        ("javascript", "javascriptreact"),
        "tree_sitter_javascript",
    ),
    LanguageSpec(
        "typescript",
        (".ts", ".mts", ".cts"),
        ("typescript",),
        "tree_sitter_typescript",
        "language_typescript",
    ),
    LanguageSpec("tsx", (".tsx",), ("typescriptreact",), "tree_sitter_typescript", "language_tsx"),
    LanguageSpec("go", (".go",), ("go",), "tree_sitter_go"),
    LanguageSpec("rust", (".rs",), ("rust",), "tree_sitter_rust"),
    LanguageSpec("java", (".java",), ("java",), "tree_sitter_java"),
    LanguageSpec("c", (".c", ".h"), ("c",), "tree_sitter_c"),
    LanguageSpec(
        "cpp",
        (".cc", ".cpp", ".cxx", ".hpp", ".hh", ".hxx", ".c++", ".h++"),
        ("cpp",),
        "tree_sitter_cpp",
    ),
)

_BY_NAME = {spec.name: spec for spec in LANGUAGES}
_BY_EXTENSION = {ext: spec.name for spec in LANGUAGES for ext in spec.extensions}
_BY_LANGUAGE_ID = {lid: spec.name for spec in LANGUAGES for lid in spec.language_ids}

# Other spellings editors use for one language: VS Code's ids, Neovim's filetypes, and ours.
# Every language name the server compares (a document's languageId, the entries of
# `completion.disabledLanguages`) goes through `canonical_language` first.
LANGUAGE_ALIASES: dict[str, str] = {
    **{spec.name: spec.name for spec in LANGUAGES},
    **_BY_LANGUAGE_ID,
    "py": "python",
    "python3": "python",
    "js": "javascript",
    "jsx": "javascript",
    "javascript.jsx": "javascript",
    "ts": "typescript",
    "typescript.tsx": "tsx",
    "golang": "go",
    "rs": "rust",
    "c++": "cpp",
    "sh": "shellscript",
    "bash": "shellscript",
    "text": "plaintext",
}


def canonical_language(name: str) -> str:
    """Return the one name the server uses for a language id, filetype or setting entry.

    Names without an alias (languages we have no grammar for, say ``markdown``) come back
    lower-cased, so that comparing them still works.
    """
    key = name.strip().lower()
    return LANGUAGE_ALIASES.get(key, key)


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
