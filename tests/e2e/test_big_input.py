"""A huge buffer neither stalls the server nor goes to the model whole."""

from __future__ import annotations

import asyncio
from pathlib import Path

from lsprotocol import types
from pytest_lsp import LanguageClient

from lsp_server.positions import line_count, offset_at
from testkit.fake_endpoint import FakeEndpoint, Reply
from testkit.fault_modes import ask
from testkit.session import change, endpoint_options, open_doc, start

LINE = "value_{} = compute({}, other)  # a line of ordinary code\n"


async def test_a_20_mb_buffer_keeps_the_server_responsive(
    client: LanguageClient, endpoint: FakeEndpoint, tmp_path: Path
):
    await start(client, endpoint_options(endpoint), tmp_path)
    lines = 20_000_000 // len(LINE.format(0, 0))
    text = "".join(LINE.format(i, i) for i in range(lines)) + "result = "
    uri = open_doc(client, tmp_path / "huge.py", text)
    stats = await asyncio.wait_for(client.protocol.send_request_async("qwen/stats", {}), 60)
    assert stats.requests == 0
    endpoint.default = Reply(text="value_1 + 1")
    assert await ask(client, uri, lines, 9) == "value_1 + 1"
    prompt = str(endpoint.generation_requests()[-1].body)
    # The lines above the cursor are in the prompt, not the whole 20 MB.
    assert f"value_{lines - 1} = compute" in prompt and "result = " in prompt
    assert len(prompt) < 1_000_000, len(prompt)
    # Typing in it is applied where the cursor is (no line split on the way).
    pos = types.Position(line=lines, character=9)
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[
                types.TextDocumentContentChangePartial(
                    range=types.Range(start=pos, end=pos), text="value_2"
                )
            ],
        )
    )
    endpoint.default = Reply(text=" * 2")
    assert await ask(client, uri, lines, 16) == " * 2"
    assert "result = value_2" in str(endpoint.generation_requests()[-1].body)
    client.text_document_did_close(
        types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    stats = await asyncio.wait_for(client.protocol.send_request_async("qwen/stats", {}), 60)
    assert stats.requests == 2


async def _prompt_before(client: LanguageClient, endpoint: FakeEndpoint, uri: str,
                         line: int, col: int) -> str:
    endpoint.default = Reply(text=f"answer_{line}_{col}")
    assert await ask(client, uri, line, col) == f"answer_{line}_{col}"
    return endpoint.generation_requests()[-1].body["prompt"].split("<|fim_suffix|>")[0]


async def test_a_very_large_buffer_takes_edits_anywhere_and_serves_the_lines_around_the_cursor(
    client: LanguageClient, endpoint: FakeEndpoint, tmp_path: Path
):
    """Past 2 M characters a buffer is held in pieces (lsp_server.large_text): its text must
    stay exactly the editor's through edits at the top, the bottom and across pieces, with
    JSON escapes, CRLF and characters outside the BMP, and features see the right lines."""
    options = endpoint_options(endpoint)
    options["nextEdit"] = {"model": "qwen-next", "format": "chat", "debounceMs": 0}
    await start(client, options, tmp_path)
    line = 'w_{} = "é→😀\\\\ \\"q\\" {}"  # ünïcödé\r\n'
    count = 2_600_000 // len(line.format(0, 0))
    model = "".join(line.format(i, i) for i in range(count)) + "tail = "
    uri = open_doc(client, tmp_path / "large.py", model)

    def edit(version: int, start: tuple[int, int], end: tuple[int, int], text: str) -> None:
        nonlocal model
        a, b = offset_at(model, *start), offset_at(model, *end)
        model = model[:a] + text + model[b:]
        change(client, uri, version, start, end, text)

    edit(2, (3, 2), (3, 2), "TOP😀")                       # near the top, after a wide char
    edit(3, (count - 3, 0), (count - 3, 0), "near_end = 1\n")
    edit(4, (1000, 5), (24000, 7), "SPANNED\r")            # across many pieces, a lone \r
    edit(5, (1000, 0), (1000, 0), "\n")                    # ... now \r\n: one line break
    for line_no, col in ((3, 9), (1000, 3), (1500, 4), (line_count(model), 7)):
        prefix = await _prompt_before(client, endpoint, uri, line_no, col)
        expected = model[:offset_at(model, line_no, col)][-300:]
        assert prefix.endswith(expected), (line_no, col)

    # Whole-document features say why they are off; the buffer is not sent whole.
    result = await client.protocol.send_request_async("textDocument/copilotInlineEdit", {
        "textDocument": {"uri": uri, "version": 5}, "position": {"line": 2, "character": 0},
        "context": {"triggerKind": 1}})
    assert result.edits == [] and "too large" in result.refused
    assert max(len(str(r.body)) for r in endpoint.generation_requests()) < 1_000_000

    # Cut back under 1 M characters, it is one string again: the same text, every feature on.
    last = line_count(model)
    edit(6, (10, 0), (last - 10, 0), "")
    prefix = await _prompt_before(client, endpoint, uri, 12, 2)
    assert prefix.endswith(model[:offset_at(model, 12, 2)][-300:])
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        range=types.Range(start=types.Position(1, 0), end=types.Position(2, 5)),
        context=types.CodeActionContext(diagnostics=[])))
    assert actions
