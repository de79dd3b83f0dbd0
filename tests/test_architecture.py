"""The layout as docs/architecture.md states it: the folders import each other only downstream, the reading
side never loads a writer, no module imports in a cycle, no private name of a dependency is used."""

from __future__ import annotations

import ast
import functools
import subprocess
import sys
from pathlib import Path

from libstats import docs

import_graph = functools.cache(docs.import_graph)  # the package's modules parsed once for all the tests here

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


# -- what the code itself may be ---------------------------------------------------------------------------------

PACKAGE = Path(__file__).resolve().parents[1] / "libstats"
MAX_CLASS, MAX_FUNCTION = 200, 60


@functools.cache
def modules() -> dict[str, ast.Module]:
    return {p.relative_to(PACKAGE).as_posix(): ast.parse(p.read_text(encoding="utf-8"))
            for p in sorted(PACKAGE.rglob("*.py"))}


def third_party(module: str | None) -> bool:
    top = (module or "").split(".")[0]
    return bool(top) and top != "libstats" and top not in sys.stdlib_module_names


def private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def private_uses(tree: ast.Module) -> list[str]:
    """Private names of third-party packages: imported (``from x import _y``, ``import x._y``), read off a name
    bound to one of their modules, classes or functions (``x._y``, ``Worksheet._y``), off ``super()`` in a class
    derived from one of their classes, or overridden there (a method ``_y``)."""
    bound, found = set(), []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if third_party(alias.name):
                    bound.add(alias.asname or alias.name.split(".")[0])
                    found += [f"import {alias.name}"] * any(map(private, alias.name.split(".")))
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and third_party(node.module):
            found += [f"from {node.module} import"] * any(map(private, node.module.split(".")))
            for alias in node.names:
                bound.add(alias.asname or alias.name)
                found += [f"from {node.module} import {alias.name}"] * private(alias.name)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and private(node.attr):
            if isinstance(node.value, ast.Name) and node.value.id in bound:
                found.append(f"line {node.lineno}: {node.value.id}.{node.attr}")
            if isinstance(node.value, ast.Call) and getattr(node.value.func, "id", "") == "super":
                found.append(f"line {node.lineno}: super().{node.attr}")
        if isinstance(node, ast.ClassDef) and any(getattr(b, "id", getattr(b, "attr", "")) in bound or (
                isinstance(b, ast.Attribute) and isinstance(b.value, ast.Name) and b.value.id in bound)
                for b in node.bases):
            found += [f"line {f.lineno}: {node.name}.{f.name} overrides a private method" for f in node.body
                      if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef)) and private(f.name)]
    return found


def test_no_private_name_of_a_third_party_package_is_used():
    used = {name: found for name, tree in modules().items() if (found := private_uses(tree))}
    assert used == {}


def test_no_private_attribute_of_another_object_is_read_or_written():
    """``x._y`` only on the module's own objects (``self``, ``cls``): never a dependency's element behind a public
    proxy (python-docx's ``run._r``), nor a dependency's module global written over (``click.core._``). The
    standard library's documented ``os._exit`` is the one exception."""
    found = {}
    for name, tree in modules().items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and private(node.attr) and not (
                    isinstance(node.value, ast.Name) and node.value.id in ("self", "cls", "os")):
                found.setdefault(name, []).append(f"line {node.lineno}: {ast.unparse(node)}")
    assert found == {}


def test_the_private_name_check_sees_each_way_of_reaching_in():
    code = ("import xlsxwriter.worksheet as ws\nfrom openpyxl import load_workbook, _x\nimport pandas._libs\n"
            "from xlsxwriter.worksheet import Worksheet\nimport json\n"
            "class W(Worksheet):\n    def _write_cell(self): return super()._write_cell()\n"
            "ws._prepare\nload_workbook._cache\njson._default_decoder\nWorksheet.__name__\n")
    assert sorted(private_uses(ast.parse(code))) == sorted([
        "from openpyxl import _x", "import pandas._libs", "line 8: ws._prepare", "line 9: load_workbook._cache",
        "line 7: W._write_cell overrides a private method", "line 7: super()._write_cell"])


def too_long(trees: dict[str, ast.Module]) -> dict[str, int]:
    out = {}
    for name, tree in trees.items():
        for node in ast.walk(tree):
            if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > (MAX_CLASS if isinstance(node, ast.ClassDef) else MAX_FUNCTION):
                    out[f"{name}: {node.name}"] = lines
    return out


def test_no_class_is_over_200_lines_and_no_function_over_60():
    assert too_long(modules()) == {}
    short = ast.parse("def f():\n" + "    x = 1\n" * 59 + "class C:\n" + "    x = 1\n" * 200)
    assert too_long({"m": short}) == {"m: C": 201}
