"""Sweep Next-Edit (1.5B, v2 7B): raw completion over `<|file_sep|>` sections.

Order as on the model card: the file around the cursor, retrieved chunks from other files,
the recent changes as `original:`/`updated:` pairs, then the region before the last edit
(`original/`), as it is now with the cursor marked (`current/`), and `updated/`, which the
model completes. Line numbers in the section names are 1-based and inclusive.
"""

from __future__ import annotations

from lsp_server.nextedit.formats import ModelPrompt, NextEditInput, ensure_newline, with_cursor
from lsp_server.nextedit.parse import between_markers
from lsp_server.prompt import ENDOFTEXT, FILE_SEP

CURSOR = "<|cursor|>"
FILE_LINES = 300  # lines of the file shown around the cursor
_STEP = 100  # the file section moves in steps, so that its start stays put while typing


class SweepFormat:
    name = "sweep"

    def build(self, inp: NextEditInput) -> ModelPrompt:
        gate, path = inp.gate, inp.path
        lines = inp.text.split("\n")
        first = max(0, (inp.region.start_line - FILE_LINES // 2) // _STEP * _STEP)
        file_part = "\n".join(lines[first : first + FILE_LINES])
        parts = [f"{FILE_SEP}{path}\n{ensure_newline(gate(file_part))}"]
        for cf in inp.context_files:
            parts.append(f"{FILE_SEP}{cf.path}\n{ensure_newline(gate(cf.text))}")
        for hunk in inp.history:
            parts.append(f"{FILE_SEP}{hunk.path}.diff\noriginal:\n{ensure_newline(gate(hunk.old))}"
                         f"updated:\n{ensure_newline(gate(hunk.new))}")
        span = f"{inp.region.start_line + 1}:{inp.region.end_line}"
        current = with_cursor(inp, CURSOR)
        parts.append(f"{FILE_SEP}original/{path}:{span}\n"
                     f"{ensure_newline(gate(inp.original_region))}")
        parts.append(f"{FILE_SEP}current/{path}:{span}\n{ensure_newline(current)}")
        parts.append(f"{FILE_SEP}updated/{path}:{span}\n")
        return ModelPrompt("completion", prompt="".join(parts), stop=(FILE_SEP, ENDOFTEXT))

    def parse(self, answer: str, inp: NextEditInput) -> str | None:
        cut = answer.find(FILE_SEP)
        answer = answer[:cut] if cut >= 0 else answer
        return between_markers(answer.replace(CURSOR, ""), inp.region_text)


FORMAT = SweepFormat()
