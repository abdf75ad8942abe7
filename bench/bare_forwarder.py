"""The floor for bench/overhead.py: a pygls server that does nothing but forward.

It keeps the open documents (pygls' own document sync), and answers
`textDocument/inlineCompletion` by sending a file-level Qwen FIM prompt (the whole prefix and
suffix, no repository context, no cache, no debounce, no post-processing) to an
OpenAI-compatible completions route with httpx, streamed, and returning the text. Whatever
qwen-lsp spends beyond this is its own cost.

    python bench/bare_forwarder.py BASE_URL MODEL
"""

from __future__ import annotations

import json
import logging
import sys

import httpx
from lsprotocol import types
from pygls.lsp.server import LanguageServer


def _offset(text: str, line: int, character: int) -> int:
    """Return the offset of an LSP position (UTF-16 columns are ASCII ones for the bench)."""
    start = 0
    for _ in range(line):
        start = text.index("\n", start) + 1
    return start + character


def create(base_url: str, model: str) -> LanguageServer:
    """Return the forwarding server."""
    server = LanguageServer("bare-forwarder", "1")
    http: dict[str, httpx.AsyncClient] = {}

    @server.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions())
    async def inline(
        ls: LanguageServer, params: types.InlineCompletionParams
    ) -> types.InlineCompletionList:
        doc = ls.workspace.get_text_document(params.text_document.uri)
        text = doc.source
        offset = _offset(text, params.position.line, params.position.character)
        prompt = f"<|fim_prefix|>{text[:offset]}<|fim_suffix|>{text[offset:]}<|fim_middle|>"
        client = http.get("client")
        if client is None:
            client = http["client"] = httpx.AsyncClient(base_url=base_url, timeout=10)
        body = {
            "model": model,
            "prompt": prompt,
            "max_tokens": 64,
            "temperature": 0,
            "stream": True,
        }
        answer = ""
        async with client.stream("POST", "/completions", json=body) as response:
            async for line in response.aiter_lines():
                if line.startswith("data: ") and line != "data: [DONE]":
                    answer += json.loads(line[6:])["choices"][0].get("text", "")
        return types.InlineCompletionList(
            items=[
                types.InlineCompletionItem(
                    insert_text=answer, range=types.Range(params.position, params.position)
                )
            ]
        )

    return server


def main() -> None:
    """Serve over stdio."""
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    create(sys.argv[1], sys.argv[2]).start_io()


if __name__ == "__main__":
    main()
