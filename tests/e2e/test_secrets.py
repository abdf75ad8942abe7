"""The secrets run: a repository planted with markers, a full session, and not one marker sent.

Markers sit in `.env`, an SSH key, a git-ignored file, a `.qwenignore`d file, and as key-like
tokens inside ordinary code. A session of completions (including in an open `.env`), chat with
repository context, and code actions runs against the fake endpoint; every request body it
received is then searched for every marker.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.e2e.conftest import STATUS, endpoint_options, open_doc, start
from tests.fake_endpoint import FakeEndpoint, Reply
from tests.fault_modes import ask

MARKERS = {
    "env": "MARKER-ENV-7f3a9c",
    "ssh": "MARKER-SSH-1b2c3d",
    "ignored": "MARKER-GITIGNORED-55aa",
    "qwenignored": "MARKER-QWENIGNORED-99bb",
    # Key-like strings in code: they must be redacted from any snippet.
    "openai": "sk-proj-Zq8xL2mN4vB6cD9fG1hJ3kP5rT7wY0aE",
    "aws": "AKIAZ7QW3ERTY6UIOP4A",
    "github": "ghp_R4nd0mT0k3nV4lu3Th4tL00ksR3al9876",
}


def _plant(root: Path) -> None:
    (root / ".git").mkdir()
    (root / ".gitignore").write_text("local_notes.py\n")
    (root / ".qwenignore").write_text("private/\n")
    (root / ".env").write_text(f"API_TOKEN={MARKERS['env']}\nDEBUG=1\n")
    (root / "id_rsa").write_text(
        f"-----BEGIN OPENSSH PRIVATE KEY-----\n{MARKERS['ssh']}\n"
        "-----END OPENSSH PRIVATE KEY-----\n")
    (root / "local_notes.py").write_text(f"def notes():\n    return '{MARKERS['ignored']}'\n")
    (root / "private").mkdir()
    (root / "private" / "vault.py").write_text(
        f"def vault_secret():\n    return '{MARKERS['qwenignored']}'\n")
    (root / "settings.py").write_text(
        '"""Service settings."""\n\n'
        f'OPENAI_KEY = "{MARKERS["openai"]}"\n'
        f'AWS_ACCESS_KEY_ID = "{MARKERS["aws"]}"\n'
        f'GITHUB_TOKEN = "{MARKERS["github"]}"\n\n\n'
        "def client_config(region: str) -> dict:\n"
        '    """Return the client configuration for a region."""\n'
        '    return {"key": OPENAI_KEY, "region": region}\n')
    (root / "app.py").write_text(
        "from settings import client_config, OPENAI_KEY\n"
        "from local_notes import notes\n"
        "from private.vault import vault_secret\n\n\n"
        "def main():\n"
        "    config = client_config('eu')\n"
        "    \n")


async def test_no_marker_reaches_the_endpoint(
    client: LanguageClient, endpoint: FakeEndpoint, tmp_path: Path
):
    _plant(tmp_path)
    client.feature("qwen/chatDelta")(lambda params: None)
    options = endpoint_options(endpoint)
    options["chat"] = {"model": "qwen-chat"}
    await start(client, options, tmp_path)
    for _ in range(300):  # the index is built in the background
        if any(getattr(st, "message", None) == "index ready" for st in STATUS[id(client)]):
            break
        await asyncio.sleep(0.1)
    endpoint.default = Reply(text="value")

    # Completions in the code that imports from every planted file.
    app = (tmp_path / "app.py").read_text()
    app_uri = open_doc(client, tmp_path / "app.py", app)
    for line, col in ((6, 4), (5, 15), (7, 4)):
        await ask(client, app_uri, line, col)
    # Keys in the file being edited are redacted from its own prefix and suffix too.
    settings_uri = open_doc(client, tmp_path / "settings.py",
                            (tmp_path / "settings.py").read_text())
    await ask(client, settings_uri, 6, 0)
    # Secret and ignored files opened in the editor get no completion at all.
    before = len(endpoint.generation_requests())
    for name in (".env", "id_rsa", "local_notes.py", "private/vault.py"):
        path = tmp_path / name
        uri = open_doc(client, path, path.read_text(), "python")
        assert await ask(client, uri, 0, 3) is None, name
    assert len(endpoint.generation_requests()) == before

    # Chat with repository context, and a code action on the file.
    await client.protocol.send_request_async("qwen/chat", {
        "sessionId": "s", "message": "How is the client configured?",
        "context": {"uri": app_uri, "includeRepoContext": True}})
    await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="qwen.explain", arguments=[{
            "uri": app_uri, "range": {"start": {"line": 5, "character": 0},
                                      "end": {"line": 7, "character": 4}}}]))

    bodies = json.dumps([r.body for r in endpoint.generation_requests()])
    assert len(endpoint.generation_requests()) >= 4
    leaked = [name for name, marker in MARKERS.items() if marker in bodies]
    assert leaked == []
    # Not vacuous: the code around the secrets did travel (redacted) as context.
    assert "def client_config(region: str)" in bodies and "OPENAI_KEY" in bodies
