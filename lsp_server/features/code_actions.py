"""textDocument/codeAction: advertised now; the actions themselves build on the chat path."""

from __future__ import annotations

from lsprotocol import types

from lsp_server.server import QwenLanguageServer

ACTION_KINDS = [types.CodeActionKind.QuickFix, types.CodeActionKind.RefactorRewrite]


def register(server: QwenLanguageServer) -> None:
    """Register the code-action provider."""

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=ACTION_KINDS, resolve_provider=False),
    )
    def code_action(
        ls: QwenLanguageServer, params: types.CodeActionParams
    ) -> list[types.CodeAction]:
        return []
