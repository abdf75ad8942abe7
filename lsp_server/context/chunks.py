"""Similar code from anywhere in the repository: BM25 over 20-line windows of every file.

Workers cut each file into windows when they parse it (`window_tokens`); the windows' distinct
identifiers are kept with the symbols in the persistent index. `ChunkIndex` holds an inverted
index over them (identifier -> window ids, compact arrays), built in the background once the
symbol index is ready. A query scores windows by the summed inverse document frequency of the
identifiers they share with the lines above the cursor (BM25 with binary term frequency, since
windows are all the same length); only windows, never text, live in memory.
"""

from __future__ import annotations

import heapq
import math
import re
import threading
from array import array
from collections.abc import Iterable, Sequence

from lsp_server.context.names import LONG_IDENTIFIER
from lsp_server.positions import newline_above

WINDOW_LINES = 20
# Keywords and the most common names say nothing about what code is about.
_ID = re.compile(LONG_IDENTIFIER)
_COMMON = frozenset(
    """and assert async await break case catch class const continue def default delete else
    elif enum except export extends false False final finally for from func function impl
    implements import interface lambda let match mod mut new nil None not null package pass
    private protected pub public raise return self static struct super switch this throw true
    True try type typeof use var void while with yield int str bool float string number any
    char long short unsigned signed double byte print len range list dict set tuple object
    cls args kwargs err ctx""".split()
)
# Bounds on memory and query time: tokens in more than this share of windows are dropped
# from scoring (their weight is near zero anyway); a query looks at its rarest tokens only.
_ID_BYTES = re.compile(LONG_IDENTIFIER.encode())
_COMMON_BYTES = frozenset(w.encode() for w in _COMMON)
_MAX_DF_SHARE = 0.02
_MAX_DF_FLOOR = 64
_QUERY_TOKENS = 16
_MAX_WINDOWS = 200_000  # about 30 MB of postings at most


def scan_identifiers(src: bytes, stop_words: frozenset[bytes] = frozenset()
                     ) -> tuple[tuple[str, ...], tuple[tuple[int, tuple[bytes, ...]], ...]]:
    """Return a file's distinct identifiers (two characters or more, minus stop words) and
    its windows of WINDOW_LINES lines as (first line, identifiers worth searching), in one
    pass of the regular expression (this runs for every file the index parses)."""
    every: set[bytes] = set()
    windows = []
    find, findall = src.find, _ID_BYTES.findall
    pos, line, n = 0, 0, len(src)
    while pos < n:
        end = pos
        for _ in range(WINDOW_LINES):
            end = find(b"\n", end) + 1
            if end == 0:
                end = n
                break
        found = set(findall(src, pos, end))
        every |= found
        found -= _COMMON_BYTES
        if len(found) >= 3:  # sorted: a set's order changes from one process to the next
            windows.append((line, tuple(sorted(found))))
        pos, line = end, line + WINDOW_LINES
    every -= stop_words
    return tuple(sorted(t.decode("ascii") for t in every)), tuple(windows)


def window_tokens(text: str) -> tuple[tuple[int, tuple[bytes, ...]], ...]:
    """Cut text into windows of WINDOW_LINES lines; return (first line, identifiers) each."""
    return scan_identifiers(text.encode("utf-8", "replace"))[1]


def query_tokens(text: str, offset: int, lines_above: int = WINDOW_LINES) -> set[bytes]:
    """Return the identifiers of the lines above the cursor (and its own line so far)."""
    start = newline_above(text, offset, lines_above)
    return {t.encode("ascii") for t in _ID.findall(text, start, offset)} - _COMMON_BYTES


class ChunkIndex:
    """An inverted index from identifiers to the windows of the files that use them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens: dict[bytes, int] = {}
        self._postings: list[array] = []
        self._window_path: array = array("I")
        self._window_line: array = array("I")
        self._paths: list[str] = []
        self._path_ids: dict[str, int] = {}
        self._windows_of: dict[str, tuple[int, int]] = {}  # path -> (first id, count)
        self._dead: set[int] = set()
        self.ready = False

    def __len__(self) -> int:
        return len(self._window_line) - len(self._dead)

    def add_file(self, path: str, windows: Sequence[tuple[int, Sequence[bytes]]]) -> None:
        """Index (or re-index) one file's windows."""
        with self._lock:
            self._remove(path)
            if not windows or len(self._window_line) >= _MAX_WINDOWS:
                return
            pid = self._path_ids.get(path)
            if pid is None:
                pid = self._path_ids[path] = len(self._paths)
                self._paths.append(path)
            first = len(self._window_line)
            for line, tokens in windows:
                wid = len(self._window_line)
                self._window_path.append(pid)
                self._window_line.append(line)
                for tok in tokens:
                    tid = self._tokens.get(tok)
                    if tid is None:
                        tid = self._tokens[tok] = len(self._postings)
                        self._postings.append(array("I"))
                    self._postings[tid].append(wid)
            self._windows_of[path] = (first, len(windows))

    def remove_file(self, path: str) -> None:
        """Forget a file's windows (they are skipped until the next compaction)."""
        with self._lock:
            self._remove(path)

    def _remove(self, path: str) -> None:
        span = self._windows_of.pop(path, None)
        if span is not None:
            self._dead.update(range(span[0], span[0] + span[1]))
            if len(self._dead) > max(1000, len(self._window_line) // 2):
                self._compact()

    def _compact(self) -> None:
        """Rebuild the arrays without dead windows."""
        remap: dict[int, int] = {}
        paths, lines = array("I"), array("I")
        for wid in range(len(self._window_line)):
            if wid not in self._dead:
                remap[wid] = len(lines)
                paths.append(self._window_path[wid])
                lines.append(self._window_line[wid])
        self._postings = [array("I", (remap[w] for w in p if w in remap))
                          for p in self._postings]
        self._windows_of = {path: (remap[first], n) for path, (first, n)
                            in self._windows_of.items()}
        self._window_path, self._window_line, self._dead = paths, lines, set()

    def popularity(self, name: str) -> float:
        """Return how widely the repository uses an identifier, from 0 (nowhere, or not
        known yet) to 1 (in 60 windows or more): a prior for names not yet used here."""
        tid = self._tokens.get(name.encode("ascii", "replace"))
        if tid is None:
            return 0.0
        return min(1.0, math.log1p(len(self._postings[tid])) / math.log1p(60))

    def search(self, query: Iterable[bytes], *, exclude: set[str] = frozenset(),
               limit: int = 8, min_share: float = 0.35) -> list[tuple[float, str, int]]:
        """Return (score, path, first line) of the best windows, best first.

        `score` is the share of the query's total weight a window matches; windows under
        `min_share` are left out.
        """
        with self._lock:
            total = len(self._window_line) - len(self._dead)
            if total == 0:
                return []
            max_df = max(_MAX_DF_FLOOR, int(total * _MAX_DF_SHARE))
            weighted = []
            for tok in set(query):
                tid = self._tokens.get(tok)
                df = len(self._postings[tid]) if tid is not None else 0
                # BM25's idf; a token nowhere in the repo still weighs in the denominator.
                idf = math.log(1 + (total - df + 0.5) / (df + 0.5))
                weighted.append((idf, tok, tid if df and df <= max_df else None))
            if not weighted:
                return []
            # Ties broken by the token, not by the set's (per-process, hash-seeded) order: the
            # same buffer gets the same windows in every run of the server.
            weighted.sort(key=lambda x: (-x[0], x[1]))
            weighted = weighted[:_QUERY_TOKENS]
            whole = sum(w for w, _, _ in weighted)
            scores: dict[int, float] = {}
            for idf, _, tid in weighted:
                if tid is None:
                    continue
                for wid in self._postings[tid]:
                    scores[wid] = scores.get(wid, 0.0) + idf
            # Equal scores are ordered by file and line, not by when a parallel build
            # happened to index each file.
            paths, lines = self._paths, self._window_line
            wpath = self._window_path
            best = heapq.nlargest(limit * 4, scores.items(),
                                  key=lambda kv: (kv[1], paths[wpath[kv[0]]], -lines[kv[0]]))
            out = []
            for wid, score in best:
                if wid in self._dead or score / whole < min_share:
                    continue
                path = self._paths[self._window_path[wid]]
                if path in exclude:
                    continue
                out.append((round(score / whole, 3), path, self._window_line[wid]))
                if len(out) == limit:
                    break
            return out
