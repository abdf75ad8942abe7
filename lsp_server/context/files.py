"""The one way the server reads a file: regular files only, never blocking, within the workspace.

`open()` on a FIFO waits for a writer, forever; on a device it may have side effects. Every
read of the workspace (the start-up scan, file-watch events, the index, similar-code windows,
`.gitignore` and friends, `go.mod`, `Cargo.toml`, `package.json`, an existing test file, the
CLI) goes through `read_regular`: it checks the file is regular before opening, opens it
non-blocking, and checks again on the open descriptor (the path may have been swapped between
the two). Which files may be read at all (secret, ignored, outside the workspace through a
symlink) is the scanner's rule (`Scanner.check`, `Scanner.may_send`); `within` is its
symlink half.
"""

from __future__ import annotations

import errno
import os
import stat

_CHUNK = 1 << 16


class NotRegularFile(OSError):
    """The path is a FIFO, socket, device or directory: never opened."""

    def __init__(self, path: str) -> None:
        super().__init__(errno.EINVAL, "not a regular file", path)


def read_regular(path: str, max_bytes: int | None = None) -> bytes:
    """Return a regular file's bytes (at most `max_bytes` + 1, to tell "too large" apart).

    Raise OSError (NotRegularFile for anything but a regular file) instead of blocking.
    """
    if not stat.S_ISREG(os.stat(path).st_mode):
        raise NotRegularFile(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    flags |= getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise NotRegularFile(path)
        limit = None if max_bytes is None else max_bytes + 1
        parts: list[bytes] = []
        size = 0
        while limit is None or size < limit:
            want = _CHUNK if limit is None else min(_CHUNK, limit - size)
            data = os.read(fd, want)
            if not data:
                break
            parts.append(data)
            size += len(data)
        return b"".join(parts)
    finally:
        os.close(fd)


def read_text(path: str, max_bytes: int | None = None) -> str:
    """Return a regular file's text (UTF-8, bad bytes replaced); raise OSError as above."""
    return read_regular(path, max_bytes).decode("utf-8", "replace")


def read_text_or_none(path: str, max_bytes: int | None = None) -> str | None:
    """Return a regular file's text, or None when it cannot or must not be read."""
    try:
        return read_text(path, max_bytes)
    except OSError:
        return None


def within(path: str, roots: list[str] | tuple[str, ...]) -> bool:
    """Return whether `path`, symlinks resolved, lies inside one of `roots` (also resolved)."""
    real = os.path.realpath(path)
    for root in roots:
        real_root = os.path.realpath(root)
        if real == real_root or real.startswith(real_root.rstrip(os.sep) + os.sep):
            return True
    return False
