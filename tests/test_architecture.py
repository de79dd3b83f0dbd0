"""The module graph as docs/architecture.md states it: the reading side never loads the writer, no cycles."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "libstats"
READING_SIDE = ["xlsx", "intake", "reader", "check", "coerce", "rules", "result", "findings", "layout", "form",
                "spec", "batch"]


def _imports() -> dict[str, set[str]]:
    """Each libstats module → the libstats modules it imports (at the top or inside a function)."""
    graph = {}
    for path in PACKAGE.glob("*.py"):
        found = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                found.update([node.module] if node.module else [a.name for a in node.names])
            elif isinstance(node, ast.ImportFrom) and node.module == "libstats":
                found.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("libstats."):
                found.add(node.module.split(".")[1])
        graph[path.stem] = {m.split(".")[0] for m in found}
    return graph


def test_the_reading_side_never_loads_the_writer():
    code = ("import sys\n" + "".join(f"import libstats.{m}\n" for m in READING_SIDE)
            + "print(sorted(m for m in ('xlsxwriter', 'libstats.template', 'libstats.summary', 'openpyxl') "
              "if m in sys.modules))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "[]"
    graph = _imports()
    for module in READING_SIDE:
        assert not graph[module] & {"template", "summary", "feedback", "cli"}, module


def test_the_modules_import_each_other_without_a_cycle():
    graph = _imports()
    state: dict[str, str] = {}

    def visit(m: str, path: list[str]) -> None:
        state[m] = "open"
        for n in sorted(graph.get(m, ())):
            assert state.get(n) != "open", " → ".join(path + [m, n])
            if n not in state:
                visit(n, path + [m])
        state[m] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [])
    assert {"dataset", "rollover"} <= set(graph) and "dataset" not in graph["rollover"]
