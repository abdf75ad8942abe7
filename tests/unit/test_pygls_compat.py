"""The pygls workarounds in lsp_server/_pygls_compat.py still do their job on this pygls."""

from __future__ import annotations

import io

import pytest
from lsprotocol import types
from pygls.workspace.text_document import TextDocument

from lsp_server import _pygls_compat
from lsp_server._pygls_compat import FramedStdin, FramingError, check_pygls_version
from lsp_server.server import create_server


def test_installed_pygls_is_in_the_tested_range():
    check_pygls_version()


@pytest.mark.parametrize("found", ["2.0.1", "2.2.0", "3.0.0"])
def test_other_pygls_versions_are_refused(found: str):
    with pytest.raises(RuntimeError, match="pygls"):
        check_pygls_version(found)


def test_lines_break_only_where_lsp_does():
    doc = TextDocument("file:///a.py", "a\x0cb\u2028c\r\nd\re\n")
    assert doc.lines == ("a\x0cb\u2028c\r\n", "d\r", "e\n")


def _change(doc: TextDocument, sl: int, sc: int, el: int, ec: int, text: str) -> None:
    doc.apply_change(
        types.TextDocumentContentChangePartial(
            range=types.Range(types.Position(sl, sc), types.Position(el, ec)), text=text
        )
    )


def test_incremental_changes_never_split_the_document(monkeypatch: pytest.MonkeyPatch):
    doc = TextDocument("file:///a.py", "one\x0ctwo\nthree\r\nfour 😀 x\n")

    def no_split(_self: TextDocument) -> tuple[str, ...]:
        raise AssertionError("the document was split into lines")

    monkeypatch.setattr(TextDocument, "lines", property(no_split))
    _change(doc, 1, 0, 1, 5, "3")
    _change(doc, 2, 8, 2, 9, "y")  # UTF-16: the emoji counts two
    _change(doc, 0, 3, 0, 4, " ")
    _change(doc, 3, 0, 3, 0, "end")  # at the very end
    assert doc.source == "one two\n3\r\nfour 😀 y\nend"


def test_a_change_with_its_range_reversed_inserts_instead_of_duplicating():
    doc = TextDocument("file:///a.py", "abcdef\n")
    _change(doc, 0, 4, 0, 2, "X")
    assert doc.source == "abcdXef\n"


def test_invalid_requests_become_error_answers_not_exceptions():
    protocol = create_server().protocol
    message = protocol.structure_message(
        {"jsonrpc": "2.0", "id": 7, "params": None, "method": types.TEXT_DOCUMENT_INLINE_COMPLETION}
    )
    assert isinstance(message, _pygls_compat.InvalidRequestMessage)
    assert message.id == 7 and "InlineCompletionParams" in message.message


def _framed(data: bytes) -> FramedStdin:
    return FramedStdin(io.BytesIO(data), max_body=1000)


def test_well_framed_messages_pass_through():
    reader = _framed(b"Content-Length: 2\r\nContent-Type: x\r\n\r\n{}Content-Length: 3\r\n\r\n[1]")
    assert [reader.readline(), reader.readline(), reader.readline()] == [
        b"Content-Length: 2\r\n",
        b"Content-Type: x\r\n",
        b"\r\n",
    ]
    assert reader.read(2) == b"{}"
    assert reader.readline() == b"Content-Length: 3\r\n"
    assert reader.readline() == b"\r\n"
    assert reader.read(3) == b"[1]"
    assert reader.readline() == b""


@pytest.mark.parametrize(
    "data",
    [
        b"Content-Length: -1\r\n\r\n",
        b"Content-Length: x\r\n\r\n",
        b"Content-Length: 1001\r\n",
        b"Content-Length: 0\r\n\r\n",
        b"Content-Length: 5\n\n",
        b"\r\n",
        b"garbage\r\n",
        b"X-Long: " + b"a" * 20000 + b"\r\n",
    ],
)
def test_broken_frames_raise(data: bytes):
    reader = _framed(data)
    with pytest.raises(FramingError):
        for _ in range(3):
            reader.readline()


def test_a_client_answer_that_does_not_fit_still_resolves_the_request():
    protocol = create_server().protocol
    protocol._result_types["r1"] = types.ApplyWorkspaceEditResult
    message = protocol.structure_message({"jsonrpc": "2.0", "id": "r1", "result": {"x": 1}})
    assert message is not None and message.result == {"x": 1}


# -- very large strings are decoded off the event loop ------------------------------------
_TRICKY = ['a', '"', '\\', '\n', '\r', 'é', '😀', '\ud83d', '\ude00', '\x01', '/', 'u',
           'D83D', '\\u', '→']


def _random_value(rng, depth: int = 0):
    roll = rng.random()
    if depth > 2 or roll < 0.4:
        return "".join(rng.choice(_TRICKY) for _ in range(rng.randint(0, 60)))
    if roll < 0.6:
        return rng.randint(-5, 5)
    if roll < 0.8:
        return [_random_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return {_random_value(rng, 3): _random_value(rng, depth + 1) for _ in range(3)}


def _restored(value):
    if isinstance(value, dict):
        return {_restored(k): _restored(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_restored(v) for v in value]
    big = _pygls_compat._large.get(value) if isinstance(value, str) else None
    return value if big is None else big.text()


@pytest.mark.parametrize("seed", range(3))
def test_long_strings_decoded_in_windows_equal_json_loads(monkeypatch, seed: int):
    """Windows cut anywhere (escapes, surrogate pairs, UTF-8 sequences, backslash runs, as
    JSON.stringify and lua-cjson write them) decode to what json.loads gives."""
    import json
    import random

    monkeypatch.setattr(_pygls_compat, "LARGE", 40)
    monkeypatch.setattr(_pygls_compat, "_FIRST_WINDOW", 3)
    monkeypatch.setattr(_pygls_compat, "_WINDOW", 9)
    rng = random.Random(seed)
    replaced = 0
    for _ in range(800):
        message = {"jsonrpc": "2.0", "params": _random_value(rng)}
        body = json.dumps(message, ensure_ascii=rng.random() < 0.5).encode(
            "utf-8", "surrogatepass")
        if rng.random() < 0.3:
            body = body.replace(b"/", b"\\/")
        skeleton = _pygls_compat.split_large_strings(body)
        replaced += len(_pygls_compat._large)
        assert _restored(json.loads(skeleton)) == json.loads(body)
    assert replaced > 100


@pytest.mark.parametrize("body", [b'{"a": "' + b"x" * 100, b'{"a": "' + b"x" * 100 + b"\\",
                                  b'{"a": "' + b"\xff" * 100 + b'"}'])
def test_a_broken_body_is_left_for_json_loads_to_report(monkeypatch, body: bytes):
    monkeypatch.setattr(_pygls_compat, "LARGE", 40)
    assert _pygls_compat.split_large_strings(body) is body
    assert not _pygls_compat._large
