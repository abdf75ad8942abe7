"""The VS Code client: its unit tests, and an end-to-end run in a real VS Code.

The e2e run packages the extension (`npm run package`), installs the .vsix into a fresh
extensions dir of code-server, drives it with Debian's Chromium through playwright-core,
against the real `qwen-lsp` and the loopback fake endpoint (clients/vscode/test/e2e/run.mjs).

Tools come from `clients/vscode/scripts/provision.sh`, which records their paths in
`$QWEN_LSP_CI_CACHE/env` (default /var/cache/qwen-lsp-ci/env). Without them the tests skip,
or fail when the CI environment variable is set.
Set QWEN_VSCODE_SCREENSHOTS=clients/vscode/docs to refresh the README's screenshots.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lsp_server import settings as server_settings

ROOT = Path(__file__).resolve().parents[2]
EXT = ROOT / "clients" / "vscode"
CACHE = Path(os.environ.get("QWEN_LSP_CI_CACHE", "/var/cache/qwen-lsp-ci"))


def _tools() -> dict[str, str]:
    """Return the provisioned tool paths, from the env file and the environment."""
    found: dict[str, str] = {}
    env_file = CACHE / "env"
    if env_file.is_file():
        for line in env_file.read_text().splitlines():
            key, sep, value = line.partition("=")
            if sep:
                found[key.strip()] = value.strip()
    for key in ("QWEN_VSCODE_NODE", "QWEN_VSCODE_CODE_SERVER", "QWEN_VSCODE_CHROMIUM"):
        if os.environ.get(key):
            found[key] = os.environ[key]
    return found


def _missing(tools: dict[str, str], *, e2e: bool) -> list[str]:
    missing = []
    node = tools.get("QWEN_VSCODE_NODE")
    if not node or not os.access(node, os.X_OK):
        missing.append("Node 24 (QWEN_VSCODE_NODE)")
    if not (EXT / "node_modules" / "vitest").is_dir():
        missing.append("clients/vscode/node_modules (npm ci)")
    if e2e:
        for key, what in (
            ("QWEN_VSCODE_CODE_SERVER", "code-server"),
            ("QWEN_VSCODE_CHROMIUM", "chromium"),
        ):
            path = tools.get(key)
            if not path or not os.access(path, os.X_OK):
                missing.append(f"{what} ({key})")
        if not (EXT / "node_modules" / "playwright-core").is_dir():
            missing.append("playwright-core in clients/vscode/node_modules")
        if not _server_binary():
            missing.append("the qwen-lsp console script")
    return missing


def _server_binary() -> str | None:
    beside = Path(sys.executable).parent / "qwen-lsp"
    if beside.is_file():
        return str(beside)
    return shutil.which("qwen-lsp")


def _require(e2e: bool) -> dict[str, str]:
    tools = _tools()
    missing = _missing(tools, e2e=e2e)
    if missing:
        reason = (
            "VS Code test tools missing: "
            + ", ".join(missing)
            + "; run clients/vscode/scripts/provision.sh (as root)"
        )
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return tools


def _node_env(tools: dict[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(tools["QWEN_VSCODE_NODE"]).parent), env["PATH"]])
    env.pop("NODE_OPTIONS", None)
    return env


def _npm(tools: dict[str, str], *args: str, timeout: float) -> subprocess.CompletedProcess:
    npm = shutil.which("npm", path=_node_env(tools)["PATH"])
    assert npm, "npm not found"
    return subprocess.run(
        [npm, *args], cwd=EXT, env=_node_env(tools), capture_output=True, text=True, timeout=timeout
    )


# Server settings VS Code does not offer, and why.
NOT_VSCODE_SETTINGS = {
    "endpoint.apiKey": "Set API Key keeps it in secret storage; the server gets it in its env",
    "endpoint.completionModel": "the same as qwen.completion.model (a field of fallback entries)",
    "endpoint.chatModel": "the same as qwen.chat.model (a field of fallback entries)",
}
# What the client reads itself (src/settings.ts CLIENT_ONLY).
CLIENT_ONLY = {"server.command", "server.args", "completion.autoTrigger", "trace.server"}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _server_setting_keys() -> set[str]:
    """Every `section.key` the server reads, from its settings dataclasses."""
    keys = set()
    for section in dataclasses.fields(server_settings.Settings):
        default = section.default_factory() if callable(section.default_factory) else None
        if not dataclasses.is_dataclass(default):
            continue  # derived values (resolved endpoints, where the key came from)
        for f in dataclasses.fields(default):
            keys.add(f"{_camel(section.name)}.{_camel(f.name)}")
    return keys


def test_every_server_setting_is_a_vscode_setting() -> None:
    """package.json's settings are the table the extension forwards (all but CLIENT_ONLY):
    a server setting added without a VS Code setting, or a VS Code setting the server does
    not know (it would warn "unknown setting" at every start), fails here."""
    props = json.loads((EXT / "package.json").read_text())["contributes"]["configuration"][
        "properties"
    ]
    forwarded = {k.removeprefix("qwen.") for k in props} - CLIENT_ONLY
    server = _server_setting_keys()
    assert "completion.debounceMinMs" in server  # the walk itself works
    missing = server - forwarded - set(NOT_VSCODE_SETTINGS)
    assert not missing, f"server settings VS Code cannot set: {sorted(missing)}"
    unknown = forwarded - server
    assert not unknown, f"VS Code settings the server does not know: {sorted(unknown)}"
    # A repository must not redirect code to another server, nor send secret files.
    trusted = [
        k
        for k in props
        if k.startswith(("qwen.endpoint.", "qwen.nextEdit.", "qwen.server."))
        or k == "qwen.completion.allowInSecretFiles"
    ]
    assert all(props[k].get("scope") == "machine" for k in trusted), trusted
    restricted = json.loads((EXT / "package.json").read_text())["capabilities"][
        "untrustedWorkspaces"
    ]["restrictedConfigurations"]
    assert set(trusted) <= set(restricted), set(trusted) - set(restricted)


@pytest.mark.timeout(180)
def test_vscode_unit_and_typecheck() -> None:
    tools = _require(e2e=False)
    node = tools["QWEN_VSCODE_NODE"]
    run = subprocess.run(
        [node, "node_modules/vitest/vitest.mjs", "run"],
        cwd=EXT,
        env=_node_env(tools),
        capture_output=True,
        text=True,
        timeout=150,
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    tsc = subprocess.run(
        [node, "node_modules/typescript/bin/tsc", "-p", ".", "--noEmit"],
        cwd=EXT,
        env=_node_env(tools),
        capture_output=True,
        text=True,
        timeout=150,
    )
    assert tsc.returncode == 0, tsc.stdout[-4000:] + tsc.stderr[-4000:]


@pytest.mark.timeout(120)
def test_vsix_holds_the_readme_images() -> None:
    """The README is the extension's page in VS Code: every image it shows must be packaged."""
    tools = _require(e2e=False)
    vsce = EXT / "node_modules" / "@vscode" / "vsce" / "vsce"
    run = subprocess.run(
        [tools["QWEN_VSCODE_NODE"], str(vsce), "ls", "--no-dependencies"],
        cwd=EXT,
        env=_node_env(tools),
        capture_output=True,
        text=True,
        timeout=100,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    packaged = {line.strip() for line in run.stdout.splitlines() if line.strip()}
    assert "package.json" in packaged and "README.md" in packaged, packaged
    images = re.findall(r"!\[[^\]]*\]\(([^)\s]+)", (EXT / "README.md").read_text())
    assert images, "the README shows no image: the check would prove nothing"
    relative = [i for i in images if not re.match(r"[a-z]+:", i)]
    assert not set(relative) - packaged, (sorted(set(relative) - packaged), sorted(packaged))


@pytest.mark.timeout(420)
def test_vscode_end_to_end(tmp_path: Path) -> None:
    tools = _require(e2e=True)
    package = _npm(tools, "run", "package", timeout=120)
    assert package.returncode == 0, package.stdout[-3000:] + package.stderr[-3000:]
    vsix = EXT / "dist" / "qwen-lsp.vsix"
    assert vsix.is_file()

    out = tmp_path / "e2e"
    env = _node_env(tools)
    env.update(
        {
            "QWEN_E2E_CODE_SERVER": tools["QWEN_VSCODE_CODE_SERVER"],
            "QWEN_E2E_CHROMIUM": tools["QWEN_VSCODE_CHROMIUM"],
            "QWEN_E2E_SERVER": str(_server_binary()),
            "QWEN_E2E_PYTHON": sys.executable,
            "QWEN_E2E_REPO": str(ROOT),
            "QWEN_E2E_VSIX": str(vsix),
            "QWEN_E2E_OUT": str(out),
        }
    )
    shots = os.environ.get("QWEN_VSCODE_SCREENSHOTS")
    if shots:
        env["QWEN_E2E_SCREENSHOTS"] = str((ROOT / shots).resolve())
    run = subprocess.run(
        [tools["QWEN_VSCODE_NODE"], "test/e2e/run.mjs"],
        cwd=EXT,
        env=env,
        capture_output=True,
        text=True,
        timeout=360,
    )
    print(run.stdout)
    results_file = out / "results.json"
    assert results_file.is_file(), run.stdout[-4000:] + run.stderr[-4000:]
    steps = json.loads(results_file.read_text())["steps"]
    failed = [s for s in steps if s["status"] == "failed"]
    assert not failed, json.dumps(failed, indent=1) + "\n" + run.stdout[-4000:] + run.stderr[-2000:]
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    passed = {s["name"] for s in steps if s["status"] == "passed"}
    for required in (
        "ghost text appears while typing",
        "Ctrl+Right accepts the next word, Tab the rest (saved file)",
        "status bar shows the server state",
        "text typed before the server is ready gets its suggestion once it is",
        "a setting from VS Code user settings reaches the server (qwen.chat.temperature)",
        "next edit: a rename proposes the matching change, drawn at its line",
        "next edit: Tab jumps to it, Tab accepts it in one undo step (saved file)",
        "next edit: Escape dismisses it",
        "next edit: the server counted what was shown, accepted and dismissed (qwen/stats)",
        "Run Doctor says the next-edit model is configured and answering",
        "next edit: one off screen gets an indicator on the cursor line; Tab brings it into view",
        "the editor context menu offers Simplify, Add Type Hints and Fix",
        "Ctrl+L sends the selection to the chat, Ctrl+Alt+I opens it",
    ):
        assert required in passed, required
