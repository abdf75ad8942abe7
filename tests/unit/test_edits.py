"""Model output cleaning and diff-to-edits: fences, chatter, indentation, minimal changes."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from lsp_server.edits import (
    TextChange,
    apply_changes,
    clean_model_code,
    code_blocks,
    diff_changes,
    fit_to_range,
    is_cut_off,
    rewrite_changes,
)
from lsp_server.positions import offset_at, position_at


def test_fenced_answer_with_chatter_keeps_only_the_code():
    answer = ("Sure! Here is the simplified version:\n\n```python\ndef f(x):\n    return x\n```\n\n"
              "This removes the redundant branch.")
    assert clean_model_code(answer) == "def f(x):\n    return x\n"


def test_longest_block_wins_and_tildes_and_long_fences_work():
    answer = ("```py\nf(1)\n```\nand the function:\n~~~~python\ndef f(x):\n    ```\n"
              "    return x\n~~~~\n")
    assert clean_model_code(answer) == "def f(x):\n    ```\n    return x\n"
    assert [lang for lang, _ in code_blocks(answer)] == ["py", "python"]


def test_unfenced_answer_loses_leading_and_trailing_prose():
    answer = "Here's the updated code:\ndef f():\n    return 1\n\nThis version is shorter."
    assert clean_model_code(answer) == "def f():\n    return 1"


def test_code_that_starts_like_prose_is_kept():
    code = "ok = check()\nthis_value = 2\n\nthis.x = 1;\nupdated(items)"
    assert clean_model_code(code) == code


def test_reasoning_and_special_tokens_are_removed():
    answer = "<think>hmm</think>```ts\nconst a = 1;\n```<|im_end|>"
    assert clean_model_code(answer) == "const a = 1;\n"


def test_unclosed_fence_is_cut_off():
    assert is_cut_off("```python\ndef f():\n    return")
    assert not is_cut_off("```python\ndef f():\n    return 1\n```")
    assert not is_cut_off("def f(): pass")


def test_fit_to_range_reindents_a_dedented_method():
    original = "    def m(self):\n        return 1\n"
    code = "def m(self):\n    return 2\n"
    assert fit_to_range(code, original, "") == "    def m(self):\n        return 2\n"


def test_fit_to_range_dedents_an_answer_nested_too_deep():
    original = "def f():\n    return 1\n"
    assert fit_to_range("    def f():\n        return 2\n", original, "") == \
        "def f():\n    return 2\n"


def test_fit_to_range_when_the_range_starts_after_the_indentation():
    original = "def m(self):\n        return 1"
    code = "def m(self):\n    return 2\n"
    assert fit_to_range(code, original, "    ") == "def m(self):\n        return 2"


def test_fit_to_range_mid_line_expression_and_crlf():
    assert fit_to_range("a + b\n", "a+b", None) == "a + b"
    assert fit_to_range("x = 1\ny = 2\n", "x = 0\r\ny = 2\r\n", "") == "x = 1\r\ny = 2\r\n"


def test_diff_is_minimal_not_a_whole_range_replace():
    original = "def f(x):\n    y = x + 1\n    return y\n"
    new = "def f(x):\n    y = x + 2\n    return y\n"
    changes = diff_changes(original, new)
    assert changes == [TextChange(original.index("1"), original.index("1") + 1, "2")]
    assert apply_changes(original, changes) == new


def test_inserted_docstring_is_a_pure_insertion():
    original = "def f(x):\n    return x\n"
    new = 'def f(x):\n    """Return x."""\n    return x\n'
    (change,) = diff_changes(original, new)
    assert change.start == change.end == len("def f(x):\n")
    assert change.text == '    """Return x."""\n'


def test_no_change_means_no_edits():
    assert diff_changes("a\nb\n", "a\nb\n") == []


def test_rewrite_changes_shift_offsets_and_keep_text_outside_the_range():
    text = "import os\n\n    def m(self):\n        return 1\n\nx = 1\n"
    start = text.index("    def")
    end = text.index("\n\nx") + 1
    answer = "```python\ndef m(self):\n    return 2\n```"
    changes = rewrite_changes(text, start, end, answer)
    assert apply_changes(text, changes) == text.replace("return 1", "return 2")
    assert all(start <= c.start <= c.end <= end for c in changes)


def test_empty_answer_never_deletes_code():
    assert rewrite_changes("def f():\n    pass\n", 0, 17, "```\n```") == []


def test_utf16_positions_of_edits_after_non_ascii_text():
    text = 'msg = "héllo 😀"; n = 1\nvalue = "日本" + x\n'
    new = text.replace("n = 1", "n = 2").replace("+ x", "+ y")
    changes = diff_changes(text, new)
    assert apply_changes(text, changes) == new
    first, second = changes
    # The emoji is two UTF-16 code units: the column is 22 where Python counts 21.
    assert first.start == 21 and position_at(text, first.start) == (0, 22)
    assert text[offset_at(text, 0, 22):].startswith("1")
    assert position_at(text, second.start) == (1, 15)
    assert position_at(text, first.start, "utf-8") == (0, 25)


@given(st.lists(st.sampled_from(["a", "b", "é", "😀", "\n", " ", "x = 1\n", "\r\n"]),
                max_size=30),
       st.lists(st.sampled_from(["a", "b", "é", "😀", "\n", " ", "y = 2\n", "\r\n"]),
                max_size=30))
def test_diff_changes_always_reproduce_the_new_text(old: list[str], new: list[str]):
    a, b = "".join(old), "".join(new)
    changes = diff_changes(a, b)
    assert apply_changes(a, changes) == b
    spans = sorted((c.start, c.end) for c in changes)
    assert all(e1 <= s2 for (_, e1), (s2, _) in itertools.pairwise(spans))
