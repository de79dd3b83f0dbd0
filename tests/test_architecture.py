"""The layout as docs/architecture.md states it: the folders import each other only downstream, the reading
side never loads a writer, no module imports in a cycle, no private name of a dependency is used."""

from __future__ import annotations

import subprocess
import sys

from libstats.docs import import_graph

# Each folder and the folders it may import (`atomic` is shared; cli, demo and docs sit on top of everything).
ALLOWED = {
    "model": set(),
    "forms": {"model"},
    "intake": {"model"},
    "checks": {"model", "intake"},
    "consolidation": {"model", "intake", "checks"},
    "outputs": {"model", "intake", "checks", "consolidation", "forms"},
    "collection": {"model", "forms", "intake", "checks", "consolidation", "outputs"},
}
TOP = {"cli", "demo", "docs", "atomic"}


def folder(module: str) -> str:
    return module.split(".")[0]


def test_every_module_is_in_a_folder_of_the_layout_or_at_the_top():
    stray = [m for m in import_graph() if folder(m) not in ALLOWED and m not in TOP]
    assert stray == []


def test_folders_import_only_the_folders_before_them():
    wrong = []
    for module, deps in import_graph().items():
        if module in TOP:
            continue
        for dep in deps:
            if dep != "atomic" and folder(dep) != folder(module) and folder(dep) not in ALLOWED[folder(module)]:
                wrong.append(f"{module} → {dep}")
    assert wrong == []
    assert import_graph()["atomic"] == set()


def test_the_reading_side_never_loads_a_writer():
    reading = sorted(m for m in import_graph() if folder(m) in {"model", "intake", "checks"})
    code = ("import sys\n" + "".join(f"import libstats.{m}\n" for m in reading)
            + "print(sorted(m for m in ('xlsxwriter', 'openpyxl', 'docx', 'libstats.forms.template', "
              "'libstats.outputs.summary') if m in sys.modules))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "[]"


def test_the_modules_import_each_other_without_a_cycle():
    graph = import_graph()
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
    assert "consolidation.dataset" not in graph["consolidation.rollover"]
