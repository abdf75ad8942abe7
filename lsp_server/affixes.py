"""Shared prefix and suffix of two texts, found by halving so slices compare at C speed."""

from __future__ import annotations

from typing import TypeVar

_T = TypeVar("_T", str, bytes)


def common_prefix(a: _T, b: _T) -> int:
    """Return the length of the longest common prefix of `a` and `b`."""
    lo, hi = 0, min(len(a), len(b))
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def common_suffix(a: _T, b: _T, limit: int | None = None) -> int:
    """Return the length of the longest common suffix, at most `limit`."""
    lo = 0
    hi = min(len(a), len(b)) if limit is None else min(limit, len(a), len(b))
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[len(a) - mid :] == b[len(b) - mid :]:
            lo = mid
        else:
            hi = mid - 1
    return lo
