"""A huge buffer neither stalls the server nor goes to the model whole."""

from __future__ import annotations

import asyncio
from pathlib import Path

from lsprotocol import types
from pytest_lsp import LanguageClient

from testkit.fake_endpoint import FakeEndpoint, Reply
from testkit.fault_modes import ask
from testkit.session import endpoint_options, open_doc, start

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
