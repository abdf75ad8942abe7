"""The `qwen-lsp index` and `qwen-lsp context` commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lsp_server.cli import main
from lsp_server.prompt import FILE_SEP, FIM_MIDDLE, FIM_PREFIX, REPO_NAME
from testkit.fake_endpoint import FakeEndpoint
from tests.unit._ctx_helpers import fixture_repo


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    return fixture_repo("ctx_py", tmp_path)


def test_index_then_warm_index(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["index", str(root), "--json", "--workers", "1"]) == 0
    cold = json.loads(capsys.readouterr().out)
    assert cold["files"] == 6 and cold["reparsed"] == 6 and cold["symbols"] > 10
    assert main(["index", str(root), "--json"]) == 0
    warm = json.loads(capsys.readouterr().out)
    assert warm["reparsed"] == 0 and warm["reused"] == 6
    assert main(["index", str(root)]) == 0
    assert "reused     6" in capsys.readouterr().out


def test_context_prints_the_prompt(root: Path, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    checkout = root / "shop" / "checkout.py"
    unsaved = tmp_path / "buffer.py"
    unsaved.write_text(checkout.read_text().replace(
        "        return self.gateway.charge(total, token)\n", "        \n"))
    args = ["context", "--root", str(root), "--file", str(checkout), "--line", "14",
            "--character", "8", "--text-file", str(unsaved), "--budget-chars", "3000"]
    assert main(args) == 0
    prompt = capsys.readouterr().out
    assert prompt.startswith(f"{REPO_NAME}ctx_py\n{FILE_SEP}")
    assert f"{FILE_SEP}shop/checkout.py\n{FIM_PREFIX}" in prompt
    assert prompt.rstrip("\n").endswith(FIM_MIDDLE)
    cross = prompt.split(f"{FILE_SEP}shop/checkout.py\n")[0]
    assert "def charge(self, amount_cents: int, token: str) -> str:" in cross
    assert len(cross) < 3000 + 200

    assert main([*args, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["prompt"] == prompt.rstrip("\n") or data["prompt"] == prompt
    assert {"path", "start_line", "end_line", "source", "score"} <= set(data["snippets"][0])
    assert "retrieve" in data["timings_ms"] and "total" in data["timings_ms"]


def test_context_refuses_secret_files(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    env = root / ".env"
    env.write_text("TOKEN=x\n")
    code = main(["context", "--root", str(root), "--file", str(env), "--line", "0",
                 "--character", "0"])
    assert code == 3
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("provider", ["openai", "llamacpp"])
def test_token_budget_is_counted_by_the_endpoints_tokenizer(
        root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        provider: str) -> None:
    checkout = root / "shop" / "checkout.py"
    args = ["context", "--root", str(root), "--file", str(checkout), "--line", "14",
            "--character", "8", "--budget-tokens", "300", "--json"]
    # No endpoint to ask: the estimate, and it says so.
    monkeypatch.setenv("QWEN_LSP_BASE_URL", "http://127.0.0.1:9/v1")
    assert main(args) == 0
    estimated = json.loads(capsys.readouterr().out)["tokens"]
    assert estimated["counted_by"] == "estimate" and estimated["context"] <= 300
    with FakeEndpoint() as ep:
        ep.chars_per_token = 1.5  # far denser than the estimate: the first guess is too big
        monkeypatch.setenv("QWEN_LSP_BASE_URL", f"{ep.url}/v1" if provider == "openai"
                           else ep.url)
        monkeypatch.setenv("QWEN_LSP_PROVIDER", provider)
        assert main(args) == 0
        data = json.loads(capsys.readouterr().out)
        counted = [r for r in ep.requests if r.path == "/tokenize"]
    tokens = data["tokens"]
    assert tokens["counted_by"] == "endpoint" and 0 < tokens["context"] <= 300
    assert len(counted) >= 2  # over budget once, then shrunk to fit
    cross = data["prompt"].split(f"{FILE_SEP}shop/checkout.py\n")[0]
    cross = cross.split("\n", 1)[1]  # the part after the repository name line
    assert len(cross) / 1.5 <= 300
