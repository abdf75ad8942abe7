"""The fake model endpoint as a program, at the path the editor clients' tests run
(``python tests/fake_endpoint.py --port-file F``); it lives in `testkit/fake_endpoint.py`."""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from testkit.fake_endpoint import FakeEndpoint, Recorded, Reply, main

__all__ = ["FakeEndpoint", "Recorded", "Reply", "main"]

if __name__ == "__main__":
    sys.exit(main())
