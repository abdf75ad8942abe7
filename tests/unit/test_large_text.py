"""A very large buffer held in pieces reads and edits exactly like one string."""

from __future__ import annotations

import random

import pytest

from lsp_server import large_text
from lsp_server.large_text import LargeText
from lsp_server.positions import line_count, line_start, offset_at

# Line breaks of each kind, characters of each UTF-8/UTF-16 width.
ALPHABET = ["a", "b", "\n", "\r", "\r\n", "é", "😀", "→"]


@pytest.fixture(autouse=True)
def tiny_pieces(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(large_text, "PIECE", 16)  # many pieces from short texts


def _text(rng: random.Random, most: int) -> str:
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, most)))


def _parts(rng: random.Random, text: str) -> list[str]:
    parts, i = [], 0
    while i < len(text):
        n = rng.randint(0, 40)
        parts.append(text[i:i + n])
        i += n
    return parts


def _check(big: LargeText, text: str, rng: random.Random) -> None:
    assert big.text() == text and len(big) == len(text)
    assert big.line_count() == line_count(text)
    for line in range(line_count(text) + 2):
        assert big.line_start(line) == line_start(text, line)
        for character in (0, 1, 3, 50):
            for encoding in ("utf-16", "utf-8", "utf-32"):
                assert big.offset(line, character, encoding) == offset_at(
                    text, line, character, encoding)
    a, b = sorted((rng.randint(0, len(text)), rng.randint(0, len(text))))
    assert big.slice(a, b) == text[a:b]
    first = rng.randint(0, line_count(text) + 1)
    top, window = big.window(first, first + rng.randint(0, 3))
    assert top <= first
    assert text[line_start(text, top):].startswith(window)


@pytest.mark.parametrize("seed", range(3))
def test_edits_anywhere_read_back_as_the_same_string(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(150):
        text = _text(rng, 120)
        big = LargeText(_parts(rng, text))
        _check(big, text, rng)
        for _ in range(4):
            a, b = sorted((rng.randint(0, len(text)), rng.randint(0, len(text))))
            inserted = _text(rng, 30)
            # Sometimes a paste that arrived as pieces itself.
            big.splice(a, b, LargeText([inserted]) if rng.random() < 0.3 else inserted)
            text = text[:a] + inserted + text[b:]
            _check(big, text, rng)


@pytest.mark.parametrize("build", [LargeText, LargeText.of_pieces])
def test_no_piece_splits_a_crlf(build) -> None:
    big = build(["x" * 15 + "\r", "\n" + "y" * 15 + "\r\r", "\nz"])
    assert big.line_count() == 3 and big.text() == "x" * 15 + "\r\n" + "y" * 15 + "\r\r\nz"
    assert big.offset(1, 0) == 17 and big.offset(3, 1) == len(big.text())


def test_a_window_of_long_lines_is_narrowed_to_the_lines_around(monkeypatch) -> None:
    monkeypatch.setattr(large_text, "WINDOW_CHARS", 1000)
    text = "".join(f"{i:04d}" + "x" * 200 + "\n" for i in range(1000))
    top, window = LargeText([text]).window(500, 500)
    assert top == 500 - 64 and window.startswith("0436") and "0563x" in window
    assert "0564x" not in window


def test_a_window_holds_every_line_asked_for_wherever_they_are() -> None:
    text = "".join(f"line {i}\n" for i in range(20_000))
    big = LargeText([text])
    for first, last in ((0, 0), (5_000, 5_000), (4_095, 4_097), (100, 9_000), (19_999, 19_999)):
        top, window = big.window(first, last)
        lines = window.splitlines()
        assert top <= first and lines[first - top] == f"line {first}"
        assert lines[last - top] == f"line {last}"
