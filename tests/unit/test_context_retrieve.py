"""Retrieval: the right cross-file definitions for a cursor, ranked, within budget, stable."""

from __future__ import annotations

from pathlib import Path

import pytest

from lsp_server.context.repo_context import RepoContext
from tests.unit._ctx_helpers import add_unwanted_files, fixture_repo


@pytest.fixture
def py_engine(tmp_path: Path):
    root = fixture_repo("ctx_py", tmp_path)
    add_unwanted_files(root)
    engine = RepoContext([str(root)], cache_dir=str(tmp_path / "cache"), workers=1)
    engine.build_sync()
    yield root, engine
    engine.close()


def _cursor_after(text: str, marker: str) -> int:
    return text.index(marker) + len(marker)


def _blocks(engine: RepoContext, path: Path, text: str, offset: int, budget: int = 6000):
    return {cf.path: cf.text for cf in engine.context_files(str(path), text, offset, budget)}


def test_imported_definitions_and_receiver_members(py_engine) -> None:
    root, engine = py_engine
    path = root / "shop" / "checkout.py"
    text = path.read_text()
    # Blank the line that calls the gateway: the model must still see `charge`.
    line = "        return self.gateway.charge(total, token)\n"
    buffer = text.replace(line, "        \n")
    offset = buffer.index("        \n", buffer.index("total = ")) + 8
    blocks = _blocks(engine, path, buffer, offset)
    assert "shop/checkout.py" not in blocks  # the current file goes in FIM form, not here
    gateway = blocks["shop/payments/gateway.py"]
    assert "def charge(self, amount_cents: int, token: str) -> str:" in gateway
    assert "class PaymentGateway:" in gateway
    assert "def make_gateway(endpoint: str) -> PaymentGateway:" in gateway
    models = blocks["shop/models.py"]
    assert "class Cart:" in models and "def add_item(self, item: Item, quantity: int = 1)" in models
    # Signatures with their doc line, not bodies.
    assert "raise NotImplementedError" not in gateway
    assert '"""Charge a card token and return the transaction id."""' in gateway


def test_secrets_in_snippets_are_redacted(py_engine) -> None:
    root, engine = py_engine
    path = root / "shop" / "checkout.py"
    text = path.read_text() + "\nfrom .payments.gateway import API_KEY\nprint(API_KEY)\n"
    blocks = _blocks(engine, path, text, len(text))
    gateway = blocks["shop/payments/gateway.py"]
    assert "API_KEY" in gateway
    assert "sk-live-0123456789" not in gateway


def test_budget_is_respected_and_order_is_stable(py_engine) -> None:
    root, engine = py_engine
    path = root / "shop" / "checkout.py"
    text = path.read_text()
    offset = _cursor_after(text, "total = self.cart.total_cents()\n")
    for budget in (0, 80, 200, 400, 6000):
        files = engine.context_files(str(path), text, offset, budget)
        used = sum(len(f.text) + len(f.path) + 14 for f in files)
        assert used <= budget
    assert engine.context_files(str(path), text, offset, 0) == []
    first = engine.context_files(str(path), text, offset, 6000)
    # Typing on the same line must not reorder the context (servers cache prompt prefixes).
    typed = text[:offset] + "        ret" + text[offset:]
    again = engine.context_files(str(path), typed, offset + 11, 6000)
    assert [f.path for f in first] == [f.path for f in again]
    assert [f.path for f in first] == sorted(f.path for f in first) or len(first) > 1


def test_never_from_ignored_or_secret_files(py_engine) -> None:
    root, engine = py_engine
    path = root / "shop" / "report.py"
    text = "from shop.private.internal import hidden_helper\nhidden_helper()\n"
    blocks = _blocks(engine, path, text, len(text))
    assert not any("private" in p for p in blocks)
    assert not engine.may_send(str(root / ".env"))
    assert not engine.may_send(str(root / "shop" / "secret_notes.py"))
    assert engine.may_send(str(root / "shop" / "models.py"))


def test_typescript_member_of_parameter_property(tmp_path: Path) -> None:
    root = fixture_repo("ctx_ts", tmp_path)
    engine = RepoContext([str(root)], cache_dir=str(tmp_path / "cache"), workers=1)
    engine.build_sync()
    path = root / "src" / "service.ts"
    text = path.read_text().replace("    const user = this.repo.findById(id);\n", "    \n")
    offset = text.index("    \n    return user") + 4
    blocks = _blocks(engine, path, text, offset)
    user = blocks["src/models/user.ts"]
    assert "findById(id: string): User | undefined" in user
    assert "export interface User" in user
    engine.close()


def test_go_package_import_and_methods(tmp_path: Path) -> None:
    root = fixture_repo("ctx_go", tmp_path)
    engine = RepoContext([str(root)], cache_dir=str(tmp_path / "cache"), workers=1)
    engine.build_sync()
    path = root / "main.go"
    text = path.read_text().replace('\ts.Put("apple", 3)\n', "\t\n")
    offset = text.index("\t\n\tfmt.Println") + 1
    blocks = _blocks(engine, path, text, offset)
    store = blocks["store/store.go"]
    assert "func (s *Store) Put(name string, n int)" in store
    assert "func NewStore() *Store" in store
    engine.close()


def test_non_indexed_language_gets_no_context(py_engine) -> None:
    root, engine = py_engine
    assert engine.context_files(str(root / "notes.md"), "# hi\n", 3, 6000) == []
