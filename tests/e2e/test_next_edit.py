"""End to end: `textDocument/copilotInlineEdit` over stdio against the fake endpoint."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from lsp_server.wire import plain
from testkit.fake_endpoint import FakeEndpoint, Reply
from testkit.fake_next_edit import region_in, responder
from testkit.session import change, endpoint_options, inline, open_doc, start

REQUEST = "textDocument/copilotInlineEdit"
SOURCE = ("def area(width, height):\n"
          "    return width * height\n"
          "\n"
          "\n"
          "def describe(w, h):\n"
          "    return f'{w} x {h} = {area(w, h)}'\n")


RENAMED = SOURCE.replace("area(width, height)", "area(w, h)")


def apply(text: str, edit: dict) -> str:
    """Apply an edit's range and text (UTF-16 positions; this text is ASCII)."""
    lines = text.split("\n")
    def offset(pos: dict) -> int:
        return sum(len(x) + 1 for x in lines[: pos["line"]]) + pos["character"]
    rng = edit["range"]
    return text[: offset(rng["start"])] + edit["text"] + text[offset(rng["end"]) :]


def options(ep: FakeEndpoint, fmt: str = "chat", **next_edit: Any) -> dict:
    opts = endpoint_options(ep)
    opts["nextEdit"] = {"model": "qwen-next", "format": fmt, "debounceMs": 0, **next_edit}
    return opts


async def next_edit(client: LanguageClient, uri: str, version: int | None, line: int,
                    character: int, trigger: int = 2) -> dict:
    result = await client.protocol.send_request_async(REQUEST, {
        "textDocument": {"uri": uri, "version": version},
        "position": {"line": line, "character": character},
        "context": {"triggerKind": trigger}})
    return plain(result)


def renamed(region: str) -> str:
    return region.replace("width * height", "w * h")


async def _rename_width(client: LanguageClient, tmp_path: Path) -> str:
    uri = open_doc(client, tmp_path / "geo.py", SOURCE)
    # The user renames the parameters, one burst of typing on one line.
    change(client, uri, 2, (0, 9), (0, 22), "w, h")
    return uri


async def test_shape_and_acceptance(client: LanguageClient, endpoint: FakeEndpoint,
                                    tmp_path: Path):
    caps = (await start(client, options(endpoint), tmp_path)).capabilities
    assert "qwen.didAcceptEdit" in caps.execute_command_provider.commands
    endpoint.responder = responder("chat", renamed)
    uri = await _rename_width(client, tmp_path)
    result = await next_edit(client, uri, 2, 0, 13)
    assert list(result) == ["edits"]
    (edit,) = result["edits"]
    assert set(edit) == {"range", "text", "textDocument", "command"}
    assert edit["textDocument"] == {"uri": uri, "version": 2}
    # The smallest change: the "w" stays.
    assert edit["range"] == {"start": {"line": 1, "character": 12},
                             "end": {"line": 1, "character": 25}}
    assert edit["text"] == " * h"
    assert apply(RENAMED, edit) == RENAMED.replace("width * height", "w * h")
    command = edit["command"]
    assert command["command"] == "qwen.didAcceptEdit" and command["title"]
    assert isinstance(command["arguments"][0], dict) and command["arguments"][0]["id"]

    # The chat request: thinking off, the user's edit and the region in the prompt.
    (req,) = [r for r in endpoint.generation_requests() if r.path.endswith("/chat/completions")]
    assert req.body["model"] == "qwen-next"
    assert req.body["chat_template_kwargs"] == {"enable_thinking": False}
    prompt = req.body["messages"][-1]["content"]
    assert "-def area(width, height):\n+def area(w, h):" in prompt, prompt
    assert region_in("chat", req.body) is not None

    client.protocol.notify("textDocument/didShowInlineEdit", {"item": edit})
    client.protocol.notify("qwen/didRejectInlineEdit", {"item": edit, "reason": "typed"})
    await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command=command["command"], arguments=command["arguments"]))
    stats = plain(await client.protocol.send_request_async("qwen/stats", {}))["nextEdit"]
    assert stats["shown"] == 1 and stats["accepted"] == 1 and stats["rejected"] == 1
    assert stats["rejectedReasons"] == {"typed": 1}
    assert stats["modelRequests"] == 1 and stats["suggested"] == 1


@pytest.mark.parametrize("fmt", ["zeta", "sweep", "instinct"])
async def test_each_format_round_trip(client: LanguageClient, endpoint: FakeEndpoint,
                                      tmp_path: Path, fmt: str):
    await start(client, options(endpoint, fmt), tmp_path)
    endpoint.responder = responder(fmt, renamed)
    uri = await _rename_width(client, tmp_path)
    result = await next_edit(client, uri, 2, 0, 13)
    (edit,) = result["edits"]
    assert apply(RENAMED, edit) == RENAMED.replace("width * height", "w * h")
    (req,) = endpoint.generation_requests()
    chat = fmt == "instinct"
    assert req.path.endswith("/chat/completions" if chat else "/v1/completions")


async def test_disabled_without_a_model(client: LanguageClient, endpoint: FakeEndpoint,
                                        tmp_path: Path):
    await start(client, endpoint_options(endpoint), tmp_path)
    endpoint.responder = responder("chat", renamed)
    uri = await _rename_width(client, tmp_path)
    assert await next_edit(client, uri, 2, 0, 13) == {"edits": []}
    assert endpoint.generation_requests() == []


async def test_stale_version_is_refused(client: LanguageClient, endpoint: FakeEndpoint,
                                        tmp_path: Path):
    await start(client, options(endpoint), tmp_path)
    endpoint.responder = responder("chat", renamed)
    uri = await _rename_width(client, tmp_path)
    # Asked about version 1, which the server no longer has: nothing.
    assert await next_edit(client, uri, 1, 0, 13) == {"edits": []}
    # The text changes while the model answers: the answer is for an older version.
    endpoint.script(Reply(text="```python\ndef area(w, h):\n    return w * h\n```", delay=0.5))
    pending = asyncio.ensure_future(next_edit(client, uri, 2, 0, 13))
    assert await asyncio.to_thread(endpoint.wait_for, lambda e: len(e.generation_requests()))
    change(client, uri, 3, (5, 0), (5, 0), "    # area\n")
    assert await pending == {"edits": []}


async def test_cancel_request_closes_the_model_stream(client: LanguageClient,
                                                      endpoint: FakeEndpoint, tmp_path: Path):
    await start(client, options(endpoint), tmp_path)
    endpoint.default = Reply(text="```python\nx\n```", delay=5)
    uri = await _rename_width(client, tmp_path)
    future = client.protocol.send_request(REQUEST, {
        "textDocument": {"uri": uri, "version": 2},
        "position": {"line": 0, "character": 13}, "context": {"triggerKind": 2}},
        msg_id="nes-cancel")
    assert await asyncio.to_thread(endpoint.wait_for, lambda e: len(e.generation_requests()))
    client.cancel_request(types.CancelParams(id="nes-cancel"))
    assert await asyncio.to_thread(endpoint.wait_for, lambda e: e.disconnects >= 1, 5)
    with pytest.raises(Exception, match="cancel"):
        await asyncio.wrap_future(future)
    assert endpoint.completed == 0


async def test_newer_request_cancels_the_older(client: LanguageClient, endpoint: FakeEndpoint,
                                               tmp_path: Path):
    await start(client, options(endpoint), tmp_path)
    endpoint.script(Reply(text="```python\nx\n```", delay=5))
    endpoint.responder = responder("chat", renamed)
    uri = await _rename_width(client, tmp_path)
    first = asyncio.ensure_future(next_edit(client, uri, 2, 0, 13))
    assert await asyncio.to_thread(endpoint.wait_for, lambda e: len(e.generation_requests()))
    second = await next_edit(client, uri, 2, 0, 12)
    (edit,) = second["edits"]
    assert apply(RENAMED, edit) == RENAMED.replace("width * height", "w * h")
    assert await asyncio.to_thread(endpoint.wait_for, lambda e: e.disconnects >= 1, 5)
    assert await first == {"edits": []}  # superseded: answered, with nothing


async def test_bad_params_get_an_error(client: LanguageClient, endpoint: FakeEndpoint,
                                       tmp_path: Path):
    await start(client, options(endpoint), tmp_path)
    with pytest.raises(Exception, match="position"):
        await client.protocol.send_request_async(REQUEST, {
            "textDocument": {"uri": "file:///x.py", "version": 1},
            "position": {"line": -1}, "context": {"triggerKind": 1}})


async def test_inline_completion_bridge_one_model_request(
        client: LanguageClient, endpoint: FakeEndpoint, tmp_path: Path):
    await start(client, options(endpoint), tmp_path)
    endpoint.responder = responder("chat", renamed)
    uri = await _rename_width(client, tmp_path)
    # The cursor is on the line the prediction changes: it comes as an inline completion
    # that replaces part of the line, from the next-edit model alone.
    result = await inline(client, uri, 1, 4)
    assert result is not None
    (item,) = result.items
    assert item.range.start.line == item.range.end.line == 1
    line = RENAMED.split("\n")[1]
    first, last = item.range.start.character, item.range.end.character
    assert first <= 4 <= last
    assert line[:first] + item.insert_text + line[last:] == "    return w * h"
    assert item.command.command == "qwen.didAcceptEdit"
    # The next-edit request for the same cursor shares the same prediction.
    same = await next_edit(client, uri, 2, 1, 4)
    assert len(same["edits"]) == 1
    paths = [r.path for r in endpoint.generation_requests()]
    assert paths == ["/v1/chat/completions"]


async def test_inline_completion_falls_back_to_fim_when_the_edit_is_elsewhere(
        client: LanguageClient, endpoint: FakeEndpoint, tmp_path: Path):
    await start(client, options(endpoint), tmp_path)
    endpoint.responder = lambda body: (Reply(text="a + b") if "prompt" in body
                                       else responder("chat", renamed)(body))
    uri = await _rename_width(client, tmp_path)
    result = await inline(client, uri, 3, 0)  # a blank line: the edit is on line 1
    assert result is not None and [i.insert_text for i in result.items] == ["a + b"]
    paths = sorted(r.path for r in endpoint.generation_requests())
    assert paths == ["/v1/chat/completions", "/v1/completions"]


async def test_history_has_no_secret_file_text(client: LanguageClient, endpoint: FakeEndpoint,
                                               tmp_path: Path):
    await start(client, options(endpoint), tmp_path)
    endpoint.responder = responder("chat", renamed)
    secret = open_doc(client, tmp_path / ".env", "TOKEN=abc\n", language="plaintext")
    change(client, secret, 2, (0, 6), (0, 9), "hunter2-very-private")
    uri = await _rename_width(client, tmp_path)
    await next_edit(client, uri, 2, 0, 13)
    # Next edits in the secret file itself are never asked for, and the answer says so.
    assert await next_edit(client, secret, 2, 0, 8) == {
        "edits": [], "refused": "secret or ignored file: its text is never sent"}
    bodies = [str(r.body) for r in endpoint.generation_requests()]
    assert len(bodies) == 1
    assert "hunter2" not in bodies[0] and "TOKEN" not in bodies[0]
    assert "def area(w, h)" in bodies[0]


async def test_secret_and_ignored_files_are_refused(client: LanguageClient,
                                                    endpoint: FakeEndpoint, tmp_path: Path):
    (tmp_path / ".qwenignore").write_text("private.py\n")
    await start(client, options(endpoint), tmp_path)
    endpoint.responder = responder("chat", renamed)
    env = open_doc(client, tmp_path / ".env", "TOKEN=abc\n", language="plaintext")
    private = open_doc(client, tmp_path / "private.py", SOURCE)
    for uri in (env, private):
        for trigger in (2, 1):  # automatic, then on demand: refused alike
            result = await next_edit(client, uri, 1, 0, 3, trigger)
            assert result["edits"] == [] and "secret or ignored" in result["refused"], uri
    assert endpoint.generation_requests() == []
    # An ordinary file is not refused: its answer carries no `refused`.
    uri = await _rename_width(client, tmp_path)
    result = await next_edit(client, uri, 2, 0, 13)
    assert "refused" not in result and len(result["edits"]) == 1
    assert len(endpoint.generation_requests()) == 1


@pytest.mark.parametrize(("encoding", "column"), [("utf-8", 19), ("utf-16", 15)])
async def test_ranges_use_the_negotiated_encoding(client: LanguageClient, endpoint: FakeEndpoint,
                                                  tmp_path: Path, encoding: str, column: int):
    caps = types.ClientCapabilities(general=types.GeneralClientCapabilities(
        position_encodings=[encoding]))
    await start(client, options(endpoint), tmp_path, caps)
    text = "def f(width):\n    s = '日本' + width\n"
    uri = open_doc(client, tmp_path / "u.py", text)
    change(client, uri, 2, (0, 6), (0, 11), "w")
    endpoint.responder = responder("chat", lambda r: r.replace("+ width", "+ w"))
    result = await next_edit(client, uri, 2, 0, 7)
    (edit,) = result["edits"]
    # "    s = '日本' + " is 15 UTF-16 units and 19 UTF-8 bytes; the "w" of "width" stays.
    assert edit["range"]["start"] == {"line": 1, "character": column + 1}
    assert edit["text"] == ""
