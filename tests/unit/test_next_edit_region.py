"""Editable region selection and diffing into edits, on Python, TypeScript and Go."""

from __future__ import annotations

import pytest

from lsp_server.edits import apply_changes
from lsp_server.nextedit.parse import region_changes, syntax_errors
from lsp_server.nextedit.region import choose_region

PY = "import os\n\n\n" + "".join(f"def filler{i}():\n    return {i}\n\n\n" for i in range(20)) + (
    "def total(items, factor):\n"
    "    result = 0\n"
    "    for item in items:\n"
    "        result += item.price * factor\n"
    "    if result > 100:\n"
    "        result -= 10\n"
    "    return result\n") + "".join(f"\n\ndef tail{i}():\n    return {i}\n" for i in range(20))

TS = "".join(f"export const c{i} = {i};\n" for i in range(30)) + (
    "export function total(items: Item[], factor: number): number {\n"
    "  let result = 0;\n"
    "  for (const item of items) {\n"
    "    result += item.price * factor;\n"
    "  }\n"
    "  return result;\n"
    "}\n") + "".join(f"export const d{i} = {i};\n" for i in range(30))

GO = "package shop\n\n" + "".join(f"var c{i} = {i}\n" for i in range(30)) + (
    "func Total(items []Item, factor int) int {\n"
    "\tresult := 0\n"
    "\tfor _, item := range items {\n"
    "\t\tresult += item.Price * factor\n"
    "\t}\n"
    "\treturn result\n"
    "}\n") + "".join(f"var d{i} = {i}\n" for i in range(30))

CASES = {"python": (PY, "def total("), "typescript": (TS, "export function total("),
         "go": (GO, "func Total(")}


@pytest.mark.parametrize("language", sorted(CASES))
def test_region_is_whole_lines_and_covers_the_function(language: str):
    text, head = CASES[language]
    start = text.index(head)
    end = text.index("return result", start)
    end = text.index("\n", text.index("\n", end) + 1) + 1  # the closing line too (Go, TS)
    cursor = text.index("factor", start) + 2  # renaming the parameter in the signature
    region = choose_region(text, cursor, language=language, region_lines=7, max_chars=4000)
    assert region.start == 0 or text[region.start - 1] == "\n"
    assert region.end == len(text) or text[region.end - 1] == "\n"
    # A window of 7 lines would miss the last use; the function is taken whole.
    assert region.start <= start and region.end >= min(end, len(text)) - 1
    assert region.end_line - region.start_line <= 14


@pytest.mark.parametrize("language", sorted(CASES))
def test_region_without_syntax_is_a_window_and_respects_the_budget(language: str):
    text, head = CASES[language]
    cursor = text.index(head)
    plain = choose_region(text, cursor, language=None, region_lines=9, max_chars=10_000)
    assert plain.end_line - plain.start_line == 9
    line = text.count("\n", 0, cursor)
    assert plain.start_line == line - 2  # a quarter above
    small = choose_region(text, cursor, language=language, region_lines=30, max_chars=120)
    assert small.end - small.start <= 120
    assert small.start <= cursor <= small.end


@pytest.mark.parametrize("language", sorted(CASES))
def test_diff_is_the_smallest_change_and_applies_exactly(language: str):
    text, head = CASES[language]
    region = choose_region(text, text.index(head), language=language, region_lines=21,
                           max_chars=5000)
    old = text[region.start : region.end]
    new = old.replace("factor", "scale")
    changes = region_changes(old, new, region.start)
    assert len(changes) == old.count("factor")
    assert all(c.text == "scale" and text[c.start : c.end] == "factor" for c in changes)
    assert apply_changes(text, changes) == text.replace("factor", "scale")


@pytest.mark.parametrize("language", sorted(CASES))
def test_syntax_errors_are_counted(language: str):
    text, _ = CASES[language]
    assert syntax_errors(text, language) == 0
    broken = text.replace("return result", "return (result", 1)
    assert syntax_errors(broken, language)


def test_a_long_definition_does_not_cut_the_region_at_its_end():
    body = "".join(f"    x{i} = {i}\n" for i in range(38))
    text = "def long():\n" + body + "\n\ndef after():\n    return long()\n"
    cursor = text.index("x36")
    region = choose_region(text, cursor, language="python", region_lines=21, max_chars=10_000)
    # The function is too long to widen to (with the window), and the window reaches past
    # its end: the lines after it, where the next edit may be, stay in.
    assert region.end >= text.index("return long()")
