"""Soak the real server: thousands of keystrokes into many open files, with saves and chat.

Prints crashes, resident memory after warm-up and at the end, and asyncio tasks and open
HTTP connections at the end against the baseline after start-up. Loopback only.

    python bench/soak.py [--keystrokes 10000] [--files 20]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from pathlib import Path

from lsprotocol import types
from pytest_lsp import ClientServerConfig

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from testkit.env import CLEAN_ENV
from testkit.fake_endpoint import FakeEndpoint, Reply

_ALPHABET = "abcdefghij(),. =\n"


async def _stats(client) -> object:
    return await client.protocol.send_request_async("qwen/stats", {})


async def _run(keystrokes: int, n_files: int, root: Path) -> None:
    rng = random.Random(7)
    with FakeEndpoint(default=Reply(text="value + 1", chunk_size=2)) as ep:
        config = ClientServerConfig([sys.executable, "-m", "lsp_server"], server_env=CLEAN_ENV)
        client = await config.start()
        client.feature("qwen/status")(lambda _ls, _params: None)
        client.feature("qwen/chatDelta")(lambda _ls, _params: None)
        await client.initialize_session(types.InitializeParams(
            capabilities=types.ClientCapabilities(), root_uri=root.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name="soak")],
            initialization_options={"endpoint": {"baseUrl": f"{ep.url}/v1"},
                                    "completion": {"model": "qwen-test"}}))
        docs = []
        for i in range(n_files):
            path = root / f"mod{i}.py"
            text = f"def f{i}(x):\n    return x\n\n"
            path.write_text(text)
            uri = path.as_uri()
            client.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(
                uri=uri, language_id="python", version=1, text=text)))
            docs.append({"uri": uri, "text": text, "version": 1})
        await asyncio.sleep(1.0)
        base = await _stats(client)
        pending: list[asyncio.Future] = []
        warm = None
        chats = chat_errors = 0
        last_chat_error = ""
        samples: list[tuple[int, float]] = []
        started = time.perf_counter()
        for k in range(keystrokes):
            doc = rng.choice(docs)
            ch = rng.choice(_ALPHABET)
            text = doc["text"]
            line = text.count("\n")
            col = len(text) - (text.rfind("\n") + 1)
            pos = types.Position(line=line, character=col)
            doc["version"] += 1
            client.text_document_did_change(types.DidChangeTextDocumentParams(
                types.VersionedTextDocumentIdentifier(uri=doc["uri"], version=doc["version"]),
                [types.TextDocumentContentChangePartial(range=types.Range(pos, pos), text=ch)]))
            doc["text"] = text = text + ch
            line = text.count("\n")
            col = len(text) - (text.rfind("\n") + 1)
            pending.append(asyncio.ensure_future(
                client.text_document_inline_completion_async(types.InlineCompletionParams(
                    text_document=types.TextDocumentIdentifier(uri=doc["uri"]),
                    position=types.Position(line=line, character=col),
                    context=types.InlineCompletionContext(
                        trigger_kind=types.InlineCompletionTriggerKind.Automatic)))))
            if k % 200 == 199:
                client.text_document_did_save(types.DidSaveTextDocumentParams(
                    types.TextDocumentIdentifier(uri=doc["uri"])))
            if k % 500 == 499:
                try:
                    # No client-side timeout: abandoning a request whose answer still comes
                    # makes the test client kill the server (the server has its own timeouts).
                    await client.protocol.send_request_async(
                        "qwen/chat", {"sessionId": "soak", "message": "explain",
                                      "context": {"uri": doc["uri"]}})
                    chats += 1
                except Exception as exc:
                    chat_errors += 1
                    last_chat_error = str(exc)[:200]
            if k % 10 == 9:  # a pause in typing: the suggestion arrives and is shown
                await asyncio.gather(pending[-1], return_exceptions=True)
            if k in (keystrokes // 10, keystrokes // 4, keystrokes // 2, 3 * keystrokes // 4):
                stats = await _stats(client)
                samples.append((k, stats.process.rssMb))
                if k == keystrokes // 2:
                    warm = stats
        await asyncio.gather(*pending, return_exceptions=True)
        await asyncio.sleep(1.5)  # idle: keep-alive connections settle, tasks finish
        end = await _stats(client)
        elapsed = time.perf_counter() - started
        crashed = client.error is not None
        await client.shutdown_session()
        await client.stop()
    warm = warm or base

    def conns(s: object) -> int:
        return sum(e.openConnections for e in s.endpoints)

    growth = 100 * (end.process.rssMb - warm.process.rssMb) / warm.process.rssMb
    print(f"keystrokes: {keystrokes} into {n_files} files in {elapsed:.1f} s; "
          f"completion requests: {end.requests}, model requests: {end.modelRequests}, "
          f"cancelled: {end.cancelled}, cache hits: {end.cacheHits}; "
          f"chat requests: {chats} ok, {chat_errors} failed; saves: {keystrokes // 200}")
    if last_chat_error:
        print(f"last chat error: {last_chat_error}")
    print(f"crashes: {int(crashed)}")
    curve = ", ".join(f"{k}: {mb} MB" for k, mb in samples)
    print(f"RSS: start {base.process.rssMb} MB; by keystroke {curve}; end {end.process.rssMb} MB "
          f"(growth over the second half, once the bounded caches are warm: {growth:+.1f}%)")
    print(f"asyncio tasks: baseline {base.process.tasks}, end {end.process.tasks}; "
          f"open HTTP connections: baseline {conns(base)}, end {conns(end)} "
          "(idle keep-alive connections of the pool, at most 4 per endpoint)")


def main() -> None:
    """Run the soak."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keystrokes", type=int, default=10_000)
    parser.add_argument("--files", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as root:
        asyncio.run(_run(args.keystrokes, args.files, Path(root)))


if __name__ == "__main__":
    main()
