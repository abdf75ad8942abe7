"""What an endpoint sends is read under caps; what we send is always valid UTF-8."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from lsp_server.model import client as client_module
from lsp_server.model.client import ModelClient
from lsp_server.model.dialects import ChatRequest, CompletionRequest
from lsp_server.model.errors import ModelError
from lsp_server.settings import EndpointSettings

REQ = CompletionRequest("<|fim_prefix|>a\ud800b<|fim_suffix|><|fim_middle|>", "m", 8, 0.0, ())


class Chunks(httpx.AsyncByteStream):
    """A response body sent in pieces, counting how much of it was read."""

    def __init__(self, pieces: Iterator[bytes]) -> None:
        self.pieces = pieces
        self.read = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for piece in self.pieces:
            self.read += len(piece)
            yield piece


def _client(handler, provider: str = "openai") -> ModelClient:
    return ModelClient(
        EndpointSettings(base_url="http://127.0.0.1:9/v1", provider=provider),
        transport=httpx.MockTransport(handler),
    )


def _sse(stream: httpx.AsyncByteStream):
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, stream=stream)

    return handler


async def _complete(client: ModelClient) -> str:
    return "".join([piece async for piece in client.stream_completion(REQ)])


@pytest.fixture(autouse=True)
def small_caps(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(client_module, "MAX_LINE_BYTES", 10_000)
    monkeypatch.setattr(client_module, "MAX_ANSWER_BYTES", 100_000)
    monkeypatch.setattr(client_module, "MAX_MODELS", 50)


async def test_an_endless_sse_line_is_refused_before_it_is_held():
    body = Chunks(iter([b'data: {"choices": [{"text": "'] + [b"x" * 1000] * 10_000))
    with pytest.raises(ModelError, match=r"a line over 0.01 MB"):
        await _complete(_client(_sse(body)))
    assert body.read < 20_000


async def test_an_endless_stream_of_small_events_is_cut_at_the_answer_cap():
    event = b'data: {"choices": [{"text": "xxxxxxxxxx"}]}\n\n'
    body = Chunks(event for _ in range(100_000))
    with pytest.raises(ModelError, match=r"an answer over 0.1 MB"):
        await _complete(_client(_sse(body)))
    assert body.read < 110_000


async def test_an_endless_ndjson_line_is_refused():
    body = Chunks(iter([b'{"response": "'] + [b"y" * 1000] * 10_000))

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=body)

    with pytest.raises(ModelError, match="a line over"):
        await _complete(_client(handler, "ollama"))


async def test_events_split_anywhere_are_read_whole():
    frames = (
        b'data: {"choices": [{"text": "he"}]}\r\n\r\n'
        b': a comment\r\ndata: {"choices": [{"text": "llo"}]}\r\r'
        b'data: {"choices":\ndata: [{"text": "!"}]}\n\ndata: [DONE]\n\n'
    )
    body = Chunks(frames[i : i + 3] for i in range(0, len(frames), 3))
    assert await _complete(_client(_sse(body))) == "hello!"


async def test_a_huge_model_list_is_refused():
    def handler(request: httpx.Request) -> httpx.Response:
        names = [{"id": "m" * 100} for _ in range(5_000)]  # 0.5 MB, over the cap
        return httpx.Response(200, json={"data": names})

    with pytest.raises(ModelError, match=r"an answer over 0.1 MB"):
        await _client(handler).list_models()


async def test_too_many_models_are_refused():
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"data": [{"id": f"m{i}"} for i in range(51)]})

    with pytest.raises(ModelError, match="over 50 models"):
        await _client(handler).list_models()


async def test_lone_surrogates_are_replaced_in_every_request_body():
    bodies: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(request.content)
        return httpx.Response(200, json={"choices": [{"text": "ok", "message": {"content": "ok"}}]})

    client = _client(handler)
    assert await _complete(client) == "ok"
    chat = ChatRequest([{"role": "user", "content": "x\udcff y"}], "m", 8, 0.0)
    async for _delta in client.stream_chat(chat):
        pass
    await client.count_tokens("\ud83d alone", "m")
    assert len(bodies) >= 3  # a tokenizer route is probed in each shape it may take
    for body in bodies:
        text = body.decode("utf-8")  # strict: raises on anything that is not UTF-8
        assert "\ufffd" in text and json.loads(text)
