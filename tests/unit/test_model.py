"""Dialect request shapes, the mode decision, health backoff and the typed-through cache."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from lsp_server.completion.pipeline import CompletionInput, CompletionPipeline, is_multiline
from lsp_server.model.client import ModelClient
from lsp_server.model.dialects import ChatRequest, CompletionRequest, dialect_for
from lsp_server.model.errors import ErrorKind, ModelError
from lsp_server.model.health import EndpointHealth
from lsp_server.model.pool import EndpointPool
from lsp_server.prompt import STOP_TOKENS
from lsp_server.settings import EndpointSettings, resolve_settings

REQ = CompletionRequest("<|fim_prefix|>x<|fim_suffix|><|fim_middle|>", "m", 32, 0.0, STOP_TOKENS)


def test_dialect_bodies():
    openai = dialect_for("openai").completion_body(REQ)
    assert openai["max_tokens"] == 32 and openai["stop"] == list(STOP_TOKENS)
    assert "suffix" not in openai
    ollama = dialect_for("ollama").completion_body(REQ)
    assert ollama["raw"] is True and ollama["options"]["num_predict"] == 32
    llama = dialect_for("llamacpp").completion_body(REQ)
    assert llama["n_predict"] == 32 and llama["cache_prompt"] is True
    chat = ChatRequest([{"role": "user", "content": "hi"}], "m", 10, 0.1, thinking=False)
    assert dialect_for("dashscope").chat_body(chat)["enable_thinking"] is False
    assert dialect_for("openai").chat_body(chat)["chat_template_kwargs"] == {
        "enable_thinking": False}


def test_chat_deltas_accept_both_reasoning_fields():
    d = dialect_for("openai")
    assert [x.reasoning for x in d.chat_deltas(
        {"choices": [{"delta": {"reasoning_content": "r", "content": "c"}}]})] == [True, False]
    assert d.chat_deltas({"choices": [{"delta": {"reasoning": "r"}}]})[0].text == "r"
    assert d.chat_deltas({"choices": []}) == []


@pytest.mark.parametrize(("text", "expected"), [
    ("x = foo(|)\n", False),             # code after the cursor: finish the line
    ("def f():\n    |\n", True),          # blank line inside a block
    ("def f():|\n", True),                # end of a line that opens a block
    ("x = 1|\n", False),                  # end of an ordinary line
    ("x = 1\n|\n", False),                # blank top-level line
    ("if (a) {\n|\n}", True),
])
def test_mode_decision(text, expected):
    offset = text.index("|")
    assert is_multiline(text.replace("|", ""), offset) is expected


def test_health_backs_off_and_recovers():
    now = [0.0]
    h = EndpointHealth(base_delay=1, max_delay=8, clock=lambda: now[0])
    err = ModelError(ErrorKind.SERVER, "boom")
    for expected in (1, 2, 4, 8, 8):
        h.record_failure(err)
        assert h.seconds_until_retry() == expected
    h.record_failure(ModelError(ErrorKind.RATE_LIMITED, "slow down", retry_after=30))
    assert h.seconds_until_retry() == 8  # capped
    now[0] = 100
    assert h.available()
    h.record_success()
    assert h.failures == 0 and h.last_error is None


def _sse(*texts: str) -> bytes:
    frames = [b'data: {"choices": [{"text": "%s", "finish_reason": null}]}\n\n' % t.encode()
              for t in texts]
    return b"".join(frames) + b"data: [DONE]\n\n"


def _pipeline(handler) -> tuple[CompletionPipeline, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":  # the endpoint asked once what it serves: no model call
            return httpx.Response(404)
        seen.append(request)
        return handler(request)

    settings, _ = resolve_settings({"endpoint": {"baseUrl": "http://model/v1"},
                                    "completion": {"model": "m"}}, {})
    pool = EndpointPool(settings.endpoints, transport=httpx.MockTransport(record))
    return CompletionPipeline(pool, lambda: settings), seen


def test_typed_through_cache_and_leaked_tokens():
    pipeline, seen = _pipeline(lambda r: httpx.Response(
        200, content=_sse("answer(", "42)<|endoftext|>junk"),
        headers={"content-type": "text/event-stream"}))

    async def run():
        text = "x = \n"
        first = await pipeline.complete(CompletionInput("doc", text, 4))
        typed = "x = ans\n"
        second = await pipeline.complete(CompletionInput("doc", typed, 7))
        wrong = await pipeline.complete(CompletionInput("doc", "x = bns\n", 7))
        return first, second, wrong

    first, second, wrong = asyncio.run(run())
    assert first.text == "answer(42)" and not first.from_cache
    assert second.text == "wer(42)" and second.from_cache
    assert not wrong.from_cache
    assert len(seen) == 2


def test_errors_are_mapped_with_advice():
    pipeline, _ = _pipeline(lambda r: httpx.Response(
        429, json={"error": {"message": "Requests rate limit exceeded"}},
        headers={"retry-after": "7"}))
    with pytest.raises(ModelError) as info:
        asyncio.run(pipeline.complete(CompletionInput("doc", "x = ", 4)))
    assert info.value.kind == ErrorKind.RATE_LIMITED and info.value.retry_after == 7
    assert "rate limit" in info.value.message
    assert pipeline._endpoints.seconds_until_retry() >= 6


def test_malformed_stream_is_a_clear_error():
    pipeline, _ = _pipeline(lambda r: httpx.Response(
        200, content=b"data: {not json\n\n", headers={"content-type": "text/event-stream"}))
    with pytest.raises(ModelError) as info:
        asyncio.run(pipeline.complete(CompletionInput("doc", "x = ", 4)))
    assert info.value.kind == ErrorKind.BAD_RESPONSE


def test_secret_files_get_no_completion_even_without_a_workspace():
    pipeline, seen = _pipeline(lambda r: httpx.Response(
        200, content=_sse("x"), headers={"content-type": "text/event-stream"}))
    for path in ("/home/u/proj/.env", "/home/u/.ssh/config", "/srv/app/id_rsa"):
        assert asyncio.run(pipeline.complete(
            CompletionInput(path, "KEY=", 4, path=path), explicit=True)) is None
    assert seen == []
    settings, _ = resolve_settings({"endpoint": {"baseUrl": "http://model/v1"},
                                    "completion": {"model": "m", "allowInSecretFiles": True}}, {})
    pipeline._settings = lambda: settings
    result = asyncio.run(pipeline.complete(
        CompletionInput("/p/.env", "KEY=", 4, path="/p/.env"), explicit=True))
    assert result is not None and len(seen) == 1


def test_dns_failure_is_reported_as_unreachable():
    def fail(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno -3] Temporary failure in name resolution")

    pipeline, _ = _pipeline(fail)
    with pytest.raises(ModelError) as info:
        asyncio.run(pipeline.complete(CompletionInput("doc", "x = ", 4), explicit=True))
    assert info.value.kind == ErrorKind.UNREACHABLE
    assert "Cannot reach" in info.value.message and "QWEN_LSP_BASE_URL" in info.value.message


def test_steady_typing_sends_a_request_within_debounce_max_of_the_first_keystroke():
    # 8 characters a second, no pause: the adaptive debounce (1.2 x the 125 ms gap) is
    # longer than the gap, so waiting for a pause would never call the model.
    settings, _ = resolve_settings({"endpoint": {"baseUrl": "http://model/v1"},
                                    "completion": {"model": "m"}}, {})
    now = [0.0]
    pool = EndpointPool(settings.endpoints, transport=httpx.MockTransport(
        lambda r: httpx.Response(404)))
    pipeline = CompletionPipeline(pool, lambda: settings, clock=lambda: now[0])
    for _ in range(4):  # the user's pace is learnt
        pipeline.document_changed("doc")
        now[0] += 0.125
    pipeline._unanswered_since = None  # as when a request went out
    assert pipeline.debounce_seconds() > 0.125
    waits = []
    for _ in range(6):
        pipeline.document_changed("doc")
        waits.append(pipeline._keystroke_delay())
        now[0] += 0.125
    # Each wait that ends before the next keystroke sends a request: one within 250 ms
    # (debounceMaxMs) of the first keystroke nothing was sent for.
    fired = [i for i, (delay, steady) in enumerate(waits) if delay < 0.125]
    assert fired and fired[0] * 0.125 + waits[fired[0]][0] <= 0.25
    assert waits[fired[0]][1]  # steady: its answer is kept through the next keystrokes


def test_a_steady_typing_answer_is_kept_through_keystrokes_before_its_first_piece():
    from lsp_server.completion.reuse import _Entry, _Generation

    entry = _Entry(("k",), 4, "x = ", 1, "\n", "")
    assert not _Generation(entry).agrees("a")  # an ordinary answer: nothing says it will
    patient = _Generation(entry, patient=True)
    assert patient.agrees("ab")
    patient.partial.append("abc(")
    assert patient.agrees("ab") and not patient.agrees("ax")


def test_llamacpp_timings_count_the_prompt_tokens_taken_from_its_cache():
    events = [{"content": "a", "stop": False, "timings": {"cache_n": 90, "prompt_n": 10}},
              {"content": "b", "stop": False, "timings": {"cache_n": 90, "prompt_n": 10}},
              {"content": "", "stop": True, "timings": {"cache_n": 90, "prompt_n": 10}}]
    body = b"".join(b"data: " + json.dumps(e).encode() + b"\n\n" for e in events)
    client = ModelClient(EndpointSettings(base_url="http://model", provider="llamacpp"),
                         transport=httpx.MockTransport(lambda r: httpx.Response(
                             200, content=body, headers={"content-type": "text/event-stream"})))

    async def run() -> str:
        try:
            return "".join([p async for p in client.stream_completion(
                CompletionRequest("p", "m", 8, 0.0, ()))])
        finally:
            await client.aclose()

    assert asyncio.run(run()) == "ab"
    # Once per request, from its first event on (llama.cpp sends them per token when asked).
    assert client.prompt_cache.as_dict() == {"requests": 1, "cachedTokens": 90,
                                             "evaluatedTokens": 10, "reuse": 0.9}
    assert dialect_for("llamacpp").completion_body(REQ)["timings_per_token"] is True


def test_a_context_size_error_caps_the_next_prompt():
    message = ("request (2005 tokens) exceeds the available context size (1024 tokens), "
               "try increasing it")
    pipeline, _ = _pipeline(lambda r: httpx.Response(
        400, json={"error": {"code": 400, "message": message, "type": "exceed_context_size"}}))

    async def run() -> None:
        with pytest.raises(ModelError):
            await pipeline.complete(CompletionInput("doc", "x = " * 3000, 12000), explicit=True)

    asyncio.run(run())
    assert pipeline._endpoints.primary.tokens.max_context == 1024


def test_ollamas_context_comes_from_ps_then_the_modelfile_then_its_default():
    ollama = dialect_for("ollama")
    ps = {"models": [{"name": "qwen2.5-coder:latest", "model": "qwen2.5-coder:latest",
                      "context_length": 8192}]}
    assert ollama.server_info(ps, "qwen2.5-coder")[1] == 8192  # Ollama's implicit tag
    assert ollama.server_info(ps, "qwen2.5-coder:7b") == (None, None, "")  # not loaded
    show = {"parameters": "stop \"<|endoftext|>\"\nnum_ctx 12288", "model_info": {}}
    assert ollama.server_info(show, "m")[1] == 12288
    trained = {"parameters": "", "model_info": {"llama.context_length": 1024}}
    assert ollama.server_info(trained, "m")[1] == 1024  # below Ollama's default
    assert ollama.server_info({"model_info": {"qwen2.context_length": 32768}}, "m")[1] == 4096
    assert ollama.server_info({"error": "model 'm' not found"}, "m") == (None, None, "")


def test_cached_prompt_tokens_from_the_usage_chunk():
    openai = dialect_for("openai")
    usage = {"choices": [], "usage": {"prompt_tokens": 100,
                                      "prompt_tokens_details": {"cached_tokens": 64}}}
    assert openai.prompt_cache(usage) == (64, 36)
    assert openai.prompt_cache({"usage": {"prompt_tokens": 100,
                                          "prompt_tokens_details": None}}) is None
    assert openai.prompt_cache({"usage": {"prompt_tokens": 10,
                                          "prompt_tokens_details": {"cached_tokens": 64}}}) \
        is None  # impossible figures count nothing
