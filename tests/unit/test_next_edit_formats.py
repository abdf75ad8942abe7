"""Each next-edit format's prompt against a golden example, and answer parsing."""

from __future__ import annotations

import pytest

from lsp_server.nextedit.formats import NextEditInput, get_format
from lsp_server.nextedit.history import Hunk
from lsp_server.nextedit.parse import between_markers
from lsp_server.nextedit.region import Region
from lsp_server.prompt import ContextFile

TEXT = "import math\n\ndef area(w, h):\n    return width * height\n\nprint(area(1, 2))\n"
REGION = "def area(w, h):\n    return width * height\n\n"
NEW = "def area(w, h):\n    return w * h\n\n"


def make_input(gate=lambda s: s) -> NextEditInput:
    start = TEXT.index("def area")
    return NextEditInput(
        path="geo.py", language="python", text=TEXT, offset=TEXT.index("):"),
        region=Region(2, 5, start, start + len(REGION)),
        original_region="def area(width, height):\n    return width * height\n\n",
        history=[Hunk("file:///geo.py", "geo.py", 2, "def area(width, height):\n",
                      "def area(w, h):\n")],
        context_files=[ContextFile("util.py", "def helper():\n    pass\n")], gate=gate)


SWEEP = """\
<|file_sep|>geo.py
import math

def area(w, h):
    return width * height

print(area(1, 2))
<|file_sep|>util.py
def helper():
    pass
<|file_sep|>geo.py.diff
original:
def area(width, height):
updated:
def area(w, h):
<|file_sep|>original/geo.py:3:5
def area(width, height):
    return width * height

<|file_sep|>current/geo.py:3:5
def area(w, h<|cursor|>):
    return width * height

<|file_sep|>updated/geo.py:3:5
"""

ZETA = """\
### Instruction:
Study the edits the user just made, then rewrite the excerpt below with the changes that \
should follow them, inside the editable region and mindful of the cursor.

### User Edits:

User edited "geo.py":
```diff
@@ -3,1 +3,1 @@
-def area(width, height):
+def area(w, h):
```

### User Excerpt:

```geo.py
<|start_of_file|>
import math

<|editable_region_start|>
def area(w, h<|user_cursor_is_here|>):
    return width * height

<|editable_region_end|>
print(area(1, 2))
```

### Response:
"""

INSTINCT_USER = """\
Use the snippets, the developer's recent edits and the excerpt to infer what they are doing, \
then rewrite the editable region of the excerpt with the change they would make next: code \
may be added, removed or changed.

### Context:
<|context_file|> util.py
<|snippet|>
def helper():
    pass


### User Edits:

User edited file "geo.py"

```diff
@@ -3,1 +3,1 @@
-def area(width, height):
+def area(w, h):
```

### User Excerpt:
geo.py

import math

<|editable_region_start|>
def area(w, h<|user_cursor_is_here|>):
    return width * height

<|editable_region_end|>
print(area(1, 2))
```
### Response:"""


def test_sweep_golden():
    prompt = get_format("sweep").build(make_input())
    assert prompt.kind == "completion" and prompt.prompt == SWEEP
    assert prompt.stop == ("<|file_sep|>", "<|endoftext|>")


def test_zeta_golden():
    prompt = get_format("zeta").build(make_input())
    assert prompt.kind == "completion" and prompt.prompt == ZETA
    assert "<|editable_region_end|>" in prompt.stop


def test_instinct_golden():
    prompt = get_format("instinct").build(make_input())
    assert prompt.kind == "chat"
    system, user = prompt.messages
    assert system["role"] == "system" and system["content"].startswith("You are Instinct")
    assert user == {"role": "user", "content": INSTINCT_USER}


def test_chat_prompt_marks_region_and_cursor():
    prompt = get_format("chat").build(make_input())
    system, user = prompt.messages
    assert "editable region" in system["content"] and "fenced code block" in system["content"]
    body = user["content"]
    assert "## Recent edits (oldest first)" in body and "+def area(w, h):" in body
    assert ("<|editable_region_start|>\ndef area(w, h<|user_cursor_is_here|>):\n"
            "    return width * height\n\n<|editable_region_end|>\n") in body
    assert "`util.py`" in body


def test_every_piece_passes_the_gate():
    seen: list[str] = []

    def gate(text: str) -> str:
        seen.append(text)
        return text.replace("math", "MATH").replace("helper", "HELPER")

    for name in ("sweep", "zeta", "instinct", "chat"):
        text = get_format(name).build(make_input(gate)).text
        assert "math" not in text, name
        if name != "zeta":
            assert "HELPER" in text and "helper" not in text, name


ANSWERS = {
    "markers": f"<|editable_region_start|>\n{NEW}<|editable_region_end|>\n",
    "markers in a fence": f"```geo.py\nimport math\n\n<|editable_region_start|>\n{NEW}"
                          "<|editable_region_end|>\nprint(area(1, 2))\n```",
    "start marker only (stopped at the end marker)": f"```geo.py\n<|editable_region_start|>\n"
                                                     f"{NEW}",
    "end marker only": f"{NEW}<|editable_region_end|>",
    "fence and chatter": f"Sure! Here is the updated region:\n\n```python\n{NEW}```\n\n"
                         "I renamed the uses.",
    "bare code": NEW,
    "cursor marker left in": NEW.replace("(w, h)", "(w, h<|user_cursor_is_here|>)"),
    "thinking first": f"<think>rename</think>\n```python\n{NEW}```",
}


@pytest.mark.parametrize("case", sorted(ANSWERS))
def test_answer_parsing_is_robust(case: str):
    assert between_markers(ANSWERS[case], REGION) == NEW


@pytest.mark.parametrize("fmt", ["sweep", "zeta", "instinct", "chat"])
def test_each_format_parses_its_own_answer(fmt: str):
    from testkit.fake_next_edit import answer

    assert get_format(fmt).parse(answer(fmt, NEW, "geo.py"), make_input()) == NEW


def test_unclosed_fence_with_prose_only_is_nothing():
    assert between_markers("```\n", REGION) in (None, "")
    assert between_markers("I am not sure what you mean ```", REGION) is None


def test_sweep_answer_stops_at_the_next_section():
    fmt = get_format("sweep")
    assert fmt.parse(f"{NEW}<|file_sep|>other.py\nx = 1\n", make_input()) == NEW
    assert fmt.parse(NEW.replace("w * h", "w * h<|cursor|>"), make_input()) == NEW


def test_code_holding_fences_is_not_mistaken_for_a_fenced_answer():
    region = 'def doc():\n    """Use it as\n\n    ```\n    x = 1\n    ```\n    """\n'
    new = region.replace("x = 1", "x = 2")
    assert between_markers(new, region) == new
    assert get_format("sweep").parse(new + "<|file_sep|>", make_input()) is not None
