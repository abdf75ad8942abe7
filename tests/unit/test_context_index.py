"""RepoIndex: build, persistence keyed by content hash, updates, overlays, import resolution."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from lsp_server.context.chunks import ChunkIndex, window_tokens
from lsp_server.context.index import FileEntry, RepoIndex, default_cache_dir
from lsp_server.context.index.maps import LookupMaps
from lsp_server.context.symbols import Definition, FileSymbols, Import
from tests.unit._ctx_helpers import add_unwanted_files, fixture_repo


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = fixture_repo("ctx_py", tmp_path)
    add_unwanted_files(root)
    return root


def _index(root: Path, cache: Path) -> RepoIndex:
    return RepoIndex([str(root)], cache_dir=str(cache))


def test_build_in_process_and_persist(repo: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    idx = _index(repo, cache)
    seen: list[tuple[int, int]] = []
    stats = idx.build(lambda d, t: seen.append((d, t)))
    assert stats.files == 6 and stats.parsed == 6 and stats.reused == 0
    assert stats.skipped["binary"] == 1  # shop/blob.py
    assert stats.skipped["minified"] == 1  # shop/bundle.js
    assert seen[0] == (0, 8) and seen[-1] == (8, 8)
    assert [d.name for _, d in idx.definitions_named("PaymentGateway")] == ["PaymentGateway"]
    idx.close()
    # Nothing is written inside the repository: the store lives under the cache dir.
    assert not any(p.suffix == ".sqlite" for p in repo.rglob("*"))
    assert list((cache / "index").glob("*.sqlite"))

    warm = _index(repo, cache)
    stats = warm.build()
    assert stats.parsed == 0 and stats.reused == 6
    assert [d.name for _, d in warm.definitions_named("Cart")] == ["Cart"]
    warm.close()


def test_touched_but_unchanged_file_is_reused_by_hash(repo: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    _index(repo, cache).build()
    models = repo / "shop" / "models.py"
    os.utime(models, (1, 1))
    (repo / "shop" / "report.py").write_text("def summary2():\n    pass\n")
    idx = _index(repo, cache)
    stats = idx.build()
    assert stats.parsed == 1 and stats.reused == 5
    assert list(idx.definitions_named("summary2")) and not list(idx.definitions_named("summary"))


def test_process_pool_build(repo: Path, tmp_path: Path) -> None:
    for i in range(60):  # enough files for the pool to be used
        (repo / "shop" / f"gen_{i}.py").write_text(f"def generated_{i}(x: int) -> int:\n"
                                                    "    return x\n")
    idx = _index(repo, tmp_path / "cache")
    stats = idx.build(workers=2)
    assert stats.parsed == 66
    assert list(idx.definitions_named("generated_59"))


def test_refresh_remove_and_overlay(repo: Path, tmp_path: Path) -> None:
    idx = _index(repo, tmp_path / "cache")
    idx.build()
    report = repo / "shop" / "report.py"
    report.write_text("def detailed(lines):\n    pass\n")
    assert idx.refresh_file(str(report))
    assert list(idx.definitions_named("detailed"))
    assert not list(idx.definitions_named("summary"))
    # The open buffer wins over the disk until it is closed.
    idx.set_overlay(str(report), "def from_buffer():\n    pass\n", "python")
    assert list(idx.definitions_named("from_buffer"))
    assert not list(idx.definitions_named("detailed"))
    idx.clear_overlay(str(report))
    assert list(idx.definitions_named("detailed"))
    assert not list(idx.definitions_named("from_buffer"))
    report.unlink()
    idx.remove_file(str(report))
    assert not list(idx.definitions_named("detailed"))
    # Excluded files are never indexed, even when reported by a watcher.
    assert not idx.refresh_file(str(repo / "shop" / "private" / "internal.py"))


def test_python_import_resolution(repo: Path, tmp_path: Path) -> None:
    idx = _index(repo, tmp_path / "cache")
    idx.build()
    checkout = str(repo / "shop" / "checkout.py")
    absolute = idx.resolve_import(checkout, Import("shop.models"), "python")
    relative = idx.resolve_import(checkout, Import(".payments.gateway"), "python")
    package = idx.resolve_import(checkout, Import(".payments"), "python")
    assert absolute == [str(repo / "shop" / "models.py")]
    assert relative == [str(repo / "shop" / "payments" / "gateway.py")]
    assert package == [str(repo / "shop" / "payments" / "__init__.py")]
    assert idx.resolve_import(checkout, Import("json"), "python") == []


def test_typescript_and_go_resolution(tmp_path: Path) -> None:
    ts = fixture_repo("ctx_ts", tmp_path)
    idx = _index(ts, tmp_path / "c1")
    idx.build()
    service = str(ts / "src" / "service.ts")
    assert idx.resolve_import(service, Import("./models/user"), "typescript") == [
        str(ts / "src" / "models" / "user.ts")]
    go = fixture_repo("ctx_go", tmp_path)
    gidx = _index(go, tmp_path / "c2")
    gidx.build()
    main = str(go / "main.go")
    assert gidx.resolve_import(main, Import("example.com/shop/store"), "go") == [
        str(go / "store" / "store.go")]
    assert gidx.resolve_import(main, Import("fmt"), "go") == []


def test_changes_on_disk_are_found_by_looking(tmp_path: Path) -> None:
    """For clients that report no file events: sources created, edited and deleted are
    found by stat, and so are configuration files, by name (go.mod) or because resolution
    read them (a tsconfig `extends` target); a file that did not change is not reported."""
    go = fixture_repo("ctx_go", tmp_path)
    idx = _index(go, tmp_path / "cache")
    idx.build()
    assert idx.changes_on_disk() == []  # the first look only notes what is there
    store, main = go / "store" / "store.go", go / "main.go"
    base = go / "tsconfig.base.json"
    base.write_text("{}")
    idx._imports.config_paths = lambda: frozenset({str(base)})  # as if `extends` read it
    assert idx.changes_on_disk() == [(str(base), "created")]
    (go / "extra.go").write_text("package main\n\nfunc Extra() {}\n")
    store.write_text(store.read_text() + "\nfunc Added() {}\n")
    main.unlink()
    (go / "go.mod").write_text((go / "go.mod").read_text() + "\n// edited\n")
    base.unlink()
    assert sorted(idx.changes_on_disk()) == sorted([
        (str(main), "deleted"), (str(go / "extra.go"), "created"), (str(store), "changed"),
        (str(go / "go.mod"), "changed"), (str(base), "deleted")])
    assert idx.changes_on_disk() == []
    os.utime(store, ns=(1, 1))  # a stat that differs is enough: the refresh reads the text
    assert idx.changes_on_disk() == [(str(store), "changed")]


def test_default_cache_dir_honours_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir().startswith(str(tmp_path / "xdg"))


_SEARCH_ONE = """
from lsp_server.context.chunks import ChunkIndex, window_tokens
index = ChunkIndex()
for i in range(40):  # every file shares three names with the query, each as rare as the next
    names = " ".join(f"name_{(i * 3 + k) % 60}" for k in range(3))
    index.add_file(f"/r/f{i}.py", window_tokens(f"x = ({names}, other_{i}, more_{i})\\n"))
query = {f"name_{k}".encode() for k in range(60)}
print(index.search(query, limit=4, min_share=0.0))
"""


def test_similar_code_is_the_same_in_every_process() -> None:
    """Windows tied on score are chosen the same way whatever the process's hash seed: the
    same buffer gets the same prompt from every run of the server."""
    root = Path(__file__).resolve().parents[2]
    found = set()
    for seed in ("1", "2", "3", "4"):
        proc = subprocess.run([sys.executable, "-c", _SEARCH_ONE], capture_output=True,
                              text=True, cwd=root, timeout=60,
                              env={**os.environ, "PYTHONHASHSEED": seed})
        assert proc.returncode == 0, proc.stderr
        found.add(proc.stdout)
    assert len(found) == 1, found


def test_files_of_a_directory_come_by_name_not_by_build_order() -> None:
    """A parallel build registers files in the order workers finish: the package's files
    (offered first to first uses in Go, truncated past a limit) must not follow it."""
    maps = LookupMaps()
    for name in ("z.go", "a.go", "m.go"):
        maps.set_disk(FileEntry(f"/r/pkg/{name}", f"pkg/{name}", "/r", FileSymbols("go")))
    assert maps.files_in_dir("/r/pkg") == ["/r/pkg/a.go", "/r/pkg/m.go", "/r/pkg/z.go"]


def test_similar_code_is_the_same_whatever_order_files_were_indexed_in() -> None:
    """A parallel build indexes files in the order its workers finish them: windows tied on
    score still come in one order, by file."""
    answers = set()
    for order in (range(40), reversed(range(40))):
        index = ChunkIndex()
        for i in order:
            index.add_file(f"/r/f{i:02d}.py",
                           window_tokens(f"x = (shared_a, shared_b, own_{i})\n"))
        answers.add(tuple(index.search({b"shared_a", b"shared_b"}, limit=4)))
    assert len(answers) == 1, answers


def test_definitions_of_a_name_come_by_file_not_by_build_order() -> None:
    """`definitions_named` and `members_of` feed tie-breaks in ranking: they must not follow
    the order files were registered in (a parallel build, an open buffer reparsed)."""
    answers = set()
    for names in (("z.go", "a.go", "m.go"), ("m.go", "a.go", "z.go")):
        maps = LookupMaps()
        for name in names:
            symbols = FileSymbols("go", definitions=[
                Definition("Get", "method", "Ctx", 1, 1, "func (c *Ctx) Get()")])
            maps.set_disk(FileEntry(f"/r/pkg/{name}", f"pkg/{name}", "/r", symbols))
        answers.add((tuple(e.rel for e, _ in maps.definitions_named("Get")),
                     tuple(e.rel for e, _ in maps.members_of("Ctx"))))
    assert answers == {(("pkg/a.go", "pkg/m.go", "pkg/z.go"),) * 2}, answers
