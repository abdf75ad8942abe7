"""Property-based runs against the real server: document sync and completions never go wrong.

A reference copy of the text is edited alongside the server's through random incremental
changes (emoji, CJK, combining marks, CRLF), positions in UTF-16 as LSP sends them; the prompt
the fake endpoint receives must hold exactly the reference text around the cursor, and no
request may fail.
"""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lsprotocol import types
from pytest_lsp import LanguageClient

from lsp_server.positions import offset_at, position_at
from testkit.fake_endpoint import FakeEndpoint, Reply
from testkit.fault_modes import ask
from testkit.session import endpoint_options, open_doc, start

_CHARS = st.sampled_from([*"ab xyz():\n\t=", "😀", "中", "é", "e\u0301", "\r\n", "\r", "𝔘",
                          "\x0c", "\u2028"])
_TEXT = st.lists(_CHARS, max_size=12).map("".join)
_EDIT = st.tuples(st.floats(0, 1), st.floats(0, 1), _TEXT)


def _snap(text: str, fraction: float) -> int:
    return offset_at(text, *position_at(text, int(fraction * len(text))))


def _cut(prompt: str) -> tuple[str, str]:
    body = prompt.split("<|fim_prefix|>", 1)[1]
    prefix, rest = body.split("<|fim_suffix|>", 1)
    return prefix, rest.split("<|fim_middle|>", 1)[0]


async def test_sync_and_completion_under_random_edits(
    client: LanguageClient, endpoint: FakeEndpoint, tmp_path: Path
):
    await start(client, endpoint_options(endpoint), tmp_path)
    endpoint.default = Reply(text="z")
    loop = asyncio.get_running_loop()
    counter = itertools.count()

    def drive(coro):
        return asyncio.run_coroutine_threadsafe(coro, loop).result(30)

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(_EDIT, min_size=1, max_size=6), _TEXT, st.floats(0, 1))
    def check(edits, initial, cursor):
        n = next(counter)
        uri = open_doc(client, tmp_path / f"fuzz{n}.py", initial)
        text = initial
        for version, (a, b, new) in enumerate(edits, start=2):
            # Snap to offsets an LSP position can name (never inside a CRLF).
            start_off, end_off = sorted(_snap(text, x) for x in (a, b))
            s_line, s_col = position_at(text, start_off)
            e_line, e_col = position_at(text, end_off)
            client.text_document_did_change(types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[types.TextDocumentContentChangePartial(
                    range=types.Range(types.Position(s_line, s_col), types.Position(e_line, e_col)),
                    text=new)]))
            text = text[:start_off] + new + text[end_off:]
        offset = _snap(text, cursor)
        line, col = position_at(text, offset)
        before = len(endpoint.generation_requests())
        drive(ask(client, uri, line, col))
        requests = endpoint.generation_requests()
        if len(requests) > before:
            prefix, suffix = _cut(requests[-1].body["prompt"])
            # Short documents fit the prompt whole: it must hold exactly the reference text.
            assert (prefix, suffix) == (text[:offset], text[offset:]), (text, offset)

    await asyncio.to_thread(check)
    assert client.error is None
