"""Next-edit answers as each model format writes them, and the region read back out of a
prompt: for scripting the fake endpoint (`FakeEndpoint.responder`) and for oracles."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from testkit.fake_endpoint import Reply

START, END = "<|editable_region_start|>", "<|editable_region_end|>"
CURSORS = ("<|user_cursor_is_here|>", "<|cursor|>")


def prompt_text(body: Any) -> str:
    """Return what the model reads: a completion prompt, or the last chat message."""
    if not isinstance(body, dict):
        return ""
    if "prompt" in body:
        return str(body["prompt"])
    messages = body.get("messages") or []
    return str(messages[-1].get("content", "")) if messages else ""


def region_in(fmt: str, body: Any) -> str | None:
    """Return the editable region (without the cursor marker) a prompt asks about."""
    text = prompt_text(body)
    if fmt == "sweep":
        found = re.search(r"<\|file_sep\|>current/[^\n]*\n(.*)<\|file_sep\|>updated/", text,
                          re.DOTALL)
    else:
        found = re.search(re.escape(START) + r"\n(.*?)" + re.escape(END), text, re.DOTALL)
    if found is None:
        return None
    region = found.group(1)
    for marker in CURSORS:
        region = region.replace(marker, "")
    return region


def answer(fmt: str, new_region: str, path: str = "file") -> str:
    """Return a model answer that rewrites the region as `new_region`, in `fmt`'s way."""
    if fmt == "sweep":
        return new_region  # it completes `updated/` and stops at the next <|file_sep|>
    if fmt == "zeta":
        return f"```{path}\n{START}\n{new_region}"  # generation stops at the end marker
    if fmt == "instinct":
        return f"{START}\n{new_region}{END}"
    return f"Here is the region:\n```python\n{new_region}```\n"


def responder(fmt: str, rewrite: Callable[[str], str | None]) -> Callable[[Any], Reply | None]:
    """Return a responder answering each prompt with `rewrite(region)` in `fmt`."""

    def respond(body: Any) -> Reply | None:
        region = region_in(fmt, body)
        if region is None:
            return None
        new = rewrite(region)
        return None if new is None else Reply(text=answer(fmt, new))

    return respond
