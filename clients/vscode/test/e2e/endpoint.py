"""The repository's fake endpoint for the VS Code end-to-end run, plus next-edit answers.

Runs `tests/fake_endpoint.py`'s endpoint and answers next-edit prompts (recognised by their
editable region, see `tests/fake_next_edit.py`) with the region rewritten by the `--rewrite`
rules (OLD becomes NEW in a region that contains IF); completion and chat requests get the
usual scripted replies.

    python endpoint.py --repo REPO --port-file F --text T --format sweep --rewrite IF OLD NEW ...
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import threading
from pathlib import Path
from typing import Any


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", required=True)
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--text", default="pass")
    parser.add_argument("--format", default="sweep")
    parser.add_argument(
        "--rewrite", nargs=3, action="append", default=[], metavar=("IF", "OLD", "NEW")
    )
    args = parser.parse_args()
    sys.path.insert(0, str(Path(args.repo).resolve()))
    from tests.fake_endpoint import FakeEndpoint, Reply

    try:
        from tests.fake_next_edit import answer, region_in
    except ImportError:  # a server without next edits: the plain fake endpoint
        answer = region_in = None

    def respond(body: Any) -> Reply | None:
        if region_in is None or answer is None:
            return None
        region = region_in(args.format, body)
        if region is None:
            return None  # not a next-edit prompt
        new = region
        for condition, old, replacement in args.rewrite:
            if condition in region:
                new = new.replace(old, replacement)
        return Reply(text=answer(args.format, new))  # unchanged: no edit to propose

    ep = FakeEndpoint(default=Reply(text=args.text))
    ep.responder = respond
    Path(args.port_file).write_text(str(ep.port))  # a few bytes: read whole or not at all
    with contextlib.suppress(KeyboardInterrupt):
        threading.Event().wait()
    ep.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
