"""Text that is not valid Unicode (lone surrogates) still gets suggestions and chat answers."""

from __future__ import annotations

from pathlib import Path

from pytest_lsp import LanguageClient

from testkit.fake_endpoint import FakeEndpoint, Reply
from testkit.fault_modes import ask
from testkit.session import endpoint_options, open_doc, start

TEXT = "name = 'caf\udce9'  # a byte that was not UTF-8\nother = '\ud800'\nvalue = \n"


async def test_lone_surrogates_do_not_fail_completion_or_chat(
    client: LanguageClient, endpoint: FakeEndpoint, tmp_path: Path
):
    await start(client, endpoint_options(endpoint), tmp_path)
    uri = open_doc(client, tmp_path / "s.py", TEXT)
    endpoint.default = Reply(text="len(name)")
    assert await ask(client, uri, 2, 8) == "len(name)"
    sent = endpoint.generation_requests()[-1].body["prompt"]
    assert "\ufffd" in sent and "value = " in sent
    endpoint.default = Reply(text="It names a cafe.")
    answer = await client.protocol.send_request_async(
        "qwen/chat",
        {
            "sessionId": "s",
            "message": "what is name?",
            "context": {
                "uri": uri,
                "range": {"start": {"line": 0, "character": 0}, "end": {"line": 1, "character": 0}},
            },
        },
    )
    assert answer.text == "It names a cafe."
