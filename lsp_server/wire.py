"""The custom protocol as handlers read and answer it: params, results and errors.

Feature modules share these helpers instead of importing each other.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from lsprotocol import types
from pygls.exceptions import JsonRpcException

if TYPE_CHECKING:
    from lsp_server.model.dialects import ChatDelta
    from lsp_server.model.errors import ModelError
    from lsp_server.server import QwenLanguageServer

Handler = TypeVar("Handler", bound=Callable[..., Any])

REQUEST_FAILED = types.LSPErrorCodes.RequestFailed.value


def plain(value: Any) -> Any:
    """Return custom-method params (pygls namedtuples) as plain dicts and lists."""
    if hasattr(value, "_asdict"):
        return {k: plain(v) for k, v in value._asdict().items()}
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if hasattr(value, "__attrs_attrs__"):  # an lsprotocol object passed through
        return plain({a.name: getattr(value, a.name) for a in value.__attrs_attrs__})
    return value


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


CHAT_DELTA = "qwen/chatDelta"


def chat_delta_sender(ls: QwenLanguageServer, session_id: str,
                      rid: str) -> Callable[[ChatDelta], None]:
    """Return the callback that streams a chat answer to the client as `qwen/chatDelta`."""

    def notify(delta: ChatDelta) -> None:
        payload: dict[str, Any] = {"sessionId": session_id, "requestId": rid,
                                   "delta": delta.text}
        if delta.reasoning:
            payload["kind"] = "reasoning"
        ls.protocol.notify(CHAT_DELTA, payload)

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
