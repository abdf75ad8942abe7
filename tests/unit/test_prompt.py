"""Qwen FIM prompt layouts and special-token handling."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from lsp_server.affixes import common_prefix
from lsp_server.prompt import (
    STOP_TOKENS,
    ContextFile,
    build_fim_prompt,
    cut_at_special_token,
    fit_suffix,
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


def test_the_suffix_is_a_twentieth_of_what_precedes_it_and_a_few_lines_at_least():
    suffix = "".join(f"line_{i} = {i}\n" for i in range(400))  # 5,000+ characters
    context = [ContextFile("a.py", "x" * 3000)]
    # 12,000 characters ahead of the suffix: about 600 of suffix, cut at a line end.
    fitted = fit_suffix(suffix, 2000, "p" * 9000, context)
    assert 500 < len(fitted) <= 12010 // 20 and fitted.endswith("\n")
    assert suffix.startswith(fitted)
    # A short prompt still sees the next few lines; the setting stays the upper bound.
    assert len(fit_suffix(suffix, 2000, "p" * 100, [])) > 150
    assert len(fit_suffix(suffix, 120, "p" * 90_000, [])) <= 120


def test_prompt_prefix_share_while_typing_with_context():
    """Typing at the cursor: what precedes the cursor repeats, byte for byte, in the next
    prompt; with the suffix kept to a twentieth, that is over nine tenths of it."""
    text = "".join(f"value_{i} = compute(value_{i - 1})\n" for i in range(1, 300))
    context = [ContextFile("lib/a.py", "def compute(x):\n    return x\n" * 100)]
    cursor = text.index("value_150 =")

    def prompt(t: str, at: int) -> str:
        prefix, suffix = split_document(t, at, 6000, 2000)
        return build_fim_prompt(prefix, fit_suffix(suffix, 2000, prefix, context),
                                repo_name="r", current_path="b.py", context_files=context)

    before = prompt(text, cursor)
    typed = text[:cursor] + "x" + text[cursor:]
    after = prompt(typed, cursor + 1)
    shared = common_prefix(before, after)
    assert shared / len(after) > 0.94
