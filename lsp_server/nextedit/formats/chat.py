"""Any instruct model through `/chat/completions` (Qwen3-Coder on Model Studio, a local
`qwen2.5-coder-*-instruct`): a compact instruction, the recent edits as diffs, related code
from other files, and the excerpt with the region and cursor marked. The answer is the
region rewritten, read from the code it returns."""

from __future__ import annotations

from lsp_server.nextedit.formats import (
    REGION_END,
    REGION_START,
    ModelPrompt,
    NextEditInput,
)
from lsp_server.nextedit.formats.zeta import events, excerpt
from lsp_server.nextedit.parse import between_markers

SYSTEM = (
    "You predict a programmer's next edit. From their recent edits, infer what they are "
    "doing (a rename, a new parameter, a changed signature...) and finish it in the editable "
    f"region, the lines between {REGION_START} and {REGION_END}; "
    "<|user_cursor_is_here|> marks the cursor. Never undo their recent edits. Answer with the "
    "whole editable region rewritten, in one fenced code block, without the markers and "
    "without explanations. If nothing needs to change, answer the region unchanged."
)


class ChatFormat:
    name = "chat"

    def build(self, inp: NextEditInput) -> ModelPrompt:
        gate = inp.gate
        related = "\n\n".join(f"`{cf.path}`:\n```\n{gate(cf.text)}\n```"
                              for cf in inp.context_files)
        parts = []
        if related:
            parts.append(f"## Related code\n\n{related}")
        parts.append(f"## Recent edits (oldest first)\n\n{events(inp) or '(none)'}")
        parts.append(f"## Current file `{inp.path}`\n\n```{inp.language or ''}\n"
                     f"{excerpt(inp, start_of_file=False)}```")
        return ModelPrompt("chat", messages=[{"role": "system", "content": SYSTEM},
                                             {"role": "user", "content": "\n\n".join(parts)}])

    def parse(self, answer: str, inp: NextEditInput) -> str | None:
        return between_markers(answer, inp.region_text)


FORMAT = ChatFormat()
