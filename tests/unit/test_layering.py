"""The import rules of the code base: handlers translate, domain code knows nothing of LSP."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "lsp_server"


def _runtime_imports(path: Path) -> set[str]:
    """Return the modules a file imports when it runs (not under `if TYPE_CHECKING:`)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = {id(node) for stmt in ast.walk(tree) if isinstance(stmt, ast.If)
               and getattr(stmt.test, "id", None) == "TYPE_CHECKING"
               for node in ast.walk(stmt)}
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def test_no_feature_module_imports_another_or_the_server_at_run_time():
    for path in sorted((PACKAGE / "features").glob("*.py")):
        imports = _runtime_imports(path)
        assert not {m for m in imports if m.startswith("lsp_server.features")}, path.name
        assert "lsp_server.server" not in imports, path.name


def test_the_chat_service_planner_and_stats_load_without_pygls_or_lsprotocol():
    code = ("import sys\n"
            "import lsp_server.chat.service, lsp_server.chat.planner, lsp_server.documents\n"
            "import lsp_server.stats\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pygls', 'lsprotocol')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=PACKAGE.parent)
    assert out.stdout.strip() == "[]"
