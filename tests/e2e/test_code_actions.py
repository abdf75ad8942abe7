"""End to end: Qwen code actions listed, resolved and run as commands through a real client."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from lsp_server.wire import plain
from testkit.fake_endpoint import FakeEndpoint, Reply
from testkit.session import EDIT_CAPS, chat_options, insert, open_doc, record_edits, start
from tests.e2e.test_chat import chat_bodies, collect_deltas

PY = ("import math\n"
      "\n"
      "\n"
      "class Shapes:\n"
      "    def area(self, r):\n"
      "        if r < 0:\n"
      "            raise ValueError('negative')\n"
      "        result = 3.14 * r * r\n"
      "        return result\n"
      "\n"
      "\n"
      "TOTAL = 1\n")
TS = ("export function total(items: number[]) {\n"
      "  let sum = 0;\n"
      "  for (const i of items) { sum += i; }\n"
      "  return sum;\n"
      "}\n")
ALL_TITLES = ["Qwen: Explain", "Qwen: Refactor…", "Qwen: Simplify", "Qwen: Add type hints",
              "Qwen: Add docstring", "Qwen: Generate unit tests"]
COMMANDS = ["qwen.explain", "qwen.refactor", "qwen.simplify", "qwen.addTypeHints",
            "qwen.addDocstring", "qwen.generateTests", "qwen.fix"]
RESOLVE_CAPS = types.ClientCapabilities(
    workspace=EDIT_CAPS.workspace,
    text_document=types.TextDocumentClientCapabilities(code_action=types.CodeActionClientCapabilities(
        data_support=True,
        resolve_support=types.ClientCodeActionResolveOptions(properties=["edit"]),
        code_action_literal_support=types.ClientCodeActionLiteralOptions(
            code_action_kind=types.ClientCodeActionKindOptions(value_set=["quickfix",
                                                                          "refactor"])))))


_IDS = itertools.count()


def pos(line: int, character: int) -> types.Position:
    return types.Position(line=line, character=character)


async def list_actions(client: LanguageClient, uri: str, start: types.Position,
                       end: types.Position | None = None,
                       diagnostics: list[types.Diagnostic] | None = None,
                       only: list[str] | None = None) -> list[types.CodeAction]:
    """Return the listed actions.

    lsprotocol decodes any listed item with a `command` key as a Command, even a CodeAction
    carrying one; so read the raw result and structure each item as a CodeAction.
    """
    msg_id = f"actions-{next(_IDS)}"
    future = client.protocol.send_request(types.TEXT_DOCUMENT_CODE_ACTION, types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        range=types.Range(start=start, end=end or start),
        context=types.CodeActionContext(diagnostics=diagnostics or [], only=only)),
        msg_id=msg_id)
    client.protocol._result_types.pop(msg_id, None)
    result = await asyncio.wrap_future(future)
    converter = client.protocol._converter
    return [converter.structure(plain(item), types.CodeAction) for item in result or []]


def by_title(actions: list[types.CodeAction], prefix: str) -> types.CodeAction:
    return next(a for a in actions if a.title.startswith(prefix))


async def run(client: LanguageClient, command: types.Command | None, msg_id: str | None = None,
              **extra: Any) -> Any:
    assert command is not None
    args = [{**command.arguments[0], **extra}]
    result = await client.protocol.send_request_async(
        types.WORKSPACE_EXECUTE_COMMAND,
        types.ExecuteCommandParams(command=command.command, arguments=args), msg_id=msg_id)
    return SimpleNamespace(**result) if isinstance(result, dict) else result


async def test_capabilities_advertise_resolve_and_commands(
    client: LanguageClient, endpoint: FakeEndpoint, tmp_path: Path
):
    caps = (await start(client, chat_options(endpoint), tmp_path)).capabilities
    assert caps.code_action_provider.resolve_provider is True
    assert {"quickfix", "refactor.rewrite"} <= set(caps.code_action_provider.code_action_kinds)
    assert set(COMMANDS) <= set(caps.execute_command_provider.commands)


async def test_actions_on_the_function_around_the_cursor_in_python(
    client: LanguageClient, endpoint: FakeEndpoint, tmp_path: Path
):
    await start(client, chat_options(endpoint), tmp_path)
    uri = open_doc(client, tmp_path / "shapes.py", PY)
    diag = types.Diagnostic(range=types.Range(start=pos(7, 17), end=pos(7, 21)),
                            message="Use math.pi", source="lint", code="PI01")
    actions = await list_actions(client, uri, pos(7, 10), diagnostics=[diag])
    assert [a.title for a in actions] == [*ALL_TITLES, "Qwen: Fix “Use math.pi”"]
    fix = actions[-1]
    assert fix.kind == types.CodeActionKind.QuickFix and list(fix.diagnostics) == [diag]
    simplify = by_title(actions, "Qwen: Simplify")
    assert simplify.kind == types.CodeActionKind.RefactorRewrite
    # Without resolve support each action carries its command; the range is the method.
    assert simplify.command.command == "qwen.simplify"
    assert simplify.command.arguments[0]["range"] == {
        "start": {"line": 4, "character": 0}, "end": {"line": 8, "character": 21}}
    assert not endpoint.generation_requests(), "listing must never call the model"
    quick = await list_actions(client, uri, pos(7, 10), diagnostics=[diag], only=["quickfix"])
    assert [a.title for a in quick] == ["Qwen: Fix “Use math.pi”"]
    assert await list_actions(client, uri, pos(11, 3)) == []  # no definition, no selection


async def test_actions_on_a_typescript_selection(
    client: LanguageClient, endpoint: FakeEndpoint, tmp_path: Path
):
    await start(client, chat_options(endpoint), tmp_path)
    uri = open_doc(client, tmp_path / "total.ts", TS, language="typescript")
    actions = await list_actions(client, uri, pos(1, 2), pos(3, 13))
    assert [a.title for a in actions] == ALL_TITLES
    assert actions[0].command.arguments[0]["range"]["start"] == {"line": 1, "character": 2}
    around = await list_actions(client, uri, pos(2, 5))
    assert around[0].command.arguments[0]["range"] == {
        "start": {"line": 0, "character": 0}, "end": {"line": 4, "character": 1}}
    go = open_doc(client, tmp_path / "main.go", "package main\n\nfunc main() {\n}\n", "go")
    titles = [a.title for a in await list_actions(client, go, pos(2, 6))]
    assert "Qwen: Add type hints" not in titles and "Qwen: Explain" in titles


async def test_resolve_returns_minimal_annotated_edits(
    client: LanguageClient, endpoint: FakeEndpoint, tmp_path: Path
):
    await start(client, chat_options(endpoint), tmp_path, RESOLVE_CAPS)
    uri = open_doc(client, tmp_path / "shapes.py", PY)
    actions = await list_actions(client, uri, pos(7, 10))
    simplify = by_title(actions, "Qwen: Simplify")
    assert simplify.command is None and simplify.edit is None and simplify.data
    endpoint.default = Reply(text=(
        "Here you go:\n```python\ndef area(self, r):\n    if r < 0:\n"
        "        raise ValueError('negative')\n    return math.pi * r * r\n```\nDone."))
    resolved = await client.code_action_resolve_async(simplify)
    (doc_edit,) = resolved.edit.document_changes
    assert doc_edit.text_document.uri == uri and doc_edit.text_document.version == 1
    edits = doc_edit.edits
    assert len(edits) == 1  # only the two changed lines, trimmed to what differs
    assert edits[0].range == types.Range(start=pos(7, 10), end=pos(8, 21))
    assert edits[0].new_text == "turn math.pi * r * r"
    note = resolved.edit.change_annotations[edits[0].annotation_id]
    assert note.needs_confirmation is True and note.label == "Qwen: Simplify"
    (body,) = chat_bodies(endpoint)
    assert body["model"] == "qwen-chat"
    assert body["chat_template_kwargs"] == {"enable_thinking": False}
    assert "def area(self, r):" in body["messages"][-1]["content"]
    # Explain resolves to its command, with no model call.
    explain = await client.code_action_resolve_async(by_title(actions, "Qwen: Explain"))
    assert explain.command.command == "qwen.explain" and len(chat_bodies(endpoint)) == 1


async def test_resolve_refuses_when_the_document_changed_meanwhile(
    client: LanguageClient, endpoint: FakeEndpoint, tmp_path: Path
):
    await start(client, chat_options(endpoint), tmp_path, RESOLVE_CAPS)
    uri = open_doc(client, tmp_path / "shapes.py", PY)
    action = by_title(await list_actions(client, uri, pos(7, 10)), "Qwen: Add docstring")
    endpoint.default = Reply(text="```python\ndef area(self, r):\n    pass\n```", delay=0.8)
    pending = asyncio.ensure_future(client.code_action_resolve_async(action))
    assert await asyncio.to_thread(endpoint.wait_for, lambda e: len(e.generation_requests()))
    insert(client, uri, 2, 11, 0, "X = 2\n")
    resolved = await pending
    assert resolved.edit is None
    assert any("changed" in m.message for m in client.messages)


async def test_command_applies_with_workspace_apply_edit(
    client: LanguageClient, endpoint: FakeEndpoint, tmp_path: Path
):
    edits = record_edits(client)
    await start(client, chat_options(endpoint), tmp_path, EDIT_CAPS)
    uri = open_doc(client, tmp_path / "shapes.py", PY)
    action = by_title(await list_actions(client, uri, pos(7, 10)), "Qwen: Add type hints")
    endpoint.default = Reply(text=(
        "```python\ndef area(self, r: float) -> float:\n    if r < 0:\n"
        "        raise ValueError('negative')\n    result = 3.14 * r * r\n"
        "    return result\n```"))
    result = await run(client, action.command)
    assert result.applied is True
    (edit,) = edits
    (change,) = edit.document_changes[0].edits
    assert change.range == types.Range(start=pos(4, 20), end=pos(4, 21))
    assert change.new_text == ": float) -> float"
    assert edit.change_annotations[change.annotation_id].needs_confirmation is True


async def test_command_refuses_and_keeps_typing_when_the_version_changed(
    client: LanguageClient, endpoint: FakeEndpoint, tmp_path: Path
):
    edits = record_edits(client)
    await start(client, chat_options(endpoint), tmp_path, EDIT_CAPS)
    uri = open_doc(client, tmp_path / "shapes.py", PY)
    action = by_title(await list_actions(client, uri, pos(7, 10)), "Qwen: Simplify")
    endpoint.default = Reply(text="```python\ndef area(self, r):\n    return 1\n```", delay=0.8)
    pending = asyncio.ensure_future(run(client, action.command))
    assert await asyncio.to_thread(endpoint.wait_for, lambda e: len(e.generation_requests()))
    insert(client, uri, 2, 8, 8, "# typed\n")
    result = await pending
    assert result.applied is False and "changed" in result.reason
    assert edits == []
    assert any("changed" in m.message for m in client.messages)
    # An action listed for an older version is refused before any model call.
    stale = await run(client, action.command)
    assert stale.applied is False and len(endpoint.generation_requests()) == 1


async def test_refactor_asks_for_an_instruction_then_applies_it(
    client: LanguageClient, endpoint: FakeEndpoint, tmp_path: Path
):
    edits = record_edits(client)
    await start(client, chat_options(endpoint), tmp_path, EDIT_CAPS)
    uri = open_doc(client, tmp_path / "total.ts", TS, language="typescript")
    action = by_title(await list_actions(client, uri, pos(2, 5)), "Qwen: Refactor…")
    assert "instruction" not in action.command.arguments[0]
    missing = await run(client, action.command)
    assert missing.applied is False and not endpoint.generation_requests()
    endpoint.default = Reply(text=(
        "```typescript\nexport function total(items: number[]) {\n"
        "  return items.reduce((a, b) => a + b, 0);\n}\n```"))
    result = await run(client, action.command, instruction="use reduce")
    assert result.applied is True
    content = chat_bodies(endpoint)[0]["messages"][-1]["content"]
    assert "use reduce" in content
    new_text = edits[0].document_changes[0].edits
    assert all(e.range.start.line >= 1 for e in new_text)  # the signature line is untouched


async def test_fix_sends_the_diagnostic(
    client: LanguageClient, endpoint: FakeEndpoint, tmp_path: Path
):
    edits = record_edits(client)
    await start(client, chat_options(endpoint), tmp_path, EDIT_CAPS)
    uri = open_doc(client, tmp_path / "shapes.py", PY)
    diag = types.Diagnostic(range=types.Range(start=pos(7, 17), end=pos(7, 21)),
                            message="Use math.pi", source="lint", code="PI01")
    fix = (await list_actions(client, uri, pos(7, 17), diagnostics=[diag]))[-1]
    method = "".join(PY.splitlines(keepends=True)[4:9])
    endpoint.default = Reply(text=method.replace("3.14", "math.pi"))
    result = await run(client, fix.command)
    assert result.applied is True
    content = chat_bodies(endpoint)[0]["messages"][-1]["content"]
    assert "Use math.pi" in content and "lint [PI01]" in content and "line 8" in content
    (change,) = edits[0].document_changes[0].edits
    assert change.new_text == "math.pi" and change.range.start == pos(7, 17)


async def test_explain_streams_into_the_actions_chat_session(
    client: LanguageClient, endpoint: FakeEndpoint, tmp_path: Path
):
    deltas = collect_deltas(client)
    await start(client, chat_options(endpoint, thinking=True), tmp_path)
    uri = open_doc(client, tmp_path / "shapes.py", PY)
    explain = by_title(await list_actions(client, uri, pos(7, 10)), "Qwen: Explain")
    endpoint.default = Reply(text="It computes the area of a circle.", chunk_size=6)
    result = await run(client, explain.command, msg_id="explain-1")
    assert result.sessionId == "actions" and result.requestId == "explain-1"
    assert result.text == "It computes the area of a circle."
    assert "".join(d.delta for d in deltas) == result.text
    assert all(d.sessionId == "actions" and d.requestId == "explain-1" for d in deltas)
    body = chat_bodies(endpoint)[0]
    assert body["chat_template_kwargs"] == {"enable_thinking": False}  # quick actions: off
    assert "def area(self, r):" in body["messages"][-1]["content"]
    # A follow-up in the same session sees the explanation.
    await client.protocol.send_request_async("qwen/chat",
                                             {"sessionId": "actions", "message": "Why 3.14?"})
    follow = chat_bodies(endpoint)[-1]["messages"]
    assert follow[2]["content"] == "It computes the area of a circle."


async def test_cancelling_explain_closes_the_stream(
    client: LanguageClient, endpoint: FakeEndpoint, tmp_path: Path
):
    deltas = collect_deltas(client)
    await start(client, chat_options(endpoint), tmp_path)
    uri = open_doc(client, tmp_path / "shapes.py", PY)
    explain = by_title(await list_actions(client, uri, pos(7, 10)), "Qwen: Explain")
    endpoint.default = Reply(text="slowly " * 100, chunk_size=4, chunk_delay=0.05)
    future = client.protocol.send_request(
        types.WORKSPACE_EXECUTE_COMMAND,
        types.ExecuteCommandParams(command="qwen.explain", arguments=explain.command.arguments),
        msg_id="explain-cancel")
    for _ in range(100):
        if deltas:
            break
        await asyncio.sleep(0.05)
    client.cancel_request(types.CancelParams(id="explain-cancel"))
    with pytest.raises(Exception, match=r"(?i)cancel"):
        await asyncio.wrap_future(future)
    assert await asyncio.to_thread(endpoint.wait_for, lambda e: e.disconnects >= 1, 5)


async def test_generate_tests_creates_the_python_test_file(
    client: LanguageClient, endpoint: FakeEndpoint, tmp_path: Path
):
    edits = record_edits(client)
    (tmp_path / "tests").mkdir()
    await start(client, chat_options(endpoint), tmp_path, EDIT_CAPS)
    uri = open_doc(client, tmp_path / "shapes.py", PY)
    action = by_title(await list_actions(client, uri, pos(7, 10)), "Qwen: Generate unit tests")
    tests = "from shapes import Shapes\n\n\ndef test_area():\n    assert Shapes().area(1) > 3\n"
    endpoint.default = Reply(text=f"```python\n{tests}```")
    result = await run(client, action.command)
    assert result.applied is True
    create, fill = edits[0].document_changes
    target = (tmp_path / "tests" / "test_shapes.py").as_uri()
    assert isinstance(create, types.CreateFile) and create.uri == target
    assert create.options.overwrite is False
    assert fill.text_document.uri == target and fill.edits[0].new_text == tests
    content = chat_bodies(endpoint)[0]["messages"][-1]["content"]
    assert "tests/test_shapes.py" in content and "pytest" in content


async def test_generate_tests_extends_an_existing_file_and_follows_ts_layout(
    client: LanguageClient, endpoint: FakeEndpoint, tmp_path: Path
):
    edits = record_edits(client)
    existing = "import { test } from 'vitest';\n\ntest('empty', () => {});\n"
    (tmp_path / "total.test.ts").write_text(existing)
    await start(client, chat_options(endpoint), tmp_path, EDIT_CAPS)
    uri = open_doc(client, tmp_path / "total.ts", TS, language="typescript")
    action = by_title(await list_actions(client, uri, pos(2, 5)), "Qwen: Generate unit tests")
    added = "\ntest('sums', () => { expect(total([1, 2])).toBe(3); });\n"
    endpoint.default = Reply(text=f"```ts\n{existing}{added}```")
    result = await run(client, action.command)
    assert result.applied is True
    (doc_edit,) = edits[0].document_changes
    assert doc_edit.text_document.uri == (tmp_path / "total.test.ts").as_uri()
    (change,) = doc_edit.edits
    assert change.range.start == change.range.end == pos(3, 0)
    assert change.new_text == added
    content = chat_bodies(endpoint)[0]["messages"][-1]["content"]
    assert "vitest" in content and "test('empty'" in content


async def test_cancelling_resolve_closes_the_stream(
    client: LanguageClient, endpoint: FakeEndpoint, tmp_path: Path
):
    await start(client, chat_options(endpoint), tmp_path, RESOLVE_CAPS)
    uri = open_doc(client, tmp_path / "shapes.py", PY)
    action = by_title(await list_actions(client, uri, pos(7, 10)), "Qwen: Simplify")
    endpoint.default = Reply(text="x" * 400, chunk_size=2, chunk_delay=0.05)
    future = client.protocol.send_request(types.CODE_ACTION_RESOLVE, action,
                                          msg_id="resolve-cancel")
    assert await asyncio.to_thread(endpoint.wait_for, lambda e: len(e.generation_requests()))
    client.cancel_request(types.CancelParams(id="resolve-cancel"))
    with pytest.raises(Exception, match=r"(?i)cancel"):
        await asyncio.wrap_future(future)
    assert await asyncio.to_thread(endpoint.wait_for, lambda e: e.disconnects >= 1, 5)
    assert endpoint.completed == 0
