"""The file gate: regular files only, git's ignore rules from above the workspace, symlinks
resolved, and the credential files cloud and cluster tools keep."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from lsp_server.context.files import NotRegularFile, read_regular, within
from lsp_server.context.index import RepoIndex
from lsp_server.context.scanner import (
    IgnoreRules,
    Scanner,
    global_excludes_file,
    is_secret_file,
    is_secret_path,
)


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.delenv("GIT_CONFIG_GLOBAL", raising=False)
    return home


def _finishes(fn, *args) -> bool:
    """Run `fn` in a thread; return whether it ended (a FIFO read would never end)."""
    done = threading.Event()

    def run() -> None:
        try:
            fn(*args)
        finally:
            done.set()

    threading.Thread(target=run, daemon=True).start()
    return done.wait(30)


def test_a_fifo_is_never_opened(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.py"
    os.mkfifo(fifo)
    with pytest.raises(NotRegularFile):
        read_regular(str(fifo))
    (tmp_path / "ok.py").write_text("x = 1\n")
    assert read_regular(str(tmp_path / "ok.py")) == b"x = 1\n"
    assert read_regular(str(tmp_path / "ok.py"), max_bytes=2) == b"x = "[:3]


@pytest.mark.parametrize("where", [".gitignore", ".git/info/exclude", ".qwenignore", "go.mod"])
def test_a_fifo_where_rules_or_manifests_live_blocks_nothing(tmp_path: Path, where: str) -> None:
    root = tmp_path / "ws"
    (root / ".git" / "info").mkdir(parents=True)
    (root / "main.go").write_text("package main\n\nimport \"example.com/m/util\"\n")
    (root / "util").mkdir()
    (root / "util" / "util.go").write_text("package util\n\nfunc F() {}\n")
    os.mkfifo(root / where)

    def build() -> None:
        index = RepoIndex([str(root)], persist=False)
        try:
            index.build()
            index.resolve_import(str(root / "main.go"), index.entry(
                str(root / "main.go")).symbols.imports[0], "go")
        finally:
            index.close()

    assert _finishes(build)


def _repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    (repo / ".git" / "info").mkdir(parents=True)
    (repo / "pkg" / "sub").mkdir(parents=True)
    return repo


def test_gitignore_above_the_workspace_folder_is_followed(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    (repo / ".gitignore").write_text("pkg/x.py\n*.local.py\n")
    (repo / "pkg" / ".gitignore").write_text("sub/generated.py\n")
    (repo / ".git" / "info" / "exclude").write_text("notes.py\n")
    for name in ("x.py", "y.py", "conf.local.py", "notes.py", "sub/generated.py", "sub/z.py"):
        (repo / "pkg" / name).write_text("v = 1\n")
    scanner = Scanner(str(repo / "pkg"))
    ws = repo / "pkg"
    assert scanner.check(str(ws / "x.py")) == "ignored"
    assert scanner.check(str(ws / "conf.local.py")) == "ignored"
    assert scanner.check(str(ws / "notes.py")) == "ignored"
    assert scanner.check(str(ws / "sub" / "generated.py")) == "ignored"
    assert scanner.check(str(ws / "y.py")) is None
    assert not scanner.may_send(str(ws / "x.py"))
    found = {f.rel for f in scanner.scan().files}
    assert found == {"y.py", "sub/z.py"}


def test_an_ignored_workspace_folder_is_wholly_ignored(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    (repo / ".gitignore").write_text("pkg/\n")
    (repo / "pkg" / "a.py").write_text("v = 1\n")
    assert Scanner(str(repo / "pkg")).scan().files == []


def test_the_global_excludes_file_is_followed(tmp_path: Path, _home: Path) -> None:
    repo = _repo(tmp_path)
    (repo / "pkg" / "scratch.py").write_text("v = 1\n")
    (repo / "pkg" / "keep.py").write_text("v = 1\n")
    # Default place: $XDG_CONFIG_HOME/git/ignore.
    (_home / ".config" / "git").mkdir(parents=True)
    (_home / ".config" / "git" / "ignore").write_text("scratch.py\n")
    assert IgnoreRules(str(repo / "pkg")).is_ignored("scratch.py")
    assert not IgnoreRules(str(repo / "pkg")).is_ignored("keep.py")
    # core.excludesFile in ~/.gitconfig wins over the default place.
    (_home / ".gitconfig").write_text(
        '[user]\n\tname = x\n[core]\n\texcludesFile = "~/my-ignore"\n')
    (_home / "my-ignore").write_text("keep.py\n")
    assert global_excludes_file() == str(_home / "my-ignore")
    rules = IgnoreRules(str(repo / "pkg"))
    assert rules.is_ignored("keep.py") and not rules.is_ignored("scratch.py")


def test_symlinks_out_of_the_workspace_are_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / ".env").write_text("TOKEN=MARKER\n")
    (outside / "plain.py").write_text("v = 1\n")
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / ".env").write_text("TOKEN=MARKER\n")
    (ws / "settings_link.py").symlink_to(outside / ".env")
    (ws / "plain_link.py").symlink_to(outside / "plain.py")
    (ws / "inner_secret.py").symlink_to(ws / ".env")
    (ws / "real.py").write_text("v = 1\n")
    (ws / "inner_ok.py").symlink_to(ws / "real.py")
    scanner = Scanner(str(ws))
    assert scanner.check(str(ws / "settings_link.py")) == "outside"
    assert scanner.check(str(ws / "plain_link.py")) == "outside"
    assert scanner.check(str(ws / "inner_secret.py")) == "secret"
    assert scanner.check(str(ws / "inner_ok.py")) is None
    for name in ("settings_link.py", "plain_link.py", "inner_secret.py"):
        assert not scanner.may_send(str(ws / name)), name
    assert scanner.may_send(str(ws / "inner_ok.py"))
    assert not within(str(ws / "plain_link.py"), [str(ws)])
    # A file-watch "created" event for the link reads nothing.
    index = RepoIndex([str(ws)], persist=False)
    try:
        assert not index.refresh_file(str(ws / "settings_link.py"))
        assert index.entry(str(ws / "settings_link.py")) is None
    finally:
        index.close()


@pytest.mark.parametrize("path", [
    "kubeconfig", "deploy/prod.kubeconfig", "kubeconfig.yaml", "home/.kube/config",
    ".docker/config.json", ".netrc", ".pgpass", "infra/prod.tfvars", "terraform.tfstate",
    "terraform.tfstate.backup", "state/x.tfstate", ".git-credentials", ".aws/credentials",
    ".gcloud/credentials.db", ".azure/credentials", ".azure/accessTokens.json",
])
def test_credential_files_of_common_tools_are_secret(path: str) -> None:
    assert is_secret_path(path)


def test_a_service_account_key_is_secret_whatever_its_name(tmp_path: Path) -> None:
    key = tmp_path / "deploy-bot.json"
    key.write_text('{"type": "service_account", "private_key_id": "abc",\n'
                   ' "private_key": "-----BEGIN PRIVATE KEY-----\\nMARKER\\n"}\n')
    plain = tmp_path / "package.json"
    plain.write_text('{"name": "x"}\n')
    assert is_secret_file(str(key)) and not is_secret_file(str(plain))
    assert not Scanner(str(tmp_path)).may_send(str(key))


def test_qwenignore_adds_secret_patterns(tmp_path: Path) -> None:
    (tmp_path / ".qwenignore").write_text("*.vault.py\n")
    (tmp_path / "a.vault.py").write_text("v = 1\n")
    assert Scanner(str(tmp_path)).check(str(tmp_path / "a.vault.py")) == "ignored"


def test_info_exclude_of_a_linked_worktree_is_followed(tmp_path: Path) -> None:
    main = tmp_path / "main"
    (main / ".git" / "worktrees" / "wt").mkdir(parents=True)
    (main / ".git" / "info").mkdir()
    (main / ".git" / "info" / "exclude").write_text("local.py\n")
    (main / ".git" / "worktrees" / "wt" / "commondir").write_text("../..\n")
    wt = tmp_path / "wt"
    wt.mkdir()
    (wt / ".git").write_text(f"gitdir: {main / '.git' / 'worktrees' / 'wt'}\n")
    assert IgnoreRules(str(wt)).is_ignored("local.py")
    assert not IgnoreRules(str(wt)).is_ignored("kept.py")
