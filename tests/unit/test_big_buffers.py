"""Open buffers obey the index's size and minified limits; huge ones are read near the cursor."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from lsp_server.context import repo_context as engine_module
from lsp_server.context.repo_context import RepoContext
from lsp_server.positions import line_start, offset_at, span_at, window


@pytest.fixture
def engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    (tmp_path / "a.py").write_text("def a():\n    return 1\n")
    ctx = RepoContext([str(tmp_path)], max_file_bytes=10_000, persist=False)
    ctx.build_sync()
    parsed: list[int] = []
    real = engine_module.extract

    def counting(data: bytes, *args, **kwargs):
        parsed.append(len(data))
        return real(data, *args, **kwargs)

    monkeypatch.setattr(engine_module, "extract", counting)
    monkeypatch.setattr("lsp_server.context.index.overlay.extract", counting)
    ctx.parsed = parsed  # type: ignore[attr-defined]
    yield ctx
    ctx.close()


def test_a_buffer_over_the_size_limit_is_not_parsed(engine: RepoContext, tmp_path: Path):
    path = str(tmp_path / "big.py")
    big = "def f():\n    return 1\n" * 2000  # 44 000 characters, over the 10 000 limit
    engine.document_changed(path, big)
    engine._reparse(path)
    assert engine.index.entry(path) is None
    explained = engine.explain(path, big, len(big) - 3, 2000)
    assert engine.parsed == []  # type: ignore[attr-defined]
    assert all(f.path != "big.py" for f in explained.files)


def test_a_buffer_that_shrinks_under_the_limit_is_parsed_again(engine: RepoContext, tmp_path: Path):
    path = str(tmp_path / "b.py")
    engine.document_changed(path, "x = 1\n" * 5000)
    engine.document_changed(path, "def small():\n    pass\n")
    engine._reparse(path)
    entry = engine.index.entry(path)
    assert entry is not None and "small" in {d.name for d in entry.symbols.definitions}


def test_a_minified_buffer_is_not_parsed(engine: RepoContext, tmp_path: Path):
    path = str(tmp_path / "m.js")
    engine.document_changed(path, "var a=1;" * 1000)  # one 8000-character line
    engine._reparse(path)
    assert engine.index.entry(path) is None
    assert engine.parsed == []  # type: ignore[attr-defined]


def test_window_keeps_whole_lines_around_the_cursor():
    text = "".join(f"line {i}\n" for i in range(10_000))
    offset = line_start(text, 5000) + 2
    part, at = window(text, offset, 1000)
    assert 900 <= len(part) <= 1000 and part.endswith("\n")
    assert part[at - 2 : at + 5] == "line 50"
    assert part.startswith("line ") and text[offset - at - 1] == "\n"
    assert window("short", 2, 1000) == ("short", 2)
    # At the very end, the window is the text's tail, whole lines from its first line start.
    part, at = window(text + "x = ", len(text) + 4, 1000)
    assert 900 <= len(part) <= 1000 and part.endswith("x = ") and at == len(part)


def test_line_starts_deep_in_a_big_text_match_a_plain_count():
    text = "ab\n" * 100_000 + "tail"
    crlf = text.replace("\n", "\r\n")
    assert line_start(text, 70_000) == 70_000 * 3
    assert line_start(crlf, 70_000) == 70_000 * 4
    assert offset_at(text, 100_000, 2) == 300_002
    assert line_start(text, 200_000) == len(text)


def test_span_at_agrees_with_offset_at():
    rng = random.Random(17)
    for _ in range(2000):
        text = "".join(rng.choice("ab\n\r😀é") for _ in range(rng.randint(0, 60)))
        for enc in ("utf-16", "utf-8", "utf-32"):
            sl = rng.randint(-1, 8)
            el = rng.choice([sl, sl + 1])
            sc, ec = rng.randint(0, 8), rng.randint(0, 8)
            assert span_at(text, (sl, sc), (el, ec), enc) == (
                offset_at(text, sl, sc, enc),
                offset_at(text, el, ec, enc),
            )
