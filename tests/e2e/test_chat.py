"""End to end: `qwen/chat` streaming, cancellation, history, repo context, applyCodeBlock."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from testkit.fake_endpoint import FakeEndpoint, Reply
from testkit.session import (
    EDIT_CAPS,
    STATUS,
    chat_options,
    insert,
    open_doc,
    record_edits,
    start,
)


def collect_deltas(client: LanguageClient) -> list[Any]:
    """Record every `qwen/chatDelta` notification the client receives."""
    deltas: list[Any] = []
    client.feature("qwen/chatDelta")(lambda params: deltas.append(params))
    return deltas


def chat_bodies(ep: FakeEndpoint) -> list[dict]:
    """Return the bodies of the chat requests the endpoint received."""
    return [r.body for r in ep.generation_requests() if r.path.endswith("/chat/completions")]


async def test_chat_streams_deltas_in_order_and_resolves_with_their_concatenation(
    client: LanguageClient, endpoint: FakeEndpoint, tmp_path: Path
):
    deltas = collect_deltas(client)
    await start(client, chat_options(endpoint, thinking=True), tmp_path)
    answer = "Use `sorted(xs, key=len)`: it returns a new list ordered by length."
    endpoint.default = Reply(text=answer, reasoning="The user wants sorting.", chunk_size=5)
    result = await client.protocol.send_request_async(
        "qwen/chat", {"sessionId": "s1", "message": "How do I sort by length?"}, msg_id="chat-7")
    assert result.sessionId == "s1" and result.requestId == "chat-7"
    assert result.text == answer
    answer_deltas = [d for d in deltas if not getattr(d, "kind", None)]
    reasoning = [d for d in deltas if getattr(d, "kind", None) == "reasoning"]
    assert "".join(d.delta for d in answer_deltas) == answer
    assert len(answer_deltas) == len(answer) // 5 + 1
    assert "".join(d.delta for d in reasoning) == "The user wants sorting."
    assert all(d.sessionId == "s1" and d.requestId == "chat-7" for d in deltas)
    (body,) = chat_bodies(endpoint)
    assert body["model"] == "qwen-chat" and body["stream"] is True
    assert body["chat_template_kwargs"] == {"enable_thinking": True}
    assert body["messages"][0]["role"] == "system"
    assert body["messages"][-1] == {"role": "user", "content": "How do I sort by length?"}


async def test_dashscope_chat_sends_enable_thinking(
    client: LanguageClient, endpoint: FakeEndpoint, tmp_path: Path
):
    options = chat_options(endpoint)
    options["endpoint"]["provider"] = "dashscope"
    await start(client, options, tmp_path)
    endpoint.default = Reply(text="ok")
    await client.protocol.send_request_async("qwen/chat", {"sessionId": "d", "message": "hi"})
    (body,) = chat_bodies(endpoint)
    assert body["enable_thinking"] is False and "chat_template_kwargs" not in body


async def test_cancel_closes_the_stream_and_fails_with_request_cancelled(
    client: LanguageClient, endpoint: FakeEndpoint, tmp_path: Path
):
    deltas = collect_deltas(client)
    await start(client, chat_options(endpoint), tmp_path)
    endpoint.default = Reply(text="word " * 200, chunk_size=5, chunk_delay=0.05)
    future = client.protocol.send_request("qwen/chat", {"sessionId": "c", "message": "long"},
                                          msg_id="chat-cancel")
    for _ in range(100):
        if deltas:
            break
        await asyncio.sleep(0.05)
    assert deltas, "the answer should have started streaming"
    client.cancel_request(types.CancelParams(id="chat-cancel"))
    with pytest.raises(Exception, match=r"(?i)cancel") as info:
        await asyncio.wrap_future(future)
    assert getattr(info.value, "code", types.LSPErrorCodes.RequestCancelled) == \
        types.LSPErrorCodes.RequestCancelled
    assert await asyncio.to_thread(endpoint.wait_for, lambda e: e.disconnects >= 1, 5)
    assert endpoint.completed == 0
    # The cancelled turn is not remembered: the next request carries no history.
    endpoint.default = Reply(text="short")
    await client.protocol.send_request_async("qwen/chat", {"sessionId": "c", "message": "again"})
    assert len(chat_bodies(endpoint)[-1]["messages"]) == 2


async def test_history_is_kept_per_session_capped_and_reset(
    client: LanguageClient, endpoint: FakeEndpoint, tmp_path: Path
):
    await start(client, chat_options(endpoint, historyTokens=120), tmp_path)
    for i in range(4):
        endpoint.script(Reply(text=f"answer {i} " + "x" * 100))
        await client.protocol.send_request_async(
            "qwen/chat", {"sessionId": "h", "message": f"question {i}"})
    bodies = chat_bodies(endpoint)
    second = [m["content"] for m in bodies[1]["messages"][1:]]
    assert second[:2] == ["question 0", "answer 0 " + "x" * 100]
    last = [m["content"] for m in bodies[3]["messages"]]
    assert "question 0" not in last and "question 2" in last
    assert "dropped" in last[0]  # the system prompt says earlier turns are gone
    # Another session starts empty.
    endpoint.default = Reply(text="fresh")
    await client.protocol.send_request_async("qwen/chat", {"sessionId": "other", "message": "q"})
    assert len(chat_bodies(endpoint)[-1]["messages"]) == 2
    reset = await client.protocol.send_request_async("qwen/chatReset", {"sessionId": "h"})
    assert reset.reset is True
    await client.protocol.send_request_async("qwen/chat", {"sessionId": "h", "message": "q"})
    assert len(chat_bodies(endpoint)[-1]["messages"]) == 2


async def test_context_carries_the_selection_and_the_file(
    client: LanguageClient, endpoint: FakeEndpoint, tmp_path: Path
):
    await start(client, chat_options(endpoint), tmp_path)
    endpoint.default = Reply(text="It adds.")
    text = "import math\n\ndef add(a, b):\n    return a + b\n\nprint(add(1, 2))\n"
    uri = open_doc(client, tmp_path / "calc.py", text)
    rng = {"start": {"line": 2, "character": 0}, "end": {"line": 3, "character": 16}}
    await client.protocol.send_request_async("qwen/chat", {
        "sessionId": "ctx", "message": "What does this do?",
        "context": {"uri": uri, "range": rng, "includeRepoContext": True}})
    user = chat_bodies(endpoint)[0]["messages"][-1]["content"]
    assert "Selected in `calc.py` (lines 3-4)" in user
    assert "def add(a, b):\n    return a + b\n```" in user
    assert "import math" in user and user.endswith("What does this do?")


async def test_model_error_fails_the_request_with_an_actionable_message(
    client: LanguageClient, endpoint: FakeEndpoint, tmp_path: Path
):
    await start(client, chat_options(endpoint), tmp_path)
    endpoint.default = Reply(status=404)
    with pytest.raises(Exception, match="404"):
        await client.protocol.send_request_async("qwen/chat", {"sessionId": "e", "message": "q"})
    assert any("404" in m.message for m in client.messages)


async def test_apply_code_block_uses_minimal_annotated_edits(
    client: LanguageClient, endpoint: FakeEndpoint, tmp_path: Path
):
    edits = record_edits(client)
    await start(client, chat_options(endpoint), tmp_path, EDIT_CAPS)
    text = "import os\n\n\ndef area(r):\n    return 3.14 * r * r\n\n\nx = 1\n"
    uri = open_doc(client, tmp_path / "geo.py", text)
    code = "```python\ndef area(r):\n    return math.pi * r * r\n```"
    result = await client.protocol.send_request_async("qwen/applyCodeBlock",
                                                      {"uri": uri, "code": code})
    assert result.applied is True
    (edit,) = edits
    (doc_edit,) = edit.document_changes
    assert doc_edit.text_document.version == 1
    (text_edit,) = doc_edit.edits
    assert text_edit.range == types.Range(start=types.Position(line=4, character=11),
                                          end=types.Position(line=4, character=15))
    assert text_edit.new_text == "math.pi" and text_edit.annotation_id
    assert edit.change_annotations[text_edit.annotation_id].needs_confirmation is True
    # With a range, the block replaces exactly that range, re-indented.
    rng = {"start": {"line": 7, "character": 0}, "end": {"line": 7, "character": 5}}
    result = await client.protocol.send_request_async(
        "qwen/applyCodeBlock", {"uri": uri, "range": rng, "code": "x = 2"})
    assert result.applied is True
    assert edits[-1].document_changes[0].edits[0].new_text == "2"
    insert(client, uri, 2, 0, 0, "# note\n")
    result = await client.protocol.send_request_async(
        "qwen/applyCodeBlock", {"uri": uri, "code": "def nowhere():\n    pass\n"})
    assert result.applied is False and "select" in result.reason


async def wait_for_index(client: LanguageClient) -> None:
    """Wait until the server says its repository index is ready."""
    for _ in range(200):
        if any(getattr(s, "message", None) == "index ready" for s in STATUS[id(client)]):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the index never became ready")


async def test_repo_context_comes_from_the_index_never_from_excluded_files(
    client: LanguageClient, endpoint: FakeEndpoint, tmp_path: Path
):
    (tmp_path / "helpers.py").write_text("def scale_vector(v, k):\n    return [x * k for x in v]\n")
    (tmp_path / ".qwenignore").write_text("private.py\n")
    private = "PRIVATE_TABLE = {'a': 1}\n\ndef lookup(k):\n    return PRIVATE_TABLE[k]\n"
    (tmp_path / "private.py").write_text(private)
    main = ("from helpers import scale_vector\n\n\ndef double(v):\n"
            "    return scale_vector(v, 2)\n")
    (tmp_path / "main.py").write_text(main)
    await start(client, chat_options(endpoint), tmp_path)
    await wait_for_index(client)
    endpoint.default = Reply(text="ok")
    uri = open_doc(client, tmp_path / "main.py", main)
    rng = {"start": {"line": 3, "character": 0}, "end": {"line": 4, "character": 29}}
    await client.protocol.send_request_async("qwen/chat", {
        "sessionId": "r", "message": "explain",
        "context": {"uri": uri, "range": rng, "includeRepoContext": True}})
    user = chat_bodies(endpoint)[-1]["messages"][-1]["content"]
    assert "`helpers.py`" in user and "def scale_vector(v, k):" in user
    secret_uri = open_doc(client, tmp_path / "private.py", private)
    await client.protocol.send_request_async("qwen/chat", {
        "sessionId": "r2", "message": "explain",
        "context": {"uri": secret_uri, "range": rng, "includeRepoContext": True}})
    bodies = chat_bodies(endpoint)
    assert all("PRIVATE_TABLE" not in m["content"] for b in bodies for m in b["messages"])
    actions = await client.protocol.send_request_async(
        types.TEXT_DOCUMENT_CODE_ACTION, types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=secret_uri),
            range=types.Range(start=types.Position(line=3, character=4),
                              end=types.Position(line=3, character=4)),
            context=types.CodeActionContext(diagnostics=[])))
    assert not actions


async def test_chat_timeout_and_bad_params_fail_cleanly(
    client: LanguageClient, endpoint: FakeEndpoint, tmp_path: Path
):
    await start(client, chat_options(endpoint, timeoutMs=400), tmp_path)
    endpoint.default = Reply(text="late", delay=3)
    with pytest.raises(Exception, match="timeoutMs"):
        await client.protocol.send_request_async("qwen/chat", {"sessionId": "t", "message": "q"})
    assert await asyncio.to_thread(endpoint.wait_for, lambda e: e.disconnects >= 1, 5)
    with pytest.raises(Exception, match="non-empty message"):
        await client.protocol.send_request_async("qwen/chat", {"sessionId": "t", "message": ""})


async def test_chat_sends_qwen_stops_and_strips_a_special_token_split_across_deltas(
    client: LanguageClient, endpoint: FakeEndpoint, tmp_path: Path
):
    deltas = collect_deltas(client)
    await start(client, chat_options(endpoint), tmp_path)
    endpoint.default = Reply(chunks=["Use a set", " <|im", "_end|>", "<", "|endoftext|>", " <b>"])
    result = await client.protocol.send_request_async(
        "qwen/chat", {"sessionId": "s", "message": "dedupe?"})
    shown = "".join(d.delta for d in deltas)
    assert result.text == shown == "Use a set  <b>"
    assert chat_bodies(endpoint)[0]["stop"] == ["<|im_end|>", "<|endoftext|>", "<|im_start|>"]
