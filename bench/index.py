"""Index speed on CPython's standard library: cold build vs a plain parse loop, warm start, RSS.

Each phase runs in its own process so that peak RSS belongs to that phase alone:
  parse-loop  read + tree-sitter-parse every file the index would parse, single-threaded
  cold        RepoContext build with an empty cache (process pool, 2 workers)
  warm        the same build again with the cache left by `cold` (unchanged repository)
  latency     context retrieval for random cursors on the warm index (the hot path)

    python bench/index.py [--root DIR] [--workers 2] [--cursors 300]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.corpus import stdlib_root
from lsp_server.context.index import peak_rss_mb
from lsp_server.context.languages import get_parser
from lsp_server.context.repo_context import RepoContext
from lsp_server.context.scanner import Scanner


class TreeRss:
    """Sample the summed RSS of this process and all its descendants (pool workers)."""

    def __init__(self) -> None:
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TreeRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        me = os.getpid()
        while not self._stop.wait(0.05):
            parents: dict[int, int] = {}
            rss: dict[int, int] = {}
            for entry in os.listdir("/proc"):
                if not entry.isdigit():
                    continue
                try:
                    with open(f"/proc/{entry}/stat") as fh:
                        fields = fh.read().rsplit(")", 1)[1].split()
                    parents[int(entry)] = int(fields[1])
                    rss[int(entry)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
                except (OSError, IndexError, ValueError):
                    continue
            total = 0
            for pid in rss:
                p = pid
                while p and p != me and p in parents:
                    p = parents[p]
                if p == me:
                    total += rss[pid]
            # The forkserver is our child too; its workers are its children: counted above.
            self.peak_mb = max(self.peak_mb, total / 2**20)


def phase_parse_loop(root: str) -> dict:
    files = Scanner(root).scan().files
    parsers: dict[str, object] = {}
    started = time.perf_counter()
    for f in files:
        with open(f.path, "rb") as fh:
            data = fh.read()
        parser = parsers.get(f.language) or parsers.setdefault(f.language, get_parser(f.language))
        parser.parse(data)  # type: ignore[attr-defined]
    return {"files": len(files), "seconds": time.perf_counter() - started,
            "peak_rss_mb": peak_rss_mb()}


def phase_build(root: str, cache: str, workers: int) -> dict:
    engine = RepoContext([root], cache_dir=cache, workers=workers)
    with TreeRss() as tree:
        started = time.perf_counter()
        stats = engine.build_sync()
        seconds = time.perf_counter() - started
    engine.close()
    out = stats.as_dict()
    out["seconds"] = seconds
    out["peak_rss_mb"] = peak_rss_mb()
    out["tree_peak_rss_mb"] = tree.peak_mb
    return out


def phase_latency(root: str, cache: str, cursors: int) -> dict:
    engine = RepoContext([root], cache_dir=cache)
    engine.build_sync()
    rng = random.Random(0)
    paths = [p for p in engine.index.paths() if p.endswith(".py")]
    wall: list[float] = []
    cpu: list[float] = []
    wall_next: list[float] = []
    for _ in range(cursors):
        path = rng.choice(paths)
        with open(path, encoding="utf-8", errors="replace") as fh:
            text = fh.read()
        if not text:
            continue
        offset = text.rfind("\n", 0, rng.randrange(len(text))) + 1
        engine.document_changed(path, text)  # parsing happens on didChange, not per request
        t0, c0 = time.perf_counter(), time.process_time()
        engine.context_files(path, text, offset, 6000)
        wall.append((time.perf_counter() - t0) * 1e3)
        cpu.append((time.process_time() - c0) * 1e3)
        # A keystroke later: same document, one more character; the hot path again.
        typed = text[:offset] + "x" + text[offset:]
        engine.document_changed(path, typed)
        t1, c1 = time.perf_counter(), time.process_time()
        engine.context_files(path, typed, offset + 1, 6000)
        wall.append((time.perf_counter() - t1) * 1e3)
        cpu.append((time.process_time() - c1) * 1e3)
        wall_next.append(wall[-1])
        engine.document_closed(path)
    engine.close()
    wall.sort()
    cpu.sort()
    wall_next.sort()

    def pct(values: list[float], q: float) -> float:
        return values[min(len(values) - 1, int(len(values) * q))]

    return {"cursors": len(wall), "wall_p50_ms": pct(wall, 0.5), "wall_p95_ms": pct(wall, 0.95),
            "cpu_p50_ms": pct(cpu, 0.5), "cpu_p95_ms": pct(cpu, 0.95),
            "next_p50_ms": pct(wall_next, 0.5), "next_p95_ms": pct(wall_next, 0.95)}


def _child(args: list[str]) -> dict:
    out = subprocess.run([sys.executable, os.path.abspath(__file__), *args], check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", help="workspace to index (default: the standard library)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--cursors", type=int, default=300)
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--cache", help=argparse.SUPPRESS)
    args = parser.parse_args()
    root = os.path.abspath(args.root or stdlib_root())
    if args.phase == "parse-loop":
        print(json.dumps(phase_parse_loop(root)))
        return 0
    if args.phase == "build":
        print(json.dumps(phase_build(root, args.cache, args.workers)))
        return 0
    if args.phase == "latency":
        print(json.dumps(phase_latency(root, args.cache, args.cursors)))
        return 0
    with tempfile.TemporaryDirectory() as cache:
        loop = _child(["--root", root, "--phase", "parse-loop"])
        cold = _child(["--root", root, "--phase", "build", "--cache", cache,
                       "--workers", str(args.workers)])
        warm = _child(["--root", root, "--phase", "build", "--cache", cache,
                       "--workers", str(args.workers)])
        latency = _child(["--root", root, "--phase", "latency", "--cache", cache,
                          "--cursors", str(args.cursors)])
    print(f"root: {root} ({loop['files']} files; site-packages and other default exclusions "
          f"skipped); {os.cpu_count()} CPUs; load average at end {os.getloadavg()[0]:.1f}")
    print(f"plain parse loop (1 thread)  {loop['seconds']:7.2f} s   peak RSS "
          f"{loop['peak_rss_mb']:.0f} MB")
    print(f"cold index ({args.workers} workers)       {cold['seconds']:7.2f} s   "
          f"= {cold['seconds'] / loop['seconds']:.2f}x the parse loop (target <= 2x); "
          f"parsed {cold['reparsed']}, {cold['symbols']} symbols; peak RSS main "
          f"{cold['peak_rss_mb']:.0f} MB, main + workers {cold['tree_peak_rss_mb']:.0f} MB")
    print(f"warm start (unchanged)       {warm['seconds']:7.2f} s   "
          f"= {warm['seconds'] / cold['seconds'] * 100:.1f}% of cold (target <= 10%); "
          f"re-parsed {warm['reparsed']}, reused {warm['reused']}; peak RSS "
          f"{warm['peak_rss_mb']:.0f} MB")
    print(f"retrieval hot path ({latency['cursors']} requests): wall p50 "
          f"{latency['wall_p50_ms']:.2f} ms, p95 {latency['wall_p95_ms']:.2f} ms; cpu p50 "
          f"{latency['cpu_p50_ms']:.2f} ms, p95 {latency['cpu_p95_ms']:.2f} ms; the keystroke "
          f"after (same file, caches warm): p50 {latency['next_p50_ms']:.2f} ms, p95 "
          f"{latency['next_p95_ms']:.2f} ms")
    print(f"skipped: {cold['skipped']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
