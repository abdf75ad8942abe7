"""The repository index: every readable file's definitions and imports.

`RepoIndex` (repo.py) is the one object the rest of the server uses. Inside:
  entry.py    FileEntry, BuildStats: what is held per file, what a build reports
  store.py    the sqlite store of one root: symbols by content hash, kept across starts
  pool.py     parsing in worker processes
  build.py    building from disk: scan, reuse stored symbols, parse the rest; one file again
  maps.py     the in-memory entries and lookup maps (by name, container, module key, dir)
  overlay.py  open buffers, which win over the files on disk
  resolve/    import resolution, one module per language family
"""

from lsp_server.context.index.entry import BuildStats, FileEntry
from lsp_server.context.index.pool import make_process_pool, parse_batch, peak_rss_mb
from lsp_server.context.index.repo import RepoIndex
from lsp_server.context.index.store import FORMAT_VERSION, default_cache_dir

__all__ = [
    "FORMAT_VERSION",
    "BuildStats",
    "FileEntry",
    "RepoIndex",
    "default_cache_dir",
    "make_process_pool",
    "parse_batch",
    "peak_rss_mb",
]
