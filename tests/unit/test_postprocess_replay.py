"""The replay benchmark's oracle endpoint: FIM parsing, streaming, hang-ups, prefix reuse."""

from __future__ import annotations

import asyncio
import json

import httpx

from bench.oracle_endpoint import Oracle, OracleStats, split_fim, tokens_of


def test_split_fim_finds_the_current_file_after_repo_context():
    prompt = (
        "<|repo_name|>r\n<|file_sep|>a.py\nx = 1\n<|file_sep|>b.py\n"
        "<|fim_prefix|>def f():\n    <|fim_suffix|>\n<|fim_middle|>"
    )
    assert split_fim(prompt) == ("def f():\n    ", "\n")
    assert split_fim("plain text") is None


def test_tokens_of_counts_words_blanks_and_punctuation():
    assert tokens_of("return a + 1\n") == ["return", " ", "a", " ", "+", " ", "1", "\n"]


def test_prefix_reuse_is_the_shared_start_share():
    stats = OracleStats(prompts=["abcd", "abcX", "abcX"])
    assert stats.prefix_reuse() == (0.75 + 1.0) / 2


def test_prefix_reuse_per_document_compares_with_that_documents_previous_prompt():
    stats = OracleStats(prompts=["a-12", "b-34", "a-13", "b-34"], documents=["a", "b", "a", "b"])
    assert stats.prefix_reuse() == 0.0
    assert stats.prefix_reuse(same_document=True) == (0.75 + 1.0) / 2
    # Each document's first prompt is computed whole; later ones only past the shared start.
    assert stats.computed_bytes() == (16, 4 + 4 + 1 + 0)


def test_wrong_share_answers_wrong_text_deterministically():
    oracle = Oracle(lambda p, s: ("right", "wrong"), wrong_share=1 / 3)
    answers = [oracle.answer(f"<|fim_prefix|>{i}<|fim_suffix|><|fim_middle|>") for i in range(300)]
    assert 60 < answers.count("wrong") < 140
    again = oracle.answer("<|fim_prefix|>7<|fim_suffix|><|fim_middle|>")
    assert again == answers[7]


async def test_oracle_streams_the_truth_and_counts_hangups():
    oracle = Oracle(lambda p, s: ("return x + 1", "nope"), first_token_ms=5, per_token_ms=1)
    base = await oracle.start()
    body = {"prompt": "<|fim_prefix|>def f(x):\n    <|fim_suffix|><|fim_middle|>",
            "max_tokens": 64, "stream": True}
    try:
        async with httpx.AsyncClient() as client:
            text = ""
            async with client.stream("POST", f"{base}/completions", json=body) as response:
                async for line in response.aiter_lines():
                    if line.startswith("data: {"):
                        text += json.loads(line[6:])["choices"][0]["text"]
            assert text == "return x + 1"
            slow = Oracle(lambda p, s: ("a b c d e f", ""), first_token_ms=300)
            slow_base = await slow.start()
            try:
                async with client.stream("POST", f"{slow_base}/completions", json=body):
                    pass  # hang up before the first token
                for _ in range(50):
                    if slow.stats.cancelled:
                        break
                    await asyncio.sleep(0.02)
                assert slow.stats.cancelled == 1 and slow.stats.completed == 0
            finally:
                await slow.stop()
    finally:
        await oracle.stop()
    assert oracle.stats.completed == 1 and oracle.stats.tokens == len(tokens_of("return x + 1"))
