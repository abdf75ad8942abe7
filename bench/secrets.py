"""The secrets run as a report: plant every leak issue 17 found, run a session, count markers.

A workspace folder inside a larger git repository gets unique markers where secrets used to
leave (see `testkit/secrets_run.py`); a full session of completions, chat, code actions and
generated tests runs against a recording endpoint with the server logging at DEBUG. Then every
request body, the log, the messages shown and `qwen/stats` are searched for every marker.
A second session plants FIFOs where the server reads and counts the steps that hung.

    python bench/secrets.py
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from testkit.fake_endpoint import FakeEndpoint
from testkit.secrets_run import FIFOS, LEAK_MARKERS, fifo_session, hostile_session


async def _run(root: Path) -> None:
    with FakeEndpoint() as ep:
        run = await hostile_session(ep, root / "hostile")
    leaked = run.leaked()
    print(f"{'marker':<22} " + " ".join(f"{p:>9}" for p in leaked))
    for name in LEAK_MARKERS:
        cells = ["LEAKED" if name in names else "-" for names in leaked.values()]
        print(f"{name:<22} " + " ".join(f"{c:>9}" for c in cells))
    chats = sum(r.path.endswith("/chat/completions") for r in run.requests)
    print(f"\nrequests recorded: {len(run.requests)} ({chats} chat, "
          f"{len(run.requests) - chats} completion); "
          f"secret files answered: {sum(a is not None for a in run.secret_answers)}")
    print(f"markers sent: {len(leaked['endpoint'])}")
    print(f"markers in the DEBUG log: {len(leaked['log'])}; in messages: "
          f"{len(leaked['messages'])}; in qwen/stats: {len(leaked['stats'])}")
    with FakeEndpoint() as ep:
        (root / "fifos").mkdir()
        hung = await fifo_session(ep, root / "fifos")
    print(f"hangs: {len(hung)} (FIFOs at {', '.join(FIFOS)})" + (f": {hung}" if hung else ""))


def main() -> None:
    """Run the secrets report."""
    with tempfile.TemporaryDirectory() as root:
        asyncio.run(_run(Path(root)))


if __name__ == "__main__":
    main()
