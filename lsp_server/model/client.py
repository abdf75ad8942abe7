"""ModelClient: streamed, cancellable requests to one endpoint, with errors a user can act on."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import importlib
import json
import re
import ssl
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from lsp_server.model.dialects import (
    ChatDelta,
    ChatRequest,
    CompletionRequest,
    Dialect,
    ServerInfo,
    TokenCount,
    dialect_for,
)
from lsp_server.model.errors import ErrorKind, ModelError
from lsp_server.settings import EndpointSettings

_MAX_ERROR_BODY = 2000
# Caps on what an endpoint may send: one stream line or event, one whole answer (stream or
# JSON body), one model list. A broken or hostile server gets one clear error, not our memory.
MAX_LINE_BYTES = 1_000_000
MAX_ANSWER_BYTES = 8_000_000
MAX_MODELS = 10_000
_MB = 1_000_000
_EOL_BYTES = re.compile(rb"\r\n|\r|\n")
_SURROGATE = re.compile("[\ud800-\udfff]")


def preload_http_stack() -> None:
    """Import what httpx imports only at its first request (anyio's asyncio backend, h11,
    certifi), before the event loop runs: imported on the loop, it held the first completion
    of every session, and every request behind it, for about 20 ms."""
    for name in ("anyio._backends._asyncio", "h11", "certifi"):
        with contextlib.suppress(ImportError):
            importlib.import_module(name)


@dataclass
class PromptCacheStats:
    """Prompt tokens the server took from its cache vs evaluated, as it reports them."""

    requests: int = 0
    cached: int = 0
    evaluated: int = 0
    last: tuple[int, int] | None = None

    def add(self, cached: int, evaluated: int) -> None:
        """Count one request's figures."""
        self.requests += 1
        self.cached += cached
        self.evaluated += evaluated
        self.last = (cached, evaluated)

    def as_dict(self) -> dict[str, Any]:
        """Return the figures for `qwen/stats`."""
        total = self.cached + self.evaluated
        return {"requests": self.requests, "cachedTokens": self.cached,
                "evaluatedTokens": self.evaluated,
                "reuse": round(self.cached / total, 4) if total else None}


class ModelClient:
    """One endpoint: a pooled HTTP client (keep-alive) and its dialect."""

    def __init__(
        self,
        endpoint: EndpointSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.dialect: Dialect = dialect_for(endpoint.provider)
        headers = {"Accept": "application/json, text/event-stream"}
        if endpoint.api_key:
            headers["Authorization"] = f"Bearer {endpoint.api_key}"
        seconds = endpoint.timeout_ms / 1000
        self._http = httpx.AsyncClient(
            base_url=endpoint.base_url,
            headers=headers,
            timeout=httpx.Timeout(seconds, connect=min(seconds, 5.0)),
            transport=transport,
            verify=_verify(endpoint.ca_bundle),
            limits=httpx.Limits(max_connections=8, max_keepalive_connections=4),
            trust_env=True,
        )
        self._models: list[str] | None = None
        self._can_tokenize: bool | None = None  # unknown until asked once
        self._tokenize_shape: int | None = None  # which request shape the endpoint reads
        self._info: ServerInfo | None = None
        self.served_model: str | None = None  # the model the last completion asked for
        self.prompt_cache = PromptCacheStats()
        self._usage_refused = False  # the server refused `stream_options`

    async def aclose(self) -> None:
        """Close pooled connections."""
        await self._http.aclose()

    def open_connections(self) -> int:
        """Return how many HTTP connections the pool holds (for leak checks)."""
        pool = getattr(self._http._transport, "_pool", None)  # httpx keeps it private
        return len(getattr(pool, "connections", ()))

    # -- public API ------------------------------------------------------------------
    @property
    def info(self) -> ServerInfo | None:
        """Return what `server_info()` found, or None before it was asked."""
        return self._info

    async def list_models(self) -> list[str]:
        """Return the models the endpoint serves."""
        data = await self._send("GET", self.dialect.models_path())
        try:
            names = self.dialect.model_names(json.loads(data))
        except ValueError as exc:
            raise ModelError(ErrorKind.BAD_RESPONSE,
                             f"{self._where()} answered the model list with invalid JSON") from exc
        if len(names) > MAX_MODELS:
            raise ModelError(ErrorKind.BAD_RESPONSE,
                             f"{self._where()} listed over {MAX_MODELS} models; set "
                             "qwen.completion.model (QWEN_LSP_COMPLETION_MODEL) instead")
        self._models = names
        return names

    async def resolve_model(self, model: str) -> str:
        """Return `model`, or the endpoint's first model when none is configured."""
        if model:
            return model
        names = self._models if self._models is not None else await self.list_models()
        if not names:
            raise ModelError(ErrorKind.NOT_FOUND,
                             f"{self._where()} serves no models: set qwen.completion.model "
                             "(QWEN_LSP_COMPLETION_MODEL)")
        return names[0]

    async def count_tokens(self, text: str, model: str = "") -> TokenCount | None:
        """Return the endpoint's own token count for `text`, or None when it cannot tell.

        Never raises: counting only sharpens budgets. The tokenizer route is probed once:
        each request shape the dialect knows is tried until one answers with a count; when
        none does, the endpoint is never asked again. A failure in passing (the connection,
        a 5xx) decides nothing.
        """
        if self._can_tokenize is False:
            return None
        shapes = list(enumerate(self.dialect.tokenize_requests(self.endpoint.base_url, text,
                                                               model)))
        if self._tokenize_shape is not None:
            shapes = shapes[self._tokenize_shape : self._tokenize_shape + 1]
        undecided = False
        for index, (url, body) in shapes:
            try:
                response = await self._http.send(
                    self._http.build_request("POST", url, **json_body(body)), stream=True)
                try:
                    data = await _read_all_capped(response, self._where())
                finally:
                    await response.aclose()
            except (httpx.HTTPError, ModelError):
                return None  # a passing failure: ask again next time
            if response.status_code >= 500 and response.status_code != 501:
                undecided = True
                continue
            try:
                found = self.dialect.token_count(json.loads(data)) if response.is_success \
                    else None
            except ValueError:
                found = None  # not a tokenizer's answer
            if found is not None:
                self._tokenize_shape, self._can_tokenize = index, True
                return found
        if not undecided and self._tokenize_shape is None:
            self._can_tokenize = False  # no route answers with a count: never ask again
        return None

    async def server_info(self, model: str = "") -> ServerInfo:
        """Return what the endpoint says about itself: the model it serves and its context
        size (llama.cpp's `/props` and `/v1/models` `meta.n_ctx`, vLLM's `max_model_len`,
        Ollama's `/api/ps` and `/api/show` for `model`, or its first model).

        Asked once and remembered; never raises (a failure in passing is asked again).
        """
        if self._info is not None:
            return self._info
        found_model: str | None = None
        context: int | None = None
        source = ""
        answered = True
        requests = self.dialect.info_requests(self.endpoint.base_url, model)
        if requests and any(body is not None for _, _, body in requests) and not model:
            try:  # a route that describes one model: the one completions would use
                model = await self.resolve_model("")
            except ModelError:
                return ServerInfo()
            requests = self.dialect.info_requests(self.endpoint.base_url, model)
        for method, url, body in requests:
            try:
                response = await self._http.send(self._http.build_request(
                    method, url, **(json_body(body) if body is not None else {})), stream=True)
                try:
                    data = await _read_all_capped(response, self._where())
                finally:
                    await response.aclose()
                payload = json.loads(data) if response.is_success else None
            except (httpx.HTTPError, ModelError):
                answered = False
                continue
            except ValueError:
                continue
            named, found_context, note = self.dialect.server_info(payload, model)
            found_model = found_model or named
            if context is None and found_context:
                context, source = found_context, note or url.rsplit("/", 1)[-1]
        info = ServerInfo(found_model, context, source)
        if answered:
            self._info = info
        return info

    async def stream_completion(self, req: CompletionRequest) -> AsyncIterator[str]:
        """Yield completion text as it streams; closing the iterator closes the connection."""
        req = _with_model(req, await self.resolve_model(req.model))
        self.served_model = req.model
        body = self.dialect.completion_body(req)
        if self._usage_refused:
            body.pop("stream_options", None)
        try:
            async with contextlib.aclosing(self._completion_texts(body)) as texts:
                async for text in texts:
                    yield text
        except ModelError as err:
            # A strict server that does not know stream_options refuses the request before
            # any text: ask again without it, and from now on.
            if err.kind != ErrorKind.BAD_REQUEST or "stream_options" not in body \
                    or "stream_options" not in err.message:
                raise
            self._usage_refused = True
            body.pop("stream_options")
            async with contextlib.aclosing(self._completion_texts(body)) as texts:
                async for text in texts:
                    yield text

    async def _completion_texts(self, body: dict[str, Any]) -> AsyncIterator[str]:
        """Yield the text of one streamed completion request."""
        events = self._stream_events(self.dialect.completion_path(), body)
        counted = False
        async with contextlib.aclosing(events):  # closed with this iterator, not by the GC
            async for event in events:
                if not counted:
                    counted = self._count_cache(event)
                text, finished = self.dialect.completion_delta(event)
                if text:
                    yield text
                if finished:
                    # The model stopped by itself: read the stream's end, so that the
                    # connection goes back to the pool instead of being dropped (a new one
                    # costs a TCP, and often a TLS, handshake on the next keystroke). The
                    # usage chunk (vLLM's cached prompt tokens) comes there.
                    await _drain(events, None if counted else self._count_cache)
                    return

    def _count_cache(self, event: dict[str, Any]) -> bool:
        """Count the prompt-cache figures an event carries; return whether it had them."""
        found = self.dialect.prompt_cache(event)
        if found is not None:
            self.prompt_cache.add(*found)
        return found is not None

    async def stream_chat(self, req: ChatRequest) -> AsyncIterator[ChatDelta]:
        """Yield chat deltas (answer and reasoning) as they stream."""
        if not req.model:
            req = dataclasses.replace(req, model=await self.resolve_model(""))
        events = self._stream_events(self.dialect.chat_path, self.dialect.chat_body(req))
        async with contextlib.aclosing(events):  # closed with this iterator, not by the GC
            async for event in events:
                for delta in self.dialect.chat_deltas(event):
                    yield delta

    # -- internals -------------------------------------------------------------------
    def _where(self) -> str:
        return f"{self.endpoint.provider} endpoint {self.endpoint.base_url}"

    async def _send(self, method: str, path: str) -> bytes:
        """Return the body of a bodiless request's answer, read up to MAX_ANSWER_BYTES."""
        try:
            response = await self._http.send(self._http.build_request(method, path),
                                             stream=True)
            try:
                if response.status_code >= 400:
                    text = (await _read_capped(response)).decode("utf-8", "replace")
                    raise self._status_error(response.status_code, text, response.headers,
                                             path)
                return await _read_all_capped(response, self._where())
            finally:
                await response.aclose()
        except httpx.HTTPError as exc:
            raise self._transport_error(exc) from None

    async def _stream_events(self, path: str, body: dict[str, Any]) -> AsyncIterator[dict]:
        try:
            response = await self._http.send(
                self._http.build_request("POST", path, **json_body(body)), stream=True)
            try:
                if response.status_code >= 400:
                    text = (await _read_capped(response)).decode("utf-8", "replace")
                    raise self._status_error(response.status_code, text, response.headers, path)
                where = self._where()
                if self.dialect.stream_format == "ndjson":
                    events = _ndjson_events(response, where)
                elif "text/event-stream" in response.headers.get("content-type", ""):
                    events = _sse_events(response, where)
                else:  # a server that ignored "stream": one JSON body
                    events = _single_event(response, where)
                async for event in events:
                    if isinstance(event, dict) and "error" in event:
                        raise self._status_error(500, json.dumps(event), response.headers, path)
                    yield event
            finally:
                # Closing an unfinished stream drops its connection, which stops the model;
                # shielded, so that a cancellation arriving meanwhile cannot cut it short.
                await asyncio.shield(response.aclose())
        except httpx.HTTPError as exc:
            raise self._transport_error(exc) from None

    def _transport_error(self, exc: httpx.HTTPError) -> ModelError:
        where = self._where()
        if isinstance(exc, httpx.TimeoutException):
            return ModelError(ErrorKind.TIMEOUT,
                              f"{where} did not answer in time ({type(exc).__name__}); "
                              "it may be overloaded or loading the model")
        cause = exc.__cause__ or exc.__context__
        if isinstance(cause, ssl.SSLError) or "[SSL" in str(exc) or "CERTIFICATE" in str(exc):
            return ModelError(ErrorKind.TLS,
                              f"TLS handshake with {where} failed ({_short(cause or exc)}): "
                              "check that the URL's scheme is right, and for a private CA set "
                              "qwen.endpoint.caBundle (or SSL_CERT_FILE)")
        if isinstance(exc, httpx.UnsupportedProtocol):
            return ModelError(ErrorKind.UNREACHABLE,
                              f"{self.endpoint.base_url!r} is not a URL starting with http:// or "
                              "https://: set qwen.endpoint.baseUrl (or QWEN_LSP_BASE_URL) to "
                              "the endpoint's URL, for example http://127.0.0.1:8000/v1")
        if isinstance(exc, httpx.ConnectError):
            hint = ("start it with `ollama serve` (and `ollama pull MODEL`)"
                    if self.endpoint.provider == "ollama"
                    else "check that the server runs and that qwen.endpoint.baseUrl "
                         "(QWEN_LSP_BASE_URL) points at it")
            return ModelError(ErrorKind.UNREACHABLE, f"Cannot reach {where}: {hint}")
        if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError):
            return ModelError(ErrorKind.BAD_RESPONSE,
                              f"{where} closed the connection mid-answer ({type(exc).__name__})")
        return ModelError(ErrorKind.UNREACHABLE,
                          f"Request to {where} failed: {self._redact(str(exc))}")

    def _status_error(
        self, status: int, text: str, headers: httpx.Headers, path: str
    ) -> ModelError:
        detail = self._redact(_error_message(text))
        where = self._where()
        if status in (401, 403):
            if not self.endpoint.api_key:
                advice = ("it needs an API key: set QWEN_LSP_API_KEY or qwen.endpoint.apiKey "
                          "(DASHSCOPE_API_KEY is only sent to Model Studio, OPENAI_API_KEY only "
                          "to OPENAI_BASE_URL)")
            else:
                advice = ("the API key was rejected: check QWEN_LSP_API_KEY / "
                          "qwen.endpoint.apiKey; Model Studio keys only work with the base "
                          "URL of their own region")
            return ModelError(ErrorKind.AUTH, f"{where} answered {status}: {advice} ({detail})",
                              status=status)
        if status == 404:
            return ModelError(ErrorKind.NOT_FOUND,
                              f"{where} answered 404 for {path}: the model may not be served "
                              "there or the provider/base URL is wrong; run `qwen-lsp doctor` "
                              f"({detail})", status=status)
        if status == 429:
            retry = _retry_after(headers)
            return ModelError(ErrorKind.RATE_LIMITED,
                              f"{where} is rate limiting requests ({detail}); "
                              "completions pause and resume by themselves",
                              status=status, retry_after=retry)
        if status >= 500:
            return ModelError(ErrorKind.SERVER, f"{where} failed with {status} ({detail})",
                              status=status, retry_after=_retry_after(headers))
        return ModelError(ErrorKind.BAD_REQUEST,
                          f"{where} refused the request with {status} ({detail})", status=status)

    def _redact(self, text: str) -> str:
        key = self.endpoint.api_key
        return text.replace(key, "***") if key else text


def _short(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 120 else text[:117] + "..."


def _with_model(req: CompletionRequest, model: str) -> CompletionRequest:
    return req if req.model == model else CompletionRequest(
        req.prompt, model, req.max_tokens, req.temperature, req.stop)


def _verify(ca_bundle: str) -> ssl.SSLContext | bool:
    if not ca_bundle:
        return True
    return ssl.create_default_context(cafile=ca_bundle)


def _retry_after(headers: httpx.Headers) -> float | None:
    value = headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _error_message(text: str) -> str:
    """Pull the human message out of an error body ({"error": {"message": ...}} and friends)."""
    try:
        payload = json.loads(text)
    except ValueError:
        return text.strip()[:200] or "no details"
    if isinstance(payload, dict):
        err = payload.get("error", payload)
        if isinstance(err, dict):
            return str(err.get("message") or err.get("msg") or err)[:200]
        return str(err)[:200]
    return str(payload)[:200]


async def _read_capped(response: httpx.Response) -> bytes:
    data = bytearray()
    async for chunk in response.aiter_bytes():
        data += chunk
        if len(data) >= _MAX_ERROR_BODY:
            break
    return bytes(data[:_MAX_ERROR_BODY])


# How long the end of a finished stream is waited for before its connection is dropped.
_DRAIN_SECONDS = 0.25


async def _drain(events: AsyncIterator[Any],
                 each: Callable[[Any], bool] | None = None) -> None:
    """Consume what is left of a finished stream, briefly; a server that dawdles loses.
    `each` sees every event until it returns True."""
    with contextlib.suppress(TimeoutError, httpx.HTTPError, ModelError):
        async with asyncio.timeout(_DRAIN_SECONDS):
            async for event in events:
                if each is not None and each(event):
                    each = None


def json_body(body: Any) -> dict[str, Any]:
    """Return httpx arguments sending `body` as UTF-8 JSON; every request body goes through here.

    Lone surrogates (from a document or a file name that was not valid UTF-8) cannot be
    encoded: they become U+FFFD instead of failing the request with UnicodeEncodeError.
    """
    text = json.dumps(body, ensure_ascii=False)
    if _SURROGATE.search(text):
        text = _SURROGATE.sub("\ufffd", text)
    return {"content": text.encode("utf-8"), "headers": {"Content-Type": "application/json"}}


def _too_big(where: str, what: str, limit: int) -> ModelError:
    return ModelError(ErrorKind.BAD_RESPONSE,
                      f"{where} sent {what} over {limit / _MB:g} MB; the answer was dropped "
                      "(check that the base URL points at a model server)")


async def _lines(response: httpx.Response, where: str) -> AsyncIterator[str]:
    """Yield the lines of a streamed answer (ending in \n, \r\n or \r), refusing a line
    over MAX_LINE_BYTES or an answer over MAX_ANSWER_BYTES before holding either."""
    pending = b""
    total = 0
    async for chunk in response.aiter_bytes():
        total += len(chunk)
        if total > MAX_ANSWER_BYTES:
            raise _too_big(where, "an answer", MAX_ANSWER_BYTES)
        pending += chunk
        if b"\n" in chunk or b"\r" in chunk:
            held = b"\r" if pending.endswith(b"\r") else b""  # maybe half of a CRLF
            *lines, rest = _EOL_BYTES.split(pending[: len(pending) - len(held)])
            pending = rest + held
            for line in lines:
                if len(line) > MAX_LINE_BYTES:
                    raise _too_big(where, "a line", MAX_LINE_BYTES)
                yield line.decode("utf-8", "replace")
        if len(pending) > MAX_LINE_BYTES:
            raise _too_big(where, "a line", MAX_LINE_BYTES)
    if pending.rstrip(b"\r"):
        yield pending.rstrip(b"\r").decode("utf-8", "replace")


async def _sse_events(response: httpx.Response, where: str) -> AsyncIterator[dict]:
    """Yield the JSON `data` of each server-sent event; `[DONE]` ends the stream."""
    data: list[str] = []
    size = 0
    lines = _lines(response, where)
    async for line in lines:
        if line:
            field, _, value = line.partition(":")
            if field == "data":
                value = value.removeprefix(" ")
                size += len(value)
                if size > MAX_LINE_BYTES:
                    raise _too_big(where, "an event", MAX_LINE_BYTES)
                data.append(value)
            continue
        if not data:
            continue
        text, data, size = "\n".join(data), [], 0
        if text.strip() == "[DONE]":
            await _drain(lines)  # the body's end: then the connection can be reused
            return
        if text.strip():
            yield _parse_json(text, response)
    if data and "\n".join(data).strip() not in ("", "[DONE]"):
        yield _parse_json("\n".join(data), response)


async def _ndjson_events(response: httpx.Response, where: str) -> AsyncIterator[dict]:
    async for line in _lines(response, where):
        if line.strip():
            yield _parse_json(line, response)


async def _single_event(response: httpx.Response, where: str) -> AsyncIterator[dict]:
    data = await _read_all_capped(response, where)
    yield _parse_json(data.decode("utf-8", "replace"), response)


async def _read_all_capped(response: httpx.Response, where: str) -> bytes:
    data = bytearray()
    async for chunk in response.aiter_bytes():
        data += chunk
        if len(data) > MAX_ANSWER_BYTES:
            raise _too_big(where, "an answer", MAX_ANSWER_BYTES)
    return bytes(data)


def _parse_json(text: str, response: httpx.Response) -> dict:
    try:
        value = json.loads(text)
    except ValueError:
        raise ModelError(ErrorKind.BAD_RESPONSE,
                         f"{response.url.host} sent malformed JSON in its stream: "
                         f"{text[:80]!r}") from None
    if not isinstance(value, dict):
        raise ModelError(ErrorKind.BAD_RESPONSE, f"{response.url.host} sent an unexpected event")
    return value

