"""How many characters make a token: measured with the endpoint's tokenizer when it has one,
else with Qwen's own tokenizer locally.

Prompt budgets are kept in characters on the hot path; a `TokenMeter` converts token budgets
to characters. It starts from an estimate and is calibrated in the background, off the
keystroke path, by asking the endpoint (`/tokenize` on vLLM, SGLang and llama.cpp) to count
a prompt that was just sent; where the endpoint cannot count (Model Studio, Ollama), Qwen's
BPE counts it in a worker process (`qwen_tokenizer.py`).
"""

from __future__ import annotations

from dataclasses import dataclass

from lsp_server.model import qwen_tokenizer
from lsp_server.model.client import ModelClient
from lsp_server.model.dialects import TokenCount

# Qwen's tokenizer on source code: about 3.2 characters a token (less for dense symbols or
# CJK, more for long identifiers). Used until the endpoint has counted for us.
ESTIMATED_CHARS_PER_TOKEN = 3.2
# Re-measure now and then: the code being edited changes the ratio a little.
_RECALIBRATE_EVERY = 200
_MIN_SAMPLE_CHARS = 200
# Room kept for the special tokens, the file headers and tokenizer drift.
_SAFETY = 0.95


@dataclass
class TokenMeter:
    """Characters per token for one endpoint, and its context window when it says."""

    chars_per_token: float = ESTIMATED_CHARS_PER_TOKEN
    source: str = "estimate"  # or "endpoint", or "qwen-tokenizer" (counted locally)
    max_context: int | None = None
    _uses: int = 0
    _busy: bool = False

    def chars(self, tokens: int) -> int:
        """Return how many characters fit in `tokens`, with a safety margin."""
        return int(tokens * self.chars_per_token * _SAFETY)

    def tokens(self, chars: int) -> int:
        """Return the estimated token count of `chars` characters."""
        return int(chars / self.chars_per_token) + 1

    def due(self) -> bool:
        """Return whether a calibration should run after this request."""
        self._uses += 1
        if self._busy:
            return False
        return self.source == "estimate" or self._uses % _RECALIBRATE_EVERY == 0

    async def calibrate(self, client: ModelClient, sample: str, model: str = "") -> bool:
        """Count `sample` with the endpoint's tokenizer, else Qwen's own; adopt the ratio.

        Return whether either counted.
        """
        if len(sample) < _MIN_SAMPLE_CHARS or self._busy:
            return False
        self._busy = True
        source = "endpoint"
        try:
            count = await client.count_tokens(sample, model)
            if count is None:
                local = await qwen_tokenizer.count_off_loop(sample)
                count, source = (TokenCount(local) if local else None), "qwen-tokenizer"
        finally:
            self._busy = False
        if count is None or count.tokens <= 0:
            return False
        ratio = len(sample) / count.tokens
        if self.source == source:  # smooth: one odd prompt should not swing budgets
            ratio = 0.7 * self.chars_per_token + 0.3 * ratio
        self.chars_per_token = ratio
        self.source = source
        self.max_context = count.max_context or self.max_context
        return True


def fit_budgets(prefix: int, suffix: int, context: int, *, prompt_tokens: int,
                answer_tokens: int, meter: TokenMeter) -> tuple[int, int, int]:
    """Scale the prefix, suffix and cross-file character budgets into a token cap.

    The cap is `prompt_tokens` when set, else what the endpoint's context window leaves after
    the answer; without either the budgets are returned as they are.
    """
    cap_tokens = prompt_tokens
    if not cap_tokens and meter.max_context:
        cap_tokens = max(1, meter.max_context - answer_tokens)
    if not cap_tokens:
        return prefix, suffix, context
    cap = meter.chars(cap_tokens)
    total = prefix + suffix + context
    if total <= cap:
        return prefix, suffix, context
    scale = cap / total
    return int(prefix * scale), int(suffix * scale), int(context * scale)
