"""The checks every `qwen-lsp` subcommand applies to what the user typed, in one place.

A bad argument is never clamped or guessed: the command says what was wrong and what was
expected, and exits with the code the `--help` epilog documents.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable

from lsp_server.positions import split_lines, units

# Exit codes, documented in `qwen-lsp --help`.
EXIT_OK = 0
EXIT_FAILED = 1  # the endpoint failed, or a check (doctor) failed
EXIT_USAGE = 2  # bad arguments: a missing file or directory, a binary file, a bad position
EXIT_NOT_SENT = 3  # the file is secret or ignored: its text is never sent to an endpoint

EXIT_CODES_HELP = """\
exit codes:
  0  done (also when the model had no suggestion)
  1  the endpoint failed, or a `doctor` check failed
  2  bad arguments: unreadable, missing or binary file, position outside the file,
     ROOT not a directory, invalid option value
  3  the file is secret or ignored (.gitignore, .qwenignore): its text is never sent"""

# A NUL byte in the first block is what git and grep take for "binary" too.
_BINARY_PROBE = 8192


class CliError(Exception):
    """A problem with the command line: `message` for stderr, `code` for the exit status."""

    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def read_text(path: str) -> str:
    """Return a source file's text; refuse missing, unreadable and binary files."""
    from lsp_server.context.files import NotRegularFile, read_regular

    if os.path.isdir(path):
        raise CliError(f"{path} is a directory, not a file")
    try:
        data = read_regular(path)  # never blocks on a FIFO or a device
    except NotRegularFile:
        raise CliError(f"{path} is not a regular file") from None
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror}") from None
    if b"\0" in data[:_BINARY_PROBE]:
        raise CliError(f"{path} looks binary; only text files get completions or prompts")
    return data.decode("utf-8", "replace")


def check_position(text: str, line: int, character: int, path: str) -> None:
    """Refuse a 0-based (line, UTF-16 character) position that is not inside `text`."""
    lines = split_lines(text)
    count = len(lines) + (1 if not lines or lines[-1].endswith(("\n", "\r")) else 0)
    if line < 0 or line >= count:
        raise CliError(f"line {line} is outside {path}: it has lines 0 to {count - 1} (0-based)")
    body = lines[line].rstrip("\r\n") if line < len(lines) else ""
    width = units(body)
    if character < 0 or character > width:
        raise CliError(
            f"character {character} is outside line {line} of {path}: it has "
            f"characters 0 to {width} (0-based, UTF-16)"
        )


def check_directory(root: str) -> str:
    """Return `root` as an absolute path; refuse anything but an existing directory."""
    path = os.path.abspath(root)
    if not os.path.isdir(path):
        raise CliError(f"{root} is not a directory")
    return path


def check_may_send(path: str, may_send: Callable[[str], bool]) -> None:
    """Refuse a file whose text the server never sends (secret or ignored)."""
    if not may_send(path):
        raise CliError(
            f"{path} is secret or ignored (.gitignore, .qwenignore); its text is "
            "never sent to an endpoint, so there is nothing to show",
            EXIT_NOT_SENT,
        )


def whole_number(minimum: int) -> Callable[[str], int]:
    """Return an argparse type that accepts a whole number of at least `minimum`."""

    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {value!r}") from None
        if number < minimum:
            raise argparse.ArgumentTypeError(
                f"expected a whole number of at least {minimum}, got {number}"
            )
        return number

    return parse
