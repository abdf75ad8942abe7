"""Request and response shapes of each endpoint family: OpenAI-compatible, Ollama, llama.cpp."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal


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
        }

    def completion_delta(self, event: dict[str, Any]) -> tuple[str, bool]:
        """Return (text, finished) from one streamed event."""
        choices = event.get("choices") or []
        if not choices:  # usage-only chunks carry no choices
            return "", False
        choice = choices[0]
        return choice.get("text") or "", choice.get("finish_reason") is not None

    def models_path(self) -> str:
        """Return the route that lists served models."""
        return "/models"

    def model_names(self, payload: Any) -> list[str]:
        """Return model ids from the model-list response."""
        data = payload.get("data") if isinstance(payload, dict) else None
        return [m["id"] for m in data or [] if isinstance(m, dict) and "id" in m]

    def tokenize_request(self, base_url: str, text: str, model: str
                         ) -> tuple[str, dict[str, Any]] | None:
        """Return (absolute URL, body) of the endpoint's tokenizer route, if it has one.

        vLLM (and SGLang) serve `POST /tokenize` at the server root, beside `/v1`.
        """
        root = base_url.rstrip("/").removesuffix("/v1")
        return f"{root}/tokenize", {"model": model, "prompt": text}

    def token_count(self, payload: Any) -> TokenCount | None:
        """Return the count in a tokenizer answer (`count`, or the length of `tokens`)."""
        if not isinstance(payload, dict):
            return None
        count = payload.get("count")
        if not isinstance(count, int):
            tokens = payload.get("tokens")
            count = len(tokens) if isinstance(tokens, list) else None
        if count is None:
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

    def tokenize_request(self, base_url: str, text: str, model: str
                         ) -> tuple[str, dict[str, Any]] | None:
        """Model Studio has no tokenizer route."""
        return None


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

    def tokenize_request(self, base_url: str, text: str, model: str
                         ) -> tuple[str, dict[str, Any]] | None:
        """Ollama has no tokenizer route."""
        return None


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
        }

    def completion_delta(self, event: dict[str, Any]) -> tuple[str, bool]:
        """Return (text, finished) from one streamed event."""
        return event.get("content") or "", bool(event.get("stop"))

    def models_path(self) -> str:
        """Return llama.cpp's OpenAI-style model list."""
        return "/v1/models"

    def tokenize_request(self, base_url: str, text: str, model: str
                         ) -> tuple[str, dict[str, Any]] | None:
        """Return llama.cpp's `POST /tokenize {"content"}` (it answers `{"tokens": [...]}`)."""
        return f"{base_url.rstrip('/')}/tokenize", {"content": text}


_DIALECTS: dict[str, Dialect] = {
    d.name: d for d in (Dialect(), DashScopeDialect(), OllamaDialect(), LlamaCppDialect())
}


def dialect_for(provider: str) -> Dialect:
    """Return the dialect for a resolved provider name."""
    return _DIALECTS[provider]
