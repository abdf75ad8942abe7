"""Next-edit answers for the VS Code client's endpoint script (`clients/vscode/test/e2e/
endpoint.py` imports them from here); they live in `testkit/fake_next_edit.py`."""

from __future__ import annotations

from testkit.fake_next_edit import answer, prompt_text, region_in, responder

__all__ = ["answer", "prompt_text", "region_in", "responder"]
