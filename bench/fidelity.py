"""Run the post-processor offline on true and wrong continuations at every cursor of the tasks."""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass, field

from bench.corpus import Task
from lsp_server.completion.postprocess import PostContext, postprocess


def _is_multiline(document: str, offset: int) -> bool:
    try:
        from lsp_server.completion.pipeline import is_multiline
    except ImportError:  # the pipeline is not there yet: the same rule, roughly
        end = document.find("\n", offset)
        return not document[offset : len(document) if end < 0 else end].strip()
    return is_multiline(document, offset)


def _limit(text: str, multiline: bool, max_lines: int) -> str:
    if not multiline:
        return text.split("\n", 1)[0]
    return "\n".join(text.split("\n")[:max_lines])


def wrong_text(task: Task, pos: int, length: int, rng: random.Random) -> str:
    """Return plausible but wrong code: a same-sized piece from elsewhere in the file."""
    for _ in range(8):
        at = rng.randrange(0, max(1, len(task.text) - length))
        piece = task.text[at : at + max(length, 8)]
        if piece and not task.truth(pos).startswith(piece[:4]):
            return piece
    return "pass  # " + task.truth(pos)[::-1]


@dataclass
class Fidelity:
    """What the post-processor did to correct and to wrong suggestions."""

    correct: Counter[str] = field(default_factory=Counter)
    wrong: Counter[str] = field(default_factory=Counter)
    hits: Counter[str] = field(default_factory=Counter)
    chars_kept: int = 0
    chars_offered: int = 0
    timings_ms: list[float] = field(default_factory=list)


def measure(tasks: list[Task], max_lines: int = 8, step: int = 1, seed: int = 7) -> Fidelity:
    """Post-process the truth and a wrong answer at each cursor; classify what came out."""
    rng = random.Random(seed)
    out = Fidelity()
    for task in tasks:
        key = f"fidelity:{task.name}"
        for pos in range(task.start, task.end, step):
            document = task.document(pos)
            multiline = _is_multiline(document, pos)
            truth = _limit(task.truth(pos), multiline, max_lines)
            if not truth.strip():
                continue
            ctx = PostContext(
                prefix=document[:pos], suffix=document[pos:], language=task.language,
                multiline=multiline, max_lines=max_lines, document_key=key,
            )
            started = time.perf_counter()
            result = postprocess(truth, ctx)
            out.timings_ms.append((time.perf_counter() - started) * 1000)
            out.hits.update(result.rule_hits)
            out.chars_offered += len(truth)
            if result.text == truth:
                out.correct["unchanged"] += 1
                out.chars_kept += len(truth)
            elif not result.text:
                out.correct["rejected"] += 1
            elif truth.startswith(result.text):
                out.correct["shortened"] += 1
                out.chars_kept += len(result.text)
            else:
                out.correct["damaged"] += 1
            bad = _limit(wrong_text(task, pos, len(truth), rng), multiline, max_lines)
            shown = postprocess(bad, ctx).text
            if not shown:
                out.wrong["rejected"] += 1
            elif shown == bad:
                out.wrong["kept"] += 1
            else:
                out.wrong["cut"] += 1
    return out
