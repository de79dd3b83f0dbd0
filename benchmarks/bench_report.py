"""Draft the national report (.docx) from the dataset of a 34-province (2025) and a 63-province (2024) round.

Prints the seconds to build the report (from reading the dataset to the written .docx) and its size; the
round's returns and dataset are made first and not timed.
Run: python benchmarks/bench_report.py
"""

import tempfile
import time
from pathlib import Path

from common import make_returns, peak_mb
from libstats.consolidation.consolidate import consolidate
from libstats.consolidation.dataset import write_dataset
from libstats.outputs.report import build_report


def bench(year: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        make_returns(year, Path(tmp) / "inbox")
        con = consolidate([Path(tmp) / "inbox"], year)
        data = write_dataset(con.tidy, Path(tmp) / "du-lieu.csv")
        times = []
        for _ in range(3):
            start = time.perf_counter()
            res = build_report(data, Path(tmp) / "bao-cao.docx")
            times.append(time.perf_counter() - start)
        own, _ = peak_mb()
        print(f"{res.reported} provinces ({year}): report in {min(times):.2f} s (best of 3; "
              f"{len(con.tidy)} dataset rows, {len(res.excerpts)} excerpts, "
              f"{res.path.stat().st_size / 1024:.0f} KB); peak memory {own:.0f} MB")


bench(2025)
bench(2024)
