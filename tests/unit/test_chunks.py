"""Similar code from the whole repository: identifier windows, BM25 search, fresh and bounded."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from lsp_server.context.chunks import ChunkIndex, query_tokens, window_tokens
from lsp_server.context.repo_context import RepoContext

# A routing table in one file, never opened; the user writes another one elsewhere.
ROUTES = "".join(
    f"register_route(application, '/{name}', {name}_handler, methods=['GET'],"
    f" auth=require_token)\n" for name in ("users", "orders", "invoices", "payments")
)
FILLER = "".join(f"def helper_{i}(value):\n    return value * {i}\n\n" for i in range(30))
CURSOR_FILE = (
    "from web import application\n\n"
    "register_route(application, '/stock', stock_handler, methods=['GET'], "
    "auth=require_token)\n"
)


def test_windows_are_identifier_sets_of_twenty_lines():
    text = "\n".join(f"alpha_{i} = beta_{i} + gamma" for i in range(45))
    windows = window_tokens(text)
    assert [line for line, _ in windows] == [0, 20, 40]
    assert b"alpha_0" in windows[0][1] and b"alpha_20" not in windows[0][1]
    assert b"gamma" in windows[2][1]
    # Keywords and one-letter names say nothing: dropped.
    assert window_tokens("if x:\n    return self\n") == ()


def test_search_ranks_by_shared_rare_identifiers_and_forgets_removed_files():
    chunks = ChunkIndex()
    chunks.add_file("/r/routes.py", window_tokens(ROUTES))
    for i in range(40):
        chunks.add_file(f"/r/util_{i}.py", window_tokens(FILLER))
    query = query_tokens(CURSOR_FILE, len(CURSOR_FILE))
    best = chunks.search(query)
    assert best and best[0][1] == "/r/routes.py" and best[0][2] == 0
    assert chunks.search(query, exclude={"/r/routes.py"}) == []
    chunks.remove_file("/r/routes.py")
    assert chunks.search(query) == []
    # A file indexed again replaces its old windows.
    chunks.add_file("/r/routes.py", window_tokens(FILLER + ROUTES))
    assert chunks.search(query)[0][2] == 80


def test_compaction_keeps_answers_right():
    chunks = ChunkIndex()
    for round_ in range(3):
        for i in range(700):
            chunks.add_file(f"/r/f{i}.py", window_tokens(f"unique_name_{i}_{round_} = a_b + c_d\n"
                                                         f"other_{i} = more_{i}\n"))
    assert len(chunks) == 700
    assert chunks.search({b"unique_name_5_2", b"other_5", b"more_5"})[0][1] == "/r/f5.py"
    assert chunks.search({b"unique_name_5_0"}) == []


def _repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "web").mkdir(parents=True)
    (root / "web" / "__init__.py").write_text("application = object()\n")
    (root / "web" / "routes.py").write_text(ROUTES)
    for i in range(5):
        (root / "web" / f"util_{i}.py").write_text(FILLER)
    (root / ".env").write_text(ROUTES)  # as similar as can be, and never sent
    (root / "app.py").write_text(CURSOR_FILE)
    return root


def _similar(explained) -> list:
    return [s for s in explained.snippets if s.source == "similar"]


def test_one_shot_callers_get_similar_code_from_files_never_opened(tmp_path: Path):
    root = _repo(tmp_path)
    engine = RepoContext([str(root)], cache_dir=str(tmp_path / "cache"))
    engine.build_sync()
    try:
        explained = engine.explain(str(root / "app.py"), CURSOR_FILE, len(CURSOR_FILE), 6000)
    finally:
        engine.close()
    (snippet,) = _similar(explained)
    assert snippet.rel == "web/routes.py" and snippet.start_line == 0
    text = "".join(f.text for f in explained.files)
    assert "'/invoices', invoices_handler" in text


@pytest.mark.parametrize("persist", [True, False])
async def test_the_server_reads_windows_off_the_hot_path_and_keeps_them_fresh(
        tmp_path: Path, persist: bool):
    root = _repo(tmp_path)
    engine = RepoContext([str(root)], cache_dir=str(tmp_path / "cache"), persist=persist)
    await engine.build(lambda d, t: None)
    for _ in range(100):  # the similar-code index fills after the symbol index, in background
        if engine.index.chunks.ready:
            break
        await asyncio.sleep(0.02)
    path = str(root / "app.py")
    # First ask: the window's text is not at hand yet; it is read in the background.
    first = engine.explain(path, CURSOR_FILE, len(CURSOR_FILE), 6000)
    assert not _similar(first)
    await asyncio.sleep(0.2)
    moved = CURSOR_FILE + "\n"  # the cursor moved to a new line: a fresh retrieval
    second = engine.explain(path, moved, len(moved), 6000)
    assert [s.rel for s in _similar(second)] == ["web/routes.py"]
    # The file changes on disk: its windows follow.
    (root / "web" / "routes.py").write_text(FILLER)
    engine.index.refresh_file(str(root / "web" / "routes.py"))
    moved += "\n"
    assert not _similar(engine.explain(path, moved, len(moved), 6000))
    engine.close()
