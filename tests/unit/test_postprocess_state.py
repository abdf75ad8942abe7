"""What the post-processor keeps between calls: a bounded LRU of parse trees, no documents."""

from __future__ import annotations

import gc
import weakref

from lsp_server.completion.postprocess import PostContext, check_syntax, postprocess
from lsp_server.completion.postprocess.parse import _tree_cache


def _check(key: str) -> None:
    c = PostContext("def f(x):\n    return x", "\n", "python", False, document_key=key)
    assert check_syntax(" * 2", c) == " * 2"


def test_the_tree_cache_keeps_the_16_most_recently_used_documents():
    _tree_cache.clear()
    for i in range(16):
        _check(f"file:///{i}.py")
    _check("file:///0.py")  # used again: the oldest unused one is now 1.py
    _check("file:///16.py")
    keys = set(_tree_cache)
    assert len(keys) == 16
    assert ("file:///0.py", "python") in keys
    assert ("file:///1.py", "python") not in keys
    assert ("file:///16.py", "python") in keys


def test_postprocess_keeps_no_document_alive_after_it_returns():
    c = PostContext("class A {\n  f() {\n    return ", "\n  }\n}\n", "typescript", True)
    assert postprocess("1;\n  }\n}", c).text == "1;"
    ref = weakref.ref(c)
    del c
    gc.collect()
    assert ref() is None
