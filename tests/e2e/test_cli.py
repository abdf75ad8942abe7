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
    for word in ("complete", "doctor", "serve", "next-edit", "QWEN_LSP_BASE_URL",
                 "DASHSCOPE_API_KEY", "QWEN_LSP_NEXT_EDIT_MODEL"):
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


def test_next_edit_prints_prompt_and_edits(endpoint: FakeEndpoint, tmp_path: Path):
    before = tmp_path / "before.py"
    before.write_text("def area(width, height):\n    return width * height\n")
    src = tmp_path / "geo.py"
    src.write_text("def area(w, h):\n    return width * height\n")
    endpoint.default = Reply(text="<|editable_region_start|>\ndef area(w, h):\n"
                                  "    return w * h\n")
    env = endpoint_env(endpoint, QWEN_LSP_NEXT_EDIT_MODEL="zeta-7b")
    args = ("next-edit", "--root", str(tmp_path), "--file", str(src), "--line", "0",
            "--character", "13", "--before-file", str(before))
    proc = run(*args, "--json", env=env)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["format"] == "zeta"
    assert "-def area(width, height):\n+def area(w, h):" in out["prompt"]
    assert "def area(w, h<|user_cursor_is_here|>):" in out["prompt"]
    assert out["edits"] == [{"range": {"start": {"line": 1, "character": 12},
                                       "end": {"line": 1, "character": 25}}, "text": " * h"}]
    (req,) = endpoint.generation_requests()
    assert req.body["prompt"] == out["prompt"] and req.body["model"] == "zeta-7b"
    text = run(*args, env=env)
    assert text.returncode == 0 and "--- prompt (zeta" in text.stdout
    assert "1:12-1:25 -> ' * h'" in text.stdout
    only = run(*args, "--prompt-only", env=env)
    assert only.returncode == 0 and "--- edits ---" not in only.stdout
    assert len(endpoint.generation_requests()) == 2
