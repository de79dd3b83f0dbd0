"""Check 63 filled returns against the calamine floor: reading the same cells with python-calamine alone.

Target (issue 20): the check of 63 returns within 2x of the floor; one upload's verdict well under a second.
Each figure is the median of RUNS runs, each run timing every job back to back so that a run's ratios share
its load (the load average is printed); each job's CPU time (this process and its finished children, the check
workers) is printed beside its wall-clock time, with the CPU-time ratio: on a shared machine the CPU times
swing much less than the wall-clock ones. Round 1 is the sample round as libstats wrote it; round 2 the same
returns each with its own workbook part and sheet tails, as when Excel re-saves them one by one. The last line
times one upload's verdict: one return checked in process (what a check worker does for one upload).

Run: python benchmarks/bench_check.py [runs]
"""

import os
import resource
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from python_calamine import CalamineWorkbook

from common import make_returns, peak_mb
from libstats.checks.batch import check_many
from libstats.model.form import build_form
from libstats.intake.xlsx import MEMO, open_xlsx, read_cells

YEAR = 2024
RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 3
form = build_form(YEAR)
by_sheet: dict[str, set[str]] = {}
for f in form.fields.values():
    by_sheet.setdefault(f.sheet, set()).add(f.cell)
wanted = [(f.sheet, f.row, f.col) for f in form.fields.values()]


def calamine(paths: list[Path]) -> None:
    for p in paths:
        wb = CalamineWorkbook.from_path(str(p))
        sheets = {}
        for sheet, row, col in wanted:
            if sheet not in sheets:
                sheets[sheet] = wb.get_sheet_by_name(sheet).to_python()
            rows = sheets[sheet]
            _ = rows[row][col] if row < len(rows) and col < len(rows[row]) else None


def distinct(paths: list[Path], out: Path) -> list[Path]:
    """The same returns, each with its own workbook part and sheet tails (a few spaces before the last closing
    tag), as when Excel re-saves them (it writes a document id and element uids of its own): nothing is shared."""
    out.mkdir()
    made = []
    for i, p in enumerate(paths):
        q = out / p.name
        with zipfile.ZipFile(p) as zin, zipfile.ZipFile(q, "w", zipfile.ZIP_DEFLATED) as zout:
            for info in zin.infolist():
                data = zin.read(info.filename)
                if info.filename == "xl/workbook.xml" or info.filename.startswith("xl/worksheets/"):
                    at = data.rindex(b"</")
                    data = data[:at] + b" " * (i + 1) + data[at:]
                zout.writestr(info.filename, data)
        made.append(q)
    return made


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the check workers): what the work costs, whatever
    the other engineers' load makes the wall-clock time."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def measure(paths: list[Path], what: str) -> None:
    files = [(p, p.name) for p in paths]
    results = check_many(files, year=YEAR)
    assert all(r.errors == 0 for r in results)
    jobs = {
        "libstats check (isolated workers, 2 jobs)": lambda: check_many(files, year=YEAR),
        "libstats check (in process)": lambda: check_many(files, year=YEAR, isolate=False),
        "libstats reader alone, same cells": lambda: [read_cells(open_xlsx(p.read_bytes()), by_sheet) for p in paths],
        "python-calamine alone, same cells (the floor)": lambda: calamine(paths),
    }
    runs: dict[str, list[float]] = {label: [] for label in jobs}
    cpu: dict[str, list[float]] = {label: [] for label in jobs}
    loads = []
    for _ in range(RUNS):  # each run times all four back to back, so that a run's ratios share its load
        loads.append(os.getloadavg()[0])
        for label, job in jobs.items():
            MEMO.clear()  # each job meets the round afresh: no part remembered from an earlier run
            start, used = time.perf_counter(), cpu_seconds()
            job()
            runs[label].append(time.perf_counter() - start)
            cpu[label].append(cpu_seconds() - used)
    base, base_cpu = runs["python-calamine alone, same cells (the floor)"], cpu[
        "python-calamine alone, same cells (the floor)"]
    print(f"{len(paths)} filled returns of {YEAR}, {what}, {len(form.fields)} fields each; median of {RUNS} runs; "
          f"load average {min(loads):.2f}-{max(loads):.2f} on {os.cpu_count()} cores")
    for label, secs in runs.items():
        print(f"  {label:<45} {statistics.median(secs):6.2f} s  (CPU {statistics.median(cpu[label]):5.2f} s)")
    for label in list(runs)[:3]:
        ratio = statistics.median(t / b for t, b in zip(runs[label], base, strict=True))
        cpu_ratio = statistics.median(t / b for t, b in zip(cpu[label], base_cpu, strict=True))
        print(f"  ratio {label.removeprefix('libstats ')} ÷ calamine: {ratio:.1f}x (target: 2x or less); "
              f"CPU time {cpu_ratio:.1f}x")


def one_upload(path: Path) -> None:
    """One upload's verdict: the median of 21 checks of one return, in process, and the slowest."""
    times = []
    for _ in range(21):
        MEMO.clear()  # an upload of its own: nothing remembered from the last one
        start = time.perf_counter()
        check_many([(path, path.name)], year=YEAR, isolate=False)
        times.append(time.perf_counter() - start)
    print(f"  one upload's verdict (one return, in process): median {statistics.median(times) * 1000:.0f} ms, "
          f"slowest {max(times) * 1000:.0f} ms (target: well under a second)")


with tempfile.TemporaryDirectory() as tmp:
    paths = make_returns(YEAR, Path(tmp) / "same")
    measure(paths, "as libstats wrote them (every return shares its template's workbook part and sheet tails)")
    measure(distinct(paths, Path(tmp) / "distinct"), "each with its own workbook part and sheet tails")
    one_upload(paths[0])
own, kids = peak_mb()
print(f"  peak memory: parent {own:.0f} MB, largest worker {kids:.0f} MB")
