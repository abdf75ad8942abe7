"""Each post-processing rule on its own, in Python, TypeScript and Go, then the whole chain."""

from __future__ import annotations

import time

import pytest

from lsp_server.completion.postprocess import (
    RULES,
    PostContext,
    balance_closers,
    check_syntax,
    cut_repetition,
    drop_empty,
    fix_indentation,
    postprocess,
    stop_at_block_end,
    strip_leading_space,
    strip_trailing_whitespace,
    trim_suffix_overlap,
)


def ctx(
    prefix: str, suffix: str, language: str | None, multiline: bool = True, **kw
) -> PostContext:
    """Build a context for a cursor between prefix and suffix."""
    return PostContext(prefix=prefix, suffix=suffix, language=language, multiline=multiline, **kw)


# --- trim_suffix_overlap ---------------------------------------------------------------------

@pytest.mark.parametrize(
    ("language", "prefix", "suffix", "raw", "want"),
    [
        ("python", "def f(x):\n    return max(", ")\n", "x, 1)", "x, 1"),
        ("typescript", "const a = f(", ");\n", "1, 2);", "1, 2"),
        ("go", "func f() {\n\tfmt.Println(", ")\n}\n", "x)", "x"),
        ("python", 'print("', '")\n', 'hello")', "hello"),
    ],
)
def test_trim_suffix_overlap_same_line(language, prefix, suffix, raw, want):
    assert trim_suffix_overlap(raw, ctx(prefix, suffix, language)) == want


@pytest.mark.parametrize(
    ("language", "prefix", "suffix", "raw", "want"),
    [
        (
            "python",
            "def f(x):\n    y = x + 1",
            "\n    return y\n",
            "\n    z = y * 2\n    return y",
            "\n    z = y * 2",
        ),
        (
            "typescript",
            "function f(x: number) {\n  const y = x;",
            "\n  return y;\n}\n",
            "\n  const z = y;\n  return y;\n}",
            "\n  const z = y;",
        ),
        (
            "go",
            "func f() int {\n\tx := 1",
            "\n\treturn x\n}\n",
            "\n\ty := 2\n\treturn x\n}",
            "\n\ty := 2",
        ),
    ],
)
def test_trim_suffix_overlap_following_lines(language, prefix, suffix, raw, want):
    assert trim_suffix_overlap(raw, ctx(prefix, suffix, language)) == want


def test_trim_suffix_overlap_keeps_closers_the_suggestion_needs():
    c = ctx("x = ", ")\n", "python", multiline=False)
    assert trim_suffix_overlap("foo(1)", c) == "foo(1)"


def test_trim_suffix_overlap_keeps_a_closing_brace_of_an_inner_block():
    c = ctx("function f() {\n  if (a) {\n    b();", "\n}\n", "typescript")
    assert trim_suffix_overlap("\n  }", c) == "\n  }"


# --- balance_closers -------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("language", "prefix", "suffix", "raw", "want"),
    [
        ("python", "if check(", ")\n", "a, b):", "a, b"),
        ("typescript", "foo(bar(", "))\n", "1), 2)", "1"),
        ("go", "func f() {\n\tif ok(", ") {\n\t}\n}\n", "a) && b", "a"),
        # Nothing supplies the closer: the suggestion may close the prefix's bracket.
        ("python", "x = foo(", "\n\ny = 2\n", "1, 2)", "1, 2)"),
        ("typescript", "const a = [", "\nconst b = 1;\n", "1, 2];", "1, 2];"),
        # Close only what was opened: an extra closer is cut.
        ("go", "x := f(", "\n", "1))", "1)"),
    ],
)
def test_balance_closers(language, prefix, suffix, raw, want):
    assert balance_closers(raw, ctx(prefix, suffix, language)) == want


def test_balance_closers_multiline_brace_supplied_by_suffix():
    c = ctx("function f() {", "\n}\n", "typescript")
    assert balance_closers("\n  return 1;\n}", c) == "\n  return 1;"


def test_balance_closers_string_closed_by_suffix():
    c = ctx('fmt.Println("', '")\n', "go", multiline=False)
    assert balance_closers('hi" + x', c) == "hi"


def test_balance_closers_ignores_brackets_in_strings_and_comments():
    c = ctx("x = f(", ")\n", "python", multiline=False)
    assert balance_closers('")" # )', c) == '")" # )'


# --- stop_at_block_end ----------------------------------------------------------------------

def test_stop_at_block_end_python_function():
    c = ctx("def f(x):", "\n\n\ndef g():\n    pass\n", "python")
    raw = "\n    return x\n\n\ndef h():\n    return 2"
    assert stop_at_block_end(raw, c) == "\n    return x"


def test_stop_at_block_end_python_keeps_rest_of_enclosing_block():
    c = ctx("def f(x):\n    if x:\n        return 1\n", "", "python")
    raw = "    return 2\n\nprint(f(1))"
    assert stop_at_block_end(raw, c) == "    return 2"


def test_stop_at_block_end_typescript():
    c = ctx("function f(a: number) {", "\n", "typescript")
    raw = "\n  return a;\n}\n\nfunction g() {\n  return 1;\n}"
    assert stop_at_block_end(raw, c) == "\n  return a;\n}"


def test_stop_at_block_end_typescript_inner_block():
    c = ctx("function f() {\n  if (x) {\n    a();", "\n", "typescript")
    raw = "\n  }\n  return 1;\n}"
    assert stop_at_block_end(raw, c) == "\n  }"


def test_stop_at_block_end_go():
    c = ctx("package p\n\nfunc f() int {", "\n", "go")
    raw = "\n\treturn 1\n}\n\nfunc g() int {\n\treturn 2\n}"
    assert stop_at_block_end(raw, c) == "\n\treturn 1\n}"


def test_stop_at_block_end_top_level_statement():
    c = ctx("import os\n", "", "python")
    assert stop_at_block_end("def f():\n    pass\n\n\ndef g():\n    pass", c) == (
        "def f():\n    pass"
    )


@pytest.mark.parametrize(
    ("prefix", "raw", "want"),
    [
        ("def f(x):", "\n    return x\n\ndef g():\n    pass", "\n    return x"),
        ("function f() {", "\n  return 1;\n}\n\nfunction g() {", "\n  return 1;\n}"),
        ("\tif x {\n\t\ty()", "\n\t\tz()\n\t}\n\tw()", "\n\t\tz()\n\t}"),
    ],
)
def test_stop_at_block_end_indentation_fallback(prefix, raw, want):
    assert stop_at_block_end(raw, ctx(prefix, "\n", None)) == want


def test_stop_at_block_end_leaves_single_line_alone():
    assert stop_at_block_end("return 1", ctx("def f():\n    ", "", "python")) == "return 1"


# --- cut_repetition --------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("language", "raw", "want"),
    [
        ("python", "\n    x += 1\n    x += 1\n    x += 1\n    x += 1", "\n    x += 1"),
        ("typescript", "\n  a();\n  b();\n  a();\n  b();", "\n  a();\n  b();"),
        ("go", "\n\tlog.Println(x)\n\tlog.Println(x)\n\tlog.Println(x)", "\n\tlog.Println(x)"),
        ("python", "foo(foo(foo(foo(foo(", "foo("),
    ],
)
def test_cut_repetition(language, raw, want):
    assert cut_repetition(raw, ctx("", "", language)) == want


@pytest.mark.parametrize(
    "raw",
    ["\n  }\n}", "x = [0, 0, 0, 0, 0]", "# ==========================", "\n    a = 1\n    a = 1"],
)
def test_cut_repetition_leaves_normal_code(raw):
    assert cut_repetition(raw, ctx("", "", "python")) == raw


# --- fix_indentation and strip_leading_space ---------------------------------------------------

def test_fix_indentation_tabs_to_spaces_from_options():
    c = ctx("def f():\n", "", "python", tab_size=4, insert_spaces=True)
    want = "x = 1\n    if x:\n        return x"
    assert fix_indentation("x = 1\n\tif x:\n\t\treturn x", c) == want


def test_fix_indentation_spaces_to_tabs_from_options():
    c = ctx("func f() {\n\tx := 1", "", "go", tab_size=4, insert_spaces=False)
    assert fix_indentation("\n    if x {\n        y()\n    }", c) == "\n\tif x {\n\t\ty()\n\t}"


def test_fix_indentation_inferred_from_document():
    prefix = "function f() {\n  if (a) {\n    b();\n  }\n"
    c = ctx(prefix, "", "typescript", tab_size=2)
    assert fix_indentation("  c();\n\td();", c) == "  c();\n  d();"


def test_fix_indentation_without_evidence_changes_nothing():
    assert fix_indentation("a\n\tb", ctx("x = 1", "", "python")) == "a\n\tb"


@pytest.mark.parametrize(
    ("language", "prefix", "raw", "want"),
    [
        ("python", "x = ", " 1", "1"),
        ("typescript", "const a = ", "  f();", "f();"),
        ("go", "return ", " nil", "nil"),
        ("python", "x =", " 1", " 1"),
    ],
)
def test_strip_leading_space(language, prefix, raw, want):
    assert strip_leading_space(raw, ctx(prefix, "\n", language)) == want


def test_strip_leading_space_in_indentation_keeps_a_plausible_depth():
    c = ctx("def f():\n    ", "\n", "python", tab_size=4)
    assert strip_leading_space("    return 1", c) == "return 1"  # body would be 8 deep
    c = ctx("function f() {\n  return a\n  ", "\n", "typescript", tab_size=2)
    assert strip_leading_space("  ? b : c;", c) == "  ? b : c;"  # a continuation line


def test_strip_leading_space_keeps_comment_alignment():
    c = ctx("x = 1 ", "\n", "python", multiline=False)
    assert strip_leading_space("   # one", c) == "   # one"


# --- check_syntax ----------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("language", "prefix", "suffix", "raw"),
    [
        ("python", "def f(x):\n    return ", "\n", "x +* 2"),
        ("typescript", "function f() {\n  return ", "\n}\n", "1 +* 2;"),
        ("go", "package p\n\nfunc f() int {\n\treturn ", "\n}\n", "1 + = 2"),
    ],
)
def test_check_syntax_rejects_broken_suggestion(language, prefix, suffix, raw):
    assert check_syntax(raw, ctx(prefix, suffix, language, multiline=False)) == ""


@pytest.mark.parametrize(
    ("language", "prefix", "suffix", "raw", "want"),
    [
        (
            "python",
            "def f(x):\n    y = 1",
            "\n    return y\n",
            "\n    y += 1\n    z = ) (",
            "\n    y += 1",
        ),
        (
            "typescript",
            "function f() {\n  let a = 1;",
            "\n  return a;\n}\n",
            "\n  a += 1;\n  a = ) (;",
            "\n  a += 1;",
        ),
        (
            "go",
            "package p\n\nfunc f() int {\n\ta := 1",
            "\n\treturn a\n}\n",
            "\n\ta++\n\ta = ) (",
            "\n\ta++",
        ),
    ],
)
def test_check_syntax_truncates_to_the_part_that_parses(language, prefix, suffix, raw, want):
    assert check_syntax(raw, ctx(prefix, suffix, language)) == want


@pytest.mark.parametrize(
    ("language", "prefix", "suffix", "raw"),
    [
        ("python", "def f(x):\n    return ma", "\n", "x(x, 1)"),
        ("python", "def f(x):\n    for i in", "\n", " range(x):\n        print(i"),
        ("typescript", "function f() {\n  return g(", "\n}\n", "1, 2);"),
        ("typescript", "function f() {", "\n", "\n  if (a) {\n    b();"),
        ("go", "package p\n\nfunc f() {\n\tif ok {", "\n}\n", "\n\t\tg(1,"),
    ],
)
def test_check_syntax_accepts_correct_or_unfinished_code(language, prefix, suffix, raw):
    assert check_syntax(raw, ctx(prefix, suffix, language)) == raw


def test_check_syntax_is_a_no_op_without_a_grammar():
    assert check_syntax("+*)(", ctx("x", "", None)) == "+*)("


def test_check_syntax_reuses_a_cached_tree_between_keystrokes():
    body = "".join(f"def f{i}(x):\n    return x + {i}\n\n\n" for i in range(600))
    prefix = body + "def g(x):\n    return x"
    for typed in ("", " +", " + 1"):
        c = ctx(prefix + typed, "\n", "python", multiline=False, document_key="file:///a.py")
        assert check_syntax(" * 2", c) == " * 2"
        assert check_syntax(" * ) 2", c) == ""


# --- strip_trailing_whitespace and drop_empty ------------------------------------------------

def test_strip_trailing_whitespace_at_line_end():
    c = ctx("def f():", "\n\ndef g(): pass\n", "python")
    assert strip_trailing_whitespace("\n    return 1\n\n", c) == "\n    return 1"


def test_strip_trailing_whitespace_before_a_closer():
    c = ctx("f(", ")\n", "go", multiline=False)
    assert strip_trailing_whitespace("a, b ", c) == "a, b"


@pytest.mark.parametrize("raw", ["", "   ", "\n\n\t"])
def test_drop_empty(raw):
    assert drop_empty(raw, ctx("x", "", "python")) == ""


# --- the chain -------------------------------------------------------------------------------

def test_rule_names_are_unique_and_stable():
    names = [name for name, _ in RULES]
    assert len(names) == len(set(names))
    assert names[-1] == "drop_empty" and "check_syntax" in names


@pytest.mark.parametrize(
    ("language", "prefix", "suffix", "raw", "want", "hit"),
    [
        ("python", "def f(x):\n    return max(", ")\n", "x, 1)", "x, 1", "trim_suffix_overlap"),
        ("typescript", "function f() {", "\n}\n", "\n  return 1;\n}", "\n  return 1;",
         "trim_suffix_overlap"),
        ("go", "package p\n\nfunc f() int {", "\n", "\n\treturn 1\n}\n\nfunc g() {}",
         "\n\treturn 1\n}", "stop_at_block_end"),
        ("python", "x = ", "\n", " ", "", "strip_leading_space"),
    ],
)
def test_postprocess_reports_rule_hits(language, prefix, suffix, raw, want, hit):
    result = postprocess(raw, ctx(prefix, suffix, language))
    assert result.text == want
    assert hit in result.rule_hits


def test_postprocess_leaves_a_correct_suggestion_untouched():
    prefix = "def area(r):\n    "
    result = postprocess("return 3.14 * r * r", ctx(prefix, "\n\n\nprint(area(2))\n", "python"))
    assert result.text == "return 3.14 * r * r"
    assert result.rule_hits == []


def test_postprocess_unknown_language_uses_indentation_only():
    result = postprocess("\n  b\nc", ctx("a:", "\n", None))
    assert result.text == "\n  b"


def test_postprocess_is_fast_on_a_3000_line_file():
    lines = []
    for i in range(750):
        lines += [f"def func_{i}(a, b):", f"    total = a + b * {i}", "    return total", ""]
    source = "\n".join(lines)
    cursor = source.index("def func_700")
    suffix = source[cursor + 200 :]
    timings = []
    for typed in range(40):
        prefix = source[: cursor + typed]
        c = ctx(prefix, suffix, "python", document_key="file:///big.py")
        start = time.perf_counter()
        postprocess(source[cursor + typed : cursor + 200], c)
        timings.append(time.perf_counter() - start)
    timings.sort()
    assert timings[len(timings) // 2] < 0.02  # generous for slow CI; typically a few ms


# --- context the rules rely on ----------------------------------------------------------------

def test_balance_closers_ignores_closers_of_an_enclosing_class_in_the_suffix():
    prefix = "class A {\n  private f(a: number) {\n"
    suffix = "\n\n  g() {}\n}\n"  # the class's `}` must not pass for the method's
    raw = "    return a;\n  }"
    assert balance_closers(raw, ctx(prefix, suffix, "typescript")) == raw


def test_balance_closers_cursor_in_a_comment():
    c = ctx("def f(x):\n    # same as g(", "\n    return x\n", "python", multiline=False)
    assert balance_closers("), but faster", c) == "), but faster"


def test_check_syntax_accepts_a_header_whose_brackets_continue():
    prefix = "def f(mo):\n    for m in mo:\n"
    raw = "        if (m.group('a') is None"
    assert check_syntax(raw, ctx(prefix, "\n\n\ndef g():\n    pass\n", "python")) == raw


def test_check_syntax_accepts_a_docstring_typed_quote_by_quote():
    c = ctx('def f():\n    "', '\n\n\ndef g():\n    pass\n', "python", multiline=False)
    assert check_syntax('""Return nothing.', c) == '""Return nothing.'


def test_stop_at_block_end_with_unfinished_suggestion_does_not_cut():
    prefix = "export function map<T>("
    raw = "project: (v: T) => T): T {\n  return operate((source) => {\n    // keep going"
    assert stop_at_block_end(raw, ctx(prefix, "\n", "typescript")) == raw


def test_postprocess_in_a_large_class_uses_a_window():
    methods = "".join(f"    def m{i}(self):\n        return {i}\n\n" for i in range(900))
    prefix = "class Big:\n" + methods + "    def last(self):\n        "
    c = ctx(prefix, '\n\n    def after(self):\n        """Doc."""\n', "python")
    started = time.perf_counter()
    assert postprocess("return self.m1()", c).text == "return self.m1()"
    assert postprocess("return = = self", c).text == ""
    assert time.perf_counter() - started < 1.0
