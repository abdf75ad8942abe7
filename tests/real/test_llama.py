"""qwen-lsp against a real llama-server (testkit/llama.py): routes, streaming,
cancellation, token counts, context size, chat, an outage, and the prompt cache.

Generation is kept short (a few tokens) except where a test needs a long answer to cancel.
The outage test restarts the server: it runs last.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from lsprotocol import types

from lsp_server.model.client import ModelClient
from lsp_server.model.dialects import CompletionRequest
from lsp_server.prompt import build_fim_prompt
from lsp_server.settings import EndpointSettings
from testkit.llama import CONTEXT, LlamaServer
from testkit.session import STATUS, inline, insert, launched, open_doc, start

pytestmark = pytest.mark.timeout(120)

SOURCE = '''import json


def load_config(path):
    """Read a JSON configuration file and return it as a dict."""
    with open(path) as fh:
        return json.load(fh)


def main():
    config = load_config("config.json")
    print(config)
'''


def options(llama: LlamaServer, provider: str = "llamacpp", **completion: Any) -> dict:
    base = f"{llama.url}/v1" if provider == "openai" else llama.url
    return {
        # A loaded 2-core machine can take long over a 2,000-token prompt: the HTTP timeout
        # follows the completion's own.
        "endpoint": {"baseUrl": base, "provider": provider,
                     "timeoutMs": max(15000, completion.get("timeoutMs", 0))},
        "completion": {"maxTokens": 12, **completion},
        "chat": {"maxTokens": 24},
    }


def client_for(llama: LlamaServer, provider: str) -> ModelClient:
    base = f"{llama.url}/v1" if provider == "openai" else llama.url
    return ModelClient(EndpointSettings(base_url=base, provider=provider))


async def stats_of(client: Any) -> Any:
    return await client.protocol.send_request_async("qwen/stats", {})


async def until(predicate: Any, seconds: float = 10.0) -> bool:
    """Poll an async predicate until it holds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while loop.time() < deadline:
        if await predicate():
            return True
        await asyncio.sleep(0.05)
    return False


@pytest.mark.parametrize("provider", ["llamacpp", "openai"])
async def test_inline_completion_through_both_dialects(
    llama: LlamaServer, provider: str, tmp_path: Path
):
    async with launched() as client:
        await start(client, options(llama, provider), tmp_path)
        uri = open_doc(client, tmp_path / "config.py", SOURCE)
        await inline(client, uri, 11, 17, invoked=True)  # inside main(), after `print(`
        stats = await stats_of(client)
        assert stats.modelRequests == 1 and stats.errors == 0, stats
        assert not [m.message for m in client.messages if m.type == types.MessageType.Error]
        endpoint = stats.endpoints[0]
        # Both dialects read llama.cpp's context size, and count with its /tokenize.
        assert endpoint.contextWindow == CONTEXT

        async def calibrated() -> bool:
            return (await stats_of(client)).endpoints[0].tokenCounts == "endpoint"

        assert await until(calibrated), (await stats_of(client)).endpoints[0]
        if provider == "llamacpp":  # timings from the first token on: they reach the stats
            cache = (await stats_of(client)).endpoints[0].promptCache
            assert cache.requests == 1 and cache.evaluatedTokens > 0, cache


@pytest.mark.parametrize("provider", ["llamacpp", "openai"])
async def test_tokenize_gives_the_servers_exact_count_and_context(
    llama: LlamaServer, provider: str
):
    text = build_fim_prompt(SOURCE[:200], SOURCE[200:])
    answer = await asyncio.to_thread(httpx.post, f"{llama.url}/tokenize", json={"content": text})
    exact = len(answer.json()["tokens"])
    client = client_for(llama, provider)
    try:
        count = await client.count_tokens(text)
        info = await client.server_info()
    finally:
        await client.aclose()
    assert count is not None and count.tokens == exact
    assert info.context == CONTEXT and info.model


async def test_closing_the_stream_stops_generation(llama: LlamaServer):
    client = client_for(llama, "llamacpp")
    mark = llama.log_mark()
    prompt = build_fim_prompt("def fibonacci(n):\n", "\n")
    try:
        stream = client.stream_completion(CompletionRequest(prompt, "", 400, 0.0, ()))
        async with contextlib.aclosing(stream):
            async for _piece in stream:
                assert llama.slot_busy()  # generating the rest of 400 tokens
                break
    finally:
        await client.aclose()
    assert await asyncio.to_thread(llama.wait_idle, 5.0)
    assert llama.cancelled_tasks(mark) >= 1, llama.log_since(mark)


async def test_cancel_request_and_a_newer_keystroke_stop_generation(
    llama: LlamaServer, tmp_path: Path
):
    async with launched() as client:
        await start(client, options(llama, maxTokens=400, maxLines=200), tmp_path)
        text = "def fibonacci(n):\n    \n"
        uri = open_doc(client, tmp_path / "fib.py", text)
        params = types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=1, character=4),
            context=types.InlineCompletionContext(
                trigger_kind=types.InlineCompletionTriggerKind.Invoked
            ),
        )
        # $/cancelRequest
        mark = llama.log_mark()
        future = asyncio.ensure_future(
            client.protocol.send_request_async(
                types.TEXT_DOCUMENT_INLINE_COMPLETION, params, msg_id="long-1"
            )
        )
        assert await until(lambda: asyncio.to_thread(llama.slot_busy))
        client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="long-1"))
        with contextlib.suppress(Exception):
            await asyncio.wait_for(future, 10)
        assert await asyncio.to_thread(llama.wait_idle, 5.0)
        assert llama.cancelled_tasks(mark) >= 1, llama.log_since(mark)
        # A keystroke that does not type what the model is writing
        mark = llama.log_mark()
        future = asyncio.ensure_future(
            client.protocol.send_request_async(
                types.TEXT_DOCUMENT_INLINE_COMPLETION, params, msg_id="long-2"
            )
        )
        assert await until(lambda: asyncio.to_thread(llama.slot_busy))
        insert(client, uri, 2, 1, 4, "#")
        with contextlib.suppress(Exception):
            await asyncio.wait_for(future, 10)
        assert await asyncio.to_thread(llama.wait_idle, 5.0)
        assert llama.cancelled_tasks(mark) >= 1, llama.log_since(mark)


async def test_a_long_file_is_fitted_under_the_servers_context(llama: LlamaServer, tmp_path: Path):
    body = "".join(f"value_{i} = compute_{i}(value_{i - 1}, 'item {i}')\n" for i in range(1, 600))
    async with launched() as client:
        # A thousand prompt tokens take a while on a busy CPU: wait for them.
        settings = options(llama, timeoutMs=60000)
        settings["endpoint"]["timeoutMs"] = 60000
        await start(client, settings, tmp_path)
        uri = open_doc(client, tmp_path / "long.py", body + "result = \n")
        await inline(client, uri, 599, 9, invoked=True)
        stats = await stats_of(client)
        assert stats.errors == 0, [m.message for m in client.messages]
        assert not [m for m in client.messages if "context size" in m.message]


async def test_chat_streams_through_chat_completions(llama: LlamaServer, tmp_path: Path):
    async with launched() as client:
        deltas: list[Any] = []
        client.feature("qwen/chatDelta")(lambda params: deltas.append(params))
        await start(client, options(llama), tmp_path)
        result = await client.protocol.send_request_async(
            "qwen/chat", {"sessionId": "s", "message": "Say hello in one short sentence."}
        )
        shown = "".join(d.delta for d in deltas)
        assert result.text == shown and shown.strip()
        assert len(deltas) >= 2  # streamed, not one block
        assert "<|" not in shown and "<end_of_turn>" not in shown


async def test_typing_replay_reuses_the_prompt_cache(llama: LlamaServer, tmp_path: Path):
    typed = "value = config.get("
    async with launched() as client:
        await start(client, options(llama), tmp_path)
        text = SOURCE + "\n"
        uri = open_doc(client, tmp_path / "replay.py", text)
        line = text.count("\n")
        await inline(client, uri, line, 0, invoked=True)  # the first prompt fills the cache
        for i, char in enumerate(typed):
            insert(client, uri, i + 2, line, i, char)
            await inline(client, uri, line, i + 1, invoked=True)
        cache = (await stats_of(client)).endpoints[0].promptCache
    print(
        "prompt cache as llama-server reports it:",
        json.dumps(cache._asdict() if hasattr(cache, "_asdict") else cache),
    )
    assert cache.requests >= 5  # keystrokes typed through a suggestion need no request
    # Each keystroke changes the prompt's end only (the last prefix token, the suffix and the
    # FIM tokens after it): the rest comes from the server's cache. Without --swa-full this
    # model reuses nothing.
    assert cache.reuse >= 0.6, cache


async def test_an_outage_mid_answer_is_reported_once_and_recovers(
    llama: LlamaServer, tmp_path: Path
):
    async with launched() as client:
        await start(client, options(llama, maxTokens=400, maxLines=200), tmp_path)
        uri = open_doc(client, tmp_path / "fib.py", "def fibonacci(n):\n    \n")
        pending = asyncio.ensure_future(inline(client, uri, 1, 4, invoked=True))
        assert await until(lambda: asyncio.to_thread(llama.slot_busy))
        llama.kill()  # mid-answer
        assert await asyncio.wait_for(pending, 10) is None
        for _ in range(3):  # typing on while it is down
            assert await inline(client, uri, 1, 4) is None
        errors = [m for m in client.messages if m.type == types.MessageType.Error]
        assert len(errors) == 1, [m.message for m in errors]
        assert STATUS[id(client)][-1].state == "error"
        llama.start()

        async def recovered() -> bool:  # mid-line: one line, quick even on a busy CPU
            await inline(client, uri, 0, 4, invoked=True)
            return STATUS[id(client)][-1].state == "idle"

        assert await until(recovered, 20)
        assert len([m for m in client.messages if m.type == types.MessageType.Error]) == 1
