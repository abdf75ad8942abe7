"""The base protocol under abuse: every request gets an answer, broken framing ends the process.

The server runs as a subprocess fed raw bytes, so these tests see exactly what a client sees;
every read has a timeout, so a server that stays silent fails the test instead of hanging it.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from testkit.env import CLEAN_ENV

READ_TIMEOUT = 20


class RawServer:
    """`python -m lsp_server` over pipes, spoken to in framed JSON-RPC."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc

    def send_bytes(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)

    def send(self, message: dict[str, Any]) -> None:
        body = json.dumps(message).encode()
        self.send_bytes(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))

    def request(self, msg_id: int, method: str, params: Any) -> None:
        self.send({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})

    async def response(self, msg_id: int) -> dict[str, Any]:
        """Return the response to `msg_id`, skipping notifications and other responses."""
        while True:
            message = await asyncio.wait_for(self._read(), READ_TIMEOUT)
            if message.get("id") == msg_id and "method" not in message:
                return message

    async def _read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        length = 0
        while True:
            line = await self.proc.stdout.readline()
            if not line:
                raise EOFError("the server closed its output")
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
            elif not line.strip():
                return json.loads(await self.proc.stdout.readexactly(length))

    async def initialize(self, root: Path) -> None:
        self.request(
            1, "initialize", {"processId": None, "rootUri": root.as_uri(), "capabilities": {}}
        )
        assert "result" in await self.response(1)
        self.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})


@pytest.fixture
async def raw(tmp_path: Path) -> AsyncIterator[RawServer]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "lsp_server",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=CLEAN_ENV,
        cwd=tmp_path,
    )
    try:
        yield RawServer(proc)
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()


DOC = "file:///nowhere/a.py"
INVALID = [
    ("textDocument/inlineCompletion", {}),
    ("textDocument/inlineCompletion", None),
    (
        "textDocument/inlineCompletion",
        {
            "textDocument": {"uri": DOC},
            "position": {"line": -1, "character": 0},
            "context": {"triggerKind": 1},
        },
    ),
    ("textDocument/codeAction", {"textDocument": {"uri": DOC}, "context": {"diagnostics": []}}),
    ("textDocument/hover", "not an object"),
]


async def test_requests_with_invalid_params_get_invalid_params(raw: RawServer, tmp_path: Path):
    await raw.initialize(tmp_path)
    for i, (method, params) in enumerate(INVALID, start=10):
        raw.request(i, method, params)
        answer = await raw.response(i)
        assert answer["error"]["code"] == -32602, (method, params, answer)
        assert method in answer["error"]["message"], answer
    # The session goes on: a valid request after them is served.
    raw.request(99, "qwen/stats", {})
    assert "result" in await raw.response(99)


async def test_the_message_names_what_is_wrong(raw: RawServer, tmp_path: Path):
    await raw.initialize(tmp_path)
    raw.request(5, *INVALID[3])
    answer = await raw.response(5)
    assert "range" in answer["error"]["message"], answer


async def test_requests_after_shutdown_get_invalid_request(raw: RawServer, tmp_path: Path):
    await raw.initialize(tmp_path)
    raw.request(2, "shutdown", None)
    assert "error" not in await raw.response(2)
    raw.request(3, "qwen/stats", {})
    assert (await raw.response(3))["error"]["code"] == -32600
    raw.request(4, "textDocument/inlineCompletion", {})  # invalid params too: still -32600
    assert (await raw.response(4))["error"]["code"] == -32600
    raw.send({"jsonrpc": "2.0", "method": "exit"})
    assert await asyncio.wait_for(raw.proc.wait(), READ_TIMEOUT) == 0


BROKEN_FRAMES = {
    "no content-length": b"Content-Type: application/vscode-jsonrpc\r\n\r\n{}",
    "negative": b"Content-Length: -5\r\n\r\n{}",
    "non-numeric": b"Content-Length: twelve\r\n\r\n{}",
    "huge": b"Content-Length: 99999999999999\r\n\r\n{}",
    "zero": b"Content-Length: 0\r\n\r\n",
    "body without headers": b'{"jsonrpc": "2.0", "id": 1, "method": "shutdown"}\r\n\r\n',
}


@pytest.mark.parametrize("frame", BROKEN_FRAMES.values(), ids=BROKEN_FRAMES.keys())
async def test_broken_framing_logs_once_and_exits(raw: RawServer, tmp_path: Path, frame: bytes):
    await raw.initialize(tmp_path)
    raw.send_bytes(frame)
    # The stream stays open: the server must leave by itself, not because stdin closed.
    code = await asyncio.wait_for(raw.proc.wait(), READ_TIMEOUT)
    assert code != 0
    assert raw.proc.stderr is not None
    errors = [
        line
        for line in (await raw.proc.stderr.read()).decode().splitlines()
        if "the client sent" in line
    ]
    assert len(errors) == 1, errors


def _open(raw: RawServer, path: Path, text: str) -> str:
    uri = path.as_uri()
    raw.send(
        {
            "jsonrpc": "2.0",
            "method": "textDocument/didOpen",
            "params": {
                "textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}
            },
        }
    )
    return uri


async def _stderr_after_exit(raw: RawServer) -> str:
    raw.request(90, "shutdown", None)
    await raw.response(90)
    raw.send({"jsonrpc": "2.0", "method": "exit"})
    await asyncio.wait_for(raw.proc.wait(), READ_TIMEOUT)
    assert raw.proc.stderr is not None
    return (await raw.proc.stderr.read()).decode()


async def test_a_refused_action_is_an_answer_not_an_internal_error(raw: RawServer, tmp_path: Path):
    await raw.initialize(tmp_path)
    uri = _open(raw, tmp_path / ".env", "API_TOKEN = 'abc'\n")
    whole = {"start": {"line": 0, "character": 0}, "end": {"line": 1, "character": 0}}
    raw.request(
        7,
        "workspace/executeCommand",
        {"command": "qwen.explain", "arguments": [{"uri": uri, "range": whole}]},
    )
    answer = await raw.response(7)
    assert "excluded" in answer["error"]["message"], answer
    stderr = await _stderr_after_exit(raw)
    assert "Traceback" not in stderr and "internal error" not in stderr, stderr
    assert " ERROR " not in stderr, stderr


async def test_apply_code_block_refuses_a_range_outside_the_document(
    raw: RawServer, tmp_path: Path
):
    await raw.initialize(tmp_path)
    uri = _open(raw, tmp_path / "a.py", "def f():\n    return 1\n\n\ndef g():\n    pass\n")
    bad = {"start": {"line": 99999, "character": 0}, "end": {"line": -1, "character": 0}}
    raw.request(
        8, "qwen/applyCodeBlock", {"uri": uri, "range": bad, "code": "def f():\n    return 2\n"}
    )
    answer = await raw.response(8)
    assert answer["error"]["code"] == -32602, answer
    assert "99999" in answer["error"]["message"] or "negative" in answer["error"]["message"]
