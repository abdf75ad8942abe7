"""The next-edit edit history: hunks, coalescing, bounds, undo, secrets."""

from __future__ import annotations

from lsp_server.nextedit.history import MAX_HUNK_CHARS, EditHistory, changed_lines
from lsp_server.nextedit.service import NextEditService
from lsp_server.settings import resolve_settings

BASE = "def f(a):\n    return a\n\nx = f(1)\n"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def type_into(history: EditHistory, text: str, at: int, typed: str) -> str:
    for ch in typed:
        after = text[:at] + ch + text[at:]
        history.record("k", "a.py", text, after)
        text, at = after, at + 1
    return text


def test_changed_lines_are_whole_lines():
    assert changed_lines(BASE, BASE) is None
    after = BASE.replace("f(a)", "f(a, b)")
    assert changed_lines(BASE, after) == (0, "def f(a):\n", "def f(a, b):\n")
    inserted = BASE.replace("\nx =", "\ny = 2\nx =")
    assert changed_lines(BASE, inserted) == (3, "", "y = 2\n")


def test_a_burst_of_typing_on_one_line_is_one_hunk():
    history = EditHistory(clock=Clock())
    type_into(history, BASE, BASE.index("a):") + 1, ", bee")
    (hunk,) = history.hunks()
    assert (hunk.line, hunk.old, hunk.new) == (0, "def f(a):\n", "def f(a, bee):\n")
    assert hunk.unified() == "@@ -1,1 +1,1 @@\n-def f(a):\n+def f(a, bee):"


def test_typing_elsewhere_or_after_a_pause_starts_a_new_hunk():
    clock = Clock()
    history = EditHistory(clock=clock)
    text = type_into(history, BASE, BASE.index("a):") + 1, ", b")
    text = type_into(history, text, text.index("f(1)") + 3, ", 2")
    assert [h.line for h in history.hunks()] == [0, 3]
    clock.now += 10
    type_into(history, text, text.index("f(1, 2)") + 6, ", 3")
    assert len(history.hunks()) == 3


def test_typed_and_erased_leaves_nothing_and_undo_is_an_edit():
    history = EditHistory(clock=Clock())
    after = type_into(history, BASE, 4, "xy")
    history.record("k", "a.py", after, after[:4] + "x" + after[6:])
    history.record("k", "a.py", after[:4] + "x" + after[6:], BASE)
    assert history.hunks() == []
    # A multi-line change undone in one step is recorded as its own edit.
    renamed = BASE.replace("a", "alpha")
    history.record("k", "a.py", BASE, renamed)
    history.record("k", "a.py", renamed, BASE)
    assert [(h.old, h.new) for h in history.hunks()][-1][1].count("alpha") == 0
    assert len(history.hunks()) == 2
    assert history.before_last("k", BASE) == renamed


def test_bounded_in_count_and_size():
    clock = Clock()
    history = EditHistory(max_hunks=4, clock=clock)
    text = BASE
    for i in range(10):
        clock.now += 10
        after = text + f"line{i} = {i}\n"
        history.record("k", "a.py", text, after)
        text = after
    assert len(history) == 4
    big = "x" * (MAX_HUNK_CHARS * 3) + "\n"
    clock.now += 10
    history.record("k", "a.py", text, text + big)
    assert len(history.hunks()[-1].new) <= MAX_HUNK_CHARS


def test_secret_files_never_enter_the_history(tmp_path):
    settings, _ = resolve_settings({"nextEdit": {"model": "qwen-next"}}, {})
    service = NextEditService(lambda: None, lambda: settings)  # type: ignore[arg-type,return-value]
    env = str(tmp_path / ".env")
    service.document_opened("file://" + env, "TOKEN=abc\n")
    service.document_changed("file://" + env, env, ".env", "TOKEN=very-secret\n")
    assert service.history.hunks() == []
    code = str(tmp_path / "a.py")
    service.document_opened("file://" + code, BASE)
    service.document_changed("file://" + code, code, "a.py", BASE.replace("f(1)", "f(2)"))
    assert [h.path for h in service.history.hunks()] == ["a.py"]


def test_edits_after_next_edits_are_turned_on_are_recorded():
    off, _ = resolve_settings({}, {})
    on, _ = resolve_settings({"nextEdit": {"model": "qwen-next"}}, {})
    current = [off]
    service = NextEditService(lambda: None, lambda: current[0])  # type: ignore[arg-type,return-value]
    service.document_opened("file:///a.py", BASE)  # opened before the settings arrived
    first = BASE.replace("f(1)", "f(2)")
    service.remember("file:///a.py", first)
    current[0] = on
    service.document_changed("file:///a.py", None, "a.py", first.replace("f(2)", "f(3)"))
    assert [(h.old, h.new) for h in service.history.hunks()] == [("x = f(2)\n", "x = f(3)\n")]
