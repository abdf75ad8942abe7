"""Every log record and message is masked from the first byte, whatever holds the key."""

from __future__ import annotations

import logging

import pytest

from lsp_server import logs
from lsp_server.model.errors import ErrorKind, ModelError
from lsp_server.settings import resolve_settings

CASES = [
    # What pygls logs at DEBUG before settings are read, in its repr form.
    "Language server initialized InitializeParams(initialization_options={'qwen': "
    "{'endpoint': {'apiKey': 'MARKER-KEY-1', 'fallbacks': [{'apiKey': 'MARKER-KEY-2'}]}}})",
    '{"jsonrpc": "2.0", "result": [{"endpoint": {"apiKey": "MARKER-KEY-3"}}]}',
    "{'apiKey': ['MARKER-KEY-4']}",
    "{'apiKey': {'value': 'MARKER-KEY-5'}}",
    "EndpointSettings(base_url='x', api_key='MARKER-KEY-6')",
    "Authorization: Bearer MARKER-KEY-7",
    "{'authorization': 'Bearer MARKER-KEY-8'}",
    "Cannot reach openai endpoint http://user:MARKER-KEY-9@host:8000/v1",
    'x = "sk-proj-MARKERkey10Zq8xL2mN4vB6cD9fG1hJ3kP5rT7wY0aE"',
]


@pytest.mark.parametrize("text", CASES)
def test_keys_are_masked_in_every_shape(text: str) -> None:
    assert "MARKER" not in logs.mask(text)


def test_a_number_as_api_key_is_masked_too() -> None:
    assert "12345678" not in logs.mask("{'apiKey': 12345678}")
    assert "max_tokens=128" in logs.mask("max_tokens=128")


def test_log_records_are_masked_before_any_key_is_registered(
        capsys: pytest.CaptureFixture[str]) -> None:
    logs.setup("DEBUG")
    try:
        logging.getLogger("pygls.protocol").debug("Received %s", {"apiKey": "MARKER-KEY-11"})
    finally:
        logs.setup("WARNING")
    assert "MARKER" not in capsys.readouterr().err


def test_a_non_string_api_key_is_not_echoed() -> None:
    _, problems = resolve_settings({"endpoint": {"apiKey": 98765432123}}, {})
    assert problems and not any("98765432123" in p for p in problems)
    _, problems = resolve_settings({"endpoint": {"apiKey": ["MARKER-KEY-12"]}}, {})
    assert problems and not any("MARKER" in p for p in problems)


def test_a_password_in_the_base_url_is_masked_in_errors() -> None:
    s, _ = resolve_settings({"endpoint": {"baseUrl": "http://bob:hunter2pw@127.0.0.1:9/v1"}},
                            {})
    err = ModelError(ErrorKind.UNREACHABLE, f"Cannot reach {s.endpoint.base_url}")
    assert "hunter2pw" not in err.message and "hunter2pw" not in str(err)
