"""Qwen FIM prompt layouts and special-token handling."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from lsp_server.prompt import (
    STOP_TOKENS,
    ContextFile,
    build_fim_prompt,
    cut_at_special_token,
    split_document,
    strip_special_tokens,
)


def test_file_level_layout_is_exact():
    assert build_fim_prompt("a = ", "\nb = 2\n") == (
        "<|fim_prefix|>a = <|fim_suffix|>\nb = 2\n<|fim_middle|>")


def test_repo_level_layout_is_exact():
    prompt = build_fim_prompt(
        "x = helper(", ")\n", repo_name="proj", current_path="pkg/main.py",
        context_files=[ContextFile("pkg/util.py", "def helper(n):\n    return n\n"),
                       ContextFile("pkg/b.py", "B = 1")])
    assert prompt == (
        "<|repo_name|>proj\n"
        "<|file_sep|>pkg/util.py\ndef helper(n):\n    return n\n"
        "<|file_sep|>pkg/b.py\nB = 1\n"
        "<|file_sep|>pkg/main.py\n"
        "<|fim_prefix|>x = helper(<|fim_suffix|>)\n<|fim_middle|>")


def test_all_stop_tokens():
    assert set(STOP_TOKENS) == {
        "<|endoftext|>", "<|im_end|>", "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>",
        "<|fim_pad|>", "<|repo_name|>", "<|file_sep|>"}


def test_cut_at_first_leaked_token():
    assert cut_at_special_token("foo()<|fim_pad|><|endoftext|>bar") == ("foo()", True)
    assert cut_at_special_token("plain") == ("plain", False)
    assert strip_special_tokens("a<|im_start|>b<|im_end|>c") == "abc"


def test_split_trims_at_line_boundaries():
    text = "line1\nline2\nline3 cursor here\nline4\nline5\n"
    offset = text.index("cursor")
    prefix, suffix = split_document(text, offset, prefix_chars=14, suffix_chars=20)
    assert prefix == "line3 "  # whole lines, cut at a quarter-budget step
    assert suffix == "cursor here\nline4\n"


def test_prefix_start_is_stable_while_typing():
    text = "".join(f"line {i} of the file\n" for i in range(400))
    starts = set()
    for extra in range(0, 300, 7):  # type 300 characters at the end
        doc = text + "x" * extra
        prefix, _ = split_document(doc, len(doc), prefix_chars=2000, suffix_chars=0)
        starts.add(len(doc) - len(prefix))
    assert len(starts) <= 2  # moved at most once in 300 keystrokes


@given(st.text(), st.integers(min_value=0, max_value=300), st.integers(1, 50),
       st.integers(1, 50))
def test_split_is_a_window_around_the_cursor(text, offset, pchars, schars):
    offset = min(offset, len(text))
    prefix, suffix = split_document(text, offset, pchars, schars)
    assert text[:offset].endswith(prefix) and text[offset:].startswith(suffix)
    assert len(prefix) <= pchars and len(suffix) <= schars
