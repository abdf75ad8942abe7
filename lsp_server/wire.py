"""The custom protocol as handlers read and answer it: typed `qwen/*` messages and errors.

Params and results of the `qwen/*` methods are attrs classes: pygls structures a request
into its class through `WireProtocol.get_message_type`, and unstructures results with
lsprotocol's converter (snake_case fields travel as camelCase: `session_id` is `sessionId`).
Fields are as lenient as the methods always were: a client's wrong value gets the same
answer it got before (a refusal with its reason), not a decoding error. Feature modules
share the helpers here instead of importing each other.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import attrs
from cattrs.errors import BaseValidationError
from lsprotocol import converters, types
from pygls.exceptions import JsonRpcException

from lsp_server._pygls_compat import QwenProtocol
from lsp_server.chat.planner import ActionArgs

if TYPE_CHECKING:
    from lsp_server.model.dialects import ChatDelta
    from lsp_server.model.errors import ModelError
    from lsp_server.server import QwenLanguageServer

Handler = TypeVar("Handler", bound=Callable[..., Any])

REQUEST_FAILED = types.LSPErrorCodes.RequestFailed.value
INVALID_PARAMS = types.ErrorCodes.InvalidParams.value

CHAT_REQUEST = "qwen/chat"
CHAT_DELTA = "qwen/chatDelta"
CHAT_RESET = "qwen/chatReset"
APPLY_CODE_BLOCK = "qwen/applyCodeBlock"

_converter = converters.get_converter()


# -- params and results ------------------------------------------------------------------
@attrs.define
class ChatContext:
    """What a chat question is about: a document, a range in it, and whether to add the
    repository context around it."""

    uri: str | None = None
    range: Any = None  # an LSP range as sent: read leniently, like every chat range
    include_repo_context: bool = False


@attrs.define
class ChatParams:
    """`qwen/chat` params."""

    message: str | None = None
    session_id: str | None = None
    context: ChatContext | None = None


@attrs.define
class ChatResult:
    """`qwen/chat` (and `qwen.explain`) result: the whole answer, after its deltas."""

    session_id: str
    request_id: str
    text: str


@attrs.define
class ChatDeltaParams:
    """`qwen/chatDelta` params: a piece of an answer (kind `reasoning` for thinking)."""

    session_id: str
    request_id: str
    delta: str
    kind: str | None = None  # omitted for the answer itself


@attrs.define
class ChatResetParams:
    """`qwen/chatReset` params."""

    session_id: str | None = None


@attrs.define
class ChatResetResult:
    """`qwen/chatReset` result: whether the session existed."""

    session_id: str
    reset: bool


@attrs.define
class ApplyCodeBlockParams:
    """`qwen/applyCodeBlock` params: a code block from the chat and where it goes."""

    uri: str | None = None
    code: str | None = None
    range: Any = None  # a range past the document's end is refused with the reason


@attrs.define
class ApplyResult:
    """The result of `qwen/applyCodeBlock` and of the edit commands."""

    applied: bool
    reason: str | None = None  # omitted when applied


# -- messages ------------------------------------------------------------------------------
def _request(name: str, params_type: type) -> type:
    """Return the request message class of a method whose params are `params_type`."""
    return attrs.make_class(name, {
        "id": attrs.field(type=int | str),
        "params": attrs.field(type=params_type | None, default=None),
        "method": attrs.field(type=str, default=""),
        "jsonrpc": attrs.field(type=str, default="2.0"),
    })


MESSAGE_TYPES: dict[str, type] = {
    CHAT_REQUEST: _request("ChatRequestMessage", ChatParams),
    CHAT_RESET: _request("ChatResetRequestMessage", ChatResetParams),
    APPLY_CODE_BLOCK: _request("ApplyCodeBlockRequestMessage", ApplyCodeBlockParams),
}


# Params (or a context inside them) that are not an object read as absent: each method answers
# them as it answers missing params, with its own message, rather than as undecodable.
_LENIENT = (ChatParams, ChatContext, ChatResetParams, ApplyCodeBlockParams)


class WireProtocol(QwenProtocol):
    """The server's protocol, knowing the types of the `qwen/*` requests."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for cls in _LENIENT:
            hook = self._converter.get_structure_hook(cls)
            self._converter.register_structure_hook(
                cls, lambda value, t, hook=hook: hook(value, t)
                if isinstance(value, Mapping) else None)

    def get_message_type(self, method: str) -> type | None:
        return MESSAGE_TYPES.get(method) or super().get_message_type(method)


def action_args(value: Any) -> ActionArgs | None:
    """Return a `qwen.*` command argument (`{uri, range, ...}`) typed, or None if not one."""
    if isinstance(value, ActionArgs):
        return value
    if not isinstance(value, Mapping):
        return None
    try:
        return _converter.structure(dict(value), ActionArgs)
    except (BaseValidationError, TypeError, ValueError):
        return None


def plain(value: Any) -> Any:
    """Return untyped params (pygls namedtuples) as plain dicts and lists."""
    if hasattr(value, "_asdict"):
        return {k: plain(v) for k, v in value._asdict().items()}
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if hasattr(value, "__attrs_attrs__"):  # an lsprotocol object passed through
        return plain({a.name: getattr(value, a.name) for a in value.__attrs_attrs__})
    return value


# -- errors and helpers ----------------------------------------------------------------------
def request_failed(message: str) -> JsonRpcException:
    """Return the error a request that could not be done fails with (LSP RequestFailed)."""
    return JsonRpcException(message, code=REQUEST_FAILED)


def model_failure(ls: QwenLanguageServer, err: ModelError) -> JsonRpcException:
    """Report an endpoint failure to the user and return the error the request fails with."""
    ls.report_model_error(err)
    return request_failed(err.message)


def request_id(ls: QwenLanguageServer) -> str:
    """Return the JSON-RPC id of the request being handled, as a string."""
    return str(ls.protocol.msg_id)


def chat_delta_sender(ls: QwenLanguageServer, session_id: str,
                      rid: str) -> Callable[[ChatDelta], None]:
    """Return the callback that streams a chat answer to the client as `qwen/chatDelta`."""

    def notify(delta: ChatDelta) -> None:
        params = ChatDeltaParams(session_id, rid, delta.text,
                                 "reasoning" if delta.reasoning else None)
        ls.protocol.notify(CHAT_DELTA, _converter.unstructure(params))

    return notify


def command(server: QwenLanguageServer, name: str) -> Callable[[Handler], Handler]:
    """Register a `workspace/executeCommand` handler `(ls, *arguments)` for `name`.

    pygls resolves a command handler's type hints at run time to structure its arguments;
    feature modules import the server type for type checking only, so the handler is
    registered through a wrapper without annotations that receives the arguments as sent.
    """

    def register(handler: Handler) -> Handler:
        if inspect.iscoroutinefunction(handler):
            async def run(ls, *args):  # type: ignore[no-untyped-def]
                return await handler(ls, *args)
        else:
            def run(ls, *args):  # type: ignore[no-untyped-def]
                return handler(ls, *args)
        run.__name__ = handler.__name__
        server.command(name)(run)
        return handler

    return register
