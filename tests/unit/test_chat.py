"""Chat sessions, prompts, action specs, test-file layout and action ranges (pure domain)."""

from __future__ import annotations

from lsp_server.chat import action_specs as act
from lsp_server.chat.prompts import (
    Focus,
    chat_messages,
    context_block,
    edit_messages,
    fence,
)
from lsp_server.chat.prompts import tests_messages as build_tests_messages
from lsp_server.chat.ranges import (
    definition_named,
    enclosing_definition,
    first_definition_name,
    widen_selection,
)
from lsp_server.chat.session import ChatSession, SessionStore, estimate_tokens
from lsp_server.prompt import ContextFile


def test_history_drops_the_oldest_turns_beyond_the_budget():
    session = ChatSession(max_tokens=100)
    for i in range(5):
        session.add(f"q{i}", "a" * 100)
    assert session.tokens() <= 100
    assert [t.user for t in session.turns] == ["q3", "q4"]
    assert session.dropped == 3
    assert session.messages()[0] == {"role": "user", "content": "q3"}


def test_a_single_turn_over_budget_is_shortened_not_lost():
    session = ChatSession(max_tokens=50)
    session.add("question", "answer " * 200)
    assert len(session.turns) == 1 and session.turns[0].user == "question"
    assert session.tokens() <= 50 + estimate_tokens("question")


def test_store_keeps_sessions_apart_resets_and_applies_a_new_budget():
    store = SessionStore(max_sessions=2)
    store.get("a", 1000).add("qa", "aa")
    store.get("b", 1000).add("qb", "ab")
    assert store.get("a", 1000).messages()[0]["content"] == "qa"
    store.get("c", 1000)  # evicts the least recently used: b
    assert store.get("b", 1000).turns == []
    assert store.reset("b") and not store.reset("b")
    s = store.get("d", 1000)
    for i in range(10):
        s.add(f"q{i}", "x" * 60)
    assert len(store.get("d", 30).turns) == 1


def test_fence_outgrows_backticks_inside():
    assert fence("a = '```'\n", "python") == "````python\na = '```'\n````"


def test_chat_messages_put_context_before_the_question_and_note_dropped_turns():
    history = [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]
    messages = chat_messages(history, "why?", context="CTX", dropped_turns=2)
    assert messages[0]["role"] == "system" and "dropped" in messages[0]["content"]
    assert messages[1:3] == history
    assert messages[-1] == {"role": "user", "content": "CTX\n\nwhy?"}
    assert "dropped" not in chat_messages([], "x")[0]["content"]


def test_context_block_stays_within_budget():
    text = "".join(f"line {i}\n" for i in range(2000))
    start = text.index("line 1000")
    focus = Focus("big.py", "python", text, start, start + len("line 1000\n"))
    repo = [ContextFile("other.py", "def helper():\n    pass\n" * 100)]
    block = context_block(focus, repo, 2000)
    assert "Selected in `big.py` (lines 1001-1001)" in block
    assert "`other.py`" in block and "line 990" in block
    assert len(block) < 2000 + 500  # fences and headings on top of the budget
    assert context_block(None, [], 1000) == ""


def test_edit_and_tests_prompts_name_the_code_and_instruction():
    text = "import os\n\ndef f(x):\n    return x\n"
    focus = Focus("m.py", "python", text, text.index("def"), len(text))
    user = edit_messages(focus, "Simplify", context_chars=1000)[-1]["content"]
    assert "lines 3-4 of `m.py`" in user and "Instruction: Simplify" in user
    assert "```python\ndef f(x):\n    return x\n```" in user
    tests = build_tests_messages(focus, "tests/test_m.py", None, "pytest", context_chars=1000)
    assert "Write the new test file `tests/test_m.py`" in tests[-1]["content"]
    extend = build_tests_messages(focus, "tests/test_m.py", "def test_a(): pass\n", "pytest",
                            context_chars=1000)
    assert "keep every existing test" in extend[-1]["content"]


def test_actions_offered_per_language_and_kinds_filter():
    assert [a.command for a in act.offered("python")] == list(act.LISTED)
    assert act.ADD_TYPE_HINTS not in [a.command for a in act.offered("go")]
    assert act.kind_matches("refactor.rewrite", ["refactor"])
    assert not act.kind_matches("refactor.rewrite", ["quickfix"])
    assert act.kind_matches("quickfix", None)
    assert act.fix_title("x" * 80).endswith("…”")
    assert "by lint [E1]" in act.fix_instruction("bad", 3, "lint", "E1")


def test_test_file_layout_per_language():
    none = lambda rel: False  # noqa: E731
    assert act.test_file_for("pkg/shapes.py", "python", none) == "tests/test_shapes.py"
    assert act.test_file_for("src/app/util.ts", "typescript", none) == "src/app/util.test.ts"
    assert act.test_file_for("web/a.js", "javascript", none) == "web/a.test.js"
    assert act.test_file_for("cmd/run.go", "go", none) == "cmd/run_test.go"
    assert act.test_file_for("src/main/java/x/Foo.java", "java", none) == \
        "src/test/java/x/FooTest.java"
    existing = {"pkg/test_shapes.py", "src/app/util.spec.ts"}
    assert act.test_file_for("pkg/shapes.py", "python", existing.__contains__) == \
        "pkg/test_shapes.py"
    assert act.test_file_for("src/app/util.ts", "typescript", existing.__contains__) == \
        "src/app/util.spec.ts"
    assert act.test_file_for("m.py", "python", {"test"}.__contains__) == "test/test_m.py"


def test_test_framework_detection():
    assert act.test_framework("python", None).startswith("pytest")
    assert act.test_framework("python", "import unittest\n") == "unittest"
    assert act.test_framework("typescript", None, '{"devDependencies": {"jest": "29"}}') == "jest"
    assert act.test_framework("typescript", "import { it } from 'vitest'") == "vitest"
    assert act.test_framework("typescript", None, "not json").startswith("node:test")
    assert "testing" in act.test_framework("go", None)


PY = ("import os\n\n@dec\ndef f(x):\n    return x\n\n\n"
      "class A:\n    def m(self):\n        return 1\n")


def test_enclosing_definition_python_with_decorator_and_method():
    s, e = enclosing_definition(PY, PY.index("return x"), "python")
    assert PY[s:e] == "@dec\ndef f(x):\n    return x"
    s, e = enclosing_definition(PY, PY.index("return 1"), "python")
    assert PY[s:e] == "    def m(self):\n        return 1"
    assert enclosing_definition(PY, 2, "python") is None
    assert enclosing_definition(PY, 2, None) is None
    assert enclosing_definition("anything", 0, "cobol") is None


def test_enclosing_definition_typescript_arrow_and_go():
    ts = "export const add = (a: number, b: number) => {\n  return a + b;\n};\nconst z = 1;\n"
    s, e = enclosing_definition(ts, ts.index("a + b"), "typescript")
    assert ts[s:e] == "export const add = (a: number, b: number) => {\n  return a + b;\n};"
    go = "package m\n\nfunc (s *S) Run() int {\n\treturn 1\n}\n"
    s, e = enclosing_definition(go, go.index("return"), "go")
    assert go[s:e].startswith("func (s *S) Run()") and go[s:e].endswith("}")


def test_enclosing_definition_with_non_ascii_text():
    text = "def grüße():\n    return '😀'\n"
    s, e = enclosing_definition(text, text.index("return"), "python")
    assert text[s:e] == text.rstrip("\n")


def test_definition_lookup_by_name():
    assert first_definition_name("@d\ndef g():\n    pass\n", "python") == "g"
    assert first_definition_name("export function q() {}", "typescript") == "q"
    assert first_definition_name("x = 1", "python") is None
    s, e = definition_named(PY, "python", "m")
    assert PY[s:e] == "    def m(self):\n        return 1"
    assert definition_named(PY, "python", "missing") is None


def test_widen_selection():
    text = "a = 1\n    b = 2\n    c = 3\nd = 4\n"
    start, end = text.index("b ="), text.index("c = 3") + 2
    assert text[slice(*widen_selection(text, start, end))] == "    b = 2\n    c = 3"
    one = text.index("b =")
    assert widen_selection(text, one, one + 1) == (one, one + 1)
    whole = text.index("    b"), text.index("d =")
    assert widen_selection(text, *whole) == whole
