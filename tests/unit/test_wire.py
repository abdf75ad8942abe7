"""The typed qwen/* messages: camelCase on the wire, lenient the way the methods always were."""

from __future__ import annotations

import pytest

from lsp_server.chat.planner import ActionArgs
from lsp_server.server import create_server
from lsp_server.wire import (
    ApplyCodeBlockParams,
    ApplyResult,
    ChatParams,
    ChatResetParams,
    ChatResult,
    action_args,
)


@pytest.fixture(scope="module")
def protocol():
    return create_server().protocol


def _params(protocol, method, params):
    return protocol.structure_message(
        {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).params


def test_chat_params_read_camel_case_fields(protocol):
    p = _params(protocol, "qwen/chat", {
        "sessionId": "s", "message": "why?",
        "context": {"uri": "file:///a.py", "includeRepoContext": True,
                    "range": {"start": {"line": 1, "character": 0},
                              "end": {"line": 2, "character": 0}}}})
    assert isinstance(p, ChatParams) and p.session_id == "s" and p.message == "why?"
    assert p.context.uri == "file:///a.py" and p.context.include_repo_context
    assert p.context.range["end"]["line"] == 2  # kept as sent: read leniently later


@pytest.mark.parametrize("method", ["qwen/chat", "qwen/chatReset", "qwen/applyCodeBlock"])
@pytest.mark.parametrize("params", [None, "text", 5, [1, 2]])
def test_params_that_are_not_an_object_read_as_absent(protocol, method, params):
    assert _params(protocol, method, params) is None


def test_a_context_that_is_not_an_object_is_no_context(protocol):
    p = _params(protocol, "qwen/chat", {"message": "q", "context": 5})
    assert p.message == "q" and p.context is None


def test_reset_and_apply_params(protocol):
    assert _params(protocol, "qwen/chatReset", {"sessionId": "h"}) == ChatResetParams("h")
    p = _params(protocol, "qwen/applyCodeBlock", {"uri": "file:///a.py", "code": "x = 1"})
    assert p == ApplyCodeBlockParams("file:///a.py", "x = 1", None)


def test_results_travel_in_camel_case_without_absent_fields(protocol):
    unstructure = protocol._converter.unstructure
    assert unstructure(ChatResult("s", "7", "text")) == {
        "sessionId": "s", "requestId": "7", "text": "text"}
    assert unstructure(ApplyResult(True)) == {"applied": True}
    assert unstructure(ApplyResult(False, "why")) == {"applied": False, "reason": "why"}


def test_command_argument():
    args = action_args({"uri": "file:///a.py", "version": 3, "sessionId": "x", "other": 1})
    assert args == ActionArgs(uri="file:///a.py", version=3, session_id="x")
    assert action_args("file:///a.py") is None and action_args(None) is None
