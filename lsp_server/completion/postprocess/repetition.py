"""Rule: cut repetition loops."""

from __future__ import annotations

import re

from lsp_server.completion.postprocess.facts import Facts
from lsp_server.completion.postprocess.model import PostContext

_MAX_BLOCK = 4
_INLINE_LOOP = re.compile(r"(.{4,40}?)\1{3,}")


def cut_repetition(text: str, ctx: PostContext, facts: Facts | None = None) -> str:
    """Keep the first occurrence of a line or block the model generated over and over."""
    lines = text.split("\n")
    for i in range(len(lines)):
        for period in range(1, _MAX_BLOCK + 1):
            times = 3 if period == 1 else 2
            if i + period * times > len(lines):
                break
            block = lines[i : i + period]
            if not any(len(line.strip()) >= 2 for line in block):
                continue
            if all(lines[i + k * period : i + (k + 1) * period] == block for k in range(times)):
                return "\n".join(lines[: i + period])
    for idx, line in enumerate(lines):
        match = _INLINE_LOOP.search(line[:400])
        if match and len(set(match.group(1))) > 1:
            lines[idx] = line[: match.start() + len(match.group(1))]
            return "\n".join(lines[: idx + 1])
    return text
