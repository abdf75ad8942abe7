"""One typed Settings object from defaults, environment and LSP settings, in that precedence.

On the wire settings are camelCase under the section ``qwen`` (``endpoint.baseUrl``); in code
they are snake_case. A bad value is reported and replaced by the default, never fatal.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, get_type_hints
from urllib.parse import urlsplit

import cattrs
from cattrs.gen import make_dict_structure_fn, override

from lsp_server import logs
from lsp_server.context.languages import canonical_language

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


NEXT_EDIT_FORMATS = ("sweep", "zeta", "instinct", "chat")


@dataclass(frozen=True)
class NextEditSettings:
    """Next-edit suggestions (`textDocument/copilotInlineEdit`)."""

    enabled: bool = False
    model: str = ""
    format: str = ""
    # A base URL of the configured endpoints, or an object {baseUrl, provider, apiKey, ...}.
    endpoint: Any = ""
    max_tokens: int = 512
    region_lines: int = 21
    debounce_ms: int = 75
    timeout_ms: int = 10000


def guess_next_edit_format(model: str) -> str:
    """Return the prompt format a next-edit model was trained on, from its name."""
    name = model.lower()
    return next((f for f in ("sweep", "zeta", "instinct") if f in name), "chat")


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
    next_edit: NextEditSettings = field(default_factory=NextEditSettings)
    # The endpoints next-edit requests go to: `endpoints` unless nextEdit.endpoint says.
    next_edit_endpoints: tuple[EndpointSettings, ...] = ()

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


_MODEL_STUDIO_HOST = re.compile(r"(?:[a-z0-9-]+\.)*dashscope[a-z0-9-]*\.aliyuncs\.com")


def is_model_studio(base_url: str) -> bool:
    """Return whether a base URL is Alibaba Model Studio's (DashScope), over HTTPS."""
    parts = urlsplit(base_url)
    return parts.scheme == "https" and bool(
        _MODEL_STUDIO_HOST.fullmatch((parts.hostname or "").lower()))


def _generic_key(env: Mapping[str, str], configured_url: str, base_url: str) -> tuple[str, str]:
    """Return the key (and its variable) the other tools' variables allow for `base_url`.

    `DASHSCOPE_API_KEY` goes only to Model Studio; `OPENAI_API_KEY` only to `OPENAI_BASE_URL`,
    or when no base URL is configured at all. Anything else needs QWEN_LSP_API_KEY or
    qwen.endpoint.apiKey: a key is never sent to a server it was not made for.
    """
    get = lambda name: (env.get(name) or "").strip()  # noqa: E731
    if get("DASHSCOPE_API_KEY") and is_model_studio(base_url):
        return get("DASHSCOPE_API_KEY"), "DASHSCOPE_API_KEY"
    openai_url = get("OPENAI_BASE_URL")
    if get("OPENAI_API_KEY") and (not configured_url or configured_url == openai_url):
        return get("OPENAI_API_KEY"), "OPENAI_API_KEY"
    return "", ""


def _env_layer(env: Mapping[str, str]) -> tuple[dict[str, Any], str]:
    """Build wire-form settings from environment variables, and name where the key came from."""
    get = lambda name: (env.get(name) or "").strip()  # noqa: E731
    endpoint: dict[str, Any] = {}
    completion: dict[str, Any] = {}
    chat: dict[str, Any] = {}
    next_edit: dict[str, Any] = {}
    key_source = ""
    # Lowest: what Qwen Code users already have. Their keys are not in the layer: which one
    # may go where is decided once the base URL is known (`_generic_key`).
    if get("OPENAI_BASE_URL"):
        endpoint["baseUrl"], endpoint["provider"] = get("OPENAI_BASE_URL"), "openai"
    if get("OPENAI_MODEL"):
        completion["model"] = chat["model"] = get("OPENAI_MODEL")
    if get("DASHSCOPE_API_KEY") and not get("OPENAI_BASE_URL"):
        endpoint["provider"] = "dashscope"
    # Then our own variables.
    for var, section, key in (
        ("QWEN_LSP_BASE_URL", endpoint, "baseUrl"),
        ("QWEN_LSP_PROVIDER", endpoint, "provider"),
        ("QWEN_LSP_API_KEY", endpoint, "apiKey"),
        ("QWEN_LSP_COMPLETION_MODEL", completion, "model"),
        ("QWEN_LSP_CHAT_MODEL", chat, "model"),
        ("QWEN_LSP_NEXT_EDIT_MODEL", next_edit, "model"),
        ("QWEN_LSP_NEXT_EDIT_FORMAT", next_edit, "format"),
        ("QWEN_LSP_PROMPT_TOKENS", completion, "promptTokens"),
    ):
        if get(var):
            section[key] = get(var)
            if key == "apiKey":
                key_source = var
    if get("QWEN_LSP_BASE_URL") and not get("QWEN_LSP_PROVIDER"):
        endpoint.pop("provider", None)  # a new base URL makes the inherited provider moot
    return ({"endpoint": endpoint, "completion": completion, "chat": chat,
             "nextEdit": next_edit}, key_source)


_SECRET_SETTING = re.compile(r"api[_-]?key|secret|password|authorization|^headers?$", re.I)


# What each type of setting expects, in the words of the messages.
_EXPECTED = {bool: "true or false", int: "a whole number (0 or more)",
             float: "a number (0 or more)", str: "a string"}


def _bool(value: Any, _: type) -> bool:
    if not isinstance(value, bool):
        raise TypeError(value)
    return value


def _number(value: Any, typ: type) -> int | float:
    """A count, size or duration: never negative, never a bool, whole where an int is due."""
    if isinstance(value, bool) or (typ is int and isinstance(value, float)
                                   and not value.is_integer()):
        raise TypeError(value)
    number = typ(value)  # "5" is 5, as a user typing in a settings UI means it
    if number < 0:
        raise ValueError(value)
    return number


def _string(value: Any, _: type) -> str:
    if not isinstance(value, str):
        raise TypeError(value)
    return value


# The settings sections, each built by cattrs from its camelCase wire keys.
_SECTIONS = (EndpointSettings, CompletionSettings, ChatSettings, NextEditSettings,
             IndexSettings, Settings)


def _section_hook(cls: type) -> Callable[[Any, type], Any]:
    """Return the structure function of a section: camelCase keys, sections already built kept."""
    build = make_dict_structure_fn(cls, _converter, **{
        f.name: override(rename=_camel(f.name)) for f in dataclasses.fields(cls)})
    return lambda value, typ: value if isinstance(value, typ) else build(value, typ)


_converter = cattrs.Converter()
_converter.register_structure_hook(bool, _bool)
_converter.register_structure_hook(int, _number)
_converter.register_structure_hook(float, _number)
_converter.register_structure_hook(str, _string)
# A list entry of a list of strings is taken as text (`[1]` is ["1"]), as it always was.
_converter.register_structure_hook_func(lambda typ: typ == tuple[str, ...],
                                       lambda value, _: tuple(map(str, value)))
_converter.register_structure_hook_factory(lambda typ: typ in _SECTIONS, _section_hook)


def _no_source(name: str) -> str:
    return name


def _structure(cls: type, data: Any, where: str, problems: list[str],
               source: Callable[[str], str] = _no_source) -> Any:
    """Build settings section `cls` from wire data; bad fields fall back to their defaults.

    Each field is checked through the converter on its own, so that one bad value costs only
    itself (cattrs would reject the whole section) and its message can name where the value
    came from; the converter then builds the section from the values that passed. `source`
    turns a setting's name (``qwen.completion.maxTokens``) into where its value came from.
    """
    if not isinstance(data, Mapping):
        if isinstance(data, list) and not data:
            return cls()  # an empty table: Lua and others cannot tell {} from []
        if data is not None:
            problems.append(f"{source(f'qwen{where}')}: expected an object, got "
                            f"{type(data).__name__}; using the defaults")
        return cls()
    hints = get_type_hints(cls)
    known = {_camel(f.name): f for f in dataclasses.fields(cls)}
    values: dict[str, Any] = {}
    for wire_key, raw in data.items():
        f = known.get(wire_key) or known.get(_camel(_snake(wire_key)))
        name = f"qwen{where}.{wire_key}"
        if f is None:
            problems.append(f"{source(name)}: unknown setting, ignored")
            continue
        if raw is None:
            continue
        typ = hints[f.name]
        if typ in _SECTIONS:
            values[_camel(f.name)] = _structure(typ, raw, f"{where}.{wire_key}", problems,
                                                source)
            continue
        try:
            value = _converter.structure(raw, typ)
        except Exception:  # cattrs raises several kinds; all mean "bad value"
            expected = _EXPECTED.get(typ) or ("a list of strings" if typ == tuple[str, ...]
                                              else "a list")
            default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
            # A key is never echoed, whatever its type (a number, a list...).
            shown = "the value given" if _SECRET_SETTING.search(wire_key) else repr(raw)
            problems.append(f"{source(name)}: {shown} is not {expected}; using the default "
                            f"({_shown(default)})")
            continue
        values[_camel(f.name)] = value.strip() if isinstance(value, str) else value
    return _converter.structure(values, cls)


def _shown(value: Any) -> str:
    """Return a default value the way a user writes it in settings."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return "[]" if not value else repr(list(value))
    return repr(value) if isinstance(value, str) else str(value)


def _source_namer(lsp: Mapping[str, Any], env: Mapping[str, str]) -> Callable[[str], str]:
    """Return a function that says where a setting's value came from: LSP or which env var."""

    def lsp_value(name: str) -> Any:
        node: Any = lsp
        for part in name.split(".")[1:]:
            if not isinstance(node, Mapping):
                return None
            node = node.get(part)
        return node

    def source(name: str) -> str:
        if not _is_unset(lsp_value(name)):
            return f"LSP setting {name}"
        node: Any = env_view
        for part in name.split(".")[1:]:
            node = node.get(part) if isinstance(node, Mapping) else None
        if isinstance(node, str):  # the environment gave it: name the variable that holds it
            for var in sorted(env, key=lambda v: not v.startswith("QWEN_LSP_")):
                if (var.startswith(("QWEN_LSP_", "OPENAI_", "DASHSCOPE_"))
                        and env[var].strip() == node.strip()):
                    return f"environment variable {var}"
        return f"LSP setting {name}"

    env_view, _ = _env_layer(env)
    return source


def _normalise_endpoint(ep: EndpointSettings, problems: list[str], where: str = ".endpoint",
                        source: Callable[[str], str] = _no_source) -> EndpointSettings:
    provider = ep.provider.strip().lower()
    if provider and provider not in _PROVIDER_ALIASES:
        problems.append(f"{source(f'qwen{where}.provider')}: {ep.provider!r} is unknown "
                        f"(expected one of {', '.join(PROVIDERS)}); guessing from the base URL")
        provider = ""
    provider = _PROVIDER_ALIASES.get(provider, "")
    base_url = ep.base_url.rstrip("/")
    if base_url:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            # Never swap in another endpoint: requests fail, saying why, until it is fixed.
            problems.append(f"{source(f'qwen{where}.baseUrl')}: {ep.base_url!r} is not a URL "
                            "starting with http:// or https:// (for example "
                            "http://127.0.0.1:8000/v1); no completions until it is fixed")
            return dataclasses.replace(ep, provider=provider or "openai", base_url=base_url)
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


def lsp_section(*layers: Any) -> dict[str, Any]:
    """Merge LSP settings layers (later wins) into the `qwen` section.

    The only place that unwraps the envelope: a layer may be the section itself or
    ``{"qwen": section}``, and an empty section may arrive as ``[]`` (Lua cannot tell an
    empty table from an empty list, so Neovim encodes ``{}`` that way).
    """
    out: dict[str, Any] = {}
    for layer in layers:
        if isinstance(layer, Mapping) and "qwen" in layer:
            layer = layer["qwen"]
        if isinstance(layer, Mapping):
            out = merge_layers(out, layer)
    return out


def resolve_settings(lsp: Any, env: Mapping[str, str]) -> tuple[Settings, list[str]]:
    """Resolve settings: LSP settings over environment over defaults; return them and problems.

    `lsp` is one LSP settings layer or a tuple of them (initializationOptions, then
    workspace/configuration), each as `lsp_section` accepts it.
    """
    problems: list[str] = []
    env_layer, key_source = _env_layer(env)
    lsp = lsp_section(*lsp) if isinstance(lsp, tuple) else lsp_section(lsp)
    lsp_key = lsp.get("endpoint", {}).get("apiKey") if isinstance(
        lsp.get("endpoint"), Mapping) else None
    if not _is_unset(lsp_key):
        key_source = "qwen.endpoint.apiKey"
    merged = merge_layers(env_layer, lsp)
    source = _source_namer(lsp, env)
    s = _structure(Settings, {k: v for k, v in merged.items() if k != "apiKeySource"}, "",
                   problems, source)
    endpoint = _normalise_endpoint(s.endpoint, problems, source=source)
    if _is_unset(endpoint.api_key):
        key, key_from = _generic_key(env, s.endpoint.base_url.strip(), endpoint.base_url)
        endpoint = dataclasses.replace(endpoint, api_key=key)
        key_source = key_from
    completion, chat = s.completion, s.chat
    fallbacks = endpoint.fallbacks
    endpoint = _with_models(endpoint, completion.model, chat.model)
    completion = dataclasses.replace(completion, model=endpoint.completion_model)
    chat = dataclasses.replace(chat, model=endpoint.chat_model)
    endpoints = [endpoint]
    for i, raw in enumerate(fallbacks):
        fallback = _structure(EndpointSettings, raw, f".endpoint.fallbacks[{i}]", problems,
                              source)
        if not fallback.base_url:
            problems.append(f"{source(f'qwen.endpoint.fallbacks[{i}]')}: needs a baseUrl; "
                            "ignored")
            continue
        fallback = _normalise_endpoint(fallback, problems, f".endpoint.fallbacks[{i}]", source)
        endpoints.append(_with_models(
            dataclasses.replace(fallback, latency_budget_ms=fallback.latency_budget_ms
                                or endpoint.latency_budget_ms),
            fallback.completion_model, fallback.chat_model))
    for ep in endpoints:
        logs.add_secret(ep.api_key)
        logs.add_secret(urlsplit(ep.base_url).password)
    if completion.max_tokens == 0:
        problems.append(f"{source('qwen.completion.maxTokens')}: 0 is not a whole number of "
                        "at least 1; using the default (128)")
        completion = dataclasses.replace(completion, max_tokens=128)
    if completion.disabled_languages:  # one spelling per language, whichever editor wrote it
        completion = dataclasses.replace(completion, disabled_languages=tuple(
            canonical_language(name) for name in completion.disabled_languages))
    if completion.max_lines == 0:
        completion = dataclasses.replace(completion, max_lines=1, single_line_only=True)
    raw_next = merged.get("nextEdit")
    explicit = isinstance(raw_next, Mapping) and isinstance(raw_next.get("enabled"), bool)
    next_edit, next_endpoints = _resolve_next_edit(s.next_edit, explicit, endpoints, problems)
    return Settings(endpoint, completion, chat, s.index,
                    key_source if endpoint.api_key else "", tuple(endpoints), next_edit,
                    next_endpoints), problems


def _resolve_next_edit(
    ne: NextEditSettings, enabled_explicitly: bool, endpoints: list[EndpointSettings],
    problems: list[str],
) -> tuple[NextEditSettings, tuple[EndpointSettings, ...]]:
    """Validate the next-edit settings; return them and the endpoints they call."""
    fmt = ne.format.lower()
    if fmt and fmt not in NEXT_EDIT_FORMATS:
        problems.append(f"qwen.nextEdit.format: {ne.format!r} is unknown (use one of "
                        f"{', '.join(NEXT_EDIT_FORMATS)}); guessing from the model name")
        fmt = ""
    fmt = fmt or guess_next_edit_format(ne.model)
    enabled = ne.enabled if enabled_explicitly else bool(ne.model)
    if ne.max_tokens == 0:
        problems.append("qwen.nextEdit.maxTokens: must be at least 1; using 512")
        ne = dataclasses.replace(ne, max_tokens=512)
    if ne.region_lines < 3:
        problems.append(f"qwen.nextEdit.regionLines: {ne.region_lines} is too small (at least "
                        "3); using 21")
        ne = dataclasses.replace(ne, region_lines=21)
    chosen = _next_edit_endpoints(ne.endpoint, endpoints, problems)
    return dataclasses.replace(ne, format=fmt, enabled=enabled, endpoint=""), chosen


def _next_edit_endpoints(
    raw: Any, endpoints: list[EndpointSettings], problems: list[str],
) -> tuple[EndpointSettings, ...]:
    """Resolve qwen.nextEdit.endpoint: unset means the completion endpoints (with their
    fallbacks); a base URL picks the configured endpoint (or fallback) it names, and that
    one alone; an object is an endpoint of its own."""
    if _is_unset(raw):
        return tuple(endpoints)
    if isinstance(raw, str):
        url = raw.strip().rstrip("/")
        for ep in endpoints:
            if url in (ep.base_url, ep.base_url.removesuffix("/v1")):
                return (ep,)
        raw = {"baseUrl": url}  # a URL of its own, with the provider guessed from it
    if isinstance(raw, Mapping):
        ep = _structure(EndpointSettings, raw, ".nextEdit.endpoint", problems)
        if ep.base_url:
            if not ep.api_key:  # same host as the completion endpoint: its key applies
                host = urlsplit(ep.base_url).netloc
                same = next((e for e in endpoints if urlsplit(e.base_url).netloc == host), None)
                if same is not None:
                    ep = dataclasses.replace(ep, api_key=same.api_key)
            ep = _normalise_endpoint(ep, problems)
            ep = _with_models(ep, ep.completion_model, ep.chat_model)
            logs.add_secret(ep.api_key)
            return (ep,)
    problems.append(f"qwen.nextEdit.endpoint: {raw!r} is neither a base URL nor an object "
                    "with a baseUrl; using the completion endpoint")
    return tuple(endpoints)


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
