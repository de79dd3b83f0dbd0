"""Draft the national report (.docx) from the dataset of a 34-province (2025) and a 63-province (2024) round.

Prints the seconds to build the report (from reading the dataset to the written .docx), wall clock and CPU
(the CPU time is what to compare on a shared machine), and its size; the round's returns and dataset are made
first and not timed. The CPU of the first of the three runs is printed too: the later ones find the synthesis'
compared keys of the same texts cached, which a single ``libstats report`` does not. The 2025 round is drafted
with and without last year's dataset (``previous``).
Run: python benchmarks/bench_report.py (another version: PYTHONPATH=that/checkout python benchmarks/bench_report.py)
"""

import inspect
import tempfile
import time
from pathlib import Path

from common import make_returns, peak_mb
from libstats.consolidation.consolidate import consolidate
from libstats.consolidation.dataset import write_dataset
from libstats.outputs.report import build_report


def _dataset(year: int, tmp: Path) -> tuple[Path, int]:
    make_returns(year, tmp / f"inbox{year}")
    con = consolidate([tmp / f"inbox{year}"], year)
    return write_dataset(con.tidy, tmp / f"du-lieu-{year}.csv"), len(con.tidy)


def bench(data: Path, rows: int, year: int, **previous) -> None:
    wall, cpu = [], []
    for _ in range(3):
        start, start_cpu = time.perf_counter(), time.process_time()
        res = build_report(data, data.with_name("bao-cao.docx"), **previous)
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    own, _ = peak_mb()
    print(f"{res.reported} provinces ({year}{', with previous' if previous else ''}): report in {min(wall):.2f} s "
          f"wall, {min(cpu):.2f} s CPU (best of 3, the first {cpu[0]:.2f} s; {rows} dataset rows, "
          f"{len(res.excerpts)} excerpts, {res.path.stat().st_size / 1024:.0f} KB); peak memory {own:.0f} MB")


with tempfile.TemporaryDirectory() as folder:
    tmp = Path(folder)
    last, last_rows = _dataset(2024, tmp)
    this, this_rows = _dataset(2025, tmp)
    bench(this, this_rows, 2025)
    if "previous" in inspect.signature(build_report).parameters:
        bench(this, this_rows, 2025, previous=last)
    bench(last, last_rows, 2024)
