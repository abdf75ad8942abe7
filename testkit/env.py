"""The environment every launched server gets in tests and benchmarks."""

from __future__ import annotations

import os
import sys
import tempfile

_CACHE = tempfile.mkdtemp(prefix="qwen-lsp-test-cache-")

# What a launched server sees: nothing from the developer's shell (no real API keys, no real
# endpoint), a private cache dir, and this interpreter's scripts on PATH.
CLEAN_ENV = {
    "PATH": os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")]),
    "HOME": os.environ.get("HOME", "/tmp"),
    "XDG_CACHE_HOME": _CACHE,
    "PYTHONUNBUFFERED": "1",
    "NO_PROXY": "127.0.0.1,localhost",
}
