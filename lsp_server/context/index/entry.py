"""What the index holds per file, and what a build reports."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from lsp_server.context.symbols import FileSymbols


@dataclass(slots=True)
class FileEntry:
    """One indexed file: where it lives and what it defines."""

    path: str  # absolute
    rel: str  # root-relative, forward slashes
    root: str
    symbols: FileSymbols
    hash: str = ""
    size: int = 0
    mtime_ns: int = 0


@dataclass
class BuildStats:
    """What one build or refresh did."""

    files: int = 0
    symbols: int = 0
    parsed: int = 0
    reused: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    peak_rss_mb: float = 0.0
    workers_peak_rss_mb: float = 0.0

    def as_dict(self) -> dict:
        """Return a JSON-friendly dict."""
        return {
            "files": self.files, "symbols": self.symbols, "reparsed": self.parsed,
            "reused": self.reused, "skipped": dict(sorted(self.skipped.items())),
            "seconds": round(self.seconds, 3), "peak_rss_mb": round(self.peak_rss_mb, 1),
            "workers_peak_rss_mb": round(self.workers_peak_rss_mb, 1),
        }
