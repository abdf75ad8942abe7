"""Token counts from the endpoint's own tokenizer, and budgets fitted to a token cap."""

from __future__ import annotations

import pytest

from lsp_server.model import qwen_tokenizer
from lsp_server.model.client import ModelClient
from lsp_server.model.dialects import TokenCount, dialect_for
from lsp_server.model.tokens import ESTIMATED_CHARS_PER_TOKEN, TokenMeter, fit_budgets
from lsp_server.settings import EndpointSettings
from testkit.fake_endpoint import FakeEndpoint

SAMPLE = "def handler(request):\n    return respond(request.args)\n" * 10


def client_for(ep: FakeEndpoint, provider: str) -> ModelClient:
    base = f"{ep.url}/v1" if provider in ("openai", "dashscope") else ep.url
    return ModelClient(EndpointSettings(base_url=base, provider=provider))


@pytest.mark.parametrize("provider", ["openai", "llamacpp"])
async def test_calibration_adopts_the_endpoint_ratio(provider: str):
    with FakeEndpoint() as ep:
        ep.chars_per_token = 2.5
        client = client_for(ep, provider)
        meter = TokenMeter()
        assert meter.due()
        assert await meter.calibrate(client, SAMPLE, "m")
        await client.aclose()
        assert meter.source == "endpoint"
        assert meter.chars_per_token == pytest.approx(2.5, rel=0.01)
        tokenize = [r for r in ep.requests if r.path == "/tokenize"]
        assert len(tokenize) == 1
        key = "prompt" if provider == "openai" else "content"
        assert tokenize[0].body[key] == SAMPLE
        # vLLM says how long its context is; llama.cpp's /tokenize does not.
        assert meter.max_context == (32768 if provider == "openai" else None)


async def test_an_endpoint_without_a_tokenizer_is_probed_once_then_qwen_counts_locally():
    # Qwen's own BPE (a dependency) counts where the endpoint cannot.
    with FakeEndpoint() as ep:  # no /tokenize route: 404
        client = client_for(ep, "openai")
        meter = TokenMeter()
        assert await meter.calibrate(client, SAMPLE)
        assert await meter.calibrate(client, SAMPLE)
        await client.aclose()
        # Each request shape the dialect knows was tried once, and never again.
        assert [r.body for r in ep.requests if r.path == "/tokenize"] == [
            {"model": "", "prompt": SAMPLE}, {"content": SAMPLE}]
        assert meter.source == "qwen-tokenizer"
        assert meter.chars_per_token == pytest.approx(len(SAMPLE) / qwen_tokenizer.count(SAMPLE))


async def test_qwens_tokenizer_counts_in_a_process_of_its_own():
    """Building tiktoken's encoder holds the interpreter for 100 ms: never in the server."""
    import os

    try:
        assert await qwen_tokenizer.count_off_loop(SAMPLE) == qwen_tokenizer.count(SAMPLE)
        worker = qwen_tokenizer._worker
        assert worker is not None
        pids = {p.pid for p in worker._processes.values()}
        assert pids and os.getpid() not in pids
    finally:
        qwen_tokenizer.close()
    assert qwen_tokenizer._worker is None


async def test_without_any_tokenizer_the_estimate_stays(monkeypatch: pytest.MonkeyPatch):
    async def no_count(text: str) -> None:
        return None

    monkeypatch.setattr(qwen_tokenizer, "count_off_loop", no_count)
    with FakeEndpoint() as ep:
        client = client_for(ep, "openai")
        meter = TokenMeter()
        assert not await meter.calibrate(client, SAMPLE)
        assert not await meter.calibrate(client, SAMPLE)
        await client.aclose()
        assert len([r for r in ep.requests if r.path == "/tokenize"]) == 2
        assert meter.source == "estimate"
        assert meter.chars_per_token == ESTIMATED_CHARS_PER_TOKEN


async def test_llamacpp_behind_the_openai_dialect_is_counted_and_probed_once():
    # llama.cpp answers vLLM's `{"prompt"}` with `{"tokens": []}`: not a count of 0.
    with FakeEndpoint() as ep:
        ep.chars_per_token = 2.5
        ep.tokenizer_flavour = "llamacpp"
        client = client_for(ep, "openai")
        for _ in range(3):
            count = await client.count_tokens(SAMPLE, "m")
            assert count is not None and count.tokens == pytest.approx(len(SAMPLE) / 2.5, abs=1)
        await client.aclose()
        bodies = [r.body for r in ep.requests if r.path == "/tokenize"]
        assert bodies == [{"model": "m", "prompt": SAMPLE}] + [{"content": SAMPLE}] * 3


async def test_a_route_that_never_counts_is_not_asked_after_every_answer():
    with FakeEndpoint() as ep:
        ep.chars_per_token = 2.5
        ep.tokenizer_flavour = "empty"  # answers every shape with `{"tokens": []}`
        client = client_for(ep, "openai")
        for _ in range(5):
            assert await client.count_tokens(SAMPLE) is None
        await client.aclose()
        assert len([r for r in ep.requests if r.path == "/tokenize"]) == 2


def test_an_empty_token_list_or_a_zero_count_is_no_count():
    dialect = dialect_for("openai")
    assert dialect.token_count({"tokens": []}) is None
    assert dialect.token_count({"count": 0, "tokens": []}) is None
    assert dialect.token_count({"count": 7, "max_model_len": 4096}) == TokenCount(7, 4096)
    assert dialect.token_count({"tokens": [1, 2, 3]}) == TokenCount(3)


def test_qwen_special_tokens_count_as_one_token_each():
    assert qwen_tokenizer.count("<|fim_prefix|>") == 1
    assert qwen_tokenizer.count("<|repo_name|>r\n<|file_sep|>a.py\n") == 7
    # Regular text: Qwen's BPE ("hello" and " world" are one token each).
    assert qwen_tokenizer.count("hello world") == 2


def _corpus() -> list[str]:
    """Source files of several languages and styles, plus non-ASCII and unnormalised text."""
    import sysconfig
    from pathlib import Path

    stdlib = Path(sysconfig.get_paths()["stdlib"])
    names = ["argparse.py", "textwrap.py", "json/decoder.py", "email/_header_value_parser.py",
             "unicodedata.py", "locale.py", "difflib.py", "http/client.py"]
    texts = [f.read_text("utf-8") for n in names if (f := stdlib / n).is_file()]
    repo = Path(__file__).resolve().parents[2]
    texts += [f.read_text("utf-8") for f in sorted(repo.glob("clients/**/*.ts"))[:10]]
    texts += [f.read_text("utf-8") for f in sorted(repo.glob("clients/**/*.lua"))[:10]]
    texts.append("# 数据处理 — café 𝔘𝔫𝔦𝔠𝔬𝔡𝔢\nname = 'Cafe\u0301'  # décomposé\n\t\t  \n\n\n")
    return [t for t in texts if "<|" not in t]  # dashscope's special tokens differ from ours


def test_counts_match_alibabas_own_qwen_tokenizer_on_a_corpus():
    # dashscope tokenizes with its own copy of the vocabulary and its own code: the counts
    # must agree exactly, text by text, or budgets built on them are not Qwen's.
    tokenizers = pytest.importorskip("dashscope.tokenizers")
    reference = tokenizers.get_tokenizer("qwen-turbo")
    corpus = _corpus()
    assert len(corpus) >= 10 and sum(map(len, corpus)) > 300_000
    for text in corpus:
        ours, theirs = qwen_tokenizer.count(text), len(reference.encode(text))
        if len(text) <= 100_000:
            assert ours == theirs
        else:  # both count a long text in pieces, split at different lines
            assert abs(ours - theirs) <= len(text) // 100_000


def test_the_vocabulary_comes_from_the_installed_package_and_nothing_is_cached(
    monkeypatch: pytest.MonkeyPatch, tmp_path
):
    # tiktoken's own loader would read and write a shared cache directory: never used.
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    ranks, package = qwen_tokenizer._read_vocabulary()
    assert package == "qwen_tokenizer" and len(ranks) == 151643
    assert not list(tmp_path.iterdir())


def test_an_unknown_vocabulary_file_is_refused(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(qwen_tokenizer, "VOCABULARY_SHA256", "0" * 64)
    with pytest.raises(OSError, match=r"unknown qwen\.tiktoken"):
        qwen_tokenizer._read_vocabulary()
    monkeypatch.setattr(qwen_tokenizer, "VOCABULARY_SOURCES", (("no_such_package", ("x",)),))
    with pytest.raises(OSError, match="no_such_package"):
        qwen_tokenizer._read_vocabulary()


def test_a_very_long_text_is_counted_without_overflowing_tiktoken():
    # One 300,000-character line and many short ones: counted in pieces, about right.
    line = "x" * 300_000
    assert qwen_tokenizer.count(line) > 0
    text = "value = compute(item)\n" * 20_000
    assert qwen_tokenizer.count(text) == 20_000 * qwen_tokenizer.count("value = compute(item)\n")


@pytest.mark.parametrize("provider", ["dashscope", "ollama"])
async def test_providers_without_a_tokenizer_are_not_asked(provider: str):
    with FakeEndpoint() as ep:
        ep.chars_per_token = 2.0
        client = client_for(ep, provider)
        assert await client.count_tokens(SAMPLE) is None
        await client.aclose()
        assert not ep.requests


async def test_an_unreachable_tokenizer_never_raises():
    client = ModelClient(EndpointSettings(base_url="http://127.0.0.1:9/v1", provider="openai"))
    meter = TokenMeter()
    assert await meter.calibrate(client, SAMPLE)  # Qwen's tokenizer counted instead
    assert meter.source == "qwen-tokenizer"
    await client.aclose()


def test_later_calibrations_are_smoothed():
    meter = TokenMeter(chars_per_token=3.0, source="endpoint")
    assert not meter.due()  # calibrated already: only now and then

    class Counter:
        async def count_tokens(self, text: str, model: str = ""):
            from lsp_server.model.dialects import TokenCount
            return TokenCount(len(text) // 4)

    import asyncio
    asyncio.run(meter.calibrate(Counter(), SAMPLE))  # type: ignore[arg-type]
    assert 3.0 < meter.chars_per_token < 4.0


def test_budgets_shrink_in_proportion_to_fit_a_token_cap():
    meter = TokenMeter(chars_per_token=2.0)
    assert fit_budgets(6000, 2000, 6000, prompt_tokens=0, answer_tokens=128,
                       meter=meter) == (6000, 2000, 6000)
    prefix, suffix, context = fit_budgets(6000, 2000, 6000, prompt_tokens=2000,
                                          answer_tokens=128, meter=meter)
    assert prefix + suffix + context <= 2000 * 2.0
    assert prefix / 6000 == pytest.approx(suffix / 2000, rel=0.01)
    # The endpoint's context window, less the answer, caps the prompt when nothing else does.
    meter.max_context = 1128
    small = fit_budgets(6000, 2000, 6000, prompt_tokens=0, answer_tokens=128, meter=meter)
    assert sum(small) <= 1000 * 2.0
