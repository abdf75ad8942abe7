"""Scanner rules: ignore files at every level, default exclusions, secrets, binaries, size."""

from __future__ import annotations

from pathlib import Path

import pytest

from lsp_server.context.scanner import (
    Scanner,
    content_skip_reason,
    is_secret_name,
    is_secret_path,
    looks_binary,
    looks_minified,
)
from tests.unit._ctx_helpers import add_unwanted_files, fixture_repo


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = fixture_repo("ctx_py", tmp_path)
    add_unwanted_files(root)
    return root


def _rels(root: Path, **kwargs) -> set[str]:
    return {f.rel for f in Scanner(str(root), **kwargs).scan().files}


def test_scan_keeps_sources_and_honours_all_rules(repo: Path) -> None:
    rels = _rels(repo)
    assert "shop/models.py" in rels
    assert "shop/payments/gateway.py" in rels
    for unwanted in ("node_modules/dep/index.py", "build/out.py", "generated/gen.py",
                     "shop/secret_notes.py", "shop/private/internal.py", "env/lib.py",
                     ".env", "id_rsa", "package-lock.json", "logs/debug.log"):
        assert unwanted not in rels, unwanted


def test_scan_counts_skips_by_reason(repo: Path) -> None:
    result = Scanner(str(repo)).scan()
    assert result.skipped["secret"] >= 2  # .env, id_rsa
    assert result.skipped["excluded_dir"] >= 3  # node_modules, build, env (virtualenv)
    assert result.skipped["ignored"] >= 3  # generated/, shop/secret_notes.py, shop/private/
    assert result.skipped["lock_file"] == 1


def test_nested_gitignore_negation_and_anchoring(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / ".gitignore").write_text("*.py\n")
    (tmp_path / "a" / ".gitignore").write_text("!keep.py\n")
    (tmp_path / "a" / "b" / ".gitignore").write_text("/local.py\n")
    for rel in ("top.py", "a/keep.py", "a/other.py", "a/b/keep.py", "a/b/local.py"):
        (tmp_path / rel).write_text("x = 1\n")
    rels = _rels(tmp_path)
    assert rels == {"a/keep.py", "a/b/keep.py"}


def test_ignored_directory_contents_cannot_be_reincluded(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / ".gitignore").write_text("out/\n!out/keep.py\n")
    (tmp_path / "out" / "keep.py").write_text("x = 1\n")
    assert _rels(tmp_path) == set()


def test_size_limit(tmp_path: Path) -> None:
    (tmp_path / "big.py").write_text("x = 1\n" * 1000)
    (tmp_path / "small.py").write_text("x = 1\n")
    assert _rels(tmp_path, max_file_bytes=1000) == {"small.py"}


@pytest.mark.parametrize("name", [
    ".env", ".env.local", ".env.production", "prod.env", "server.pem", "tls.key", "id_rsa",
    "id_ed25519.pub", "cert.p12", ".npmrc", ".pypirc", ".netrc", "credentials",
    "credentials.json", ".git-credentials", "service-account-prod.json", "terraform.tfstate",
])
def test_secret_names(name: str) -> None:
    assert is_secret_name(name)


@pytest.mark.parametrize("name", ["secrets.py", "keys.py", "credentials.py", "env.py",
                                  "token.go", "environment.ts", "README.md"])
def test_source_files_are_not_secret(name: str) -> None:
    assert not is_secret_name(name)


def test_secret_directories() -> None:
    assert is_secret_path("home/.ssh/config")
    assert is_secret_path("x/.aws/config")
    assert not is_secret_path("src/ssh/config.py")


def test_binary_and_minified_detection() -> None:
    assert looks_binary(b"abc\x00def")
    assert looks_binary(bytes([0xFF, 0xFE, 0x41]) + b"text" * 10)
    assert not looks_binary("héllo wörld".encode())
    assert not looks_binary("é".encode()[:1])  # cut multi-byte char at the window's end
    assert looks_minified(b"var a=1;" * 200)
    assert not looks_minified(b"x = 1\n" * 2000)
    assert content_skip_reason(b"\x00") == "binary"
    assert content_skip_reason(b"x" * 5000) == "minified"
    assert content_skip_reason(b"def f():\n    pass\n") is None


def test_may_send(repo: Path) -> None:
    scanner = Scanner(str(repo))
    assert scanner.may_send(str(repo / "shop" / "models.py"))
    assert not scanner.may_send(str(repo / ".env"))
    assert not scanner.may_send(str(repo / "shop" / "secret_notes.py"))  # nested .gitignore
    assert not scanner.may_send(str(repo / "shop" / "private" / "internal.py"))  # .qwenignore
    assert not scanner.may_send(str(repo / "generated" / "gen.py"))  # anchored dir rule
    assert not scanner.may_send(str(repo / "logs" / "debug.log"))
    assert not scanner.may_send(str(repo / ".git" / "config"))


def test_check_single_file(repo: Path) -> None:
    scanner = Scanner(str(repo))
    assert scanner.check(str(repo / "shop" / "models.py")) is None
    assert scanner.check(str(repo / ".env")) == "secret"
    assert scanner.check(str(repo / "node_modules" / "dep" / "index.py")) == "excluded_dir"
    assert scanner.check(str(repo / "shop" / "private" / "internal.py")) == "ignored"
    assert scanner.check(str(repo / "logs" / "debug.log")) == "ignored"
    assert scanner.check("/elsewhere/x.py") == "outside"
