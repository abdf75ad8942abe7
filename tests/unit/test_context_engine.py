"""RepoContext lifecycle: background build with progress, open buffers, file events."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from lsp_server.context.repo_context import RepoContext, changed_lines, keep_order
from lsp_server.prompt import ContextFile
from tests.unit._ctx_helpers import fixture_repo


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return fixture_repo("ctx_py", tmp_path)


async def test_build_reports_progress_without_blocking(root: Path, tmp_path: Path) -> None:
    for i in range(40):
        (root / "shop" / f"extra_{i}.py").write_text(f"def extra_{i}():\n    pass\n")
    engine = RepoContext([str(root)], cache_dir=str(tmp_path / "cache"))
    reports: list[tuple[int, int]] = []
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.005)

    task = asyncio.create_task(ticker())
    await engine.build(lambda d, t: reports.append((d, t)))
    task.cancel()
    assert engine.ready
    assert reports[0][0] == 0 and reports[-1][0] == reports[-1][1] == 46
    assert ticks > 1  # the event loop kept running during the build
    engine.close()


def test_edit_in_one_open_file_changes_context_in_another(root: Path, tmp_path: Path) -> None:
    engine = RepoContext([str(root)], cache_dir=str(tmp_path / "cache"), workers=1)
    engine.build_sync()
    models = root / "shop" / "models.py"
    checkout = root / "shop" / "checkout.py"
    text = checkout.read_text()
    offset = text.index("        total = ")
    before = {f.path: f.text for f in engine.context_files(str(checkout), text, offset, 6000)}
    assert "apply_coupon" not in before.get("shop/models.py", "")
    # The user adds a method to Cart in another, unsaved buffer.
    new_models = models.read_text().replace(
        "    def _recompute(self) -> None:",
        "    def apply_coupon(self, code: str) -> int:\n"
        '        """Apply a coupon code and return the new total."""\n'
        "        return 0\n\n    def _recompute(self) -> None:")
    engine.document_changed(str(models), models.read_text())
    engine.document_changed(str(models), new_models)
    after = {f.path: f.text for f in engine.context_files(str(checkout), text, offset, 6000)}
    assert "def apply_coupon(self, code: str) -> int:" in after["shop/models.py"]
    # Closing the buffer without saving brings the disk version back.
    engine.document_closed(str(models))
    closed = {f.path: f.text for f in engine.context_files(str(checkout), text, offset, 6000)}
    assert "apply_coupon" not in closed.get("shop/models.py", "")
    engine.close()


def test_files_changed_refreshes_in_background(root: Path, tmp_path: Path) -> None:
    engine = RepoContext([str(root)], cache_dir=str(tmp_path / "cache"), workers=1)
    engine.build_sync()
    new = root / "shop" / "coupons.py"
    new.write_text("def redeem(code: str) -> bool:\n    return True\n")
    engine.files_changed([(str(new), "created")])
    deadline = time.monotonic() + 10
    while not list(engine.index.definitions_named("redeem")) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert list(engine.index.definitions_named("redeem"))
    new.unlink()
    engine.files_changed([(str(new), "deleted")])
    deadline = time.monotonic() + 10
    while list(engine.index.definitions_named("redeem")) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not list(engine.index.definitions_named("redeem"))
    engine.close()


def test_qwenignore_change_applies(root: Path, tmp_path: Path) -> None:
    engine = RepoContext([str(root)], cache_dir=str(tmp_path / "cache"), workers=1)
    engine.build_sync()
    report = root / "shop" / "report.py"
    assert engine.may_send(str(report))
    (root / ".qwenignore").write_text("shop/private/\nshop/report.py\n")
    engine.files_changed([(str(root / ".qwenignore"), "changed")])
    deadline = time.monotonic() + 10
    while engine.may_send(str(report)) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not engine.may_send(str(report))
    engine.close()


def test_recent_edits_of_other_open_files_are_offered(root: Path, tmp_path: Path) -> None:
    engine = RepoContext([str(root)], cache_dir=str(tmp_path / "cache"), workers=1)
    engine.build_sync()
    report = root / "shop" / "report.py"
    old = report.read_text()
    engine.document_changed(str(report), old)
    engine.document_changed(str(report), old + "\nTAX_RATE_PERCENT = 21\n")
    current = root / "shop" / "checkout.py"
    text = current.read_text()
    files = {f.path: f.text for f in engine.context_files(str(current), text, len(text), 6000)}
    assert "TAX_RATE_PERCENT = 21" in files["shop/report.py"]
    engine.close()


def test_changed_lines() -> None:
    assert changed_lines("a\nb\nc\n", "a\nB\nc\n") == (1, 1)
    assert changed_lines("a\nb\n", "a\nb\nc\nd\n") == (2, 4)
    assert changed_lines("a\nb\nc\n", "a\nc\n") == (1, 1)


def test_may_send_outside_roots(tmp_path: Path) -> None:
    engine = RepoContext([str(tmp_path / "nothing")], cache_dir=str(tmp_path / "c"))
    assert engine.may_send("/somewhere/else/app.py")
    assert not engine.may_send("/somewhere/else/.env.local")
    engine.close()


def test_ignored_open_buffers_never_feed_context(root: Path, tmp_path: Path) -> None:
    engine = RepoContext([str(root)], cache_dir=str(tmp_path / "cache"), workers=1)
    engine.build_sync()
    secret = root / "shop" / "secret_notes.py"  # listed in shop/.gitignore
    secret.write_text("NOTES = 1\n")
    engine.document_changed(str(secret), "NOTES = 1\n")
    engine.document_changed(str(secret), "NOTES = 1\ndef leak_me():\n    pass\n")
    assert not list(engine.index.definitions_named("leak_me"))
    current = root / "shop" / "checkout.py"
    text = current.read_text() + "\nleak_me()\n"
    files = engine.context_files(str(current), text, len(text), 6000)
    assert not any("secret_notes" in f.path or "leak_me" in f.text for f in files)
    engine.close()


def test_similar_code_from_other_open_files(root: Path, tmp_path: Path) -> None:
    engine = RepoContext([str(root)], cache_dir=str(tmp_path / "cache"), workers=1)
    engine.build_sync()
    other = root / "shop" / "report.py"
    twin = ("def weekly_totals(orders, calendar):\n    buckets = {}\n"
            "    for order in orders:\n        week = calendar.week_of(order.placed_at)\n"
            "        buckets.setdefault(week, []).append(order.amount)\n    return buckets\n")
    engine.document_changed(str(other), twin)
    current = root / "shop" / "checkout.py"
    text = ("def monthly_totals(orders, calendar):\n    buckets = {}\n"
            "    for order in orders:\n        month = calendar.month_of(order.placed_at)\n")
    files = {f.path: f.text for f in engine.context_files(str(current), text, len(text), 6000)}
    assert "week = calendar.week_of(order.placed_at)" in files["shop/report.py"]
    engine.close()


def test_typing_along_a_line_reuses_the_answer(root: Path, tmp_path: Path) -> None:
    """Typing a member's name after its receiver's dot reuses the answer (and keeps the
    prompt's prefix as it was); a new receiver on the same line asks afresh."""
    engine = RepoContext([str(root)], cache_dir=str(tmp_path / "cache"), workers=1)
    engine.build_sync()
    current = root / "shop" / "checkout.py"
    text = current.read_text() + "\ndef extra(cart: Cart, item: Item):\n    cart.\n"
    offset = len(text) - 1
    engine.document_changed(str(current), text)
    first = engine.explain(str(current), text, offset, 6000)
    typed = text[:offset] + "add" + text[offset:]
    engine.document_changed(str(current), typed)
    again = engine.explain(str(current), typed, offset + 3, 6000)
    assert again.timings_ms.get("cached") == 1.0
    assert again.files == first.files
    other_receiver = text[:offset] + "add_item(item." + text[offset:]
    engine.document_changed(str(current), other_receiver)
    item = engine.explain(str(current), other_receiver, offset + 14, 6000)
    assert "cached" not in item.timings_ms
    assert "def discounted" in {f.path: f.text for f in item.files}["shop/models.py"]
    # A change in another open file is part of the answer: no reuse then.
    other = root / "shop" / "report.py"
    engine.document_changed(str(other), other.read_text() + "\nX = 1\n")
    third = engine.explain(str(current), typed, offset + 8, 6000)
    assert "cached" not in third.timings_ms
    engine.close()


def test_blocks_that_stay_keep_their_place_at_the_front() -> None:
    a, b, c = (ContextFile(p, f"def {p[0]}():\n    pass\n") for p in ("a.py", "b.py", "c.py"))
    b2 = ContextFile("b.py", "def b(changed):\n    pass\n")
    # "a" appears before "c" in retrieval order now, but "c" was given first last time.
    assert keep_order([c, b], [a, b, c]) == [c, b, a]
    # A changed block counts as new: after every unchanged one.
    assert keep_order([b, c], [b2, c]) == [c, b2]
    assert keep_order([], [a, b]) == [a, b]


def _stretch_repo(tmp_path: Path) -> tuple[RepoContext, Path]:
    root = tmp_path / "stretch"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "alpha.py").write_text(
        "def alpha_total(values: list[int]) -> int:\n    return sum(values)\n")
    (root / "pkg" / "beta.py").write_text("".join(
        f"def beta_helper_{i}(x: int) -> int:\n    return x + {i}\n\n" for i in range(30)))
    main = root / "pkg" / "main.py"
    main.write_text("from pkg.alpha import alpha_total\nfrom pkg.beta import *\n")
    engine = RepoContext([str(root)], cache_dir=str(tmp_path / "cache"), workers=1)
    engine.build_sync()
    return engine, main


def test_context_holds_still_while_editing_nearby(tmp_path: Path) -> None:
    """Any change to the cross-file part costs the server its cached copy of the current
    file (which follows it), so near where editing started it changes only for something
    the cursor clearly needs."""
    engine, main = _stretch_repo(tmp_path)
    head = main.read_text() + "\n\ndef run(values):\n    total = alpha_total(values)\n    "
    first = engine.context_files(str(main), head, len(head), 800)
    assert "def alpha_total" in "".join(f.text for f in first)
    # Typing on, a few lines further: the same blocks, byte for byte.
    more = head + "print(total)\n    count = len(values)\n    "
    assert engine.context_files(str(main), more, len(more), 800) == first
    # A call of a definition not in the context yet: it is added after what was there.
    need = more + "extra = beta_helper_17(count)\n    "
    grown = engine.context_files(str(main), need, len(need), 800)
    assert grown[: len(first)] == first
    assert "def beta_helper_17" in "".join(f.text for f in grown[len(first):])
    # Far away, the context is chosen afresh.
    far = need + "\n" * 60 + "def other():\n    return beta_helper_3(1)\n"
    engine.context_files(str(main), far, len(far) - 1, 800)
    assert engine._epochs[str(main)].line == far.count("\n", 0, len(far) - 1)
    engine.close()


async def test_open_buffers_are_reparsed_off_the_event_loop(root: Path, tmp_path: Path) -> None:
    # Parsing a large buffer takes tens of ms: on the loop, it would hold up the completion
    # request that a pause in typing brings.
    import threading

    engine = RepoContext([str(root)], cache_dir=str(tmp_path / "cache"))
    engine.build_sync()
    threads: list[str] = []
    set_overlay = engine.index.set_overlay

    def recording(*args: object) -> object:
        threads.append(threading.current_thread().name)
        return set_overlay(*args)

    engine.index.set_overlay = recording  # type: ignore[method-assign]
    models = root / "shop" / "models.py"
    engine.document_changed(str(models), models.read_text())
    engine.document_changed(str(models), models.read_text() + "\ndef fresh_name():\n    pass\n")
    for _ in range(100):
        await asyncio.sleep(0.05)
        doc = engine._open[str(models)]
        if doc.symbols is not None and any(
                d.name == "fresh_name" for d in doc.symbols.definitions):
            break
    else:
        raise AssertionError("the edited buffer was never re-parsed")
    assert threads and all(name.startswith("qwen-reparse") for name in threads)
    engine.close()
