"""The `qwen-lsp index` and `qwen-lsp context` subcommands."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the repository-context subcommands to the CLI (none yet)."""
