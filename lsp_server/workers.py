"""Worker processes for CPU-heavy work the event loop must not wait on (parsing, counting)."""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor


def _exit_with_parent(parent: int) -> None:
    """Stop a pool worker when the process that owns the pool is gone (killed editor, crash):
    blocked on its task queue, it would otherwise wait forever."""

    def watch() -> None:
        while True:
            time.sleep(1.0)
            try:
                os.kill(parent, 0)
            except ProcessLookupError:
                os._exit(0)
            except PermissionError:
                pass

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def make_process_pool(workers: int | None = None) -> ProcessPoolExecutor:
    """Return a process pool safe to start from a threaded, asyncio-running server."""
    # spawn, not fork (threads) nor forkserver (a daemon that outlives a killed server).
    n = workers or max(1, min(os.cpu_count() or 1, 4))
    return ProcessPoolExecutor(max_workers=n, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_exit_with_parent, initargs=(os.getpid(),))
