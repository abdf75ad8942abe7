"""LSP position conversion under UTF-16, UTF-8 and UTF-32, checked against a reference."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from lsp_server.positions import (
    UTF8,
    UTF16,
    UTF32,
    byte_offset,
    offset_at,
    position_at,
    split_lines,
    units,
)

TEXT = "a = '😀'\nb = 'é中'\n\nlast"


def test_utf16_counts_surrogate_pairs():
    assert offset_at(TEXT, 0, 7, UTF16) == TEXT.index("'", 5)
    assert offset_at(TEXT, 0, 7, UTF32) == TEXT.index("'", 5) + 1
    assert offset_at(TEXT, 1, 7, UTF8) == TEXT.index("中")


def test_clamping():
    assert offset_at(TEXT, 0, 999) == TEXT.index("\n")
    assert offset_at(TEXT, 99, 0) == len(TEXT)
    assert offset_at(TEXT, -1, 5) == 0
    assert offset_at("x\r\ny", 0, 5) == 1  # the \r belongs to the line break


def test_round_trip_and_bytes():
    for enc in (UTF8, UTF16, UTF32):
        for off in range(len(TEXT) + 1):
            line, col = position_at(TEXT, off, enc)
            assert offset_at(TEXT, line, col, enc) == off
    assert byte_offset(TEXT, TEXT.index("'", 5)) == len("a = '😀".encode())
    assert units("😀é", UTF16) == 3 and units("😀é", UTF8) == 6


@given(st.lists(st.text(alphabet=st.characters(blacklist_characters="\r\n", codec="utf-8")),
                min_size=1, max_size=5),
       st.sampled_from(["\n", "\r\n", "\r"]), st.sampled_from([UTF8, UTF16, UTF32]), st.data())
def test_every_position_round_trips(lines, eol, encoding, data):
    text = eol.join(lines)
    offset = data.draw(st.integers(0, len(text)))
    line, col = position_at(text, offset, encoding)
    inside_crlf = text[offset - 1 : offset + 1] == "\r\n"
    assert offset_at(text, line, col, encoding) == offset - inside_crlf
    assert line == len(split_lines(text[: offset - inside_crlf] + "x")) - 1


def test_only_lsp_line_endings_split_lines():
    assert split_lines("a\x0cb\u2028c\rd\r\ne\nf") == ("a\x0cb\u2028c\r", "d\r\n", "e\n", "f")
