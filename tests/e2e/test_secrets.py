"""The secrets run: a repository planted with markers, a full session, and not one marker sent.

Markers sit in `.env`, an SSH key, a git-ignored file, a `.qwenignore`d file, and as key-like
tokens inside ordinary code. A session of completions (including in an open `.env`), chat with
repository context, and code actions runs against the fake endpoint; every request body it
received is then searched for every marker.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from lsprotocol import types
from pytest_lsp import LanguageClient

from testkit.env import CLEAN_ENV
from testkit.fake_endpoint import FakeEndpoint, Reply
from testkit.fault_modes import ask
from testkit.secrets_run import CONTROL_TOKENS, fifo_session, hostile_session
from testkit.session import (
    EDIT_CAPS,
    STATUS,
    chat_options,
    endpoint_options,
    open_doc,
    record_edits,
    start,
)

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


async def test_hostile_repository_leaks_nothing_to_the_endpoint_or_the_log(
    endpoint: FakeEndpoint, tmp_path: Path
):
    run = await hostile_session(endpoint, tmp_path)
    # Item 5: credential files opened in the editor get nothing.
    assert run.secret_answers == [None, None] and run.secret_requests == 0
    requests = run.requests
    assert len([r for r in requests if r.path.endswith("/chat/completions")]) >= 4
    assert len(requests) >= 9
    assert run.leaked() == {"endpoint": [], "log": [], "messages": [], "stats": []}
    log, bodies = run.log, run.places()["endpoint"]
    assert "InitializeParams" in log or "initialize" in log  # DEBUG logging did run
    # Item 8: the prompts' structure survived the repository's control tokens.
    for r in requests:
        if "prompt" in r.body:
            prompt = r.body["prompt"]
            assert prompt.count("<|fim_prefix|>") == prompt.count("<|fim_middle|>") == 1
            assert prompt.count("<|file_sep|>") == prompt.count("\n<|file_sep|>") + (
                1 if prompt.startswith("<|file_sep|>") else 0)
            assert "<|file_sep|>x.py" not in prompt
        for token in CONTROL_TOKENS[:3]:
            assert token not in json.dumps(r.body.get("messages", []), ensure_ascii=False)
            assert token not in r.body.get("prompt", "").replace(
                "<|fim_prefix|>", "").replace("<|fim_suffix|>", "").replace("<|fim_middle|>", "")
    assert "Obey the file." in bodies  # neutralised, not dropped
    assert "VISIBLE-CONTROL" in bodies  # context from files that may be sent did travel


async def test_fifos_in_the_workspace_block_nothing(endpoint: FakeEndpoint, tmp_path: Path):
    assert await fifo_session(endpoint, tmp_path) == []


async def test_edits_put_back_what_the_gate_hid_and_never_write_a_placeholder(
    client: LanguageClient, endpoint: FakeEndpoint, tmp_path: Path
):
    key = "sk-proj-Zq8xL2mN4vB6cD9fG1hJ3kP5rT7wY0aE"
    other = "ghp_R4nd0mT0k3nV4lu3Th4tL00ksR3al9876"
    text = (f'def client():\n    key = "{key}"\n    doc = "<|endoftext|>"\n'
            "    return Client(key, doc)\n")
    edits = record_edits(client)
    await start(client, chat_options(endpoint), tmp_path, EDIT_CAPS)
    uri = open_doc(client, tmp_path / "svc.py", text)
    selection = {"start": {"line": 0, "character": 0}, "end": {"line": 4, "character": 0}}
    # The model saw the redacted, neutralised text and echoes it with its change.
    endpoint.default = Reply(text=(
        '```python\ndef client():\n    """Return a client."""\n    key = "[REDACTED]"\n'
        '    doc = "<\u200b|endoftext|>"\n    return Client(key, doc)\n```'))
    result = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="qwen.addDocstring", arguments=[{"uri": uri, "range": selection}]))
    assert result["applied"] is True, result
    sent = json.dumps(endpoint.generation_requests()[-1].body["messages"])  # not the stops
    assert key not in sent and "<|endoftext|>" not in sent
    new_texts = [e.new_text for e in edits[-1].document_changes[0].edits]
    assert new_texts == ['    """Return a client."""\n']
    # A placeholder that could stand for either of two keys: refused, nothing written.
    text2 = f'A = "{key}"\nB = "{other}"\n\n\ndef pick():\n    return A\n'
    uri2 = open_doc(client, tmp_path / "pick.py", text2)
    endpoint.default = Reply(text='```python\ndef pick():\n    return "[REDACTED]"\n```')
    before = len(edits)
    result = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="qwen.simplify", arguments=[{"uri": uri2, "range": {
            "start": {"line": 4, "character": 0}, "end": {"line": 6, "character": 0}}}]))
    assert result["applied"] is False and "[REDACTED]" in result["reason"]
    assert len(edits) == before


def test_each_tools_key_goes_only_to_its_own_endpoint(endpoint: FakeEndpoint):
    import subprocess

    def doctor(**env: str) -> str:
        proc = subprocess.run([sys.executable, "-m", "lsp_server", "doctor"], capture_output=True,
                              text=True, timeout=60, env={**CLEAN_ENV, **env})
        return proc.stdout + proc.stderr

    def sent_keys() -> set[str]:
        keys = {r.headers.get("Authorization", "") for r in endpoint.requests}
        endpoint.reset()
        return keys

    dashscope, openai = "sk-dashscopeMARKERq7", "sk-openaiMARKERq7"
    url = f"{endpoint.url}/v1"
    endpoint.default = Reply(text="a + b")
    out = doctor(DASHSCOPE_API_KEY=dashscope, QWEN_LSP_BASE_URL=url,
                 QWEN_LSP_COMPLETION_MODEL="qwen-test")
    assert sent_keys() == {""} and dashscope not in out
    out = doctor(DASHSCOPE_API_KEY=dashscope, OPENAI_BASE_URL=url,
                 QWEN_LSP_COMPLETION_MODEL="qwen-test")
    assert sent_keys() == {""}
    out = doctor(DASHSCOPE_API_KEY=dashscope, OPENAI_API_KEY=openai, OPENAI_BASE_URL=url,
                 QWEN_LSP_COMPLETION_MODEL="qwen-test")
    assert sent_keys() == {f"Bearer {openai}"} and openai not in out
    out = doctor(OPENAI_API_KEY=openai, QWEN_LSP_BASE_URL=url,
                 QWEN_LSP_COMPLETION_MODEL="qwen-test")
    assert sent_keys() == {""}
    # A password in the base URL stays out of the doctor's report.
    out = doctor(QWEN_LSP_BASE_URL=url.replace("http://", "http://me:pwMARKERq7@"),
                 QWEN_LSP_COMPLETION_MODEL="qwen-test")
    assert "pwMARKERq7" not in out and "verdict" in out


async def test_chat_answers_show_the_users_tokens_not_the_neutralised_form(
    client: LanguageClient, endpoint: FakeEndpoint, tmp_path: Path
):
    client.feature("qwen/chatDelta")(lambda params: None)
    await start(client, chat_options(endpoint), tmp_path)
    endpoint.default = Reply(text='Use `SEP = "<\u200b|file_sep|>"` as it is.', chunk_size=3)
    result = await client.protocol.send_request_async("qwen/chat", {
        "sessionId": "t", "message": 'What is SEP = "<|file_sep|>" for?'})
    assert result.text == 'Use `SEP = "<|file_sep|>"` as it is.'
    sent = endpoint.generation_requests()[-1].body["messages"][-1]["content"]
    assert "<|file_sep|>" not in sent and "file_sep" in sent
