"""qwen.nextEdit settings: defaults, the format guessed from the model, endpoints, bad values."""

from __future__ import annotations

import pytest

from lsp_server.settings import resolve_settings


def test_off_until_a_model_is_set():
    settings, problems = resolve_settings({}, {})
    assert not settings.next_edit.enabled and problems == []
    settings, _ = resolve_settings({"nextEdit": {"model": "qwen3-coder-plus"}}, {})
    assert settings.next_edit.enabled and settings.next_edit.format == "chat"
    settings, _ = resolve_settings({"nextEdit": {"model": "m", "enabled": False}}, {})
    assert not settings.next_edit.enabled


@pytest.mark.parametrize(("model", "fmt"), [
    ("sweepai/sweep-next-edit-1.5B", "sweep"), ("zed-industries/zeta", "zeta"),
    ("nate/instinct:7b", "instinct"), ("qwen2.5-coder-7b-instruct", "chat")])
def test_format_guessed_from_the_model_name(model: str, fmt: str):
    settings, _ = resolve_settings({}, {"QWEN_LSP_NEXT_EDIT_MODEL": model})
    assert settings.next_edit.format == fmt and settings.next_edit.enabled


def test_format_from_the_environment_and_bad_values_fall_back():
    settings, _ = resolve_settings({}, {"QWEN_LSP_NEXT_EDIT_MODEL": "x",
                                        "QWEN_LSP_NEXT_EDIT_FORMAT": "zeta"})
    assert settings.next_edit.format == "zeta"
    settings, problems = resolve_settings({"nextEdit": {
        "model": "zeta", "format": "diff", "regionLines": 1, "maxTokens": "many",
        "debounceMs": -5}}, {})
    ne = settings.next_edit
    assert (ne.format, ne.region_lines, ne.max_tokens, ne.debounce_ms) == ("zeta", 21, 512, 75)
    assert len(problems) == 4 and all("qwen.nextEdit." in p for p in problems)


def test_endpoint_defaults_to_the_completion_endpoints_or_names_one():
    lsp = {"endpoint": {"baseUrl": "http://127.0.0.1:8000/v1",
                        "fallbacks": [{"baseUrl": "http://127.0.0.1:9000/v1"}]},
           "nextEdit": {"model": "zeta"}}
    settings, _ = resolve_settings(lsp, {})
    assert settings.next_edit_endpoints == settings.endpoints
    lsp["nextEdit"]["endpoint"] = "http://127.0.0.1:9000/v1"
    settings, _ = resolve_settings(lsp, {})
    assert [e.base_url for e in settings.next_edit_endpoints] == ["http://127.0.0.1:9000/v1"]
    lsp["nextEdit"]["endpoint"] = {"baseUrl": "http://127.0.0.1:11434", "apiKey": "k"}
    settings, _ = resolve_settings(lsp, {})
    (ep,) = settings.next_edit_endpoints
    assert (ep.provider, ep.base_url, ep.api_key) == ("ollama", "http://127.0.0.1:11434", "k")
    lsp["nextEdit"]["endpoint"] = 42
    settings, problems = resolve_settings(lsp, {})
    assert settings.next_edit_endpoints == settings.endpoints
    assert any("qwen.nextEdit.endpoint" in p for p in problems)
