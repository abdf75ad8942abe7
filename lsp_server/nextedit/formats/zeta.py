"""Zed's Zeta (7B): raw completion of an instruction prompt with the user's edits as diffs
and an excerpt of the file holding the editable region markers and the cursor marker. The
model answers the excerpt with the region rewritten between its markers."""

from __future__ import annotations

from lsp_server.nextedit.formats import (
    CURSOR,
    REGION_END,
    REGION_START,
    START_OF_FILE,
    ModelPrompt,
    NextEditInput,
    ensure_newline,
    with_cursor,
)
from lsp_server.nextedit.parse import between_markers
from lsp_server.prompt import ENDOFTEXT

# Zeta was fine-tuned on an Alpaca-style layout: an instruction, the user's edits and the
# excerpt under `###` headings, the answer after "### Response:". The headings and markers are
# the wire format and are kept exactly; the instruction is in our own words.
INSTRUCTION = (
    "Study the edits the user just made, then rewrite the excerpt below with the changes "
    "that should follow them, inside the editable region and mindful of the cursor."
)
CONTEXT_LINES = 10  # lines of the file shown above and below the region


def excerpt(inp: NextEditInput, context_lines: int = CONTEXT_LINES, *,
            start_of_file: bool = True) -> str:
    """Return the file excerpt with the region and cursor marked, gated; Zeta also marks
    an excerpt that starts the file."""
    gate = inp.gate
    before = inp.lines_before(context_lines)
    at_start = start_of_file and inp.region.start - len(before) == 0
    head = f"{START_OF_FILE}\n" if at_start else ""
    return (f"{head}{gate(before)}{REGION_START}\n"
            f"{ensure_newline(with_cursor(inp, CURSOR))}{REGION_END}\n"
            f"{gate(inp.lines_after(context_lines))}")


def events(inp: NextEditInput) -> str:
    """Return the user's edits, oldest first, one fenced diff each."""
    return "\n\n".join(f'User edited "{h.path}":\n```diff\n{inp.gate(h.unified())}\n```'
                       for h in inp.history)


class ZetaFormat:
    name = "zeta"

    def build(self, inp: NextEditInput) -> ModelPrompt:
        body = ensure_newline(excerpt(inp))
        prompt = (f"### Instruction:\n{INSTRUCTION}\n\n### User Edits:\n\n{events(inp)}\n\n"
                  f"### User Excerpt:\n\n```{inp.path}\n{body}```\n\n### Response:\n")
        return ModelPrompt("completion", prompt=prompt, stop=(REGION_END, ENDOFTEXT))

    def parse(self, answer: str, inp: NextEditInput) -> str | None:
        return between_markers(answer, inp.region_text)


FORMAT = ZetaFormat()
