"""The code actions Qwen offers, what each asks the model, and where generated tests go."""

from __future__ import annotations

import json
import posixpath
from collections.abc import Callable
from dataclasses import dataclass

from lsp_server.context.languages import TYPED_LANGUAGES, unit_test_layout

EXPLAIN = "qwen.explain"
REFACTOR = "qwen.refactor"
SIMPLIFY = "qwen.simplify"
ADD_TYPE_HINTS = "qwen.addTypeHints"
ADD_DOCSTRING = "qwen.addDocstring"
GENERATE_TESTS = "qwen.generateTests"
FIX = "qwen.fix"

# LSP code-action kinds, as plain strings so this module stays free of lsprotocol.
KIND_QUICKFIX = "quickfix"
KIND_REWRITE = "refactor.rewrite"
KIND_REFACTOR = "refactor"


@dataclass(frozen=True)
class ActionSpec:
    """One action: its command, menu title, kind, and what it asks of the model."""

    command: str
    title: str
    kind: str
    instruction: str = ""
    edits: bool = True
    languages: frozenset[str] | None = None  # None: every language


_TYPED = TYPED_LANGUAGES

ACTIONS: dict[str, ActionSpec] = {spec.command: spec for spec in (
    ActionSpec(EXPLAIN, "Qwen: Explain", KIND_REFACTOR, edits=False),
    ActionSpec(REFACTOR, "Qwen: Refactor…", KIND_REWRITE),
    ActionSpec(SIMPLIFY, "Qwen: Simplify", KIND_REWRITE,
               "Simplify this code: remove duplication and needless complexity, keep the "
               "behaviour and the public names exactly the same."),
    ActionSpec(ADD_TYPE_HINTS, "Qwen: Add type hints", KIND_REWRITE,
               "Add precise type annotations (type hints in Python, TypeScript types, JSDoc "
               "types in JavaScript) to parameters, return values and variables where they "
               "help. Change nothing else.", languages=_TYPED),
    ActionSpec(ADD_DOCSTRING, "Qwen: Add docstring", KIND_REWRITE,
               "Add a documentation comment in the language's convention (a docstring in "
               "Python, JSDoc/TSDoc in JavaScript and TypeScript, a doc comment elsewhere) to "
               "each function, method and class, and short comments where the logic is not "
               "obvious. Change no code."),
    ActionSpec(GENERATE_TESTS, "Qwen: Generate unit tests", KIND_REFACTOR),
    ActionSpec(FIX, "Qwen: Fix", KIND_QUICKFIX),
)}

LISTED = (EXPLAIN, REFACTOR, SIMPLIFY, ADD_TYPE_HINTS, ADD_DOCSTRING, GENERATE_TESTS)


def offered(language: str | None) -> list[ActionSpec]:
    """Return the non-fix actions offered for a language, in menu order."""
    return [ACTIONS[c] for c in LISTED
            if ACTIONS[c].languages is None or language in (ACTIONS[c].languages or ())]


def kind_matches(kind: str, only: list[str] | None) -> bool:
    """Return whether an action kind is among the kinds a client asked for (prefix rule)."""
    return not only or any(kind == k or kind.startswith(k + ".") for k in only)


def refactor_instruction(instruction: str) -> str:
    """Return the model instruction for a user's free-text refactoring request."""
    return f"Refactor this code as follows: {instruction.strip()}"


def fix_instruction(message: str, line: int, source: str | None, code: str | None) -> str:
    """Return the model instruction that fixes one diagnostic (`line` is 1-based)."""
    origin = " ".join(p for p in (source, f"[{code}]" if code else None) if p)
    return (f"Fix this problem reported{' by ' + origin if origin else ''} at line {line}: "
            f"{message}. Change only what the fix needs.")


def fix_title(message: str) -> str:
    """Return the menu title of a Fix action for a diagnostic message."""
    first = message.strip().splitlines()[0] if message.strip() else "this problem"
    return f"Qwen: Fix “{first[:60]}{'…' if len(first) > 60 else ''}”"


def test_file_for(rel_path: str, language: str | None, exists: Callable[[str], bool]) -> str:
    """Return the repo-relative test file for a source file, following the project's layout.

    An existing test file wins; otherwise Python gets tests/test_x.py, TypeScript and
    JavaScript x.test.ts next to the source, Go x_test.go, Java the mirror under src/test/java.
    """
    folder, name = posixpath.split(rel_path)
    stem, ext = posixpath.splitext(name)
    join = posixpath.join
    style = unit_test_layout(language).style  # the language registry's layout rule
    if style == "python":
        candidates = [join(folder, f"test_{stem}.py"), join(folder, "tests", f"test_{stem}.py"),
                      join("tests", f"test_{stem}.py"), join("test", f"test_{stem}.py"),
                      join(folder, f"{stem}_test.py")]
        if folder.startswith("src/"):
            candidates.append(join("tests", folder[4:].split("/", 1)[-1], f"test_{stem}.py"))
        default = join("test" if exists("test") and not exists("tests") else "tests",
                       f"test_{stem}.py")
    elif style == "javascript":
        candidates = [join(folder, f"{stem}.test{ext}"), join(folder, f"{stem}.spec{ext}"),
                      join(folder, "__tests__", f"{stem}.test{ext}")]
        default = candidates[0]
    elif style == "go":
        candidates = [join(folder, f"{stem}_test.go")]
        default = candidates[0]
    elif style == "java" and "src/main/java" in folder:
        mirror = folder.replace("src/main/java", "src/test/java", 1)
        candidates = [join(mirror, f"{stem}Test.java")]
        default = candidates[0]
    elif style == "rust":
        candidates = [join("tests", f"{stem}.rs")]
        default = candidates[0]
    else:
        candidates = [join(folder, f"test_{stem}{ext}")]
        default = candidates[0]
    return next((c for c in candidates if exists(c)), default)


def test_framework(language: str | None, existing: str | None,
                   package_json: str | None = None) -> str:
    """Return the test framework to ask for, from the existing tests or the project files."""
    layout = unit_test_layout(language)  # the language registry's frameworks and defaults
    if layout.style == "python":
        if existing and "unittest" in existing and "pytest" not in existing:
            return "unittest"
        return layout.default_framework
    if layout.frameworks:
        deps: dict = {}
        if package_json and layout.project_file == "package.json":
            try:
                data = json.loads(package_json)
                deps = {**data.get("dependencies", {}), **data.get("devDependencies", {})}
            except (ValueError, AttributeError):
                deps = {}
        source = (existing or "") + " ".join(deps)
        for name in layout.frameworks:
            if name in source:
                return name
    return layout.default_framework
