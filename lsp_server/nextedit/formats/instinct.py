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
# What Instinct was trained with, in short: the model expects this system role and these
# section names (its wire format).
SYSTEM = (
    "You are Instinct, an intelligent next-edit predictor developed by Continue.dev. Your "
    "role as an AI agent is to help developers complete their code tasks by predicting the "
    "next edit that they will make within the section of code marked by "
    "<|editable_region_start|> and <|editable_region_end|> tags."
)
USER_PREFIX = (
    "Reference the user excerpt, user edits, and the snippets to understand the developer's "
    "intent. Update the editable region of the user excerpt by predicting and completing the "
    "changes they would have made next. This may be a deletion, addition, or modification of "
    "code."
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
