"""Consolidation against its floor: `libstats consolidate` (check, consolidate, summary workbook, dataset CSV,
descriptor) beside reading the same cells with python-calamine and summing them with pandas.

Both run as fresh processes (imports count on both sides), one after the other in pairs, so that a busy moment of
the shared machine falls on both; the ratio of each pair is printed (wall-clock and CPU seconds, the CPU ratio
being the steadier on a shared machine), then the medians and the ratio of the best run of each side. 63 returns
(one per province of 2024) and 3,321 returns (2025's 34 provinces 98 times over, the size of a commune-level
collection), with the consolidation's peak memory (its own and its largest worker's).

Run: python benchmarks/bench_consolidate.py [--pairs N] [--large-pairs N] [--small-only | --large-only]
     [--profile]   (cProfile of one 63-return consolidation, the 25 largest cumulative times)
     [--phases]    (where one 63-return consolidation spends its time: imports, checks, tables, each output)
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import make_returns
from libstats.model.form import build_form

FLOOR = r"""
import json, sys
import pandas as pd
from python_calamine import CalamineWorkbook
cells = json.load(open(sys.argv[1]))
rows = []
for path in open(sys.argv[2]).read().split("\n"):
    wb = CalamineWorkbook.from_path(path)
    sheets = {}
    for fid, sheet, row, col in cells:
        if sheet not in sheets:
            sheets[sheet] = wb.get_sheet_by_name(sheet).to_python()
        data = sheets[sheet]
        v = data[row][col] if row < len(data) and col < len(data[row]) else None
        rows.append((path, fid, v if isinstance(v, (int, float)) else None))
df = pd.DataFrame(rows, columns=["file", "field", "value"])
print(len(df.groupby("field")["value"].sum()))
"""

MEASURE = r"""
import resource, runpy, sys
sys.argv = ["libstats", *sys.argv[1:]]
try:
    runpy.run_module("libstats.cli", run_name="__main__")
except SystemExit as exc:
    if exc.code:
        raise
own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(f"PEAK {own:.0f} {kids:.0f}")
"""


def _cpu() -> float:
    """CPU seconds of this process's finished children (and theirs: the consolidation's check workers)."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def _env(tmp: str) -> dict:
    """The environment of both sides: modules compiled once and their bytecode kept (in ``tmp``), as an installed
    package has it, even where PYTHONDONTWRITEBYTECODE is set (compiling libstats' sources takes 0.3 s a run)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return {**env, "PYTHONHASHSEED": "0", "PYTHONPYCACHEPREFIX": str(Path(tmp) / "pycache")}


def _timed(cmd: list[str], env: dict) -> tuple[float, float, str]:
    """Wall-clock seconds, CPU seconds and the output of one fresh process."""
    start, cpu = time.perf_counter(), _cpu()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env)
    return time.perf_counter() - start, _cpu() - cpu, out.stdout


def bench(year: int, copies: int, limit: int | None, label: str, pairs: int) -> None:
    form = build_form(year)
    cells = [(f.id, f.sheet, f.row, f.col) for f in form.fields.values()]
    with tempfile.TemporaryDirectory() as tmp:
        inbox = Path(tmp) / "inbox"
        paths = make_returns(year, inbox, copies)
        for extra in paths[limit:] if limit else []:
            extra.unlink()
        paths = sorted(inbox.rglob("*.xlsx"))
        (Path(tmp) / "cells.json").write_text(json.dumps(cells))
        (Path(tmp) / "paths.txt").write_text("\n".join(map(str, paths)))
        floor_cmd = [sys.executable, "-c", FLOOR, str(Path(tmp) / "cells.json"), str(Path(tmp) / "paths.txt")]
        env = _env(tmp)
        walls, cpus, runs = [], [], []
        for i in range(-1, pairs):  # run -1 warms up (bytecode, disk cache) and is not counted
            out = Path(tmp) / f"out{i}" / "tong-hop.xlsx"
            took, took_cpu, stdout = _timed([sys.executable, "-c", MEASURE, "consolidate", str(inbox), "--year",
                                             str(year), "-o", str(out), "-q"], env)
            floor, floor_cpu, _ = _timed(floor_cmd, env)
            if i < 0:
                continue
            own, kids = (stdout.split("PEAK ")[1].split() if "PEAK " in stdout else ("?", "?"))
            walls.append(took / floor)
            cpus.append(took_cpu / floor_cpu)
            runs.append((took, floor))
            print(f"{label} pair {i + 1}: consolidate {took:.2f} s, CPU {took_cpu:.2f} s "
                  f"({took / len(paths) * 1000:.1f} ms per return; peak memory {own} MB, largest worker {kids} MB); "
                  f"calamine floor {floor:.2f} s, "
                  f"CPU {floor_cpu:.2f} s; ratio {took / floor:.2f}x, CPU {took_cpu / floor_cpu:.2f}x; "
                  f"load {os.getloadavg()[0]:.1f}", flush=True)
        best = min(t for t, _ in runs) / min(f for _, f in runs)
        print(f"{label}: median ratio {statistics.median(walls):.2f}x the calamine floor, CPU "
              f"{statistics.median(cpus):.2f}x, best of each {best:.2f}x ({pairs} pairs)", flush=True)


def profile(year: int = 2024) -> None:
    import pstats

    with tempfile.TemporaryDirectory() as tmp:
        inbox = Path(tmp) / "inbox"
        make_returns(year, inbox)
        prof = Path(tmp) / "prof"
        subprocess.run([sys.executable, "-m", "cProfile", "-o", str(prof), "-m", "libstats.cli", "consolidate",
                        str(inbox), "--year", str(year), "-o", str(Path(tmp) / "o" / "t.xlsx"), "-q"], check=True,
                       capture_output=True)
        pstats.Stats(str(prof)).sort_stats("cumulative").print_stats(25)


PHASES = r"""
import resource, sys, time
def cpu():
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime
marks = [("start", time.perf_counter(), cpu())]
def mark(label):
    marks.append((label, time.perf_counter(), cpu()))
from pathlib import Path
from libstats.consolidation.consolidate import consolidate_review
from libstats.consolidation.datapackage import write_descriptor
from libstats.consolidation.dataset import dataset_path, write_dataset
from libstats.consolidation.review import review_inbox
from libstats.outputs.summary import write_summary
mark("imports (pandas, xlsxwriter, libstats)")
review = review_inbox([Path(sys.argv[1])], 2024)
mark("check the returns (workers) and review")
con = consolidate_review(review)
mark("tidy dataset and tables")
out = Path(sys.argv[2])
write_summary(con, out)
mark("summary workbook")
write_dataset(con.tidy, dataset_path(out), con.form.spec, describe=False)
mark("dataset CSV")
write_descriptor(con.tidy, dataset_path(out), con.form.spec)
mark("descriptor")
for (_, t0, c0), (label, t1, c1) in zip(marks, marks[1:]):
    print(f"  {label:40s} {t1 - t0:5.2f} s, CPU {c1 - c0:5.2f} s")
"""


def phases(year: int = 2024) -> None:
    """One 63-return consolidation in a fresh process, timed part by part (the library's entry points that
    ``publish`` calls), after a warm-up run."""
    with tempfile.TemporaryDirectory() as tmp:
        inbox = Path(tmp) / "inbox"
        make_returns(year, inbox)
        env = _env(tmp)
        for i in range(2):
            out = subprocess.run([sys.executable, "-c", PHASES, str(inbox), str(Path(tmp) / f"o{i}.xlsx")],
                                 check=True, capture_output=True, text=True, env=env).stdout
        print("63 returns, part by part (a fresh process):\n" + out, end="")


def _arg(name: str, default: int) -> int:
    return int(sys.argv[sys.argv.index(name) + 1]) if name in sys.argv else default


if __name__ == "__main__":
    if "--profile" in sys.argv:
        profile()
        sys.exit()
    if "--phases" in sys.argv:
        phases()
        sys.exit()
    if "--large-only" not in sys.argv:
        bench(2024, 1, None, "63 returns", _arg("--pairs", 5))
    if "--small-only" not in sys.argv:
        bench(2025, 98, 3321, "3,321 returns", _arg("--large-pairs", 1))
