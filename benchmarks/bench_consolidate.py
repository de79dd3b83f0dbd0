"""Consolidate 63 returns and 3,321 returns (the size of a commune-level collection): seconds and peak memory.

Targets: 63 in under 3 s; 3,321 in under 60 s on 2 cores with peak memory under 1 GB.
Run: python benchmarks/bench_consolidate.py [--large-only | --small-only]
"""

import sys
import tempfile
import time
from pathlib import Path

from common import make_returns, peak_mb
from libstats.consolidation.consolidate import consolidate
from libstats.consolidation.dataset import write_dataset
from libstats.outputs.summary import write_summary


def bench(year: int, copies: int, limit: int | None, label: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        inbox = Path(tmp) / "inbox"
        paths = make_returns(year, inbox, copies)
        for extra in paths[limit:] if limit else []:
            extra.unlink()
        n = len(list(inbox.rglob("*.xlsx")))
        start = time.perf_counter()
        con = consolidate([inbox], year)
        out = Path(tmp) / "out" / "tong-hop.xlsx"
        write_summary(con, out)
        write_dataset(con.tidy, out.with_suffix(".csv"))
        took = time.perf_counter() - start
        own, kids = peak_mb()
        print(f"{label}: {n} returns of {year} → {len(con.reporting)} provinces in {took:.2f} s "
              f"({took / n * 1000:.1f} ms per return); peak memory parent {own:.0f} MB, largest worker {kids:.0f} MB")


if "--large-only" not in sys.argv:
    bench(2024, 1, None, "63 returns")
if "--small-only" not in sys.argv:
    bench(2025, 98, 3321, "3,321 returns")
