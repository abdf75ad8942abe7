"""The code-action planner: what an action changes, as text changes and files to create.

It finds the code an action works on, asks the model through the chat service, checks the
document did not change meanwhile and diffs the answer into minimal changes. Files are read
through the workspace gate (`lsp_server.context.files`). The handlers turn a `Plan` into LSP
workspace edits; this module knows nothing of LSP.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from lsp_server.chat import action_specs as act
from lsp_server.chat.prompts import Focus, edit_messages, tests_messages
from lsp_server.chat.ranges import (
    definition_named,
    enclosing_definition,
    first_definition_name,
    whole_lines,
    widen_selection,
)
from lsp_server.chat.session import estimate_tokens
from lsp_server.context.files import read_text_or_none, within
from lsp_server.context.languages import unit_test_layout
from lsp_server.documents import TOO_LARGE, Document, invalid_range, range_offsets
from lsp_server.edits import (
    TextChange,
    clean_model_code,
    diff_changes,
    is_cut_off,
    rewrite_changes,
)
from lsp_server.model.dialects import ChatRequest
from lsp_server.outbound import Unrestorable, restore

if TYPE_CHECKING:
    from lsp_server.chat.service import ChatService
    from lsp_server.settings import Settings

_MAX_READ_BYTES = 1_000_000  # an existing test file, package.json


class Refused(Exception):
    """An action that must not go ahead; the message tells the user why."""


class BadRange(ValueError):
    """A range given by the client that names no place in the document."""


@attrs.define
class ActionArgs:
    """The argument of the `qwen.*` commands, also carried in a code action's data.

    `range` and `diagnostic` are LSP objects as the client sent them: a range that names no
    place in the document is refused with the reason, not rejected as malformed params.
    """

    uri: str | None = None
    range: Any = None
    version: Any = None
    instruction: str | None = None
    diagnostic: Any = None
    session_id: str | None = None


@dataclass(frozen=True)
class FileChanges:
    """Changes to the text of a file as `doc` holds it (its version guards the edit)."""

    doc: Document
    changes: list[TextChange]


@dataclass(frozen=True)
class NewFile:
    """A file to create with `text`; it must not exist yet."""

    uri: str
    text: str


@dataclass(frozen=True)
class Plan:
    """What an action does, and the title it is applied under."""

    label: str
    edit: FileChanges | NewFile


@dataclass(frozen=True)
class Offer:
    """An action offered in the menu, over `start:end` of the document."""

    spec: act.ActionSpec
    title: str
    start: int
    end: int
    diagnostic: int | None = None  # a Fix: the index of the diagnostic it fixes


def offers(doc: Document, span: tuple[int, int], only: list[str] | None,
           diagnostics: list[tuple[str, tuple[int, int]]]) -> list[Offer]:
    """Return the actions to list for a selection (an empty one: the enclosing definition)
    and for each (message, span) diagnostic, of the kinds the client asked for."""
    if span[0] == span[1]:
        span = enclosing_definition(doc.text, span[0], doc.language) or span
    out: list[Offer] = []
    if span[0] != span[1] and doc.text[span[0]:span[1]].strip():
        out.extend(Offer(spec, spec.title, *span) for spec in act.offered(doc.language)
                   if act.kind_matches(spec.kind, only))
    fix = act.ACTIONS[act.FIX]
    if act.kind_matches(fix.kind, only):
        for i, (message, dspan) in enumerate(diagnostics):
            target = (enclosing_definition(doc.text, dspan[0], doc.language)
                      or whole_lines(doc.text, *dspan))
            out.append(Offer(fix, act.fix_title(message), *target, diagnostic=i))
    return out


class ActionPlanner:
    """Plans the code actions of one server."""

    def __init__(self, chat: ChatService, settings: Callable[[], Settings], *,
                 document: Callable[[str], Document | None],
                 root_of: Callable[[str], str | None]) -> None:
        self._chat = chat
        self._settings = settings
        self._document = document
        self._root_of = root_of

    # -- what an action works on -------------------------------------------------------
    def target(self, args: ActionArgs) -> tuple[Document, int, int]:
        """Return the document and range an action works on, or refuse."""
        doc = self._document(args.uri or "")
        if doc is None:
            raise Refused("open the file first; Qwen only edits files open in the editor")
        if not doc.whole:
            raise Refused(TOO_LARGE)
        if not self._chat.may_send(doc.path):
            raise Refused(f"{doc.rel} is excluded (secret, .gitignore or .qwenignore); "
                          "nothing from it is sent to the model")
        expected = args.version
        if expected is not None and doc.version is not None and expected != doc.version:
            raise Refused("the file changed since this action was offered; run it again")
        if (reason := invalid_range(doc, args.range)) is not None:
            raise Refused(reason)
        span = range_offsets(doc, args.range)
        if span is None or span[0] == span[1]:
            offset = span[0] if span else 0
            span = enclosing_definition(doc.text, offset, doc.language)
        if span is None or not doc.text[span[0]:span[1]].strip():
            raise Refused("select the code to work on")
        return doc, *widen_selection(doc.text, *span)

    def _instruction(self, command: str, args: ActionArgs, doc: Document) -> str:
        if command == act.REFACTOR:
            instruction = (args.instruction or "").strip()
            if not instruction:
                raise Refused("Refactor needs an instruction (your editor's Qwen plugin asks "
                              "for it)")
            return act.refactor_instruction(instruction)
        if command == act.FIX:
            diag = args.diagnostic or {}
            if not isinstance(diag, Mapping) or not diag.get("message"):
                raise Refused("Fix needs the diagnostic to fix")
            span = range_offsets(doc, diag.get("range"))
            line = doc.text.count("\n", 0, span[0]) + 1 if span else 1
            code = diag.get("code")
            return act.fix_instruction(str(diag["message"]), line, diag.get("source"),
                                       str(code) if code is not None else None)
        return act.ACTIONS[command].instruction

    def _still_current(self, doc: Document) -> None:
        now = self._document(doc.uri)
        if now is None or now.version != doc.version or now.text != doc.text:
            raise Refused("the file changed while Qwen was working, so nothing was applied "
                          "(your typing is kept); run the action again")

    # -- model work ----------------------------------------------------------------------
    async def _collect(self, messages: list[dict[str, str]], size_hint: str) -> str:
        """Return a whole answer for a quick action (thinking off), within the chat timeout."""
        s = self._settings().chat
        # Room for the rewrite however long the code: a cut-off rewrite would delete its tail.
        max_tokens = max(s.max_tokens, int(estimate_tokens(size_hint) * 1.5) + 256)
        answer = await self._chat.ask(ChatRequest(messages, s.model, max_tokens, s.temperature,
                                                  thinking=False))
        if is_cut_off(answer):
            raise Refused("the answer was cut off before the code ended; raise "
                          "qwen.chat.maxTokens or select less code")
        return answer

    async def plan(self, command: str, args: ActionArgs, *, can_create_files: bool
                   ) -> Plan:
        """Return what an edit action changes (the model's work included), or refuse."""
        if command == act.GENERATE_TESTS:
            return await self._plan_tests(args, can_create_files)
        return await self._plan_rewrite(command, args)

    async def _plan_rewrite(self, command: str, args: ActionArgs) -> Plan:
        doc, start, end = self.target(args)
        spec = act.ACTIONS[command]
        instruction = self._instruction(command, args, doc)
        focus = Focus(doc.rel, doc.language, doc.text, start, end)
        budget = self._settings().chat.context_chars
        repo = self._chat.repo_context(doc, start, budget // 2)
        answer = await self._collect(
            edit_messages(focus, instruction, context_chars=budget, repo=repo),
            doc.text[start:end])
        self._still_current(doc)
        changes = rewrite_changes(doc.text, start, end, answer,
                                  restore=lambda code: _restored(code, doc.text))
        if not changes:
            raise Refused("the model suggested no change")
        return Plan(spec.title, FileChanges(doc, changes))

    async def _read_text(self, root: str, path: str) -> str | None:
        """Read a workspace file the way every read goes: inside the workspace once symlinks
        are resolved, not secret or ignored, a regular file (a FIFO never blocks)."""
        def read() -> str | None:
            if not within(path, [root]) or not self._chat.may_send(path):
                return None
            return read_text_or_none(path, _MAX_READ_BYTES)
        return await asyncio.to_thread(read)

    async def _plan_tests(self, args: ActionArgs, can_create_files: bool) -> Plan:
        doc, start, end = self.target(args)
        if doc.path is None:
            raise Refused("save the file first: tests go next to files on disk")
        root = self._root_of(doc.path) or os.path.dirname(doc.path)
        rel, test_rel, test_path = await asyncio.to_thread(_test_location, root, doc.path,
                                                           doc.language)
        if not self._chat.may_send(test_path):
            raise Refused(f"{test_rel} is excluded from what Qwen may read; not generating "
                          "tests")
        test_uri = Path(test_path).as_uri()
        open_test = self._document(test_uri)
        if open_test is not None and not open_test.whole:
            raise Refused(f"{test_rel}: {TOO_LARGE}")
        if not await asyncio.to_thread(within, test_path, [root]):
            raise Refused(f"{test_rel} leads outside the workspace; not generating tests")
        existing = open_test.text if open_test else await self._read_text(root, test_path)
        package_json = None
        project_file = unit_test_layout(doc.language).project_file  # where frameworks show
        if project_file:
            package_json = await self._read_text(root, os.path.join(root, project_file))
        framework = act.test_framework(doc.language, existing, package_json)
        focus = Focus(rel, doc.language, doc.text, start, end)
        messages = tests_messages(focus, test_rel, existing, framework,
                                  context_chars=self._settings().chat.context_chars)
        answer = await self._collect(messages, (existing or "") + doc.text[start:end])
        code = _restored(clean_model_code(answer).strip("\n") + "\n",
                         doc.text + "\n" + (existing or ""))
        if not code.strip():
            raise Refused("the model wrote no tests")
        label = act.ACTIONS[act.GENERATE_TESTS].title
        if existing is not None:
            if open_test is not None:
                self._still_current(open_test)
            target = open_test or Document(test_uri, test_path, test_rel, existing, None,
                                           doc.language, doc.encoding)
            changes = diff_changes(existing, code)
            if not changes:
                raise Refused("the model added no tests")
            return Plan(label, FileChanges(target, changes))
        if not can_create_files:
            raise Refused("your editor does not let language servers create files "
                          "(workspace.workspaceEdit.documentChanges)")
        return Plan(label, NewFile(test_uri, code))

    # -- code blocks from the chat -------------------------------------------------------
    def code_block(self, doc: Document, code: str, rng: Any) -> list[TextChange]:
        """Return the changes that put a chat code block in place: over `rng`, else over the
        definition of the same name. Refused (with the reason) when there is nothing to do;
        BadRange when `rng` names no place in the document."""
        if not code.strip():
            raise Refused("the code block is empty")
        if not doc.whole:
            raise Refused(TOO_LARGE)
        if (reason := invalid_range(doc, rng)) is not None:
            raise BadRange(reason)
        span = range_offsets(doc, rng)
        if span is None:
            name = first_definition_name(clean_model_code(code), doc.language)
            span = definition_named(doc.text, doc.language, name) if name else None
            if span is None:
                raise Refused("no range given and no definition of the same name found; "
                              "select where the code goes")
        start, end = widen_selection(doc.text, *span)
        try:
            changes = rewrite_changes(doc.text, start, end, code,
                                      restore=lambda c: restore(c, doc.text))
        except Unrestorable as why:
            raise Refused(str(why)) from None
        if not changes:
            raise Refused("the code is already there")
        return changes


def _restored(answer: str, local: str) -> str:
    """Return a model answer with what the outgoing gate hid put back, or refuse it."""
    try:
        return restore(answer, local)
    except Unrestorable as why:
        raise Refused(str(why)) from None


def _test_location(root: str, path: str, language: str | None) -> tuple[str, str, str]:
    """Return the source's repo path, its test file's repo path and the test file's path."""
    rel = os.path.relpath(path, root).replace(os.sep, "/")
    test_rel = act.test_file_for(rel, language, lambda r: os.path.exists(os.path.join(root, r)))
    return rel, test_rel, os.path.join(root, *test_rel.split("/"))
