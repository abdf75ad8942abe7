"""Position encodings end to end: a client that negotiates UTF-8 gets UTF-8 columns everywhere.

The same session runs under UTF-8 and UTF-16 on lines with an emoji (4 bytes, 2 UTF-16
units), CJK (3 bytes, 1 unit) and a combining mark (2 bytes, 1 unit). Columns are computed
here, independently of `lsp_server.positions`, so that a server counting in the wrong unit
puts the cursor, the edits and the action ranges in the wrong place.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from testkit.fake_endpoint import FakeEndpoint, Reply
from testkit.session import chat_options, endpoint_options, inline, open_doc, start
from tests.e2e.test_code_actions import RESOLVE_CAPS, by_title, list_actions

ACUTE = "e\u0301"  # "é" as a base letter and a combining mark
HEAD = f'    msg = "😀 漢字 {ACUTE}" + '  # the cursor goes here, mid-line
TAIL = ' + "ß✓"'
LAST = "    return msg  # ✓ 完了"
TEXT = f"def greet(name):\n{HEAD}{TAIL}\n{LAST}\n"


def col(text: str, encoding: str) -> int:
    """Return the length of `text` in the code units of `encoding`."""
    if encoding == "utf-8":
        return len(text.encode("utf-8"))
    return len(text.encode("utf-16-le")) // 2


def to_index(line: str, character: int, encoding: str) -> int:
    """Return the string index of an LSP column, as a client using `encoding` reads it."""
    units = 0
    for i, ch in enumerate(line):
        if units >= character:
            return i
        units += col(ch, encoding)
    assert units == character, f"column {character} is inside a character or past the line"
    return len(line)


def apply_edits(text: str, edits: list[types.TextEdit], encoding: str) -> str:
    """Apply LSP edits (non-overlapping) the way a client using `encoding` would."""
    lines = text.split("\n")
    starts = [0]
    for line in lines[:-1]:
        starts.append(starts[-1] + len(line) + 1)

    def offset(pos: types.Position) -> int:
        return starts[pos.line] + to_index(lines[pos.line], pos.character, encoding)

    for edit in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character),
                       reverse=True):
        text = text[:offset(edit.range.start)] + edit.new_text + text[offset(edit.range.end):]
    return text


def capabilities(encoding: str) -> types.ClientCapabilities:
    return types.ClientCapabilities(
        general=types.GeneralClientCapabilities(position_encodings=[encoding]),
        text_document=RESOLVE_CAPS.text_document,
        workspace=RESOLVE_CAPS.workspace)


def pos(line: int, character: int) -> types.Position:
    return types.Position(line=line, character=character)


@pytest.mark.parametrize(("offered", "expected"), [
    (["utf-8"], "utf-8"),
    (["utf-16", "utf-8"], "utf-16"),  # the client's order of preference decides
    (None, "utf-16"),
])
async def test_negotiated_encoding_is_announced(
    client: LanguageClient, endpoint: FakeEndpoint, tmp_path: Path, offered: list[str] | None,
    expected: str
):
    caps = types.ClientCapabilities(
        general=types.GeneralClientCapabilities(position_encodings=offered))
    result = await start(client, endpoint_options(endpoint), tmp_path, caps)
    assert result.capabilities.position_encoding == expected


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
async def test_completion_and_incremental_edits_count_in_the_negotiated_unit(
    client: LanguageClient, endpoint: FakeEndpoint, tmp_path: Path, encoding: str
):
    result = await start(client, endpoint_options(endpoint), tmp_path, capabilities(encoding))
    assert result.capabilities.position_encoding == encoding
    endpoint.default = Reply(text="name")
    uri = open_doc(client, tmp_path / "greet.py", TEXT)

    # 1. Inline completion mid-line, right after the emoji, the CJK and the combining mark.
    cursor = pos(1, col(HEAD, encoding))
    got = await inline(client, uri, cursor.line, cursor.character, invoked=True)
    assert got is not None and [i.insert_text for i in got.items] == ["name"]
    assert got.items[0].range == types.Range(start=cursor, end=cursor)
    prompt = endpoint.generation_requests()[0].body["prompt"]
    assert prompt.endswith(f"<|fim_prefix|>def greet(name):\n{HEAD}<|fim_suffix|>{TAIL}\n"
                           f"{LAST}\n<|fim_middle|>"), prompt

    # 2. Incremental edits: replace "漢字" by "世界🌍", then type "name" at the cursor.
    before = '    msg = "😀 '
    old = pos(1, col(before, encoding)), pos(1, col(before + "漢字", encoding))
    new_head = HEAD.replace("漢字", "世界🌍")
    typed = pos(1, col(new_head, encoding))
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[
            types.TextDocumentContentChangePartial(range=types.Range(start=old[0], end=old[1]),
                                                   text="世界🌍"),
            types.TextDocumentContentChangePartial(range=types.Range(start=typed, end=typed),
                                                   text="name"),
        ]))
    # Ask just after what was typed; the prompt shows the text as the client has it.
    endpoint.default = Reply(text=".strip()")
    after_typed = pos(1, typed.character + 4)
    seen = len(endpoint.generation_requests())
    got = await inline(client, uri, after_typed.line, after_typed.character, invoked=True)
    assert got is not None and got.items[0].insert_text == ".strip()"
    assert got.items[0].range == types.Range(start=after_typed, end=after_typed)
    prompt = endpoint.generation_requests()[seen].body["prompt"]
    assert prompt.endswith(f"<|fim_prefix|>def greet(name):\n{new_head}name<|fim_suffix|>"
                           f"{TAIL}\n{LAST}\n<|fim_middle|>"), prompt


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
async def test_code_action_ranges_and_edits_count_in_the_negotiated_unit(
    client: LanguageClient, endpoint: FakeEndpoint, tmp_path: Path, encoding: str
):
    await start(client, chat_options(endpoint), tmp_path, capabilities(encoding))
    uri = open_doc(client, tmp_path / "greet.py", TEXT)
    # A cursor on the last line (after "✓") selects the whole function.
    actions = await list_actions(client, uri, pos(2, col("    return msg  # ✓", encoding)))
    simplify = by_title(actions, "Qwen: Simplify")
    assert simplify.data["args"]["range"] == {
        "start": {"line": 0, "character": 0},
        "end": {"line": 2, "character": col(LAST, encoding)}}
    assert not endpoint.generation_requests(), "listing must never call the model"
    # The model changes text after the multi-byte characters; the edits must land there.
    rewritten = TEXT.replace(f"{ACUTE}\" + ", f"{ACUTE}!\" + ").replace("完了", "完成了")
    endpoint.default = Reply(text=f"```python\n{rewritten}```")
    resolved = await client.code_action_resolve_async(simplify)
    (doc_edit,) = resolved.edit.document_changes
    edits = list(doc_edit.edits)
    assert len(edits) == 2, edits
    assert apply_edits(TEXT, edits, encoding) == rewritten
    # The first edit inserts "!" right after the combining mark.
    first = min(edits, key=lambda e: e.range.start.line)
    at = pos(1, col(f'    msg = "😀 漢字 {ACUTE}', encoding))
    assert first.range == types.Range(start=at, end=at) and first.new_text == "!"
