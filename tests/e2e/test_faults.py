"""Endpoint faults and failover: the server survives, says so once, and recovers by itself."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from testkit.fake_endpoint import FakeEndpoint, Reply
from testkit.fault_modes import FAULT_MODES, FAULT_OPTIONS, ask, exercise
from testkit.session import STATUS, endpoint_options, open_doc, start


async def test_every_fault_mode(client: LanguageClient, endpoint: FakeEndpoint, tmp_path: Path):
    options = endpoint_options(endpoint)
    options["endpoint"].update(FAULT_OPTIONS["endpoint"])
    options["completion"].update(FAULT_OPTIONS["completion"])
    await start(client, options, tmp_path)
    failures = []
    for i, mode in enumerate(FAULT_MODES):
        uri = open_doc(client, tmp_path / f"fault{i}.py", "value = \n")
        result = await exercise(client, endpoint, uri, mode)
        expected = 1 if mode.expect else 0
        ok = (result.survived and len(result.messages) == expected
              and all(mode.expect.lower() in m.lower() for m in result.messages))
        if not ok:
            failures.append((mode.name, result))
    assert not failures, failures


async def test_tls_error_is_named(client: LanguageClient, endpoint: FakeEndpoint,
                                  tmp_path: Path):
    options = {"endpoint": {"baseUrl": f"https://127.0.0.1:{endpoint.port}/v1",
                            "provider": "openai"}, "completion": {"model": "qwen-test"}}
    await start(client, options, tmp_path)
    uri = open_doc(client, tmp_path / "t.py", "value = \n")
    assert await ask(client, uri, 0, 8) is None
    assert [m.message for m in client.messages if "TLS" in m.message]


async def test_failover_to_the_next_endpoint_and_back(client: LanguageClient, tmp_path: Path):
    with FakeEndpoint() as primary, FakeEndpoint() as fallback:
        options = endpoint_options(primary)
        options["endpoint"]["fallbacks"] = [
            {"baseUrl": f"{fallback.url}/v1", "provider": "openai",
             "completionModel": "fallback-model"}]
        await start(client, options, tmp_path)
        primary.default = Reply(status=503)
        fallback.default = Reply(text="from_fallback")
        uri = open_doc(client, tmp_path / "f.py", "value = \n")
        # The very request that found the primary down is served by the fallback.
        assert await ask(client, uri, 0, 8) == "from_fallback"
        assert fallback.generation_requests()[0].body["model"] == "fallback-model"
        stats = await client.protocol.send_request_async("qwen/stats", {})
        assert stats.serving == f"{fallback.url}/v1"
        assert STATUS[id(client)][-1].endpoint == f"{fallback.url}/v1", STATUS[id(client)]
        # While the primary is paused (or failing), the fallback answers.
        uri2 = open_doc(client, tmp_path / "g.py", "other = \n")
        assert await ask(client, uri2, 0, 8, invoked=False) == "from_fallback"
        # The primary heals; once its pause is over it serves again, by itself.
        primary.default = Reply(text="from_primary")
        answers = []
        for i in range(40):
            uri3 = open_doc(client, tmp_path / f"h{i}.py", "third = \n")
            answers.append(await ask(client, uri3, 0, 8, invoked=False))
            if answers[-1] == "from_primary":
                break
            await asyncio.sleep(0.25)
        assert answers[-1] == "from_primary"
        assert set(answers[:-1]) <= {"from_fallback", None}


async def test_slow_endpoint_is_skipped_for_a_while(client: LanguageClient, tmp_path: Path):
    with FakeEndpoint() as slow, FakeEndpoint() as fast:
        options = endpoint_options(slow)
        options["endpoint"]["latencyBudgetMs"] = 150
        options["endpoint"]["fallbacks"] = [{"baseUrl": f"{fast.url}/v1"}]
        await start(client, options, tmp_path)
        slow.default = Reply(text="slow", delay=0.4)
        fast.default = Reply(text="fast")
        answers = []
        for i in range(5):
            uri = open_doc(client, tmp_path / f"s{i}.py", "value = \n")
            answers.append(await ask(client, uri, 0, 8))
        assert answers[:3] == ["slow"] * 3 and answers[3:] == ["fast", "fast"]


async def test_bad_editor_input_is_answered_cleanly(
    client: LanguageClient, endpoint: FakeEndpoint, tmp_path: Path
):
    await start(client, endpoint_options(endpoint), tmp_path)
    endpoint.default = Reply(text="ok")
    # An edit to a document that was never opened.
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(
            uri=(tmp_path / "ghost.py").as_uri(), version=3),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text="x")]))
    # Non-BMP text: the cursor after an emoji counts two UTF-16 units for it.
    uri = open_doc(client, tmp_path / "emoji.py", "s = '😀' + \n")
    assert await ask(client, uri, 0, 11) == "ok"
    prompt = endpoint.generation_requests()[-1].body["prompt"]
    assert prompt.startswith("<|fim_prefix|>s = '😀' + <|fim_suffix|>")
    # A 10 MB single-line document and a binary one.
    big = open_doc(client, tmp_path / "big.py", "x = '" + "a" * 10_000_000 + "' + ")
    assert await ask(client, big, 0, 10_000_008) in (None, "ok")
    binary = open_doc(client, tmp_path / "bin.py", "\x00\x01\x02 garbage \x00")
    assert await ask(client, binary, 0, 5) is None
    # The server still answers.
    uri = open_doc(client, tmp_path / "after.py", "y = \n")
    assert await ask(client, uri, 0, 4) == "ok"
    assert json.dumps(client.error) == "null" if hasattr(client, "error") else True


async def test_chat_fails_over_before_anything_is_shown_never_after(
    client: LanguageClient, tmp_path: Path
):
    with FakeEndpoint() as primary, FakeEndpoint() as fallback:
        options = endpoint_options(primary)
        options["endpoint"]["fallbacks"] = [
            {"baseUrl": f"{fallback.url}/v1", "provider": "openai", "chatModel": "fb-chat"}]
        await start(client, options, tmp_path)
        deltas: list = []
        client.feature("qwen/chatDelta")(lambda params: deltas.append(params.delta))
        primary.default = Reply(status=502)
        fallback.default = Reply(text="answer from the fallback")
        answer = await client.protocol.send_request_async(
            "qwen/chat", {"sessionId": "f", "message": "hi"})
        assert answer.text == "answer from the fallback"
        chat_bodies = [r.body for r in fallback.requests if r.path.endswith("/chat/completions")]
        assert [b["model"] for b in chat_bodies] == ["fb-chat"]
        # The primary is paused now: the next question goes straight to the fallback.
        before = len(primary.requests)
        await client.protocol.send_request_async(
            "qwen/chat", {"sessionId": "f", "message": "again"})
        assert len(primary.requests) == before


async def test_chat_cut_after_the_user_saw_part_is_not_replayed_elsewhere(
    client: LanguageClient, tmp_path: Path
):
    with FakeEndpoint() as primary, FakeEndpoint() as fallback:
        options = endpoint_options(primary)
        options["endpoint"]["fallbacks"] = [{"baseUrl": f"{fallback.url}/v1"}]
        await start(client, options, tmp_path)
        deltas: list = []
        client.feature("qwen/chatDelta")(lambda params: deltas.append(params.delta))
        primary.default = Reply(text="half an answer that breaks", chunk_size=4, cut_after=2)
        fallback.default = Reply(text="never")
        with pytest.raises(Exception, match=r"(?i)connection|stream|closed"):
            await client.protocol.send_request_async(
                "qwen/chat", {"sessionId": "f", "message": "q"})
        assert deltas and "never" not in "".join(deltas)
        assert not fallback.requests
