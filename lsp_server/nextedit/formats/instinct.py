"""Continue's Instinct (7B): a chat template of its own, with a system prompt, context
snippets marked `<|context_file|>`/`<|snippet|>`, the user's edits as diffs (most recent
first) and the excerpt with the editable region and cursor markers. The model answers the
region rewritten."""

from __future__ import annotations

from lsp_server.nextedit.formats import ModelPrompt, NextEditInput
from lsp_server.nextedit.formats.zeta import excerpt
from lsp_server.nextedit.parse import between_markers

CONTEXT_FILE = "<|context_file|>"
SNIPPET = "<|snippet|>"
# Instinct expects a system turn naming its task and these section names and markers (its
# wire format, kept exactly); the wording of both instructions is our own.
SYSTEM = (
    "You are Instinct, a next-edit model: predict the edit the developer will make next "
    "inside the code between <|editable_region_start|> and <|editable_region_end|>."
)
USER_PREFIX = (
    "Use the snippets, the developer's recent edits and the excerpt to infer what they are "
    "doing, then rewrite the editable region of the excerpt with the change they would make "
    "next: code may be added, removed or changed."
)


class InstinctFormat:
    name = "instinct"

    def build(self, inp: NextEditInput) -> ModelPrompt:
        gate = inp.gate
        snippets = "\n\n".join(f"{CONTEXT_FILE} {cf.path}\n{SNIPPET}\n{gate(cf.text)}"
                               for cf in inp.context_files)
        edits = "\n\n".join(f'User edited file "{h.path}"\n\n```diff\n{gate(h.unified())}\n```'
                            for h in reversed(inp.history))
        body = excerpt(inp, 5, start_of_file=False)
        user = (f"{USER_PREFIX}\n\n### Context:\n{snippets}\n\n### User Edits:\n\n{edits}\n\n"
                f"### User Excerpt:\n{inp.path}\n\n{body}```\n### Response:")
        return ModelPrompt("chat", messages=[{"role": "system", "content": SYSTEM},
                                             {"role": "user", "content": user}])

    def parse(self, answer: str, inp: NextEditInput) -> str | None:
        return between_markers(answer, inp.region_text)


FORMAT = InstinctFormat()
