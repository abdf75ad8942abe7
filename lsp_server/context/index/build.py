"""Building the index from disk: scan, reuse stored symbols, parse the rest in parallel."""

from __future__ import annotations

import logging
import marshal
import os
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, as_completed
from typing import TYPE_CHECKING

from lsp_server.context.files import read_regular
from lsp_server.context.index.entry import BuildStats, FileEntry
from lsp_server.context.index.pool import (
    content_hash,
    make_process_pool,
    parse_batch,
    parse_one,
    peak_rss_mb,
)
from lsp_server.context.scanner import ScannedFile, ScanResult
from lsp_server.context.symbols import FileSymbols

if TYPE_CHECKING:
    from lsp_server.context.index.repo import RepoIndex

log = logging.getLogger(__name__)

_BATCH = 24


def _utf8_name(path: str) -> bool:
    """Return whether a path is valid UTF-8: the others (decoded by Python with surrogate
    escapes) cannot be stored, shown or sent."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _drop_undecodable_names(result: ScanResult, stats: BuildStats) -> None:
    """Leave files whose name is not valid UTF-8 out of a scan, with one log line."""
    bad = [sf for sf in result.files if not _utf8_name(sf.path)]
    if not bad:
        return
    result.files[:] = [sf for sf in result.files if _utf8_name(sf.path)]
    stats.skipped["name not UTF-8"] += len(bad)
    log.warning("not indexing %d file(s) whose name is not valid UTF-8, e.g. %s", len(bad),
                bad[0].path.encode("utf-8", "backslashreplace").decode("ascii", "replace"))


def build(
    index: RepoIndex,
    report: Callable[[int, int], None] | None,
    executor: Executor | None,
    workers: int | None,
) -> BuildStats:
    """Scan every root, reuse cached symbols by stat or content hash, parse the rest."""
    started = time.perf_counter()
    stats = BuildStats()
    todo: list[tuple[ScannedFile, str]] = []  # (file, root)
    seen: set[str] = set()
    scans = []
    for root, scanner in index.scanners.items():
        result = scanner.scan()
        stats.skipped.update(result.skipped)
        _drop_undecodable_names(result, stats)
        scans.append((root, result))
    total = sum(len(r.files) for _, r in scans)
    done = 0
    if report:
        report(0, total)
    for root, result in scans:
        store = index.store_for(root)
        known = store.known() if store is not None else {}
        have_blobs = bool(known)
        for sf in result.files:
            if index.cancelled.is_set():
                break
            seen.add(sf.path)
            cached = known.get(sf.rel)
            data: bytes | None = None
            digest = ""
            if cached is not None and cached[0] == sf.size and cached[1] == sf.mtime_ns:
                digest, data = cached[2], cached[3]
            elif have_blobs and store is not None:
                # Touched but maybe unchanged (checkout, touch): the content hash decides.
                try:
                    digest = content_hash(read_regular(sf.path, index.max_file_bytes))
                except OSError:
                    stats.skipped["unreadable"] += 1
                    continue
                data = store.blob(digest)
                if data is not None:
                    store.put([(sf.rel, sf.size, sf.mtime_ns, digest, None, None)])
            if data is None:
                todo.append((sf, root))
                continue
            symbols = FileSymbols.from_tuple(marshal.loads(data))
            index.set_disk(FileEntry(sf.path, sf.rel, root, symbols, digest, sf.size,
                                     sf.mtime_ns))
            stats.reused += 1
            done += 1
        if report:
            report(done, total)
        if store is not None and not index.cancelled.is_set():
            gone = [rel for rel in known if os.path.join(root, rel) not in seen]
            if gone:
                store.forget(gone)
    if index.cancelled.is_set():
        return stats
    for path in [p for p in index.maps.disk if p not in seen]:
        index.drop_disk(path)
    if todo:
        done = _parse_all(index, todo, stats, report, done, total, executor, workers)
    for root in index.roots:
        store = index.store_for(root)
        if store is not None and todo:
            store.collect_garbage()
    stats.files = len(index.maps.disk)
    stats.symbols = sum(len(e.symbols.definitions) for e in index.maps.disk.values())
    stats.seconds = time.perf_counter() - started
    stats.peak_rss_mb = peak_rss_mb()
    stats.workers_peak_rss_mb = peak_rss_mb(children=True)
    return stats


def _parse_all(index: RepoIndex, todo: list[tuple[ScannedFile, str]], stats: BuildStats,
               report: Callable[[int, int], None] | None, done: int, total: int,
               executor: Executor | None, workers: int | None) -> int:
    by_path = {sf.path: (sf, root) for sf, root in todo}
    items = [(sf.path, sf.language, index.max_file_bytes) for sf, _ in todo]
    # Big files first, so no worker is left alone with a giant at the end.
    items.sort(key=lambda it: -by_path[it[0]][0].size)
    batches = [items[i:i + _BATCH] for i in range(0, len(items), _BATCH)]
    own = executor is None and len(items) > _BATCH
    pool = make_process_pool(workers) if own else executor
    try:
        if pool is None:
            results: Iterable[list[tuple]] = (parse_batch(b) for b in batches)
        else:
            futures = [pool.submit(parse_batch, b) for b in batches]
            results = (f.result() for f in as_completed(futures))
        for batch in results:
            if index.cancelled.is_set():
                break
            rows_by_root: dict[str, list] = {}
            for path, reason, digest, size, mtime, data, refs in batch:
                sf, root = by_path[path]
                done += 1
                if reason is not None or data is None:
                    stats.skipped[reason or "unreadable"] += 1
                    continue
                symbols = FileSymbols.from_tuple(marshal.loads(data))
                index.set_disk(FileEntry(path, sf.rel, root, symbols, digest, size, mtime))
                rows_by_root.setdefault(root, []).append(
                    (sf.rel, size, mtime, digest, data, refs))
                stats.parsed += 1
            for root, rows in rows_by_root.items():
                store = index.store_for(root)
                if store is not None:
                    with index.maps.lock:
                        store.put(rows)
                else:
                    for rel, *_, refs in rows:
                        index.mem_refs[os.path.join(root, rel)] = refs
            if report:
                report(done, total)
    finally:
        if own and pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    return done


def refresh_file(index: RepoIndex, path: str) -> bool:
    """Re-read one file from disk after it changed; drop it when it vanished or is excluded."""
    path = os.path.abspath(path)
    scanner = index.scanner_for(path)
    if scanner is None:
        return False
    if os.path.basename(path) in (".gitignore", ".qwenignore"):
        scanner.rules.invalidate()
        return False
    if not _utf8_name(path):
        return False  # never indexed (see _drop_undecodable_names)
    sf = scanner.scanned_file(path)
    if sf is None:
        index.drop_disk(path)
        store = index.store_for(scanner.root)
        if store is not None:
            store.forget([scanner.relpath(path) or ""])
        return False
    result = parse_one(sf.path, sf.language, index.max_file_bytes)
    _, reason, digest, size, mtime, data, refs = result
    if reason is not None or data is None:
        index.drop_disk(path)
        return False
    symbols = FileSymbols.from_tuple(marshal.loads(data))
    index.set_disk(FileEntry(path, sf.rel, scanner.root, symbols, digest, size, mtime))
    if index.chunks.ready and refs:
        index.chunks.add_file(path, marshal.loads(refs)[1])
    store = index.store_for(scanner.root)
    if store is not None:
        with index.maps.lock:
            store.put([(sf.rel, size, mtime, digest, data, refs)])
    else:
        index.mem_refs[path] = refs
    return True
