"""`textDocument/codeAction`, `codeAction/resolve`, the `qwen.*` commands and `qwen/applyCodeBlock`.

Listing never calls the model. Edit actions do their model work in `codeAction/resolve` (the
edit comes back in the action) or in their command (applied with `workspace/applyEdit`); both
diff the answer into minimal edits inside a change annotation that asks for confirmation, and
refuse when the document changed while the model was working. Explain streams into the chat.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams

from lsp_server._pygls_compat import follow_command_cancellation
from lsp_server.chat import action_specs as act
from lsp_server.chat.planner import (
    ActionArgs,
    BadRange,
    FileChanges,
    NewFile,
    Plan,
    Refused,
    offers,
)
from lsp_server.chat.prompts import Focus, explain_message
from lsp_server.documents import Document, range_offsets
from lsp_server.edits import TextChange
from lsp_server.model.errors import ModelError
from lsp_server.wire import (
    APPLY_CODE_BLOCK,
    INVALID_PARAMS,
    ApplyCodeBlockParams,
    ApplyResult,
    ChatResult,
    action_args,
    chat_delta_sender,
    command,
    model_failure,
    plain,
    request_failed,
    request_id,
)

if TYPE_CHECKING:
    from lsp_server.server import QwenLanguageServer

log = logging.getLogger(__name__)

ACTION_KINDS = [types.CodeActionKind.QuickFix, types.CodeActionKind.Refactor,
                types.CodeActionKind.RefactorRewrite]
ACTIONS_SESSION = "actions"
_ANNOTATION = "qwen"
# The user may look at the refactor preview for a while; the wait still ends some time.
_APPLY_TIMEOUT = 600.0


@dataclass(frozen=True)
class _Planned:
    """A computed edit and the title it is applied under."""

    edit: types.WorkspaceEdit
    label: str


# -- helpers that build LSP objects ------------------------------------------------------
def _lsp_range(doc: Document, start: int, end: int) -> types.Range:
    (sl, sc), (el, ec) = doc.position(start), doc.position(end)
    return types.Range(start=types.Position(line=sl, character=sc),
                       end=types.Position(line=el, character=ec))


def _range_arg(doc: Document, start: int, end: int) -> dict[str, Any]:
    r = _lsp_range(doc, start, end)
    return {"start": {"line": r.start.line, "character": r.start.character},
            "end": {"line": r.end.line, "character": r.end.character}}


def _supports_resolve_edit(ls: QwenLanguageServer) -> bool:
    td = ls.client_capabilities.text_document
    support = td and td.code_action and td.code_action.resolve_support
    return bool(support and "edit" in support.properties)


def _supports_document_changes(ls: QwenLanguageServer) -> bool:
    ws = ls.client_capabilities.workspace
    return bool(ws and ws.workspace_edit and ws.workspace_edit.document_changes)


def _annotation(label: str) -> dict[str, types.ChangeAnnotation]:
    return {_ANNOTATION: types.ChangeAnnotation(
        label=label, needs_confirmation=True,
        description="Suggested by the Qwen model: review before applying")}


def _text_edits(doc: Document, changes: list[TextChange]) -> list[types.AnnotatedTextEdit]:
    return [types.AnnotatedTextEdit(range=_lsp_range(doc, c.start, c.end), new_text=c.text,
                                    annotation_id=_ANNOTATION) for c in changes]


def _workspace_edit(ls: QwenLanguageServer, doc: Document, changes: list[TextChange],
                    label: str) -> types.WorkspaceEdit:
    edits = _text_edits(doc, changes)
    if not _supports_document_changes(ls):
        plain_edits = [types.TextEdit(range=e.range, new_text=e.new_text) for e in edits]
        return types.WorkspaceEdit(changes={doc.uri: plain_edits})
    # The version makes the editor refuse the edit if the user typed since we read the text.
    return types.WorkspaceEdit(
        document_changes=[types.TextDocumentEdit(
            text_document=types.OptionalVersionedTextDocumentIdentifier(
                uri=doc.uri, version=doc.version),
            edits=edits)],
        change_annotations=_annotation(label))


def _create_file_edit(new: NewFile, label: str) -> types.WorkspaceEdit:
    return types.WorkspaceEdit(
        document_changes=[
            types.CreateFile(uri=new.uri, options=types.CreateFileOptions(
                overwrite=False, ignore_if_exists=True), annotation_id=_ANNOTATION),
            types.TextDocumentEdit(
                text_document=types.OptionalVersionedTextDocumentIdentifier(uri=new.uri,
                                                                            version=None),
                edits=[types.AnnotatedTextEdit(
                    range=types.Range(start=types.Position(line=0, character=0),
                                      end=types.Position(line=0, character=0)),
                    new_text=new.text, annotation_id=_ANNOTATION)]),
        ],
        change_annotations=_annotation(label))


def _translate(ls: QwenLanguageServer, plan: Plan) -> _Planned:
    """Return a planned action as the workspace edit the editor applies."""
    if isinstance(plan.edit, FileChanges):
        return _Planned(_workspace_edit(ls, plan.edit.doc, plan.edit.changes, plan.label),
                        plan.label)
    return _Planned(_create_file_edit(plan.edit, plan.label), plan.label)


def _tell(ls: QwenLanguageServer, message: str,
          kind: types.MessageType = types.MessageType.Warning) -> None:
    log.info("%s", message)
    ls.window_show_message(types.ShowMessageParams(kind, f"Qwen: {message}"))


def _first_arg(args: tuple[Any, ...]) -> ActionArgs:
    first = action_args(plain(args[0])) if args else None
    if first is None:
        raise JsonRpcException("qwen commands take one argument {uri, range, ...}",
                               code=INVALID_PARAMS)
    return first


async def _plan(ls: QwenLanguageServer, command: str, args: ActionArgs) -> _Planned:
    plan = await ls.actions.plan(command, args,
                                 can_create_files=_supports_document_changes(ls))
    return _translate(ls, plan)


async def _apply(ls: QwenLanguageServer, planned: _Planned) -> ApplyResult:
    result = await asyncio.wait_for(ls.workspace_apply_edit_async(
        types.ApplyWorkspaceEditParams(edit=planned.edit, label=planned.label)), _APPLY_TIMEOUT)
    if not result.applied:
        return ApplyResult(False, result.failure_reason or "the editor did not apply the edit")
    return ApplyResult(True)


async def _run_edit_command(ls: QwenLanguageServer, command: str,
                            args: tuple[Any, ...]) -> ApplyResult:
    follow_command_cancellation(ls.protocol)
    try:
        planned = await _plan(ls, command, _first_arg(args))
    except Refused as why:
        _tell(ls, str(why))
        return ApplyResult(False, str(why))
    except ModelError as err:
        raise model_failure(ls, err) from None
    return await _apply(ls, planned)


async def _explain(ls: QwenLanguageServer, args: tuple[Any, ...]) -> ChatResult:
    follow_command_cancellation(ls.protocol)
    a = _first_arg(args)
    try:
        doc, start, end = ls.actions.target(a)
    except Refused as why:
        _tell(ls, str(why))
        raise request_failed(str(why)) from None
    session_id = a.session_id or ACTIONS_SESSION
    rid = request_id(ls)
    focus = Focus(doc.rel, doc.language, doc.text, start, end)
    repo = ls.chat.repo_context(doc, start, ls.settings.chat.context_chars // 2)
    try:
        text = await ls.chat.turn(session_id, explain_message(focus), focus=focus, repo=repo,
                                  thinking=False,
                                  on_delta=chat_delta_sender(ls, session_id, rid))
    except ModelError as err:
        raise model_failure(ls, err) from None
    return ChatResult(session_id, rid, text)


# -- listing ---------------------------------------------------------------------------------
def _action(ls: QwenLanguageServer, spec: act.ActionSpec, title: str, args: dict[str, Any],
            diagnostics: list[types.Diagnostic] | None = None) -> types.CodeAction:
    action = types.CodeAction(title=title, kind=spec.kind, diagnostics=diagnostics,
                              data={"command": spec.command, "args": args})
    needs_client = spec.command == act.REFACTOR and "instruction" not in args
    if not spec.edits or needs_client or not _supports_resolve_edit(ls):
        action.command = types.Command(title=title, command=spec.command, arguments=[args])
    return action


def _list_actions(ls: QwenLanguageServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    doc = ls.document(params.text_document.uri)
    if doc is None or not doc.whole or not ls.chat.may_send(doc.path):
        return []  # no actions on what the server does not have, or must not send
    only = [str(k) for k in params.context.only] if params.context.only else None
    diagnostics = params.context.diagnostics
    found = offers(doc, range_offsets(doc, params.range) or (0, 0), only,
                   [(d.message, range_offsets(doc, d.range) or (0, 0)) for d in diagnostics])
    out: list[types.CodeAction] = []
    for offer in found:
        args = {"uri": doc.uri, "range": _range_arg(doc, offer.start, offer.end),
                "version": doc.version}
        if offer.diagnostic is None:
            out.append(_action(ls, offer.spec, offer.title, args))
            continue
        diag = diagnostics[offer.diagnostic]
        args["diagnostic"] = {"range": plain(diag.range), "message": diag.message,
                              "source": diag.source, "code": diag.code}
        out.append(_action(ls, offer.spec, offer.title, args, [diag]))
    return out


def register(server: QwenLanguageServer) -> None:
    """Register the code-action provider, its resolver, the commands and applyCodeBlock."""

    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION,
                    types.CodeActionOptions(code_action_kinds=ACTION_KINDS,
                                            resolve_provider=True))
    def code_action(ls: QwenLanguageServer,
                    params: types.CodeActionParams) -> list[types.CodeAction]:
        return _list_actions(ls, params)

    @server.feature(types.CODE_ACTION_RESOLVE)
    async def resolve(ls: QwenLanguageServer, action: types.CodeAction) -> types.CodeAction:
        data = plain(action.data) if action.data is not None else {}
        command = data.get("command") if isinstance(data, dict) else None
        raw = data.get("args") if isinstance(data, dict) else None
        spec = act.ACTIONS.get(str(command))
        args = action_args(raw)
        if spec is None or args is None:
            return action
        if not spec.edits or (command == act.REFACTOR and not args.instruction):
            action.command = types.Command(title=action.title, command=spec.command,
                                           arguments=[raw])
            return action
        try:
            planned = await _plan(ls, spec.command, args)
        except Refused as why:
            _tell(ls, str(why))
            return action
        except ModelError as err:
            raise model_failure(ls, err) from None
        action.edit = planned.edit
        return action

    @command(server, act.EXPLAIN)
    async def explain(ls: QwenLanguageServer, *args: Any) -> ChatResult:
        return await _explain(ls, args)

    def edit_command(name: str) -> None:
        async def run(ls: QwenLanguageServer, *args: Any) -> ApplyResult:
            return await _run_edit_command(ls, name, args)
        run.__name__ = name.replace(".", "_")
        command(server, name)(run)

    for name in (act.REFACTOR, act.SIMPLIFY, act.ADD_TYPE_HINTS, act.ADD_DOCSTRING,
                 act.GENERATE_TESTS, act.FIX):
        edit_command(name)

    @server.feature(APPLY_CODE_BLOCK)
    async def apply_code_block(ls: QwenLanguageServer,
                               params: ApplyCodeBlockParams | None) -> ApplyResult:
        doc = ls.document(params.uri or "") if params is not None else None
        if params is None or doc is None:
            return ApplyResult(False, "the document is not open")
        try:
            changes = ls.actions.code_block(doc, params.code or "", params.range)
        except Refused as why:
            return ApplyResult(False, str(why))
        except BadRange as why:
            raise JsonRpcInvalidParams(f"{APPLY_CODE_BLOCK}: {why}") from None
        label = "Qwen: apply code"
        return await _apply(ls, _Planned(_workspace_edit(ls, doc, changes, label), label))


__all__ = ["ACTION_KINDS", "APPLY_CODE_BLOCK", "register"]
