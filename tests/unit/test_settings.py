"""Settings precedence: LSP settings > QWEN_LSP_* > DASHSCOPE/OPENAI variables > defaults."""

from __future__ import annotations

from lsp_server.settings import DASHSCOPE_INTL_URL, describe, resolve_settings


def test_defaults_are_local_ollama():
    s, problems = resolve_settings(None, {})
    assert problems == []
    assert s.endpoint.provider == "ollama"
    assert s.endpoint.base_url == "http://127.0.0.1:11434"
    assert s.completion.model == "qwen2.5-coder:1.5b-base"


def test_dashscope_key_selects_model_studio_international():
    s, _ = resolve_settings(None, {"DASHSCOPE_API_KEY": "dk-123456"})
    assert s.endpoint.provider == "dashscope"
    assert s.endpoint.base_url == DASHSCOPE_INTL_URL
    assert s.endpoint.api_key == "dk-123456"
    assert s.chat.model == "qwen3-coder-plus"
    assert s.completion.model.startswith("qwen2.5-coder")


def test_dashscope_key_with_a_base_url_keeps_the_url():
    env = {"DASHSCOPE_API_KEY": "dk-123456", "QWEN_LSP_BASE_URL": "http://10.0.0.5:8000/v1"}
    s, _ = resolve_settings(None, env)
    assert s.endpoint.base_url == "http://10.0.0.5:8000/v1"
    assert s.endpoint.provider == "openai"
    # A Model Studio key is for Model Studio only: never sent to another server.
    assert s.endpoint.api_key == ""


def test_generic_keys_go_only_where_they_belong():
    studio = "https://dashscope.aliyuncs.com/compatible-mode/v1"
    cases = [
        # (environment, lsp baseUrl, expected key, expected source)
        ({"DASHSCOPE_API_KEY": "dk-123456"}, studio, "dk-123456", "DASHSCOPE_API_KEY"),
        ({"DASHSCOPE_API_KEY": "dk-123456"}, "https://evil.example/v1", "", ""),
        ({"DASHSCOPE_API_KEY": "dk-123456"}, "http://dashscope.aliyuncs.com.evil.example/v1",
         "", ""),
        ({"DASHSCOPE_API_KEY": "dk-123456", "OPENAI_BASE_URL": "http://other:8000/v1"},
         None, "", ""),
        ({"OPENAI_API_KEY": "ok-abcdef", "OPENAI_BASE_URL": "http://h:1/v1"}, None,
         "ok-abcdef", "OPENAI_API_KEY"),
        ({"OPENAI_API_KEY": "ok-abcdef", "OPENAI_BASE_URL": "http://h:1/v1",
          "QWEN_LSP_BASE_URL": "http://other:2/v1"}, None, "", ""),
        ({"OPENAI_API_KEY": "ok-abcdef"}, "http://other:2/v1", "", ""),
        ({"OPENAI_API_KEY": "ok-abcdef"}, None, "ok-abcdef", "OPENAI_API_KEY"),
        # The DashScope key does not win over OPENAI_API_KEY for a non-DashScope URL.
        ({"DASHSCOPE_API_KEY": "dk-123456", "OPENAI_API_KEY": "ok-abcdef",
          "OPENAI_BASE_URL": "http://h:1/v1"}, None, "ok-abcdef", "OPENAI_API_KEY"),
        ({"DASHSCOPE_API_KEY": "dk-123456", "QWEN_LSP_API_KEY": "own-key-1",
          "QWEN_LSP_BASE_URL": "http://x:1/v1"}, None, "own-key-1", "QWEN_LSP_API_KEY"),
    ]
    for env, url, key, source in cases:
        lsp = {"endpoint": {"baseUrl": url}} if url else None
        s, _ = resolve_settings(lsp, env)
        assert (s.endpoint.api_key, s.api_key_source) == (key, source), (env, url)


def test_openai_variables_as_qwen_code_uses_them():
    env = {"OPENAI_API_KEY": "ok-abcdef", "OPENAI_BASE_URL": "http://h:1234/v1",
           "OPENAI_MODEL": "qwen3-coder-30b"}
    s, _ = resolve_settings(None, env)
    assert (s.endpoint.provider, s.endpoint.base_url) == ("openai", "http://h:1234/v1")
    assert s.completion.model == s.chat.model == "qwen3-coder-30b"
    assert s.api_key_source == "OPENAI_API_KEY"


def test_qwen_lsp_variables_beat_generic_ones():
    env = {"OPENAI_API_KEY": "generic-key", "OPENAI_MODEL": "generic",
           "QWEN_LSP_API_KEY": "own-key-1", "QWEN_LSP_COMPLETION_MODEL": "own-fim",
           "QWEN_LSP_CHAT_MODEL": "own-chat", "QWEN_LSP_PROVIDER": "llama.cpp",
           "QWEN_LSP_BASE_URL": "http://127.0.0.1:8080/v1"}
    s, _ = resolve_settings(None, env)
    assert s.endpoint.api_key == "own-key-1"
    assert (s.completion.model, s.chat.model) == ("own-fim", "own-chat")
    # llama.cpp's native routes live at the root, not under /v1
    assert (s.endpoint.provider, s.endpoint.base_url) == ("llamacpp", "http://127.0.0.1:8080")


def test_lsp_settings_beat_environment():
    env = {"QWEN_LSP_BASE_URL": "http://env:8000/v1", "QWEN_LSP_COMPLETION_MODEL": "env-model"}
    lsp = {"endpoint": {"baseUrl": "http://lsp:9000/v1"}, "completion": {"model": "lsp-model",
                                                                       "maxTokens": 77}}
    s, problems = resolve_settings(lsp, env)
    assert problems == []
    assert s.endpoint.base_url == "http://lsp:9000/v1"
    assert s.completion.model == "lsp-model" and s.completion.max_tokens == 77


def test_empty_strings_in_lsp_settings_do_not_override():
    s, _ = resolve_settings({"endpoint": {"baseUrl": ""}, "completion": {"model": ""}},
                            {"QWEN_LSP_BASE_URL": "http://env:8000/v1"})
    assert s.endpoint.base_url == "http://env:8000/v1"


def test_bad_values_are_reported_and_replaced_by_defaults():
    lsp = {"completion": {"maxTokens": "many", "temperature": True, "enabled": "yes",
                          "bogus": 1},
           "endpoint": {"baseUrl": "ftp://x", "provider": "mystery"}}
    s, problems = resolve_settings(lsp, {})
    text = "\n".join(problems)
    for name in ("maxTokens", "temperature", "enabled", "bogus", "baseUrl", "provider"):
        assert name in text
    assert s.completion.max_tokens == 128 and s.completion.enabled is True
    # A bad URL is kept (requests fail saying why) instead of quietly meaning Ollama.
    assert (s.endpoint.provider, s.endpoint.base_url) == ("openai", "ftp://x")


def test_provider_guessed_from_url_and_v1_added_for_openai():
    s, _ = resolve_settings({"endpoint": {"baseUrl": "http://127.0.0.1:11434/v1"}}, {})
    assert (s.endpoint.provider, s.endpoint.base_url) == ("ollama", "http://127.0.0.1:11434")
    s, _ = resolve_settings({"endpoint": {"baseUrl": "http://127.0.0.1:1234"}}, {})
    assert (s.endpoint.provider, s.endpoint.base_url) == ("openai", "http://127.0.0.1:1234/v1")


def test_the_key_is_never_in_repr_or_description():
    s, _ = resolve_settings(None, {"QWEN_LSP_API_KEY": "sk-very-secret-value"})
    assert "sk-very-secret-value" not in repr(s)
    assert "sk-very-secret-value" not in str(describe(s))
    assert describe(s)["apiKey"] == "set (from QWEN_LSP_API_KEY)"


def test_envelope_with_section_name_is_accepted():
    s, _ = resolve_settings({"qwen": {"completion": {"model": "m"}}}, {})
    assert s.completion.model == "m"


def test_bad_values_are_explained_in_the_users_words():
    _, problems = resolve_settings({"completion": {"maxTokens": "abc", "enabled": "yes"}}, {})
    assert problems == [
        "LSP setting qwen.completion.maxTokens: 'abc' is not a whole number (0 or more); "
        "using the default (128)",
        "LSP setting qwen.completion.enabled: 'yes' is not true or false; using the default "
        "(true)",
    ]
    assert not any("invalid literal" in p or "int()" in p for p in problems)


def test_a_bad_base_url_names_its_source_and_is_not_replaced_by_ollama():
    for url in ("htp://x", "localhost:8000/v1"):
        s, problems = resolve_settings(None, {"QWEN_LSP_BASE_URL": url})
        assert len(problems) == 1
        assert problems[0].startswith(f"environment variable QWEN_LSP_BASE_URL: {url!r} is not "
                                      "a URL starting with http:// or https://")
        assert "qwen.endpoint.baseUrl" not in problems[0] and "Ollama" not in problems[0]
        assert s.endpoint.provider != "ollama" and s.endpoint.base_url == url
    _, problems = resolve_settings({"endpoint": {"baseUrl": "htp://y"}},
                                   {"QWEN_LSP_BASE_URL": "http://ok:8000/v1"})
    assert problems[0].startswith("LSP setting qwen.endpoint.baseUrl: 'htp://y'")


def test_an_empty_section_may_arrive_as_a_list_in_or_out_of_its_envelope():
    for layer in ({"qwen": []}, [], {"qwen": {}}, {}):
        s, problems = resolve_settings(layer, {})
        assert problems == [], layer
    s, problems = resolve_settings(({"qwen": []}, {"qwen": {"completion": {"model": "m"}}}), {})
    assert problems == [] and s.completion.model == "m"


def test_a_bad_api_key_value_is_not_echoed():
    _, problems = resolve_settings({"endpoint": {"apiKey": 987654321987}}, {})
    assert problems and "987654321987" not in problems[0]
    assert problems[0].startswith("LSP setting qwen.endpoint.apiKey: the value given is not "
                                  "a string")


def test_each_type_rule_costs_only_its_own_field():
    lsp = {"completion": {"max_tokens": "64", "maxLines": 2.0, "prefixChars": 1.5,
                          "suffixChars": -1, "temperature": False, "disabledLanguages": 3},
           "chat": {"thinking": 1, "model": 7},
           "endpoint": {"apiKey": ["sk-never-echoed"], "timeoutMs": "500"},
           "index": {"maxFiles": None}}
    s, problems = resolve_settings(lsp, {})
    # camelCase or snake_case keys; a number written as text; a whole float.
    assert (s.completion.max_tokens, s.completion.max_lines, s.endpoint.timeout_ms) == (64, 2, 500)
    assert (s.completion.prefix_chars, s.completion.suffix_chars) == (6000, 2000)
    assert s.completion.temperature == 0.0 and s.completion.disabled_languages == ()
    assert s.chat.thinking is False and s.index.max_files == 50_000
    assert problems == [
        "LSP setting qwen.endpoint.apiKey: the value given is not a string; using the default "
        "('')",
        "LSP setting qwen.completion.prefixChars: 1.5 is not a whole number (0 or more); "
        "using the default (6000)",
        "LSP setting qwen.completion.suffixChars: -1 is not a whole number (0 or more); "
        "using the default (2000)",
        "LSP setting qwen.completion.temperature: False is not a number (0 or more); "
        "using the default (0.0)",
        "LSP setting qwen.completion.disabledLanguages: 3 is not a list of strings; "
        "using the default ([])",
        "LSP setting qwen.chat.thinking: 1 is not true or false; using the default (false)",
        "LSP setting qwen.chat.model: 7 is not a string; using the default ('')",
    ]
