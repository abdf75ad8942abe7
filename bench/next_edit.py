"""Replay real multi-location edits into qwen-lsp's next-edit suggestions; print figures.

    python bench/next_edit.py [--cases N] [--formats sweep,zeta,instinct,chat]

Cases, in Python, TypeScript and Go:
- commits of this repository whose change to one file has two or more hunks close together
  (`git log -p -U0`): the first hunk is made, the second is the true next edit;
- refactorings applied to real source files (the Python standard library, RxJS's TypeScript
  sources, the Go standard library's sources; see bench/corpus.py): a parameter of a function
  is renamed in its signature and the true next edit renames its first use in the body, or a
  parameter is added and the true next edit passes an argument at the nearest call below.

For each case a document is opened in the real server (stdio), the first hunk is applied with
didChange (short ones typed a character at a time, with a next-edit request half-way, as an
editor sends one per pause), and the next edit is asked for with the cursor where the user
stopped. The oracle endpoint reads the editable region out of the prompt, in the format under
test, and answers it with the true next hunk applied (after 50 ms). Printed per format:
region recall (the true next hunk inside the region the server chose), exact (returned edits
that, applied, give exactly the true next state), edits outside the region, stale edits (for
another version than the document's), the server's own time per request (qwen/stats), and
prompt prefix reuse between consecutive requests. Then the same with an endpoint answering
noise a third of the time: every edit returned must still apply cleanly to its version.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lsprotocol import types
from pygls.lsp.client import LanguageClient

from bench.corpus import _functions, default_root, ensure_corpus
from lsp_server.affixes import common_prefix
from lsp_server.positions import offset_at, position_at, split_lines
from lsp_server.wire import plain
from testkit.fake_endpoint import FakeEndpoint, Reply
from testkit.fake_next_edit import answer, prompt_text, region_in
from testkit.session import end

REPO = Path(__file__).resolve().parent.parent
LANGUAGE_IDS = {".py": "python", ".ts": "typescript", ".go": "go"}
EXTENSIONS = {"python": ".py", "typescript": ".ts", "go": ".go"}
TYPE_UP_TO = 16  # characters: longer first hunks arrive as one change (a paste, a rename)
LATENCY_S = 0.05


@dataclass
class Case:
    """A document, the first hunk the user makes in it, and the true next state."""

    name: str
    language: str
    text: str  # before the first hunk
    start: int  # the first hunk replaces text[start:end] with `new`
    end: int
    new: str
    next_text: str  # after both hunks
    next_span: tuple[int, int]  # where the second hunk changes the document after the first

    @property
    def doc(self) -> str:
        return self.text[: self.start] + self.new + self.text[self.end :]


# -- cases ---------------------------------------------------------------------------------
_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True,
                          check=False).stdout


def git_cases(limit: int) -> list[Case]:
    """Cases from this repository's history: files changed in two or more nearby hunks."""
    cases: list[Case] = []
    for commit in _git("log", "--no-merges", "--format=%H", "--", "*.py", "*.ts", "*.go").split():
        diff = _git("show", "-U0", "--format=", commit, "--", "*.py", "*.ts", "*.go")
        for block in re.split(r"^diff --git ", diff, flags=re.MULTILINE)[1:]:
            name = re.search(r"^\+\+\+ b/(.+)$", block, re.MULTILINE)
            if name is None or "tests/fixtures" in name.group(1):
                continue
            path = name.group(1)
            hunks = _hunks(block)
            if len(hunks) < 2:
                continue
            before = _git("show", f"{commit}^:{path}")
            case = _git_case(f"git {commit[:8]} {path}", path, before, hunks[0], hunks[1])
            if case is not None:
                cases.append(case)
                break  # one case per commit
        if len(cases) >= limit:
            break
    return cases


def _hunks(block: str) -> list[tuple[int, int, list[str]]]:
    """Return (old start line 0-based, old line count, new lines) per hunk of a -U0 diff."""
    out: list[tuple[int, int, list[str]]] = []
    current: list[str] | None = None
    for line in block.split("\n"):
        header = _HUNK.match(line)
        if header:
            start, count = int(header.group(1)), int(header.group(2) or 1)
            current = []
            out.append((start - 1 if count else start, count, current))
        elif current is not None and line.startswith("+") and not line.startswith("+++"):
            current.append(line[1:] + "\n")
    return out


def _git_case(name: str, path: str, before: str, first: Any, second: Any) -> Case | None:
    language = LANGUAGE_IDS.get(Path(path).suffix)
    if language is None or not before or "\r" in before:
        return None
    (s1, c1, new1), (s2, c2, new2) = first, second
    if c1 > 8 or c2 > 8 or len(new1) > 8 or len(new2) > 8 or s2 - (s1 + c1) > 12:
        return None  # a realistic next edit: small, and a few lines away
    rows = before.splitlines(keepends=True)
    if s2 + c2 > len(rows) or not before.endswith("\n"):
        return None
    offsets = [0]
    for row in rows:
        offsets.append(offsets[-1] + len(row))
    start, end, text1 = offsets[s1], offsets[s1 + c1], "".join(new1)
    # Make the first hunk the smallest change, as a user would type it.
    old1 = before[start:end]
    head = common_prefix(old1, text1)
    tail = common_prefix(old1[head:][::-1], text1[head:][::-1])
    case_start, case_end = start + head, end - tail
    new = text1[head : len(text1) - tail]
    shift = len(text1) - (end - start)
    s2_at, e2_at = offsets[s2] + shift, offsets[s2 + c2] + shift
    doc = before[:case_start] + new + before[case_end:]
    next_text = doc[:s2_at] + "".join(new2) + doc[e2_at:]
    if next_text == doc or not (new or case_end > case_start):
        return None
    return Case(name, language, before, case_start, case_end, new, next_text, (s2_at, e2_at))


def _params(signature: str, language: str) -> list[str]:
    """Return the parameter names in a function's first line."""
    if language == "go":
        found = re.search(r"func\s*(?:\([^)]*\)\s*)?\w+\s*(?:\[[^\]]*\])?\(([^)]*)\)", signature)
    else:
        found = re.search(r"\(([^)]*)\)", signature)
    if found is None:
        return []
    names = []
    for part in found.group(1).split(","):
        words = re.findall(r"[A-Za-z_]\w*", part.split("=")[0])
        words = [w for w in words if w not in ("private", "public", "protected", "readonly")]
        if words and words[0] not in ("self", "cls", "this", "_"):
            names.append(words[0])
    return names


def refactoring_cases(per_language: int, seed: int = 7) -> list[Case]:
    """Rename a parameter and its first use, or add an argument to a function and to its
    nearest call, in functions of real source files."""
    dirs = ensure_corpus(default_root())
    rng = random.Random(seed)
    cases: list[Case] = []
    for language, base in sorted(dirs.items()):
        files = sorted(p for p in base.rglob(f"*{EXTENSIONS[language]}")
                       if "test" not in p.name and not p.name.endswith(".d.ts"))
        rng.shuffle(files)
        made = 0
        for path in files:
            if made >= per_language:
                break
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            if "\r" in text or len(text) > 200_000:
                continue
            spans = _functions(text, language, 4, 40)
            # Alternate the refactorings: rename a parameter, add an argument and a call's.
            for fstart, fend in spans[:6]:
                if made % 2:
                    case = _add_argument_case(path.name, language, text, fstart)
                else:
                    case = _rename_case(path.name, language, text, fstart, fend)
                if case is not None:
                    cases.append(case)
                    made += 1
                    break
    return cases


def _rename_case(name: str, language: str, text: str, fstart: int, fend: int) -> Case | None:
    eol = text.find("\n", fstart)
    signature = text[fstart:eol]
    body_start = eol + 1
    for param in _params(signature, language):
        word = re.compile(rf"\b{re.escape(param)}\b")
        in_sig = word.search(signature, signature.find("("))
        use = word.search(text, body_start, fend)
        if in_sig is None or use is None:
            continue
        renamed = param + ("_value" if language == "python" else "Value")
        start = fstart + in_sig.start()
        doc_shift = len(renamed) - len(param)
        line_begin = text.rfind("\n", 0, use.start()) + 1
        line_end = text.find("\n", use.start()) + 1
        line = text[line_begin:line_end]
        doc = text[:start] + renamed + text[start + len(param) :]
        next_text = (doc[: line_begin + doc_shift] + word.sub(renamed, line)
                     + doc[line_end + doc_shift :])
        return Case(f"rename {name}:{param}", language, text, start, start + len(param),
                    renamed, next_text, (line_begin + doc_shift, line_end + doc_shift))
    return None


_NEW_PARAM = {"python": ("extra=None", "None"), "typescript": ("extra?: number", "0"),
              "go": ("extra int", "0")}
_NAME = {"python": r"def\s+(\w+)\s*\(", "typescript": r"(?:function\s+)?(\w+)\s*(?:<[^>]*>)?\(",
         "go": r"func\s*(?:\([^)]*\)\s*)?(\w+)\s*\("}


def _close_paren(line: str, open_at: int) -> int:
    """Return the index of the parenthesis closing the one at open_at, or -1."""
    depth = 0
    for i in range(open_at, len(line)):
        depth += {"(": 1, ")": -1}.get(line[i], 0)
        if depth == 0:
            return i
    return -1


def _add_argument_case(name: str, language: str, text: str, fstart: int) -> Case | None:
    """Add a parameter to a function's signature; the next edit passes it at the nearest call
    below (within 40 lines)."""
    eol = text.find("\n", fstart)
    signature = text[fstart:eol]
    found = re.match(r"\s*(?:export\s+)?(?:async\s+)?(?:static\s+)?(?:public\s+|private\s+)?"
                     + _NAME[language], signature)
    if found is None or found.group(1) in ("constructor", "if", "for", "while"):
        return None
    fname = found.group(1)
    open_at = signature.find("(", found.end(1))
    close_at = _close_paren(signature, open_at)
    if close_at < 0:
        return None
    param, arg = _NEW_PARAM[language]
    inside = signature[open_at + 1 : close_at].strip()
    added = (", " + param) if inside else param
    start = fstart + close_at - (len(signature[open_at + 1 : close_at])
                                 - len(signature[open_at + 1 : close_at].rstrip()))
    call = re.compile(rf"(?<![\w.])(?:this\.|self\.|\w+\.)?{re.escape(fname)}\(")
    limit = text.find("\n", eol + 1)
    for _ in range(40):
        nxt = text.find("\n", limit + 1)
        if nxt < 0:
            break
        limit = nxt
    for match in call.finditer(text, eol + 1, limit):
        line_begin = text.rfind("\n", 0, match.start()) + 1
        line_end = text.find("\n", match.start()) + 1
        line = text[line_begin:line_end]
        if re.match(r"\s*(def|function|func|#|//|/?\*)", line):
            continue  # another definition, or a comment
        paren = match.end() - 1 - line_begin
        end = _close_paren(line, paren)
        if end < 0:
            continue
        args = line[paren + 1 : end].strip()
        new_line = line[:end] + ((", " + arg) if args else arg) + line[end:]
        shift = len(added)
        doc = text[:start] + added + text[start:]
        next_text = doc[: line_begin + shift] + new_line + doc[line_end + shift :]
        return Case(f"add argument {name}:{fname}", language, text, start, start, added,
                    next_text, (line_begin + shift, line_end + shift))
    return None


# -- the run ---------------------------------------------------------------------------------
@dataclass
class Figures:
    label: str
    cases: int = 0
    recall_hits: int = 0
    edits: int = 0
    exact: int = 0
    outside: int = 0
    stale: int = 0
    broken: int = 0  # edits that do not apply to the text of the version they name
    no_edit: int = 0
    server: dict[str, Any] = field(default_factory=dict)
    prompts: list[tuple[str, str]] = field(default_factory=list)  # (case, prompt)

    def prefix_reuse(self) -> float | None:
        shares = [common_prefix(a, b) / max(1, len(b))
                  for (ca, a), (cb, b) in zip(self.prompts, self.prompts[1:], strict=False)
                  if ca == cb]
        return sum(shares) / len(shares) if shares else None


class Oracle:
    """Answers the region of each prompt with the true next state of the current case."""

    def __init__(self, fmt: str, noise: float, seed: int = 1) -> None:
        self.fmt = fmt
        self.noise = noise
        self.rng = random.Random(seed)
        self.case: Case | None = None
        self.doc = ""
        self.region: tuple[int, int] | None = None
        self.fig: Figures | None = None
        self.endpoint = FakeEndpoint()
        self.endpoint.responder = self.respond
        # A request the server cancels resets its connection: expected, not worth a trace.
        self.endpoint._server.handle_error = lambda *args: None  # type: ignore[method-assign]

    def respond(self, body: Any) -> Reply:
        case, doc = self.case, self.doc
        if self.fig is not None and case is not None:
            self.fig.prompts.append((case.name, prompt_text(body)))
        region = region_in(self.fmt, body)
        if case is None or region is None:
            return Reply(text="", delay=LATENCY_S)
        at = _locate(doc, region)
        if at < 0 and region.endswith("\n"):
            region = region[:-1]
            at = _locate(doc, region)
        if at < 0:
            return Reply(text="", delay=LATENCY_S)
        end = at + len(region)
        self.region = (at, end)
        if self.noise and self.rng.random() < self.noise:
            return Reply(text=_noise(self.rng, self.fmt, region), delay=LATENCY_S)
        if doc != case.doc:
            return Reply(text=answer(self.fmt, region), delay=LATENCY_S)  # half-way: no-op
        s, e = case.next_span
        new = region
        if at <= s and e <= end:
            delta = len(case.next_text) - len(doc)
            new = case.next_text[at : end + delta]
        return Reply(text=answer(self.fmt, new), delay=LATENCY_S)


def _locate(doc: str, region: str) -> int:
    return doc.find(region) if region else -1


def _noise(rng: random.Random, fmt: str, region: str) -> str:
    rows = region.splitlines(keepends=True) or ["\n"]
    kind = rng.randrange(6)
    if kind == 0:
        return "I cannot help with that."
    if kind == 1:
        return answer(fmt, "".join(rng.sample(rows, len(rows))))
    if kind == 2:
        i = rng.randrange(len(rows))
        return answer(fmt, "".join(rows[:i] + rows[i + 1 :]))
    if kind == 3:
        return "<|editable_region_start|>\n```\n" + "".join(rows[: len(rows) // 2])
    if kind == 4:
        return answer(fmt, "".join(rows) + "    garbage(]\n")
    return "".join(chr(rng.randrange(32, 0x2FF)) for _ in range(rng.randrange(1, 200)))


def _position(text: str, offset: int) -> types.Position:
    line, character = position_at(text, offset)
    return types.Position(line=line, character=character)


class Runner:
    def __init__(self, cases: list[Case], fmt: str, noise: float) -> None:
        self.cases = cases
        self.fmt = fmt
        self.oracle = Oracle(fmt, noise)
        label = f"{fmt}, oracle" + (f" with noise {noise:.0%} of the time" if noise else "")
        self.fig = Figures(label)
        self.oracle.fig = self.fig
        self.client = LanguageClient("qwen-next-edit-bench", "0.1")
        self.versions: dict[str, int] = {}
        self.texts: dict[str, str] = {}

    async def run(self) -> Figures:
        workspace = Path(tempfile.mkdtemp(prefix="qwen-next-edit-"))
        for method in (types.WINDOW_LOG_MESSAGE, types.WINDOW_SHOW_MESSAGE, "qwen/status",
                       types.PROGRESS):
            self.client.feature(method)(lambda params: None)
        self.client.feature(types.WINDOW_WORK_DONE_PROGRESS_CREATE)(lambda params: None)
        self.client.feature(types.WORKSPACE_CONFIGURATION)(lambda p: [None for _ in p.items])
        await self.client.start_io(sys.executable, "-m", "lsp_server")
        drain = asyncio.ensure_future(self._drain())
        try:
            await self.client.initialize_async(types.InitializeParams(
                capabilities=types.ClientCapabilities(),
                root_uri=workspace.as_uri(),
                workspace_folders=[types.WorkspaceFolder(workspace.as_uri(), "bench")],
                initialization_options={
                    "endpoint": {"baseUrl": f"{self.oracle.endpoint.url}/v1",
                                 "provider": "openai"},
                    "completion": {"model": "oracle"},
                    "index": {"enabled": False},
                    "nextEdit": {"model": "oracle", "format": self.fmt, "debounceMs": 0,
                                 "maxTokens": 1024}}))
            self.client.initialized(types.InitializedParams())
            for i, case in enumerate(self.cases):
                await self._case(case, workspace, i)
            stats = await self.client.protocol.send_request_async("qwen/stats", {})
            self.fig.server = plain(stats).get("nextEdit", {})
        finally:
            await end(self.client)
            drain.cancel()
            self.oracle.endpoint.close()
        return self.fig

    async def _drain(self) -> None:
        server = getattr(self.client, "_server", None)
        if server is not None and server.stderr is not None:
            while await server.stderr.read(65536):
                pass

    def _change(self, uri: str, start: int, end: int, text: str) -> None:
        doc = self.texts[uri]
        rng = types.Range(_position(doc, start), _position(doc, end))
        self.texts[uri] = doc[:start] + text + doc[end:]
        self.versions[uri] += 1
        self.client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri,
                                                                version=self.versions[uri]),
            content_changes=[types.TextDocumentContentChangePartial(range=rng, text=text)]))
        self.oracle.doc = self.texts[uri]

    async def _ask(self, uri: str, offset: int) -> tuple[int, dict]:
        version = self.versions[uri]
        pos = _position(self.texts[uri], offset)
        result = await self.client.protocol.send_request_async(
            "textDocument/copilotInlineEdit",
            {"textDocument": {"uri": uri, "version": version},
             "position": {"line": pos.line, "character": pos.character},
             "context": {"triggerKind": 2}})
        return version, plain(result)

    async def _case(self, case: Case, workspace: Path, index: int) -> None:
        fig = self.fig
        fig.cases += 1
        path = workspace / f"case{index}{EXTENSIONS[case.language]}"
        uri = path.as_uri()
        self.texts[uri], self.versions[uri] = case.text, 1
        self.oracle.case, self.oracle.doc, self.oracle.region = case, case.text, None
        self.client.text_document_did_open(types.DidOpenTextDocumentParams(
            types.TextDocumentItem(uri, case.language, 1, case.text)))
        pending = []
        if case.end > case.start:
            self._change(uri, case.start, case.end, "")
        if 0 < len(case.new) <= TYPE_UP_TO:
            for i, ch in enumerate(case.new):
                self._change(uri, case.start + i, case.start + i, ch)
                if i == len(case.new) // 2:
                    pending.append(asyncio.ensure_future(self._ask(uri, case.start + i + 1)))
                    await asyncio.sleep(0.02)
        elif case.new:
            self._change(uri, case.start, case.start, case.new)
        assert self.texts[uri] == case.doc
        cursor = case.start + len(case.new)
        version, result = await self._ask(uri, cursor)
        for earlier in pending:
            old_version, old = await earlier
            self._judge_stale(uri, old_version, old)
        self._judge(case, uri, version, result)
        self.client.text_document_did_close(types.DidCloseTextDocumentParams(
            types.TextDocumentIdentifier(uri)))

    def _judge_stale(self, uri: str, version: int, result: dict) -> None:
        for edit in result.get("edits", []):
            if edit["textDocument"]["version"] != self.versions[uri]:
                self.fig.stale += 1

    def _judge(self, case: Case, uri: str, version: int, result: dict) -> None:
        fig, doc = self.fig, case.doc
        region = self.oracle.region
        s, e = case.next_span
        if region is not None and region[0] <= s and e <= region[1]:
            fig.recall_hits += 1
        edits = result.get("edits", [])
        if not edits:
            fig.no_edit += 1
        for edit in edits:
            fig.edits += 1
            if edit["textDocument"]["version"] != self.versions[uri]:
                fig.stale += 1
                continue
            applied = _apply(doc, edit)
            if applied is None:
                fig.broken += 1
                continue
            start = offset_at(doc, edit["range"]["start"]["line"],
                              edit["range"]["start"]["character"])
            end = offset_at(doc, edit["range"]["end"]["line"], edit["range"]["end"]["character"])
            if region is None or start < region[0] or end > region[1]:
                fig.outside += 1
            if applied == case.next_text:
                fig.exact += 1


def _apply(doc: str, edit: dict) -> str | None:
    """Apply an edit; None when its range does not name real positions of the text."""
    lines = split_lines(doc)
    rng = edit["range"]
    offsets = []
    for key in ("start", "end"):
        line, character = rng[key]["line"], rng[key]["character"]
        if line > len(lines) or (line < len(lines)
                                 and character > len(lines[line].rstrip("\r\n"))):
            return None
        offsets.append(offset_at(doc, line, character))
    if offsets[0] > offsets[1]:
        return None
    return doc[: offsets[0]] + edit["text"] + doc[offsets[1] :]


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "n/a"


def report(fig: Figures, noise: bool) -> None:
    overhead = fig.server.get("overheadMs", {})
    reuse = fig.prefix_reuse()
    print(f"\n== {fig.label}")
    print(f"cases                       {fig.cases}")
    print(f"region recall               {_pct(fig.recall_hits, fig.cases)}")
    print(f"edits returned              {fig.edits} (no edit: {fig.no_edit})")
    if not noise:
        print(f"exact                       {_pct(fig.exact, fig.edits)}")
    print(f"edits outside the region    {fig.outside}")
    print(f"stale edits                 {fig.stale}")
    print(f"edits that do not apply     {fig.broken}")
    print(f"server time p50 / p95       {overhead.get('p50')} / {overhead.get('p95')} ms "
          f"({overhead.get('count')} requests)")
    print(f"prompt prefix reuse         {'n/a' if reuse is None else f'{100 * reuse:.1f}%'}")
    print(f"answers dropped             {fig.server.get('dropped')}")


async def main_async(args: argparse.Namespace) -> int:
    git = git_cases(args.git_cases)
    refactors = refactoring_cases(args.per_language)
    cases = git + refactors
    by_language: dict[str, int] = {}
    for case in cases:
        by_language[case.language] = by_language.get(case.language, 0) + 1
    print(f"{len(cases)} cases: {len(git)} from this repository's history, {len(refactors)} "
          f"refactorings of real files; by language {by_language}")
    failed = False
    for fmt in args.formats.split(","):
        for noise in (0.0, 1 / 3):
            fig = await Runner(cases, fmt, noise).run()
            report(fig, bool(noise))
            failed |= fig.outside > 0 or fig.stale > 0 or fig.broken > 0
            if not noise:
                failed |= fig.exact != fig.edits or fig.recall_hits < 0.8 * fig.cases
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--formats", default="chat,zeta,sweep,instinct")
    parser.add_argument("--git-cases", type=int, default=40)
    parser.add_argument("--per-language", type=int, default=30)
    return asyncio.run(main_async(parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
