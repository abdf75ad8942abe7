"""One typed Settings object from defaults, environment and LSP settings, in that precedence.

On the wire settings are camelCase under the section ``qwen`` (``endpoint.baseUrl``); in code
they are snake_case. A bad value is reported and replaced by the default, never fatal.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, get_type_hints
from urllib.parse import urlsplit

import cattrs

from lsp_server import logs

PROVIDERS = ("openai", "dashscope", "ollama", "llamacpp")
_PROVIDER_ALIASES = {
    "openai": "openai", "openai-compatible": "openai", "vllm": "openai", "sglang": "openai",
    "lmstudio": "openai", "lm-studio": "openai", "lm studio": "openai",
    "dashscope": "dashscope", "modelstudio": "dashscope", "model-studio": "dashscope",
    "bailian": "dashscope",
    "ollama": "ollama",
    "llamacpp": "llamacpp", "llama.cpp": "llamacpp", "llama-cpp": "llamacpp",
}

DASHSCOPE_INTL_URL = "https://dashscope-intl.aliyuncs.com/compatible-mode/v1"
OLLAMA_URL = "http://127.0.0.1:11434"
LLAMACPP_URL = "http://127.0.0.1:8080"

# Per provider: (completion model, chat model) used when none is configured. Empty means
# "ask the endpoint's model list" (vLLM, SGLang and LM Studio serve what they were started with).
_DEFAULT_MODELS = {
    "ollama": ("qwen2.5-coder:1.5b-base", "qwen2.5-coder:7b"),
    "dashscope": ("qwen2.5-coder-32b-instruct", "qwen3-coder-plus"),
    "openai": ("", ""),
    "llamacpp": ("", ""),
}


@dataclass(frozen=True)
class EndpointSettings:
    """Where the model lives and how to reach it."""

    base_url: str = ""
    provider: str = ""
    api_key: str = field(default="", repr=False)
    timeout_ms: int = 15000
    ca_bundle: str = ""
    latency_budget_ms: int = 0
    completion_model: str = ""
    chat_model: str = ""
    fallbacks: tuple[Any, ...] = ()


@dataclass(frozen=True)
class CompletionSettings:
    """Inline completion behaviour."""

    enabled: bool = True
    model: str = ""
    max_tokens: int = 128
    max_lines: int = 8
    single_line_only: bool = False
    temperature: float = 0.0
    timeout_ms: int = 8000
    prefix_chars: int = 6000
    suffix_chars: int = 2000
    context_chars: int = 6000
    # A cap on the whole prompt in tokens (0: the endpoint's context window when it says).
    prompt_tokens: int = 0
    debounce_min_ms: int = 30
    debounce_max_ms: int = 250
    disabled_languages: tuple[str, ...] = ()
    allow_in_secret_files: bool = False


@dataclass(frozen=True)
class ChatSettings:
    """Chat and code-action behaviour."""

    model: str = ""
    max_tokens: int = 2048
    temperature: float = 0.2
    thinking: bool = False
    timeout_ms: int = 120000
    context_chars: int = 16000
    history_tokens: int = 6000


@dataclass(frozen=True)
class IndexSettings:
    """Repository indexing for cross-file context."""

    enabled: bool = True
    max_files: int = 50_000


@dataclass(frozen=True)
class Settings:
    """Everything the server can be told, resolved and validated."""

    endpoint: EndpointSettings = field(default_factory=EndpointSettings)
    completion: CompletionSettings = field(default_factory=CompletionSettings)
    chat: ChatSettings = field(default_factory=ChatSettings)
    index: IndexSettings = field(default_factory=IndexSettings)
    api_key_source: str = ""
    endpoints: tuple[EndpointSettings, ...] = ()

    def completion_key(self) -> tuple[Any, ...]:
        """Return what in these settings changes a completion (for cache keys)."""
        c = self.completion
        return (self.endpoint.base_url, self.endpoint.provider, c.model, c.max_tokens,
                c.max_lines, c.single_line_only, c.temperature, c.context_chars)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def _is_unset(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def merge_layers(low: Mapping[str, Any], high: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge two wire dicts; unset values in `high` do not override."""
    out = dict(low)
    for key, value in high.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge_layers(out[key], value)
        elif not _is_unset(value):
            out[key] = value
    return out


def _env_layer(env: Mapping[str, str]) -> tuple[dict[str, Any], str]:
    """Build wire-form settings from environment variables, and name where the key came from."""
    get = lambda name: (env.get(name) or "").strip()  # noqa: E731
    endpoint: dict[str, Any] = {}
    completion: dict[str, Any] = {}
    chat: dict[str, Any] = {}
    key_source = ""
    # Lowest: what Qwen Code users already have.
    if get("OPENAI_API_KEY"):
        endpoint["apiKey"], key_source = get("OPENAI_API_KEY"), "OPENAI_API_KEY"
    if get("OPENAI_BASE_URL"):
        endpoint["baseUrl"], endpoint["provider"] = get("OPENAI_BASE_URL"), "openai"
    if get("OPENAI_MODEL"):
        completion["model"] = chat["model"] = get("OPENAI_MODEL")
    if get("DASHSCOPE_API_KEY"):
        endpoint["apiKey"], key_source = get("DASHSCOPE_API_KEY"), "DASHSCOPE_API_KEY"
        if not get("OPENAI_BASE_URL"):
            endpoint["provider"] = "dashscope"
    # Then our own variables.
    for var, section, key in (
        ("QWEN_LSP_BASE_URL", endpoint, "baseUrl"),
        ("QWEN_LSP_PROVIDER", endpoint, "provider"),
        ("QWEN_LSP_API_KEY", endpoint, "apiKey"),
        ("QWEN_LSP_COMPLETION_MODEL", completion, "model"),
        ("QWEN_LSP_CHAT_MODEL", chat, "model"),
        ("QWEN_LSP_PROMPT_TOKENS", completion, "promptTokens"),
    ):
        if get(var):
            section[key] = get(var)
            if key == "apiKey":
                key_source = var
    if get("QWEN_LSP_BASE_URL") and not get("QWEN_LSP_PROVIDER"):
        endpoint.pop("provider", None)  # a new base URL makes the inherited provider moot
    return {"endpoint": endpoint, "completion": completion, "chat": chat}, key_source


_converter = cattrs.Converter()


def _structure(cls: type, data: Any, where: str, problems: list[str]) -> Any:
    """Build dataclass `cls` from wire data field by field; bad fields fall back to defaults."""
    if not isinstance(data, Mapping):
        if data is not None:
            problems.append(f"qwen{where}: expected an object, got {type(data).__name__}")
        return cls()
    hints = get_type_hints(cls)
    known = {_camel(f.name): f for f in dataclasses.fields(cls)}
    values: dict[str, Any] = {}
    for wire_key, raw in data.items():
        f = known.get(wire_key) or known.get(_camel(_snake(wire_key)))
        if f is None:
            problems.append(f"qwen{where}.{wire_key}: unknown setting, ignored")
            continue
        if raw is None:
            continue
        typ = hints[f.name]
        if dataclasses.is_dataclass(typ):
            values[f.name] = _structure(typ, raw, f"{where}.{wire_key}", problems)
            continue
        try:
            if typ is bool and not isinstance(raw, bool):
                raise TypeError("expected true or false")
            if typ in (int, float) and isinstance(raw, bool):
                raise TypeError("expected a number")
            if typ is str and not isinstance(raw, str):
                raise TypeError("expected a string")
            value = _converter.structure(raw, typ)
            if typ in (int, float) and value < 0:
                raise ValueError("must not be negative")
        except Exception as exc:  # cattrs raises several kinds; all mean "bad value"
            problems.append(f"qwen{where}.{wire_key}: {raw!r} is not valid ({exc}); "
                            "using the default")
            continue
        values[f.name] = value.strip() if isinstance(value, str) else value
    return cls(**values)


def _normalise_endpoint(ep: EndpointSettings, problems: list[str]) -> EndpointSettings:
    provider = ep.provider.strip().lower()
    if provider and provider not in _PROVIDER_ALIASES:
        problems.append(f"qwen.endpoint.provider: {ep.provider!r} is unknown (use one of "
                        f"{', '.join(PROVIDERS)}); guessing from the base URL")
        provider = ""
    provider = _PROVIDER_ALIASES.get(provider, "")
    base_url = ep.base_url.rstrip("/")
    if base_url:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            problems.append(f"qwen.endpoint.baseUrl: {ep.base_url!r} is not an http(s) URL; "
                            "using the default endpoint")
            base_url = ""
    if not provider:
        if not base_url:
            provider = "ollama"
        elif urlsplit(base_url).port == 11434:
            provider = "ollama"
        elif "dashscope" in urlsplit(base_url).netloc:
            provider = "dashscope"
        else:
            provider = "openai"
    if not base_url:
        base_url = {"ollama": OLLAMA_URL, "dashscope": DASHSCOPE_INTL_URL,
                    "llamacpp": LLAMACPP_URL}.get(provider, "http://127.0.0.1:8000/v1")
    path = urlsplit(base_url).path
    if provider in ("ollama", "llamacpp") and path.endswith("/v1"):
        base_url = base_url[: -len("/v1")]  # their native routes live at the root
    elif provider in ("openai", "dashscope") and path in ("", "/"):
        base_url += "/v1"
    return dataclasses.replace(ep, provider=provider, base_url=base_url)


def resolve_settings(
    lsp: Mapping[str, Any] | None, env: Mapping[str, str]
) -> tuple[Settings, list[str]]:
    """Resolve settings: LSP settings over environment over defaults; return them and problems."""
    problems: list[str] = []
    env_layer, key_source = _env_layer(env)
    lsp = lsp if isinstance(lsp, Mapping) else {}
    if isinstance(lsp.get("qwen"), Mapping):  # accept {"qwen": {...}} as well as the section
        lsp = lsp["qwen"]
    lsp_key = lsp.get("endpoint", {}).get("apiKey") if isinstance(
        lsp.get("endpoint"), Mapping) else None
    if not _is_unset(lsp_key):
        key_source = "qwen.endpoint.apiKey"
    merged = merge_layers(env_layer, lsp)
    s = _structure(Settings, {k: v for k, v in merged.items() if k != "apiKeySource"}, "",
                   problems)
    endpoint = _normalise_endpoint(s.endpoint, problems)
    completion, chat = s.completion, s.chat
    fallbacks = endpoint.fallbacks
    endpoint = _with_models(endpoint, completion.model, chat.model)
    completion = dataclasses.replace(completion, model=endpoint.completion_model)
    chat = dataclasses.replace(chat, model=endpoint.chat_model)
    endpoints = [endpoint]
    for i, raw in enumerate(fallbacks):
        fallback = _structure(EndpointSettings, raw, f".endpoint.fallbacks[{i}]", problems)
        if not fallback.base_url:
            problems.append(f"qwen.endpoint.fallbacks[{i}]: needs a baseUrl; ignored")
            continue
        fallback = _normalise_endpoint(fallback, problems)
        endpoints.append(_with_models(
            dataclasses.replace(fallback, latency_budget_ms=fallback.latency_budget_ms
                                or endpoint.latency_budget_ms),
            fallback.completion_model, fallback.chat_model))
    for ep in endpoints:
        logs.add_secret(ep.api_key)
    if completion.max_tokens == 0:
        problems.append("qwen.completion.maxTokens: must be at least 1; using 128")
        completion = dataclasses.replace(completion, max_tokens=128)
    if completion.max_lines == 0:
        completion = dataclasses.replace(completion, max_lines=1, single_line_only=True)
    return Settings(endpoint, completion, chat, s.index,
                    key_source if endpoint.api_key else "", tuple(endpoints)), problems


def _with_models(ep: EndpointSettings, completion_model: str, chat_model: str) -> EndpointSettings:
    """Fill an endpoint's models: what was configured, else its provider's defaults."""
    completion_default, chat_default = _DEFAULT_MODELS[ep.provider]
    completion_model = completion_model or ep.completion_model or completion_default
    chat_model = chat_model or ep.chat_model or chat_default or completion_model
    return dataclasses.replace(ep, completion_model=completion_model, chat_model=chat_model,
                               fallbacks=())


def describe(settings: Settings) -> dict[str, str]:
    """Return a printable summary of the endpoint settings, never the key itself."""
    ep = settings.endpoint
    return {
        "provider": ep.provider,
        "baseUrl": ep.base_url,
        "completionModel": settings.completion.model or "(first model the endpoint lists)",
        "chatModel": settings.chat.model or "(first model the endpoint lists)",
        "apiKey": f"set (from {settings.api_key_source})" if ep.api_key else "not set",
    }
