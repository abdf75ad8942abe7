"""Inflict every endpoint fault on the real server and print what the user experienced.

For each mode: did the server survive, the one message shown, and the time from the endpoint
healing to the next suggestion (the backoff decides it). Loopback only.

    python bench/faults.py
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

from lsprotocol import types
from pytest_lsp import ClientServerConfig

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.conftest import CLEAN_ENV
from tests.fake_endpoint import FakeEndpoint
from tests.fault_modes import FAULT_MODES, FAULT_OPTIONS, exercise


async def _run(root: Path) -> None:
    with FakeEndpoint() as ep:
        config = ClientServerConfig([sys.executable, "-m", "lsp_server"], server_env=CLEAN_ENV)
        client = await config.start()
        client.feature("qwen/status")(lambda _ls, _params: None)
        options = {"endpoint": {"baseUrl": f"{ep.url}/v1", **FAULT_OPTIONS["endpoint"]},
                   "completion": {"model": "qwen-test", **FAULT_OPTIONS["completion"]}}
        await client.initialize_session(types.InitializeParams(
            capabilities=types.ClientCapabilities(), initialization_options=options,
            root_uri=root.as_uri()))
        rows = []
        for i, mode in enumerate(FAULT_MODES):
            uri = (root / f"fault{i}.py").as_uri()
            client.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(
                uri=uri, language_id="python", version=1, text="value = \n")))
            rows.append(await exercise(client, ep, uri, mode))
        await client.shutdown_session()
        await client.stop()
    print(f"{'mode':<28} {'survived':<9} {'recover ms':>10}  message shown")
    for r in rows:
        recover = f"{r.recover_ms:.0f}" if r.recover_ms is not None else "-"
        message = r.message if r.messages else "(none: answered or silently empty)"
        print(f"{r.mode:<28} {'yes' if r.survived else 'NO':<9} {recover:>10}  {message[:110]}")
    print(f"\n{sum(r.survived for r in rows)}/{len(rows)} modes survived; "
          f"{sum(len(r.messages) <= 1 for r in rows)}/{len(rows)} showed at most one message")


def main() -> None:
    """Run the fault table."""
    with tempfile.TemporaryDirectory() as root:
        asyncio.run(_run(Path(root)))


if __name__ == "__main__":
    main()
