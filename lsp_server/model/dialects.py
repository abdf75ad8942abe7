"""Request and response shapes of each endpoint family: OpenAI-compatible, Ollama, llama.cpp."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

# Ollama's context window when neither the Modelfile (`num_ctx`) nor a loaded model says:
# 4096 on current versions without a large GPU (2048 before); the server's
# OLLAMA_CONTEXT_LENGTH can raise it, which /api/ps shows once the model is loaded.
OLLAMA_DEFAULT_CONTEXT = 4096
_NUM_CTX = re.compile(r"^\s*num_ctx\s+(\d+)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class CompletionRequest:
    """One raw-prompt completion, independent of the endpoint's dialect."""

    prompt: str
    model: str
    max_tokens: int
    temperature: float
    stop: tuple[str, ...]


@dataclass(frozen=True)
class ChatRequest:
    """One chat completion: OpenAI-style messages, streamed."""

    messages: list[dict[str, str]]
    model: str
    max_tokens: int
    temperature: float
    thinking: bool | None = None
    stop: tuple[str, ...] = ()


@dataclass(frozen=True)
class ChatDelta:
    """A piece of a streamed chat answer; reasoning text is kept apart from the answer."""

    text: str
    reasoning: bool = False


@dataclass(frozen=True)
class TokenCount:
    """What an endpoint's tokenizer said about a text."""

    tokens: int
    max_context: int | None = None


@dataclass(frozen=True)
class ServerInfo:
    """What an endpoint says about itself (None where it does not say)."""

    model: str | None = None
    context: int | None = None  # tokens of context a request may use
    source: str = ""  # the route that said so


def _positive(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 \
        else None


class Dialect:
    """The OpenAI-compatible dialect (vLLM, SGLang, LM Studio); others override what differs."""

    name = "openai"
    stream_format: Literal["sse", "ndjson"] = "sse"
    chat_path = "/chat/completions"

    def completion_path(self) -> str:
        """Return the route for raw-prompt completions, relative to the base URL."""
        return "/completions"

    def completion_body(self, req: CompletionRequest) -> dict[str, Any]:
        """Return the JSON body for a streamed raw-prompt completion."""
        return {
            "model": req.model,
            "prompt": req.prompt,
            "max_tokens": req.max_tokens,
            "temperature": req.temperature,
            "stop": list(req.stop),
            "stream": True,
            # A last chunk with the usage: vLLM (with --enable-prompt-tokens-details), SGLang
            # and OpenAI say there how many prompt tokens came from their prefix cache.
            "stream_options": {"include_usage": True},
        }

    def completion_delta(self, event: dict[str, Any]) -> tuple[str, bool]:
        """Return (text, finished) from one streamed event."""
        choices = event.get("choices") or []
        if not choices:  # usage-only chunks carry no choices
            return "", False
        choice = choices[0]
        return choice.get("text") or "", choice.get("finish_reason") is not None

    def prompt_cache(self, event: dict[str, Any]) -> tuple[int, int] | None:
        """Return (prompt tokens taken from the server's cache, prompt tokens evaluated) when
        a streamed event says: llama.cpp's `timings` (`cache_n`, `prompt_n`), also on its
        OpenAI routes; else the usage chunk's `prompt_tokens_details.cached_tokens` of
        `prompt_tokens` (vLLM, SGLang, OpenAI; a server that does not count sends null)."""
        timings = event.get("timings")
        if isinstance(timings, dict):
            cached, evaluated = timings.get("cache_n"), timings.get("prompt_n")
            if isinstance(cached, int) and isinstance(evaluated, int):
                return cached, evaluated
        usage = event.get("usage")
        details = usage.get("prompt_tokens_details") if isinstance(usage, dict) else None
        if not isinstance(details, dict):
            return None
        cached, prompt = details.get("cached_tokens"), usage.get("prompt_tokens")
        if not isinstance(cached, int) or not isinstance(prompt, int) or cached > prompt:
            return None
        return cached, prompt - cached

    def models_path(self) -> str:
        """Return the route that lists served models."""
        return "/models"

    def model_names(self, payload: Any) -> list[str]:
        """Return model ids from the model-list response."""
        data = payload.get("data") if isinstance(payload, dict) else None
        return [m["id"] for m in data or [] if isinstance(m, dict) and "id" in m]

    def info_urls(self, base_url: str) -> list[str]:
        """Return the routes (absolute URLs) that may tell the model and context size:
        the model list (vLLM `max_model_len`, llama.cpp `meta.n_ctx`) and llama.cpp's
        `/props` at the server root."""
        root = base_url.rstrip("/").removesuffix("/v1")
        return [f"{base_url.rstrip('/')}{self.models_path()}", f"{root}/props"]

    def info_requests(self, base_url: str, model: str
                      ) -> list[tuple[str, str, dict[str, Any] | None]]:
        """Return the (method, absolute URL, JSON body) requests that may tell the model and
        context size, in order of trust."""
        return [("GET", url, None) for url in self.info_urls(base_url)]

    def server_info(self, payload: Any, model: str = ""
                    ) -> tuple[str | None, int | None, str]:
        """Return (model, context size, where it comes from; "" for the route's name) found
        in a model-list or `/props` answer."""
        if not isinstance(payload, dict):
            return None, None, ""
        settings = payload.get("default_generation_settings")
        if isinstance(settings, dict) and _positive(settings.get("n_ctx")):
            alias = payload.get("model_alias") or payload.get("model_path")
            return (alias if isinstance(alias, str) and alias else None,
                    _positive(settings.get("n_ctx")), "")
        for entry in payload.get("data") or []:
            if not isinstance(entry, dict):
                continue
            meta = entry.get("meta") if isinstance(entry.get("meta"), dict) else {}
            context = _positive(meta.get("n_ctx")) or _positive(entry.get("max_model_len"))
            model = entry.get("id") if isinstance(entry.get("id"), str) else None
            return model, context, ""
        return None, None, ""

    def tokenize_requests(self, base_url: str, text: str, model: str
                          ) -> list[tuple[str, dict[str, Any]]]:
        """Return the (absolute URL, body) shapes of the tokenizer routes to try, in order.

        vLLM and SGLang serve `POST /tokenize {"model", "prompt"}` at the server root, beside
        `/v1`; llama.cpp serves `POST /tokenize {"content"}` there and answers the vLLM
        shape with an empty list, so an OpenAI-compatible URL may be either: both are tried.
        """
        root = base_url.rstrip("/").removesuffix("/v1")
        return [(f"{root}/tokenize", {"model": model, "prompt": text}),
                (f"{root}/tokenize", {"content": text})]

    def token_count(self, payload: Any) -> TokenCount | None:
        """Return the count in a tokenizer answer, or None when it holds no count.

        vLLM answers `{count, max_model_len, tokens}`, llama.cpp `{tokens}`. An empty list or
        a count of 0 is not a count (llama.cpp answers a body it cannot read so).
        """
        if not isinstance(payload, dict):
            return None
        count = payload.get("count")
        if not isinstance(count, int) or isinstance(count, bool):
            tokens = payload.get("tokens")
            count = len(tokens) if isinstance(tokens, list) else None
        if not count or count <= 0:
            return None
        limit = payload.get("max_model_len")
        return TokenCount(count, limit if isinstance(limit, int) and limit > 0 else None)

    def chat_body(self, req: ChatRequest) -> dict[str, Any]:
        """Return the JSON body for a streamed chat completion."""
        body: dict[str, Any] = {
            "model": req.model,
            "messages": req.messages,
            "max_tokens": req.max_tokens,
            "temperature": req.temperature,
            "stream": True,
        }
        if req.stop:
            body["stop"] = list(req.stop)
        if req.thinking is not None:
            body["chat_template_kwargs"] = {"enable_thinking": req.thinking}
        return body

    def chat_deltas(self, event: dict[str, Any]) -> list[ChatDelta]:
        """Return the answer and reasoning pieces in one streamed chat event."""
        choices = event.get("choices") or []
        if not choices:
            return []
        delta = choices[0].get("delta") or {}
        out = []
        reasoning = delta.get("reasoning_content") or delta.get("reasoning")
        if reasoning:
            out.append(ChatDelta(reasoning, reasoning=True))
        if delta.get("content"):
            out.append(ChatDelta(delta["content"]))
        return out


class DashScopeDialect(Dialect):
    """Alibaba Model Studio in OpenAI-compatible mode: thinking is a top-level flag."""

    name = "dashscope"

    def chat_body(self, req: ChatRequest) -> dict[str, Any]:
        """Return the chat body with DashScope's `enable_thinking` switch."""
        body = super().chat_body(req)
        body.pop("chat_template_kwargs", None)
        if req.thinking is not None:
            body["enable_thinking"] = req.thinking
        return body

    def info_urls(self, base_url: str) -> list[str]:
        """Model Studio says nothing about context sizes."""
        return []

    def tokenize_requests(self, base_url: str, text: str, model: str
                          ) -> list[tuple[str, dict[str, Any]]]:
        """Model Studio has no tokenizer route."""
        return []


class OllamaDialect(Dialect):
    """Ollama: `/api/generate` in raw mode, newline-delimited JSON."""

    name = "ollama"
    stream_format = "ndjson"
    chat_path = "/v1/chat/completions"

    def completion_path(self) -> str:
        """Return Ollama's native generate route."""
        return "/api/generate"

    def completion_body(self, req: CompletionRequest) -> dict[str, Any]:
        """Return a raw-mode generate body (no template: the FIM prompt is ours)."""
        return {
            "model": req.model,
            "prompt": req.prompt,
            "raw": True,
            "stream": True,
            "options": {
                "num_predict": req.max_tokens,
                "temperature": req.temperature,
                "stop": list(req.stop),
            },
        }

    def completion_delta(self, event: dict[str, Any]) -> tuple[str, bool]:
        """Return (text, finished) from one NDJSON line."""
        return event.get("response") or "", bool(event.get("done"))

    def models_path(self) -> str:
        """Return Ollama's list of pulled models."""
        return "/api/tags"

    def model_names(self, payload: Any) -> list[str]:
        """Return model names from `/api/tags`."""
        models = payload.get("models") if isinstance(payload, dict) else None
        return [m.get("name") or m.get("model") for m in models or [] if isinstance(m, dict)]

    def info_requests(self, base_url: str, model: str
                      ) -> list[tuple[str, str, dict[str, Any] | None]]:
        """Return `GET /api/ps` (the context a loaded model really has) and `POST /api/show`
        (the Modelfile's `num_ctx` and the model's trained length)."""
        base = base_url.rstrip("/")
        return [("GET", f"{base}/api/ps", None),
                ("POST", f"{base}/api/show", {"model": model})]

    def server_info(self, payload: Any, model: str = ""
                    ) -> tuple[str | None, int | None, str]:
        """Return the context Ollama gives `model`: a loaded model's `context_length` in
        `/api/ps`; else the Modelfile's `num_ctx` (the `parameters` text of `/api/show`);
        else Ollama's default, capped by the model's trained `<arch>.context_length`.

        Our requests leave `num_ctx` alone: a request that sets another value makes Ollama
        reload the model, and chat goes through the OpenAI route, which cannot set it.
        """
        if not isinstance(payload, dict):
            return None, None, ""
        if isinstance(payload.get("models"), list):  # /api/ps
            names = {model, model if ":" in model else f"{model}:latest"}
            for entry in payload["models"]:
                if isinstance(entry, dict) and names & {entry.get("name"), entry.get("model")}:
                    context = _positive(entry.get("context_length"))
                    return model, context, "api/ps, the loaded model" if context else ""
            return None, None, ""
        parameters = payload.get("parameters")
        found = _NUM_CTX.search(parameters) if isinstance(parameters, str) else None
        if found and _positive(int(found[1])):
            return model or None, int(found[1]), "api/show, num_ctx in the Modelfile"
        info = payload.get("model_info")
        trained = None
        if isinstance(info, dict):
            trained = next((_positive(v) for k, v in info.items()
                            if k.endswith(".context_length") and _positive(v)), None)
        if "parameters" not in payload and info is None:
            return None, None, ""  # not an /api/show answer
        return (model or None, min(OLLAMA_DEFAULT_CONTEXT, trained or OLLAMA_DEFAULT_CONTEXT),
                "Ollama's default: no num_ctx in the Modelfile (raise it with PARAMETER "
                "num_ctx, or OLLAMA_CONTEXT_LENGTH on the server)")

    def tokenize_requests(self, base_url: str, text: str, model: str
                          ) -> list[tuple[str, dict[str, Any]]]:
        """Ollama has no tokenizer route."""
        return []


class LlamaCppDialect(Dialect):
    """llama.cpp server: `/completion` with a raw prompt (its `/infill` hard-codes names)."""

    name = "llamacpp"
    chat_path = "/v1/chat/completions"

    def completion_path(self) -> str:
        """Return llama.cpp's native completion route."""
        return "/completion"

    def completion_body(self, req: CompletionRequest) -> dict[str, Any]:
        """Return a `/completion` body that keeps the prompt cache warm."""
        return {
            "prompt": req.prompt,
            "n_predict": req.max_tokens,
            "temperature": req.temperature,
            "stop": list(req.stop),
            "stream": True,
            "cache_prompt": True,
            # Timings from the first token on (not only in the last event, which an answer
            # closed early never reads): how much of the prompt came from the cache.
            "timings_per_token": True,
        }

    def completion_delta(self, event: dict[str, Any]) -> tuple[str, bool]:
        """Return (text, finished) from one streamed event."""
        return event.get("content") or "", bool(event.get("stop"))

    def models_path(self) -> str:
        """Return llama.cpp's OpenAI-style model list."""
        return "/v1/models"

    def info_urls(self, base_url: str) -> list[str]:
        """Return llama.cpp's `/props` and `/v1/models`."""
        base = base_url.rstrip("/")
        return [f"{base}/props", f"{base}/v1/models"]

    def tokenize_requests(self, base_url: str, text: str, model: str
                          ) -> list[tuple[str, dict[str, Any]]]:
        """Return llama.cpp's `POST /tokenize {"content"}` (it answers `{"tokens": [...]}`)."""
        return [(f"{base_url.rstrip('/')}/tokenize", {"content": text})]


_DIALECTS: dict[str, Dialect] = {
    d.name: d for d in (Dialect(), DashScopeDialect(), OllamaDialect(), LlamaCppDialect())
}


def dialect_for(provider: str) -> Dialect:
    """Return the dialect for a resolved provider name."""
    return _DIALECTS[provider]
