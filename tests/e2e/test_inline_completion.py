"""End to end: the real server over stdio, a real LSP client, the fake endpoint on loopback."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from lsp_server.prompt import STOP_TOKENS
from testkit.fake_endpoint import FakeEndpoint, Reply
from testkit.session import STATUS, endpoint_options, inline, insert, open_doc, start

ADD = "def add(a, b):\n    return \n"


async def test_capabilities(client: LanguageClient, endpoint: FakeEndpoint, tmp_path: Path):
    caps = (await start(client, endpoint_options(endpoint), tmp_path)).capabilities
    assert caps.inline_completion_provider, "inline completion must be advertised"
    assert caps.code_action_provider
    sync = caps.text_document_sync
    assert sync.change == types.TextDocumentSyncKind.Incremental
    assert "qwen.didAccept" in caps.execute_command_provider.commands


@pytest.mark.parametrize("provider", ["openai", "ollama", "llamacpp"])
async def test_round_trip_each_dialect(
    client: LanguageClient, endpoint: FakeEndpoint, tmp_path: Path, provider: str
):
    await start(client, endpoint_options(endpoint, provider), tmp_path)
    endpoint.default = Reply(text="a + b")
    uri = open_doc(client, tmp_path / "add.py", ADD)
    result = await inline(client, uri, 1, 11)
    assert result is not None and [i.insert_text for i in result.items] == ["a + b"]
    item = result.items[0]
    assert item.range.start == item.range.end == types.Position(line=1, character=11)
    assert item.command.command == "qwen.didAccept"

    (req,) = endpoint.generation_requests()
    body = req.body
    fim = "<|fim_prefix|>def add(a, b):\n    return <|fim_suffix|>\n<|fim_middle|>"
    assert body["prompt"] == fim
    assert "suffix" not in body
    if provider == "openai":
        assert req.path == "/v1/completions"
        assert body["model"] == "qwen-test" and body["stream"] is True
        assert body["max_tokens"] > 0 and set(body["stop"]) == set(STOP_TOKENS)
    elif provider == "ollama":
        assert req.path == "/api/generate" and body["raw"] is True
        assert body["options"]["num_predict"] > 0
        assert set(body["options"]["stop"]) == set(STOP_TOKENS)
    else:
        assert req.path == "/completion" and body["n_predict"] > 0
        assert set(body["stop"]) == set(STOP_TOKENS)


async def test_leaked_special_tokens_are_stripped(
    client: LanguageClient, endpoint: FakeEndpoint, tmp_path: Path
):
    await start(client, endpoint_options(endpoint), tmp_path)
    endpoint.default = Reply(text="a + b<|file_sep|>other.py\nimport os", chunk_size=3)
    uri = open_doc(client, tmp_path / "add.py", ADD)
    result = await inline(client, uri, 1, 11)
    assert result is not None and result.items[0].insert_text == "a + b"


async def test_single_line_mid_line_and_multi_line_in_open_block(
    client: LanguageClient, endpoint: FakeEndpoint, tmp_path: Path
):
    await start(client, endpoint_options(endpoint), tmp_path)
    body = "total = 0\n    for x in xs:\n        total += x\n    return total"
    endpoint.default = Reply(text=body)
    # Blank line in an open block: several lines allowed.
    uri = open_doc(client, tmp_path / "s.py", "def total(xs):\n    \n")
    result = await inline(client, uri, 1, 4)
    assert result is not None and result.items[0].insert_text == body
    # Mid-line: only the rest of this line.
    endpoint.default = Reply(text="xs, key=len\n    more()")
    uri2 = open_doc(client, tmp_path / "m.py", "def f(xs):\n    return max()\n")
    result = await inline(client, uri2, 1, 15)
    assert result is not None and result.items[0].insert_text == "xs, key=len"
    single = endpoint.generation_requests()[-1].body
    multi = endpoint.generation_requests()[0].body
    assert single["max_tokens"] < multi["max_tokens"]


async def test_typed_through_suggestion_comes_from_cache(
    client: LanguageClient, endpoint: FakeEndpoint, tmp_path: Path
):
    await start(client, endpoint_options(endpoint), tmp_path)
    endpoint.default = Reply(text="compute(values)")
    uri = open_doc(client, tmp_path / "c.py", "result = \n")
    first = await inline(client, uri, 0, 9)
    assert first is not None and first.items[0].insert_text == "compute(values)"
    insert(client, uri, 2, 0, 9, "comp")
    second = await inline(client, uri, 0, 13)
    assert second is not None and second.items[0].insert_text == "ute(values)"
    assert len(endpoint.generation_requests()) == 1
    stats = await client.protocol.send_request_async("qwen/stats", {})
    assert stats.cacheHits == 1 and stats.modelRequests == 1


async def test_newer_request_cancels_the_stale_one(
    client: LanguageClient, endpoint: FakeEndpoint, tmp_path: Path
):
    await start(client, endpoint_options(endpoint), tmp_path)
    endpoint.script(Reply(text="slow_answer_that_never_finishes" * 4, chunk_delay=0.2,
                          chunk_size=1))
    endpoint.default = Reply(text="fresh")
    uri = open_doc(client, tmp_path / "k.py", "value = \n")
    stale = asyncio.ensure_future(inline(client, uri, 0, 8))
    assert await asyncio.to_thread(endpoint.wait_for, lambda e: len(e.generation_requests()))
    insert(client, uri, 2, 0, 8, "x")
    fresh = await inline(client, uri, 0, 9)
    assert fresh is not None and fresh.items[0].insert_text == "fresh"
    stale_result = await asyncio.gather(stale, return_exceptions=True)
    assert stale_result[0] is None or isinstance(stale_result[0], Exception)
    assert await asyncio.to_thread(endpoint.wait_for, lambda e: e.disconnects >= 1, 5)


async def test_typing_what_is_being_generated_keeps_the_answer_in_flight(
    client: LanguageClient, endpoint: FakeEndpoint, tmp_path: Path
):
    await start(client, endpoint_options(endpoint), tmp_path)
    endpoint.default = Reply(text="compute_total(items)", chunk_size=1, chunk_delay=0.05)
    uri = open_doc(client, tmp_path / "t.py", "value = \n")
    first = asyncio.ensure_future(inline(client, uri, 0, 8))
    assert await asyncio.to_thread(endpoint.wait_for, lambda e: len(e.generation_requests()))
    await asyncio.sleep(0.2)  # a few characters have streamed
    # The user types the first letters of what the model is writing, asking each time.
    pending = [first]
    for i, ch in enumerate("com"):
        insert(client, uri, i + 2, 0, 8 + i, ch)
        pending.append(asyncio.ensure_future(inline(client, uri, 0, 9 + i)))
    results = await asyncio.gather(*pending, return_exceptions=True)
    last = results[-1]
    assert last is not None and last.items[0].insert_text == "pute_total(items)"
    # One model request served them all.
    assert len(endpoint.generation_requests()) == 1
    stats = await client.protocol.send_request_async("qwen/stats", {})
    assert stats.typedThroughInFlight >= 1
    # Typing something else closes it at once.
    endpoint.default = Reply(text="_other_text_for_long", chunk_size=1, chunk_delay=0.1)
    other = open_doc(client, tmp_path / "u.py", "other = \n")
    stale = asyncio.ensure_future(inline(client, other, 0, 8))
    assert await asyncio.to_thread(endpoint.wait_for, lambda e: len(e.generation_requests()) == 2)
    await asyncio.sleep(0.2)
    insert(client, other, 2, 0, 8, "Z")
    assert await asyncio.to_thread(endpoint.wait_for, lambda e: e.disconnects >= 1, 5)
    await asyncio.gather(stale, return_exceptions=True)


async def test_cancel_request_closes_the_http_stream(
    client: LanguageClient, endpoint: FakeEndpoint, tmp_path: Path
):
    await start(client, endpoint_options(endpoint), tmp_path)
    endpoint.default = Reply(text="z" * 200, chunk_delay=0.1, chunk_size=1)
    uri = open_doc(client, tmp_path / "k.py", "value = \n")
    params = types.InlineCompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        position=types.Position(line=0, character=8),
        context=types.InlineCompletionContext(
            trigger_kind=types.InlineCompletionTriggerKind.Automatic))
    future = client.protocol.send_request(types.TEXT_DOCUMENT_INLINE_COMPLETION, params,
                                          msg_id="cancel-me")
    assert await asyncio.to_thread(endpoint.wait_for, lambda e: len(e.generation_requests()))
    client.cancel_request(types.CancelParams(id="cancel-me"))
    assert await asyncio.to_thread(endpoint.wait_for, lambda e: e.disconnects >= 1, 5)
    with pytest.raises(Exception, match="cancel"):
        await asyncio.wrap_future(future)
    assert endpoint.completed == 0


async def test_endpoint_error_shows_one_message_and_server_recovers(
    client: LanguageClient, endpoint: FakeEndpoint, tmp_path: Path
):
    await start(client, endpoint_options(endpoint), tmp_path)
    endpoint.default = Reply(status=503)
    uri = open_doc(client, tmp_path / "e.py", "value = \n")
    for _ in range(4):
        assert await inline(client, uri, 0, 8, invoked=True) is None
    errors = [m for m in client.messages if m.type == types.MessageType.Error]
    assert len(errors) == 1 and "503" in errors[0].message
    assert any(s.state == "error" for s in STATUS[id(client)])
    endpoint.default = Reply(text="42")
    result = await inline(client, uri, 0, 8, invoked=True)
    assert result is not None and result.items[0].insert_text == "42"
    assert STATUS[id(client)][-1].state == "idle"


async def test_backoff_spares_a_failing_endpoint(
    client: LanguageClient, endpoint: FakeEndpoint, tmp_path: Path
):
    await start(client, endpoint_options(endpoint), tmp_path)
    endpoint.default = Reply(status=500)
    uri = open_doc(client, tmp_path / "b.py", "value = \n")
    for _ in range(5):  # automatic triggers, as typing makes them
        assert await inline(client, uri, 0, 8) is None
    assert len(endpoint.generation_requests()) == 1


async def test_auth_failure_is_actionable_and_never_leaks_the_key(
    client: LanguageClient, tmp_path: Path
):
    secret = "sk-test-0123456789abcdef-SECRET"
    with FakeEndpoint(api_key="the-right-key") as ep:
        options = endpoint_options(ep)
        options["endpoint"]["apiKey"] = secret
        await start(client, options, tmp_path)
        uri = open_doc(client, tmp_path / "a.py", "value = \n")
        assert await inline(client, uri, 0, 8, invoked=True) is None
        assert ep.generation_requests()[0].headers["Authorization"] == f"Bearer {secret}"
    text = " ".join(m.message for m in [*client.messages, *client.log_messages])
    assert "API key" in text and "401" in text
    assert secret not in text


async def test_unreachable_endpoint(client: LanguageClient, tmp_path: Path):
    options = {"endpoint": {"baseUrl": "http://127.0.0.1:9/v1", "provider": "openai"},
               "completion": {"model": "qwen-test"}}
    await start(client, options, tmp_path)
    uri = open_doc(client, tmp_path / "u.py", "value = \n")
    assert await inline(client, uri, 0, 8, invoked=True) is None
    assert any("Cannot reach" in m.message for m in client.messages)


async def test_workspace_configuration_wins_over_initialization_options(
    client: LanguageClient, endpoint: FakeEndpoint, tmp_path: Path
):
    client.set_configuration({"completion": {"model": "from-workspace"}}, section="qwen")
    caps = types.ClientCapabilities(workspace=types.WorkspaceClientCapabilities(
        configuration=True))
    await start(client, endpoint_options(endpoint), tmp_path, caps)
    await asyncio.sleep(0.3)  # the server pulls configuration after `initialized`
    uri = open_doc(client, tmp_path / "w.py", "value = \n")
    await inline(client, uri, 0, 8)
    assert endpoint.generation_requests()[0].body["model"] == "from-workspace"


async def test_bad_settings_are_reported_and_defaults_used(
    client: LanguageClient, endpoint: FakeEndpoint, tmp_path: Path
):
    options = endpoint_options(endpoint, maxTokens="lots")
    await start(client, options, tmp_path)
    endpoint.default = Reply(text="1")
    uri = open_doc(client, tmp_path / "s.py", "value = \n")
    result = await inline(client, uri, 0, 8)
    assert result is not None
    assert any("maxTokens" in m.message for m in client.messages)


async def test_unopened_and_out_of_range_documents(
    client: LanguageClient, endpoint: FakeEndpoint, tmp_path: Path
):
    await start(client, endpoint_options(endpoint), tmp_path)
    endpoint.default = Reply(text="ok")
    assert await inline(client, (tmp_path / "never_opened.py").as_uri(), 0, 0) is None
    uri = open_doc(client, tmp_path / "r.py", "x = \n")
    result = await inline(client, uri, 99, 99)
    assert result is None or result.items[0].insert_text == "ok"
    assert not endpoint.generation_requests() or endpoint.generation_requests()[0].body[
        "prompt"].startswith("<|fim_prefix|>x = \n")


async def test_acceptance_is_counted(
    client: LanguageClient, endpoint: FakeEndpoint, tmp_path: Path
):
    await start(client, endpoint_options(endpoint), tmp_path)
    endpoint.default = Reply(text="done()")
    uri = open_doc(client, tmp_path / "a.py", "value = \n")
    result = await inline(client, uri, 0, 8)
    assert result is not None
    cmd = result.items[0].command
    await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command=cmd.command, arguments=cmd.arguments))
    client.protocol.notify("qwen/didPartiallyAccept", {"id": cmd.arguments[0]["id"],
                                                       "acceptedLength": 4, "kind": "word"})
    await asyncio.sleep(0.1)
    stats = await client.protocol.send_request_async("qwen/stats", {})
    assert stats.shown == 1 and stats.accepted == 1 and stats.partiallyAccepted == 1


async def test_a_burst_of_keystrokes_makes_one_model_request(
    client: LanguageClient, endpoint: FakeEndpoint, tmp_path: Path
):
    await start(client, endpoint_options(endpoint, debounceMinMs=150), tmp_path)
    endpoint.default = Reply(text="_total")
    uri = open_doc(client, tmp_path / "burst.py", "value = \n")
    pending = []
    for i, ch in enumerate("count"):
        insert(client, uri, i + 2, 0, 8 + i, ch)
        pending.append(asyncio.ensure_future(inline(client, uri, 0, 9 + i)))
    results = await asyncio.gather(*pending, return_exceptions=True)
    assert len(endpoint.generation_requests()) == 1
    last = results[-1]
    assert last is not None and last.items[0].insert_text == "_total"
    assert endpoint.generation_requests()[0].body["prompt"].startswith(
        "<|fim_prefix|>value = count<|fim_suffix|>")


async def test_accepting_prefetches_the_next_suggestion(
    client: LanguageClient, endpoint: FakeEndpoint, tmp_path: Path
):
    await start(client, endpoint_options(endpoint), tmp_path)
    endpoint.script(Reply(text="first(1)"), Reply(text="  # then this"))
    uri = open_doc(client, tmp_path / "p.py", "x = \n")
    shown = await inline(client, uri, 0, 4)
    assert shown is not None and shown.items[0].insert_text == "first(1)"
    # What an editor does on Tab: apply the text, then run the item's command.
    insert(client, uri, 2, 0, 4, "first(1)")
    cmd = shown.items[0].command
    await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command=cmd.command, arguments=cmd.arguments))
    assert await asyncio.to_thread(endpoint.wait_for,
                                   lambda e: len(e.generation_requests()) == 2, 5)
    prompt = endpoint.generation_requests()[1].body["prompt"]
    assert prompt.startswith("<|fim_prefix|>x = first(1)<|fim_suffix|>")
    following = await inline(client, uri, 0, 12)
    assert following is not None and following.items[0].insert_text == "  # then this"
    assert len(endpoint.generation_requests()) == 2
    stats = await client.protocol.send_request_async("qwen/stats", {})
    assert stats.prefetches == 1 and stats.accepted == 1


async def test_token_budgets_follow_the_endpoints_own_tokenizer(
    client: LanguageClient, endpoint: FakeEndpoint, tmp_path: Path
):
    endpoint.chars_per_token = 2.0  # a tokenizer much denser than the 3.2 estimate
    endpoint.default = Reply(text="0")
    await start(client, endpoint_options(endpoint, promptTokens=600), tmp_path)
    body = "".join(f"value_{i} = compute_{i}(value_{i - 1})\n" for i in range(1, 400))
    uri = open_doc(client, tmp_path / "long.py", body + "result = \n")
    assert await inline(client, uri, 399, 9) is not None
    # Before calibration the estimate leaves room for 600 * 3.2 characters at most.
    first = endpoint.generation_requests()[0].body["prompt"]
    assert len(first) <= 600 * 3.2
    assert endpoint.wait_for(lambda ep: any(r.path == "/tokenize" for r in ep.requests))
    stats = None
    for _ in range(50):  # calibration runs in the background, after the answer
        stats = await client.protocol.send_request_async("qwen/stats", {})
        if stats.endpoints[0].tokenCounts == "endpoint":
            break
        await asyncio.sleep(0.05)
    assert stats.endpoints[0].tokenCounts == "endpoint"
    assert stats.endpoints[0].charsPerToken == pytest.approx(2.0, rel=0.02)
    assert stats.endpoints[0].contextWindow == 32768
    # Now the endpoint's count governs: the next prompt fits 600 of its tokens.
    insert(client, uri, 2, 399, 9, "x")
    assert await inline(client, uri, 399, 10) is not None
    second = endpoint.generation_requests()[-1].body["prompt"]
    assert len(second) <= 600 * 2.0 and len(second) < 0.75 * len(first)


async def test_finished_answers_keep_their_connection_for_the_next_keystroke(
    client: LanguageClient, endpoint: FakeEndpoint, tmp_path: Path
):
    # A stream the model ended itself is read to its end, so its connection is reused: a new
    # one would cost a TCP (and, remotely, a TLS) handshake on every keystroke.
    await start(client, endpoint_options(endpoint), tmp_path)
    endpoint.default = Reply(text="1")
    uri = open_doc(client, tmp_path / "k.py", "value = \n")
    for i in range(5):
        insert(client, uri, i + 2, 0, 8 + i, "x")
        result = await inline(client, uri, 0, 9 + i, invoked=True)
        assert result is not None and result.items[0].insert_text == "1"
    assert len(endpoint.generation_requests()) == 5
    assert endpoint.connections == 1 and endpoint.disconnects == 0


async def test_requesting_is_said_only_for_requests_that_take_a_while(
    client: LanguageClient, endpoint: FakeEndpoint, tmp_path: Path
):
    # Quick answers send no status on their way to the endpoint (nor a spinner that
    # flickers); a slow one still shows "requesting", then "idle". Every request used to.
    await start(client, endpoint_options(endpoint), tmp_path)
    statuses = STATUS[id(client)]
    uri = open_doc(client, tmp_path / "q.py", "value = \n")
    endpoint.default = Reply(text="1")
    assert await inline(client, uri, 0, 8, invoked=True) is not None  # warm up
    before = len(statuses)
    for i in range(6):
        insert(client, uri, i + 2, 0, 8 + i, "x")
        assert await inline(client, uri, 0, 9 + i, invoked=True) is not None
    await asyncio.sleep(0.3)
    # A loaded machine may make one or two slow; six quick ones used to say it six times.
    assert len([s for s in statuses[before:] if s.state == "requesting"]) <= 3
    endpoint.script(Reply(text="2", delay=0.6))
    insert(client, uri, 8, 0, 14, "x")
    assert await inline(client, uri, 0, 15, invoked=True) is not None
    states = [s.state for s in statuses]
    assert "requesting" in states and states[-1] == "idle", states


async def test_an_outage_shows_one_message_and_stays_an_error_until_a_request_succeeds(
    client: LanguageClient, tmp_path: Path
):
    with FakeEndpoint() as ep:  # take a free port, then leave it: the server is down
        port = ep.port
    options = {"endpoint": {"baseUrl": f"http://127.0.0.1:{port}/v1", "provider": "openai"},
               "completion": {"model": "qwen-test"}}
    await start(client, options, tmp_path)
    uri = open_doc(client, tmp_path / "down.py", "value = \n")
    # Typing on through the outage: some requests are skipped while the endpoint is paused
    # after its failure, later ones reach it again (backoff 1 s, then 2 s) and fail again.
    for _ in range(8):
        assert await inline(client, uri, 0, 8) is None
        await asyncio.sleep(0.25)
    errors = [m for m in client.messages if "Cannot reach" in m.message]
    assert len(errors) == 1, [m.message for m in errors]
    states = [s.state for s in STATUS[id(client)]]
    first_error = states.index("error")
    assert "idle" not in states[first_error:], states
    with FakeEndpoint(port=port, default=Reply(text="42")):
        result = await inline(client, uri, 0, 8, invoked=True)
        assert result is not None and result.items[0].insert_text == "42"
    assert STATUS[id(client)][-1].state == "idle"


async def test_the_context_window_of_llamacpp_is_read_and_shown_in_stats(
    client: LanguageClient, endpoint: FakeEndpoint, tmp_path: Path
):
    endpoint.n_ctx = 2048  # llama-server -c 2048
    endpoint.default = Reply(text="0")
    await start(client, endpoint_options(endpoint, provider="llamacpp"), tmp_path)
    body = "".join(f"value_{i} = compute_{i}(value_{i - 1})\n" for i in range(1, 400))
    uri = open_doc(client, tmp_path / "long.py", body + "result = \n")
    assert await inline(client, uri, 399, 9, invoked=True) is not None
    stats = await client.protocol.send_request_async("qwen/stats", {})
    assert stats.endpoints[0].contextWindow == 2048
    prompt = endpoint.generation_requests()[0].body["prompt"]
    assert len(prompt) / 3.2 + 128 <= 2048  # fitted under it from the first prompt on


@pytest.mark.parametrize(("parameters", "loaded", "expected"), [
    ('num_ctx                        2048\nstop                           "<|endoftext|>"',
     None, 2048),  # the Modelfile sets num_ctx
    ('stop                           "<|endoftext|>"', None, 4096),  # Ollama's default
    ('stop                           "<|endoftext|>"', 8192, 8192),  # /api/ps: as loaded
])
async def test_the_context_window_of_ollama_is_read_and_prompts_fit_under_it(
    client: LanguageClient, endpoint: FakeEndpoint, tmp_path: Path, parameters: str,
    loaded: int | None, expected: int
):
    endpoint.ollama_parameters = parameters
    endpoint.ollama_loaded_context = loaded  # listed under the first model
    endpoint.models = ["qwen-test", "other"]
    endpoint.default = Reply(text="0")
    await start(client, endpoint_options(endpoint, provider="ollama"), tmp_path)
    body = "".join(f"value_{i} = compute_{i}(value_{i - 1})\n" for i in range(1, 1200))
    uri = open_doc(client, tmp_path / "long.py", body + "result = \n")
    assert await inline(client, uri, 1199, 9, invoked=True) is not None
    stats = await client.protocol.send_request_async("qwen/stats", {})
    assert stats.endpoints[0].contextWindow == expected
    shown = [r.body for r in endpoint.requests if r.path == "/api/show"]
    assert shown and shown[0]["model"] == "qwen-test"
    # Fitted from the first prompt on; num_ctx itself is left to Ollama (no model reload).
    (request,) = endpoint.generation_requests()
    assert len(request.body["prompt"]) / 3.2 + 128 <= expected
    assert "num_ctx" not in request.body["options"]


async def test_the_trained_length_caps_ollamas_default_context(
    client: LanguageClient, endpoint: FakeEndpoint, tmp_path: Path
):
    endpoint.ollama_context_length = 2048  # a model trained on 2048 tokens: below the default
    endpoint.default = Reply(text="0")
    await start(client, endpoint_options(endpoint, provider="ollama"), tmp_path)
    uri = open_doc(client, tmp_path / "add.py", ADD)
    assert await inline(client, uri, 1, 11, invoked=True) is not None
    stats = await client.protocol.send_request_async("qwen/stats", {})
    assert stats.endpoints[0].contextWindow == 2048


async def test_vllm_cached_prompt_tokens_are_counted_in_stats(
    client: LanguageClient, endpoint: FakeEndpoint, tmp_path: Path
):
    # vLLM (with --enable-prompt-tokens-details) and OpenAI say in the usage chunk how many
    # prompt tokens came from the prefix cache; without the flag vLLM sends null there.
    endpoint.script(Reply(text="a + b", cached_tokens=8), Reply(text="a + b", cached_tokens=10),
                    Reply(text="a + b"))
    await start(client, endpoint_options(endpoint), tmp_path)
    uri = open_doc(client, tmp_path / "add.py", ADD + "\n" * 40)
    for version in (2, 3, 4):
        assert await inline(client, uri, 1, 11, invoked=True) is not None
        insert(client, uri, version, 0, 0, "#")  # a new prompt each time, not a cached answer
    requests = endpoint.generation_requests()
    assert len(requests) == 3
    assert all(r.body["stream_options"] == {"include_usage": True} for r in requests)
    prompt_tokens = [-(-len(r.body["prompt"]) // 4) for r in requests[:2]]
    stats = await client.protocol.send_request_async("qwen/stats", {})
    cache = stats.endpoints[0].promptCache
    assert cache.requests == 2  # the third said nothing
    assert cache.cachedTokens == 18
    assert cache.evaluatedTokens == sum(prompt_tokens) - 18


async def test_a_server_that_refuses_stream_options_is_asked_without_them(
    client: LanguageClient, endpoint: FakeEndpoint, tmp_path: Path
):
    refusal = ('{"error": {"message": "Unrecognized request argument supplied: '
               'stream_options", "type": "invalid_request_error"}}')
    endpoint.script(Reply(status=400, body=refusal))
    endpoint.default = Reply(text="a + b")
    await start(client, endpoint_options(endpoint), tmp_path)
    uri = open_doc(client, tmp_path / "add.py", ADD)
    result = await inline(client, uri, 1, 11, invoked=True)
    assert result is not None and [i.insert_text for i in result.items] == ["a + b"]
    insert(client, uri, 2, 0, 0, "#")
    assert await inline(client, uri, 1, 11, invoked=True) is not None
    asked = [r.body for r in endpoint.generation_requests()]
    assert len(asked) == 3 and "stream_options" in asked[0]
    assert all("stream_options" not in body for body in asked[1:])  # never again
