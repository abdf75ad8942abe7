"""The `qwen-lsp` command line: complete, doctor, --help, against the fake endpoint."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import CLEAN_ENV
from tests.fake_endpoint import FakeEndpoint, Reply


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "lsp_server", *args], capture_output=True,
                          text=True, timeout=60, env={**CLEAN_ENV, **(env or {})})


def endpoint_env(ep: FakeEndpoint, **extra: str) -> dict[str, str]:
    return {"QWEN_LSP_BASE_URL": f"{ep.url}/v1", "QWEN_LSP_COMPLETION_MODEL": "qwen-test",
            **extra}


def test_help_documents_every_subcommand():
    out = run("--help").stdout
    for word in ("complete", "doctor", "serve", "QWEN_LSP_BASE_URL", "DASHSCOPE_API_KEY"):
        assert word in out


def test_complete_prints_the_suggestion(endpoint: FakeEndpoint, tmp_path: Path):
    src = tmp_path / "add.py"
    src.write_text("def add(a, b):\n    return \n")
    endpoint.default = Reply(text="a + b")
    proc = run("complete", f"{src}:1:11", env=endpoint_env(endpoint))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "a + b\n"
    assert endpoint.generation_requests()[0].body["prompt"].startswith("<|fim_prefix|>def add")


def test_complete_uses_repository_context(endpoint: FakeEndpoint, tmp_path: Path):
    (tmp_path / ".git").mkdir()
    (tmp_path / "util.py").write_text(
        'def parse_row(line: str) -> list[str]:\n    """Split a CSV row."""\n'
        '    return line.split(",")\n')
    (tmp_path / "pkg").mkdir()
    main = tmp_path / "pkg" / "main.py"
    main.write_text("from util import parse_row\n\nfields = \n")
    endpoint.default = Reply(text="parse_row(line)")
    proc = run("complete", f"{main}:2:9", env=endpoint_env(endpoint))
    assert proc.returncode == 0, proc.stderr
    prompt = endpoint.generation_requests()[0].body["prompt"]
    assert prompt.startswith(f"<|repo_name|>{tmp_path.name}\n<|file_sep|>util.py\n")
    assert "def parse_row(line: str) -> list[str]:" in prompt
    assert "<|file_sep|>pkg/main.py\n<|fim_prefix|>from util import parse_row" in prompt


def test_complete_reports_a_broken_endpoint(tmp_path: Path):
    src = tmp_path / "a.py"
    src.write_text("x = \n")
    proc = run("complete", f"{src}:0:4", env={"QWEN_LSP_BASE_URL": "http://127.0.0.1:9/v1"})
    assert proc.returncode == 1 and "Cannot reach" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_complete_refuses_binary_and_missing_files(tmp_path: Path):
    binary = tmp_path / "blob.py"
    binary.write_bytes(b"\x00\x01\x02" * 100)
    assert "binary" in run("complete", f"{binary}:0:0").stderr
    proc = run("complete", f"{tmp_path / 'nope.py'}:0:0")
    assert proc.returncode == 2 and "cannot read" in proc.stderr
    assert run("complete", "no-colons").returncode == 2


def test_doctor_ready(endpoint: FakeEndpoint):
    endpoint.default = Reply(text="a + b")
    proc = run("doctor", env=endpoint_env(endpoint))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "verdict: ready" in proc.stdout and "ms" in proc.stdout


def test_doctor_json_names_each_failure_with_a_fix(tmp_path: Path):
    with FakeEndpoint(api_key="right-key-123") as ep:
        proc = run("doctor", "--json", env=endpoint_env(ep, QWEN_LSP_API_KEY="wrong-key-456"))
    report = json.loads(proc.stdout)
    assert proc.returncode == 1 and report["ok"] is False
    auth = next(c for c in report["checks"] if c["name"] == "auth")
    assert not auth["ok"] and "valid key" in auth["fix"] and "API key" in auth["detail"]
    assert "wrong-key-456" not in proc.stdout + proc.stderr


def test_doctor_missing_model(endpoint: FakeEndpoint):
    proc = run("doctor", env=endpoint_env(endpoint, QWEN_LSP_COMPLETION_MODEL="not-there"))
    assert proc.returncode == 1
    assert "not-there is not among the served models" in proc.stdout


def test_doctor_unreachable_ollama_says_how_to_start_it():
    proc = run("doctor", env={"QWEN_LSP_BASE_URL": "http://127.0.0.1:9",
                              "QWEN_LSP_PROVIDER": "ollama"})
    assert proc.returncode == 1 and "ollama serve" in proc.stdout


def llamacpp_env(ep: FakeEndpoint, **extra: str) -> dict[str, str]:
    """A llama-server: its own routes, no model configured (it serves one)."""
    return {"QWEN_LSP_BASE_URL": ep.url, "QWEN_LSP_PROVIDER": "llamacpp", **extra}


def test_complete_json_names_the_model_the_server_serves(endpoint: FakeEndpoint,
                                                         tmp_path: Path):
    src = tmp_path / "add.py"
    src.write_text("def add(a, b):\n    return \n")
    endpoint.default = Reply(text="a + b")
    proc = run("complete", "--json", f"{src}:1:11", env=llamacpp_env(endpoint))
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["completion"] == "a + b" and out["model"] == "qwen2.5-coder:1.5b-base"


def test_complete_fits_the_prompt_under_the_servers_context(endpoint: FakeEndpoint,
                                                            tmp_path: Path):
    endpoint.n_ctx = 1024  # llama-server -c 1024: /props and /v1/models say so
    src = tmp_path / "big.py"
    src.write_text("".join(f"value_{i} = compute({i}, 'x' * {i})\n" for i in range(400)))
    endpoint.default = Reply(text="1")
    proc = run("complete", f"{src}:200:0", env=llamacpp_env(endpoint))
    assert proc.returncode == 0, proc.stderr
    prompt = endpoint.generation_requests()[0].body["prompt"]
    # 3.2 characters a token (the estimate): the prompt and the answer fit in 1024 tokens.
    assert len(prompt) / 3.2 + 128 <= 1024


def test_prompt_tokens_can_be_set_from_the_environment(endpoint: FakeEndpoint, tmp_path: Path):
    src = tmp_path / "big.py"
    src.write_text("".join(f"value_{i} = compute({i})\n" for i in range(400)))
    endpoint.default = Reply(text="1")
    proc = run("complete", f"{src}:200:0",
               env=endpoint_env(endpoint, QWEN_LSP_PROMPT_TOKENS="300"))
    assert proc.returncode == 0, proc.stderr
    assert len(endpoint.generation_requests()[0].body["prompt"]) <= 300 * 3.2


def test_doctor_reports_the_context_size_and_a_model_without_qwen_fim_tokens(
        endpoint: FakeEndpoint):
    endpoint.n_ctx = 1024
    endpoint.chars_per_token = 2.5
    # Characters like the rest: <|fim_prefix|> is 6 tokens, as with Gemma 3 on llama.cpp.
    endpoint.default = Reply(text="a + b")
    proc = run("doctor", env=llamacpp_env(endpoint))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "[ok] context: 1024 tokens" in proc.stdout
    assert "[warn] fim-tokens: this model does not know Qwen's FIM tokens; completions " \
           "will be poor: use a Qwen2.5-Coder base or Qwen3-Coder model" in proc.stdout
    assert "verdict: ready" not in proc.stdout and "warning" in proc.stdout
    # A Qwen model's tokenizer reads each FIM token as one: ready.
    endpoint.knows_qwen_tokens = True
    proc = run("doctor", env=llamacpp_env(endpoint))
    assert "[ok] fim-tokens" in proc.stdout and "verdict: ready" in proc.stdout
