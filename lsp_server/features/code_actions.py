"""`textDocument/codeAction`, `codeAction/resolve`, the `qwen.*` commands and `qwen/applyCodeBlock`.

Listing never calls the model. Edit actions do their model work in `codeAction/resolve` (the
edit comes back in the action) or in their command (applied with `workspace/applyEdit`); both
diff the answer into minimal edits inside a change annotation that asks for confirmation, and
refuse when the document changed while the model was working. Explain streams into the chat.
"""

from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams

from lsp_server.chat import actions as act
from lsp_server.chat.prompts import (
    Focus,
    chat_messages,
    context_block,
    edit_messages,
    explain_message,
    tests_messages,
)
from lsp_server.chat.ranges import (
    definition_named,
    enclosing_definition,
    first_definition_name,
    whole_lines,
    widen_selection,
)
from lsp_server.chat.session import estimate_tokens
from lsp_server.context.files import read_text_or_none, within
from lsp_server.edits import (
    TextChange,
    clean_model_code,
    diff_changes,
    is_cut_off,
    rewrite_changes,
)
from lsp_server.features.chat import (
    Document,
    ask_model,
    document,
    invalid_range,
    may_send,
    model_failure,
    plain,
    range_offsets,
    repo_context,
    request_id,
    sessions,
    stream_answer,
    workspace_root,
)
from lsp_server.model.dialects import ChatRequest
from lsp_server.model.errors import ModelError
from lsp_server.outbound import Unrestorable, restore
from lsp_server.positions import position_at
from lsp_server.server import QwenLanguageServer

log = logging.getLogger(__name__)

APPLY_CODE_BLOCK = "qwen/applyCodeBlock"
ACTION_KINDS = [types.CodeActionKind.QuickFix, types.CodeActionKind.Refactor,
                types.CodeActionKind.RefactorRewrite]
ACTIONS_SESSION = "actions"
_ANNOTATION = "qwen"
# The user may look at the refactor preview for a while; the wait still ends some time.
_APPLY_TIMEOUT = 600.0
_MAX_READ_BYTES = 1_000_000  # an existing test file, package.json


class _Refused(Exception):
    """An action that must not go ahead; the message tells the user why."""


@dataclass(frozen=True)
class _Planned:
    """A computed edit and the title it is applied under."""

    edit: types.WorkspaceEdit
    label: str


# -- helpers that build LSP objects ------------------------------------------------------
def _lsp_range(doc: Document, start: int, end: int) -> types.Range:
    sl, sc = position_at(doc.text, start, doc.encoding)
    el, ec = position_at(doc.text, end, doc.encoding)
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


def _tell(ls: QwenLanguageServer, message: str,
          kind: types.MessageType = types.MessageType.Warning) -> None:
    log.info("%s", message)
    ls.window_show_message(types.ShowMessageParams(kind, f"Qwen: {message}"))


def _first_arg(args: tuple[Any, ...]) -> dict[str, Any]:
    first = plain(args[0]) if args else None
    if not isinstance(first, dict):
        raise JsonRpcException("qwen commands take one argument {uri, range, ...}", code=-32602)
    return first


def _follow_cancellation(ls: QwenLanguageServer) -> None:
    """Cancel this command's task when the client cancels its `workspace/executeCommand`.

    pygls runs command handlers as a child of the executeCommand request, so `$/cancelRequest`
    only cancels the parent future; link the two so the model stream is closed as well.
    """
    task = asyncio.current_task()
    futures = getattr(ls.protocol, "_request_futures", None)
    parent = futures.get(ls.protocol.msg_id) if isinstance(futures, dict) else None
    if task is None or parent is None or parent is task:
        return
    parent.add_done_callback(lambda f: f.cancelled() and task.cancel())


# -- model work ----------------------------------------------------------------------------
async def _collect(ls: QwenLanguageServer, messages: list[dict[str, str]], size_hint: str) -> str:
    """Return a whole answer for a quick action (thinking off), within the chat timeout."""
    s = ls.settings.chat
    # Room for the rewrite however long the code: a cut-off rewrite would delete its tail.
    max_tokens = max(s.max_tokens, int(estimate_tokens(size_hint) * 1.5) + 256)
    answer = await ask_model(ls, ChatRequest(messages, s.model, max_tokens, s.temperature,
                                             thinking=False))
    if is_cut_off(answer):
        raise _Refused("the answer was cut off before the code ended; raise qwen.chat.maxTokens "
                       "or select less code")
    return answer


def _target(ls: QwenLanguageServer, args: dict[str, Any]) -> tuple[Document, int, int]:
    """Return the document and range an action works on, or refuse."""
    doc = document(ls, str(args.get("uri") or ""))
    if doc is None:
        raise _Refused("open the file first; Qwen only edits files open in the editor")
    if not may_send(ls, doc.path):
        raise _Refused(f"{doc.rel} is excluded (secret, .gitignore or .qwenignore); "
                       "nothing from it is sent to the model")
    expected = args.get("version")
    if expected is not None and doc.version is not None and expected != doc.version:
        raise _Refused("the file changed since this action was offered; run it again")
    if (reason := invalid_range(doc, args.get("range"))) is not None:
        raise _Refused(reason)
    span = range_offsets(doc, args.get("range"))
    if span is None or span[0] == span[1]:
        offset = span[0] if span else 0
        span = enclosing_definition(doc.text, offset, doc.language)
    if span is None or not doc.text[span[0]:span[1]].strip():
        raise _Refused("select the code to work on")
    return doc, *widen_selection(doc.text, *span)


def _instruction(command: str, args: dict[str, Any], doc: Document) -> str:
    if command == act.REFACTOR:
        instruction = str(args.get("instruction") or "").strip()
        if not instruction:
            raise _Refused("Refactor needs an instruction (your editor's Qwen plugin asks "
                           "for it)")
        return act.refactor_instruction(instruction)
    if command == act.FIX:
        diag = plain(args.get("diagnostic")) or {}
        if not isinstance(diag, dict) or not diag.get("message"):
            raise _Refused("Fix needs the diagnostic to fix")
        span = range_offsets(doc, diag.get("range"))
        line = doc.text.count("\n", 0, span[0]) + 1 if span else 1
        return act.fix_instruction(str(diag["message"]), line, diag.get("source"),
                                   str(diag["code"]) if diag.get("code") is not None else None)
    return act.ACTIONS[command].instruction


def _still_current(ls: QwenLanguageServer, doc: Document) -> None:
    now = document(ls, doc.uri)
    if now is None or now.version != doc.version or now.text != doc.text:
        raise _Refused("the file changed while Qwen was working, so nothing was applied "
                       "(your typing is kept); run the action again")


async def _plan_rewrite(ls: QwenLanguageServer, command: str, args: dict[str, Any]) -> _Planned:
    doc, start, end = _target(ls, args)
    spec = act.ACTIONS[command]
    instruction = _instruction(command, args, doc)
    focus = Focus(doc.rel, doc.language, doc.text, start, end)
    budget = ls.settings.chat.context_chars
    repo = repo_context(ls, doc, start, budget // 2)
    answer = await _collect(ls, edit_messages(focus, instruction, context_chars=budget, repo=repo),
                            doc.text[start:end])
    _still_current(ls, doc)
    changes = rewrite_changes(doc.text, start, end, answer,
                              restore=lambda code: _restored(code, doc.text))
    if not changes:
        raise _Refused("the model suggested no change")
    return _Planned(_workspace_edit(ls, doc, changes, spec.title), spec.title)


def _restored(answer: str, local: str) -> str:
    """Return a model answer with what the outgoing gate hid put back, or refuse it."""
    try:
        return restore(answer, local)
    except Unrestorable as why:
        raise _Refused(str(why)) from None


async def _read_text(ls: QwenLanguageServer, root: str, path: str) -> str | None:
    """Read a workspace file the way every read goes: inside the workspace once symlinks are
    resolved, not secret or ignored, a regular file (a FIFO never blocks)."""
    def read() -> str | None:
        if not within(path, [root]) or not may_send(ls, path):
            return None
        return read_text_or_none(path, _MAX_READ_BYTES)
    return await asyncio.to_thread(read)


def _test_location(root: str, path: str, language: str | None) -> tuple[str, str, str]:
    """Return the source's repo path, its test file's repo path and the test file's path."""
    rel = os.path.relpath(path, root).replace(os.sep, "/")
    test_rel = act.test_file_for(rel, language, lambda r: os.path.exists(os.path.join(root, r)))
    return rel, test_rel, os.path.join(root, *test_rel.split("/"))


async def _plan_tests(ls: QwenLanguageServer, args: dict[str, Any]) -> _Planned:
    doc, start, end = _target(ls, args)
    if doc.path is None:
        raise _Refused("save the file first: tests go next to files on disk")
    root = workspace_root(ls, doc.path) or os.path.dirname(doc.path)
    rel, test_rel, test_path = await asyncio.to_thread(_test_location, root, doc.path,
                                                       doc.language)
    if not may_send(ls, test_path):
        raise _Refused(f"{test_rel} is excluded from what Qwen may read; not generating tests")
    test_uri = Path(test_path).as_uri()
    open_test = document(ls, test_uri)
    if not await asyncio.to_thread(within, test_path, [root]):
        raise _Refused(f"{test_rel} leads outside the workspace; not generating tests")
    existing = open_test.text if open_test else await _read_text(ls, root, test_path)
    package_json = None
    if doc.language in ("typescript", "tsx", "javascript"):
        package_json = await _read_text(ls, root, os.path.join(root, "package.json"))
    framework = act.test_framework(doc.language, existing, package_json)
    focus = Focus(rel, doc.language, doc.text, start, end)
    messages = tests_messages(focus, test_rel, existing, framework,
                              context_chars=ls.settings.chat.context_chars)
    answer = await _collect(ls, messages, (existing or "") + doc.text[start:end])
    code = _restored(clean_model_code(answer).strip("\n") + "\n",
                     doc.text + "\n" + (existing or ""))
    if not code.strip():
        raise _Refused("the model wrote no tests")
    label = act.ACTIONS[act.GENERATE_TESTS].title
    if existing is not None:
        if open_test is not None:
            _still_current(ls, open_test)
        target = open_test or Document(test_uri, test_path, test_rel, existing, None,
                                       doc.language, doc.encoding)
        changes = diff_changes(existing, code)
        if not changes:
            raise _Refused("the model added no tests")
        return _Planned(_workspace_edit(ls, target, changes, label), label)
    if not _supports_document_changes(ls):
        raise _Refused("your editor does not let language servers create files "
                       "(workspace.workspaceEdit.documentChanges)")
    return _Planned(types.WorkspaceEdit(
        document_changes=[
            types.CreateFile(uri=test_uri, options=types.CreateFileOptions(
                overwrite=False, ignore_if_exists=True), annotation_id=_ANNOTATION),
            types.TextDocumentEdit(
                text_document=types.OptionalVersionedTextDocumentIdentifier(uri=test_uri,
                                                                            version=None),
                edits=[types.AnnotatedTextEdit(
                    range=types.Range(start=types.Position(line=0, character=0),
                                      end=types.Position(line=0, character=0)),
                    new_text=code, annotation_id=_ANNOTATION)]),
        ],
        change_annotations=_annotation(label)), label)


async def _plan(ls: QwenLanguageServer, command: str, args: dict[str, Any]) -> _Planned:
    if command == act.GENERATE_TESTS:
        return await _plan_tests(ls, args)
    return await _plan_rewrite(ls, command, args)


async def _apply(ls: QwenLanguageServer, planned: _Planned) -> dict[str, Any]:
    result = await asyncio.wait_for(ls.workspace_apply_edit_async(
        types.ApplyWorkspaceEditParams(edit=planned.edit, label=planned.label)), _APPLY_TIMEOUT)
    out: dict[str, Any] = {"applied": bool(result.applied)}
    if not result.applied:
        out["reason"] = result.failure_reason or "the editor did not apply the edit"
    return out


async def _run_edit_command(ls: QwenLanguageServer, command: str,
                            args: tuple[Any, ...]) -> dict[str, Any]:
    _follow_cancellation(ls)
    try:
        planned = await _plan(ls, command, _first_arg(args))
    except _Refused as why:
        _tell(ls, str(why))
        return {"applied": False, "reason": str(why)}
    except ModelError as err:
        raise model_failure(ls, err) from None
    return await _apply(ls, planned)


async def _explain(ls: QwenLanguageServer, args: tuple[Any, ...]) -> dict[str, Any]:
    _follow_cancellation(ls)
    a = _first_arg(args)
    try:
        doc, start, end = _target(ls, a)
    except _Refused as why:
        _tell(ls, str(why))
        raise JsonRpcException(str(why), code=-32803) from None
    session_id = str(a.get("sessionId") or ACTIONS_SESSION)
    rid = request_id(ls)
    settings = ls.settings.chat
    focus = Focus(doc.rel, doc.language, doc.text, start, end)
    repo = repo_context(ls, doc, start, settings.context_chars // 2)
    session = sessions(ls).get(session_id, settings.history_tokens)
    message = explain_message(focus)
    messages = chat_messages(session.messages(), message,
                             context=context_block(focus, repo, settings.context_chars),
                             dropped_turns=session.dropped)
    try:
        text = await stream_answer(ls, session_id=session_id, request_id=rid, messages=messages,
                                   thinking=False)
    except ModelError as err:
        raise model_failure(ls, err) from None
    session.add(message, text)
    return {"sessionId": session_id, "requestId": rid, "text": text}


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
    doc = document(ls, params.text_document.uri)
    if doc is None or not may_send(ls, doc.path):
        return []
    only = [str(k) for k in params.context.only] if params.context.only else None
    span = range_offsets(doc, params.range) or (0, 0)
    if span[0] == span[1]:
        span = enclosing_definition(doc.text, span[0], doc.language) or span
    out: list[types.CodeAction] = []
    if span[0] != span[1] and doc.text[span[0]:span[1]].strip():
        base = {"uri": doc.uri, "range": _range_arg(doc, *span), "version": doc.version}
        for spec in act.offered(doc.language):
            if act.kind_matches(spec.kind, only):
                out.append(_action(ls, spec, spec.title, dict(base)))
    fix = act.ACTIONS[act.FIX]
    if act.kind_matches(fix.kind, only):
        for diag in params.context.diagnostics:
            dspan = range_offsets(doc, diag.range) or (0, 0)
            target = (enclosing_definition(doc.text, dspan[0], doc.language)
                      or whole_lines(doc.text, *dspan))
            diagnostic = {"range": plain(diag.range), "message": diag.message,
                          "source": diag.source, "code": diag.code}
            args = {"uri": doc.uri, "range": _range_arg(doc, *target), "version": doc.version,
                    "diagnostic": diagnostic}
            out.append(_action(ls, fix, act.fix_title(diag.message), args, [diag]))
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
        args = data.get("args") if isinstance(data, dict) else None
        spec = act.ACTIONS.get(str(command))
        if spec is None or not isinstance(args, dict):
            return action
        if not spec.edits or (command == act.REFACTOR and not args.get("instruction")):
            action.command = types.Command(title=action.title, command=spec.command,
                                           arguments=[args])
            return action
        try:
            planned = await _plan(ls, spec.command, args)
        except _Refused as why:
            _tell(ls, str(why))
            return action
        except ModelError as err:
            raise model_failure(ls, err) from None
        action.edit = planned.edit
        return action

    @server.command(act.EXPLAIN)
    async def explain(ls: QwenLanguageServer, *args: Any) -> dict[str, Any]:
        return await _explain(ls, args)

    def edit_command(name: str) -> None:
        async def run(ls: QwenLanguageServer, *args: Any) -> dict[str, Any]:
            return await _run_edit_command(ls, name, args)
        run.__name__ = name.replace(".", "_")
        server.command(name)(run)

    for name in (act.REFACTOR, act.SIMPLIFY, act.ADD_TYPE_HINTS, act.ADD_DOCSTRING,
                 act.GENERATE_TESTS, act.FIX):
        edit_command(name)

    @server.feature(APPLY_CODE_BLOCK)
    async def apply_code_block(ls: QwenLanguageServer, params: Any) -> dict[str, Any]:
        p = plain(params)
        doc = document(ls, str(p.get("uri") or "")) if isinstance(p, dict) else None
        if doc is None:
            return {"applied": False, "reason": "the document is not open"}
        code = str(p.get("code") or "")
        if not code.strip():
            return {"applied": False, "reason": "the code block is empty"}
        if (reason := invalid_range(doc, p.get("range"))) is not None:
            raise JsonRpcInvalidParams(f"{APPLY_CODE_BLOCK}: {reason}")
        span = range_offsets(doc, p.get("range"))
        if span is None:
            name = first_definition_name(clean_model_code(code), doc.language)
            span = definition_named(doc.text, doc.language, name) if name else None
            if span is None:
                return {"applied": False,
                        "reason": "no range given and no definition of the same name found; "
                                  "select where the code goes"}
        start, end = widen_selection(doc.text, *span)
        try:
            changes = rewrite_changes(doc.text, start, end, code,
                                      restore=lambda c: restore(c, doc.text))
        except Unrestorable as why:
            return {"applied": False, "reason": str(why)}
        if not changes:
            return {"applied": False, "reason": "the code is already there"}
        return await _apply(ls, _Planned(_workspace_edit(ls, doc, changes, "Qwen: apply code"),
                                         "Qwen: apply code"))


__all__ = ["ACTION_KINDS", "APPLY_CODE_BLOCK", "register"]
