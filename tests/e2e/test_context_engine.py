"""End to end: the repository index feeds the prompt the endpoint receives."""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from lsprotocol import types
from pytest_lsp import LanguageClient

from lsp_server.prompt import FILE_SEP
from testkit.env import CLEAN_ENV
from testkit.fake_endpoint import FakeEndpoint, Reply
from testkit.session import STATUS, endpoint_options, inline, insert, open_doc, start

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
CAPS = types.ClientCapabilities(
    window=types.WindowClientCapabilities(work_done_progress=True),
    workspace=types.WorkspaceClientCapabilities(
        did_change_watched_files=types.DidChangeWatchedFilesClientCapabilities(
            dynamic_registration=True)),
)


async def _start(client: LanguageClient, endpoint: FakeEndpoint, root: Path) -> None:
    # Accept the file-watcher registration the server asks for.
    client.feature(types.CLIENT_REGISTER_CAPABILITY)(lambda params: None)
    await start(client, endpoint_options(endpoint), root, CAPS)
    await _index_ready(client)


def _repo(tmp_path: Path, extra_files: int = 0) -> Path:
    root = tmp_path / "shop_repo"
    shutil.copytree(FIXTURES / "ctx_py", root)
    for i in range(extra_files):
        (root / "shop" / f"gen_{i}.py").write_text(f"def generated_{i}(x):\n    return x\n")
    return root


async def _index_ready(client: LanguageClient) -> None:
    statuses = STATUS[id(client)]
    deadline = asyncio.get_running_loop().time() + 60
    while not any(getattr(s, "message", None) == "index ready" for s in statuses):
        assert asyncio.get_running_loop().time() < deadline, f"index not ready: {statuses}"
        await asyncio.sleep(0.05)


async def _prompt_for(client: LanguageClient, endpoint: FakeEndpoint, uri: str, line: int,
                      col: int) -> str:
    before = len(endpoint.generation_requests())
    await inline(client, uri, line, col, invoked=True)
    requests = endpoint.generation_requests()
    assert len(requests) > before
    return requests[-1].body["prompt"]


async def test_cross_file_definition_reaches_the_endpoint(
    client: LanguageClient, endpoint: FakeEndpoint, tmp_path: Path
):
    root = _repo(tmp_path)
    await _start(client, endpoint, root)
    endpoint.default = Reply(text="return self.gateway.charge(total, token)")
    checkout = root / "shop" / "checkout.py"
    text = checkout.read_text().replace(
        "        return self.gateway.charge(total, token)\n", "        \n")
    uri = open_doc(client, checkout, text)
    prompt = await _prompt_for(client, endpoint, uri, 14, 8)
    cross, current = prompt.split(f"{FILE_SEP}shop/checkout.py\n")
    assert cross.startswith("<|repo_name|>shop_repo\n")
    assert f"{FILE_SEP}shop/payments/gateway.py\n" in cross
    assert "def charge(self, amount_cents: int, token: str) -> str:" in cross
    assert "sk-live-0123456789" not in prompt  # the module's API key is redacted
    assert current.startswith("<|fim_prefix|>")


async def test_progress_is_reported_while_indexing(
    client: LanguageClient, endpoint: FakeEndpoint, tmp_path: Path
):
    root = _repo(tmp_path, extra_files=80)
    await _start(client, endpoint, root)
    for _ in range(100):  # the end notification may trail the status by a moment
        reports = [r for token, rs in client.progress_reports.items()
                   if token.startswith("qwen-index") for r in rs]
        if reports and isinstance(reports[-1], types.WorkDoneProgressEnd):
            break
        await asyncio.sleep(0.05)
    assert isinstance(reports[0], types.WorkDoneProgressBegin)
    assert isinstance(reports[-1], types.WorkDoneProgressEnd)
    assert "86 files" in (reports[-1].message or "")
    middle = [r for r in reports if isinstance(r, types.WorkDoneProgressReport)]
    assert middle and middle[-1].message == "86/86 files"


async def test_edit_in_one_open_file_changes_the_context_of_another(
    client: LanguageClient, endpoint: FakeEndpoint, tmp_path: Path
):
    root = _repo(tmp_path)
    await _start(client, endpoint, root)
    endpoint.default = Reply(text="x")
    models = root / "shop" / "models.py"
    models_uri = open_doc(client, models, models.read_text())
    checkout = root / "shop" / "checkout.py"
    text = checkout.read_text()
    uri = open_doc(client, checkout, text)
    first = await _prompt_for(client, endpoint, uri, 13, 0)
    assert "apply_coupon" not in first
    # The user adds a method to Cart in the other (unsaved) buffer.
    new_models = models.read_text().replace(
        "    def _recompute(self) -> None:",
        "    def apply_coupon(self, code: str) -> int:\n"
        '        """Apply a coupon code and return the new total."""\n'
        "        return 0\n\n    def _recompute(self) -> None:")
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=models_uri, version=2),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=new_models)]))
    await asyncio.sleep(0.5)  # the server reparses a changed buffer after a short pause
    second = await _prompt_for(client, endpoint, uri, 13, 1)
    cross = second.split(f"{FILE_SEP}shop/checkout.py\n")[0]
    assert "def apply_coupon(self, code: str) -> int:" in cross


async def test_no_completion_for_secret_or_ignored_files(
    client: LanguageClient, endpoint: FakeEndpoint, tmp_path: Path
):
    root = _repo(tmp_path)
    (root / "shop" / "secret_notes.py").write_text("NOTES = 1\n")  # in shop/.gitignore
    await _start(client, endpoint, root)
    uri = open_doc(client, root / "shop" / "secret_notes.py", "NOTES = 1\n")
    assert await inline(client, uri, 0, 5, invoked=True) in (None, types.InlineCompletionList(
        items=[]))
    assert not endpoint.generation_requests()


async def _server_and_cli_prompts(client: LanguageClient, endpoint: FakeEndpoint,
                                  tmp_path: Path, root: Path, rel: str, buffer: str,
                                  line: int, col: int, language: str) -> tuple[str, str]:
    """Return the prompt the server sent for a buffer and cursor, and what `qwen-lsp context`
    prints for the same buffer (--text-file), cursor and settings."""
    await _start(client, endpoint, root)
    # What the command prints is the server's answer once its whole index is ready.
    deadline = asyncio.get_running_loop().time() + 60
    while not (await client.protocol.send_request_async("qwen/stats", {})).index.similarCodeReady:
        assert asyncio.get_running_loop().time() < deadline, "similar-code index not ready"
        await asyncio.sleep(0.05)
    endpoint.default = Reply(text="x")
    uri = open_doc(client, root / rel, buffer, language)
    served = await _prompt_for(client, endpoint, uri, line, col)
    unsaved = tmp_path / "unsaved.txt"
    unsaved.write_text(buffer)
    env = {**CLEAN_ENV, "QWEN_LSP_BASE_URL": f"{endpoint.url}/v1",
           "QWEN_LSP_COMPLETION_MODEL": "qwen-test"}
    proc = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "lsp_server", "context", "--root", str(root), "--file",
         str(root / rel), "--line", str(line), "--character", str(col), "--text-file",
         str(unsaved)], capture_output=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr.decode()
    printed = proc.stdout.decode()
    assert printed.endswith("\n")
    return served, printed[:-1]


async def test_cli_prints_the_bytes_the_server_sends_without_stale_lines(
    client: LanguageClient, endpoint: FakeEndpoint, tmp_path: Path
):
    root = _repo(tmp_path)
    # Enough definitions in use that the context budget decides what is sent.
    imports = []
    for i in range(25):
        methods = "".join(f'    def step_{j}(self, amount: int) -> int:\n        """Apply step {j} '
                          f'of rule {i}."""\n        return amount + {j}\n\n' for j in range(6))
        (root / "shop" / f"rule_{i}.py").write_text(
            f'class Rule{i}:\n    """Pricing rule {i}."""\n\n{methods}')
        imports.append(f"from shop.rule_{i} import Rule{i}\n")
    checkout = root / "shop" / "checkout.py"
    checkout.write_text("".join(imports) + checkout.read_text())
    disk = checkout.read_text()
    # The saved file still has a line the user has since rewritten in the buffer.
    stale = "        return self.gateway.charge(total, token)\n"
    assert stale in disk
    buffer = disk.replace(stale, "        receipt = \n")
    line = buffer[: buffer.index("        receipt = ")].count("\n")
    served, printed = await _server_and_cli_prompts(
        client, endpoint, tmp_path, root, "shop/checkout.py", buffer, line, 18, "python")
    assert printed == served
    cross = served.split(f"{FILE_SEP}shop/checkout.py\n")[0]
    assert "def charge(self, amount_cents: int, token: str) -> str:" in cross
    assert "self.gateway.charge(total, token)" not in served  # no copy of the saved file
    assert f"{FILE_SEP}shop/rule_" in cross


def test_cli_never_shows_the_saved_copy_of_the_file_being_edited(
    endpoint: FakeEndpoint, tmp_path: Path
):
    """The same file named through a symbolic link to the root is still the current file."""
    real = _repo(tmp_path)
    link = tmp_path / "link"
    link.symlink_to(real)
    disk = (real / "shop" / "checkout.py").read_text()
    stale = "        return self.gateway.charge(total, token)\n"
    buffer = disk.replace(stale, "        receipt = \n")
    unsaved = tmp_path / "unsaved.txt"
    unsaved.write_text(buffer)
    line = buffer[: buffer.index("        receipt = ")].count("\n")
    proc = subprocess.run(
        [sys.executable, "-m", "lsp_server", "context", "--root", str(link), "--file",
         str(real / "shop" / "checkout.py"), "--line", str(line), "--character", "18",
         "--text-file", str(unsaved)], capture_output=True, timeout=120, env=CLEAN_ENV)
    assert proc.returncode == 0, proc.stderr.decode()
    prompt = proc.stdout.decode()
    assert f"{FILE_SEP}shop/checkout.py\n<|fim_prefix|>" in prompt
    assert "self.gateway.charge(total, token)" not in prompt
    assert prompt.count(f"{FILE_SEP}shop/checkout.py\n") == 1


async def test_cli_and_server_agree_on_go(
    client: LanguageClient, endpoint: FakeEndpoint, tmp_path: Path
):
    root = tmp_path / "web"
    shutil.copytree(FIXTURES / "ctx_gin", root)
    text = (root / "web_test.go").read_text()
    buffer = text.replace("\tfs := Dir(root, false)\n", "\tfs := \n")
    line = buffer[: buffer.index("\tfs := \n")].count("\n")
    served, printed = await _server_and_cli_prompts(
        client, endpoint, tmp_path, root, "web_test.go", buffer, line, 7, "go")
    assert printed == served
    assert "func Dir(root string, listDirectory bool) http.FileSystem" in served


def _lsp_glob(glob: str) -> re.Pattern[str]:
    """Compile an LSP glob pattern (`**/`, `*`, `?`, `{a,b}`, `[ab]`) to a regex."""
    out, i = "", 0
    while i < len(glob):
        if glob.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif glob.startswith("**", i):
            out, i = out + ".*", i + 2
        else:
            c = glob[i]
            out += {"*": "[^/]*", "?": "[^/]", "{": "(?:", "}": ")", ",": "|"}.get(
                c, c if c in "[]" else re.escape(c))
            i += 1
    return re.compile(out)


_TAX = ("export function applyTax(amount: number, rate: number): number {\n"
        "  return amount * (1 + rate);\n}\n")
_ADD_TAX_ALIAS = ('"@lib/*"', '"@tax/*": ["tools/tax/*"],\n      "@lib/*"')


class _Pricing:
    """A monorepo with an unaliased `tools/tax` package, started with the given client
    capabilities, and a buffer typing `tax.` after an import through a `@tax/*` alias."""

    def __init__(self, client: LanguageClient, endpoint: FakeEndpoint, tmp_path: Path) -> None:
        self.client, self.endpoint = client, endpoint
        self.root = tmp_path / "acme"
        shutil.copytree(FIXTURES / "ctx_monorepo", self.root)
        (self.root / "tools" / "tax").mkdir(parents=True)
        self.rates = self.root / "tools" / "tax" / "rates.ts"
        self.rates.write_text(_TAX)
        self.base = self.root / "tsconfig.base.json"
        self.registrations: list[types.RegistrationParams] = []
        client.feature(types.CLIENT_REGISTER_CAPABILITY)(
            lambda params: self.registrations.append(params))

    async def start(self, caps: types.ClientCapabilities) -> types.InitializeResult:
        result = await start(self.client, endpoint_options(self.endpoint), self.root, caps)
        await _index_ready(self.client)
        self.endpoint.default = Reply(text="zzz")
        text = ('import * as tax from "@tax/rates";\n\n'
                "export function price(n: number) {\n  return tax.")
        self.uri = open_doc(self.client, self.root / "apps" / "web" / "src" / "pricing.ts",
                            text, "typescript")
        self.version, self.col = 1, len("  return tax.")
        return result

    async def prompt(self) -> str:
        return await _prompt_for(self.client, self.endpoint, self.uri, 3, self.col)

    async def prompt_until(self, shown: Callable[[str], bool], tries: int,
                           pause: float) -> str:
        """Type on until a prompt passes `shown` (changes on disk are followed in the
        background); return the last prompt."""
        prompt = ""
        for _ in range(tries):
            await asyncio.sleep(pause)
            self.version += 1
            insert(self.client, self.uri, self.version, 3, self.col, "a")  # not cached
            self.col += 1
            prompt = await self.prompt()
            if shown(prompt):
                break
        return prompt


async def test_module_resolution_follows_edited_configuration(
    client: LanguageClient, endpoint: FakeEndpoint, tmp_path: Path
):
    """tsconfig `paths` edited on disk (in the file `extends` names): the server's watcher
    reports it, and the next prompt resolves the new alias without a restart; saved from an
    editor that watches no files (Neovim on Linux), a removed alias no longer resolves."""
    repo = _Pricing(client, endpoint, tmp_path)
    result = await repo.start(CAPS)
    sync = result.capabilities.text_document_sync
    assert isinstance(sync, types.TextDocumentSyncOptions) and sync.save  # didSave is wanted
    # The watcher the server registers covers every configuration file resolution reads.
    globs = [w["globPattern"] for r in repo.registrations for reg in r.registrations
             if reg.method == types.WORKSPACE_DID_CHANGE_WATCHED_FILES
             for w in reg.register_options["watchers"]]
    for rel in ("tsconfig.base.json", "apps/web/tsconfig.json", "packages/a/package.json",
                "pnpm-workspace.yaml"):
        assert any(isinstance(g, str) and _lsp_glob(g).fullmatch(rel) for g in globs), (rel, globs)
    wanted = "export function applyTax(amount: number, rate: number): number"
    assert wanted not in await repo.prompt()
    config = repo.base.as_uri()
    original = repo.base.read_text()
    repo.base.write_text(original.replace(*_ADD_TAX_ALIAS))
    client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(
        changes=[types.FileEvent(uri=config, type=types.FileChangeType.Changed)]))
    prompt = await repo.prompt_until(lambda p: wanted in p, 20, 0.1)
    assert f"{FILE_SEP}tools/tax/rates.ts\n" in prompt and wanted in prompt
    repo.base.write_text(original)
    client.text_document_did_save(types.DidSaveTextDocumentParams(
        text_document=types.TextDocumentIdentifier(uri=config)))
    assert wanted not in await repo.prompt_until(lambda p: wanted not in p, 20, 0.1)


async def test_changes_on_disk_are_followed_for_a_client_that_watches_no_files(
    client: LanguageClient, endpoint: FakeEndpoint, tmp_path: Path
):
    """A client without file watching (Neovim on Linux): a `git checkout` that rewrites a
    tsconfig `extends` target and a source file reaches the prompt without any event, the
    server looking at the disk itself."""
    repo = _Pricing(client, endpoint, tmp_path)
    await repo.start(types.ClientCapabilities(
        window=types.WindowClientCapabilities(work_done_progress=True)))
    assert not repo.registrations  # nothing to register with a client that cannot watch
    assert "applyTax" not in await repo.prompt()
    repo.base.write_text(repo.base.read_text().replace(*_ADD_TAX_ALIAS))
    prompt = await repo.prompt_until(lambda p: "applyTax" in p, 60, 0.25)
    assert "export function applyTax(amount: number, rate: number): number" in prompt
    repo.rates.write_text("export function applyVat(amount: number, vat: number): number {\n"
                          "  return amount * (1 + vat);\n}\n")
    prompt = await repo.prompt_until(lambda p: "applyVat" in p, 60, 0.25)
    assert "export function applyVat(amount: number, vat: number): number" in prompt
    assert "applyTax" not in prompt
