"""Check 63 filled returns against reading the same cells with python-calamine alone.

Target (issue 9): the whole check, in isolated workers (2 jobs) and in process, within 2x of python-calamine
reading the same cells; the ratios are printed. Each figure is the median of RUNS runs (the machine is shared:
the load average is printed with the figures). The returns are the sample round libstats writes, so every
return shares its template's workbook part and sheet tails byte for byte, which the reader checks once per
distinct content; returns saved by different programs share less (see libstats/xlsx.py).

Round 1 (as libstats wrote them), figures on the shared 2-core machine (load average 1.5-2.2 from other work),
median of 3 runs, alternating the code before and after issue 9's first speed work, five pairs of runs (isolated,
in process, reader alone, calamine; then the ratios to calamine):
- before: 0.46-1.02 s, 0.51-0.64 s, 0.33-0.40 s, 0.11-0.12 s; 4.1-8.5x isolated, 4.5-5.6x in process
- after:  0.19-0.25 s, 0.25-0.41 s, 0.16-0.19 s, 0.11-0.14 s; 1.8-2.1x isolated, 2.3-3.6x in process

Round 2 (each return with its own workbook part and sheet tails, as when Excel re-saves them one by one: nothing
is shared byte for byte but what the program writes the same for every return of a form: the definedName block,
a sheet's dataValidations element, mostly its head; the reader now checks each of those once per distinct
content and the rest of each part on its own). Three pairs of runs alternating commit 2db9854 (before) and this
code (after), load average 2.0-2.4 from another engineer's work, each figure the median of 3 runs (isolated, in
process, reader alone, calamine; ratios to calamine from the same run):
- round 2 before: 0.29-0.32 s, 0.47-0.50 s, 0.31-0.35 s, 0.11-0.12 s; 2.6-2.7x isolated, 4.1-4.3x in process
- round 2 after:  0.19-0.23 s, 0.27-0.32 s, 0.19-0.21 s, 0.11-0.12 s; 1.6-2.0x isolated, 2.5-2.9x in process
- round 1 before: 0.16-0.20 s, 0.26-0.29 s, 0.15-0.17 s, 0.11-0.13 s; 1.5-1.6x isolated, 2.2-2.4x in process
- round 1 after:  0.16-0.20 s, 0.22-0.26 s, 0.14-0.15 s, 0.11 s;      1.4-1.8x isolated, 2.0-2.4x in process
(in process alone, 7 runs alternating with calamine at load 0.8: 2.7x after, 4.1x before.) The isolated check
meets the 2x target in both rounds, on a busy machine (at 2.0x at worst in round 2); in process it stays above
it (2.0-2.9x): what is left is spread (inflating the parts, the sheetData grammar and cutting its cells apart,
per-field coercion, the rules), no one part dominating.

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
from libstats.batch import check_many
from libstats.form import build_form
from libstats.xlsx import open_xlsx, read_cells

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
        "python-calamine alone, same cells": lambda: calamine(paths),
    }
    runs: dict[str, list[float]] = {label: [] for label in jobs}
    cpu: dict[str, list[float]] = {label: [] for label in jobs}
    loads = []
    for _ in range(RUNS):  # each run times all four back to back, so that a run's ratios share its load
        loads.append(os.getloadavg()[0])
        for label, job in jobs.items():
            start, used = time.perf_counter(), cpu_seconds()
            job()
            runs[label].append(time.perf_counter() - start)
            cpu[label].append(cpu_seconds() - used)
    base, base_cpu = runs["python-calamine alone, same cells"], cpu["python-calamine alone, same cells"]
    print(f"{len(paths)} filled returns of {YEAR}, {what}, {len(form.fields)} fields each; median of {RUNS} runs; "
          f"load average {min(loads):.2f}-{max(loads):.2f} on {os.cpu_count()} cores")
    for label, secs in runs.items():
        print(f"  {label:<45} {statistics.median(secs):6.2f} s  (CPU {statistics.median(cpu[label]):5.2f} s)")
    for label in list(runs)[:2]:
        ratio = statistics.median(t / b for t, b in zip(runs[label], base, strict=True))
        cpu_ratio = statistics.median(t / b for t, b in zip(cpu[label], base_cpu, strict=True))
        print(f"  ratio {label.removeprefix('libstats ')} ÷ calamine: {ratio:.1f}x (target: 2x or less); "
              f"CPU time {cpu_ratio:.1f}x")


with tempfile.TemporaryDirectory() as tmp:
    paths = make_returns(YEAR, Path(tmp) / "same")
    measure(paths, "as libstats wrote them (every return shares its template's workbook part and sheet tails)")
    measure(distinct(paths, Path(tmp) / "distinct"), "each with its own workbook part and sheet tails")
own, kids = peak_mb()
print(f"  peak memory: parent {own:.0f} MB, largest worker {kids:.0f} MB")
