"""Feedback copies of the demo's 63 returns (some flawed): per-file time of the ZIP writer (the usual path) and
of the openpyxl writer (the fallback, and the only writer before), each reading the return and writing its copy,
in process, and how many the ZIP writer left to openpyxl.

Run: python benchmarks/bench_feedback.py
"""

import tempfile
import time
from pathlib import Path

from common import peak_mb
from libstats.consolidation.consolidate import consolidate
from libstats.outputs.feedback import wants_feedback, write_feedback
from libstats.model.form import build_form
from libstats.forms.samples import write_samples

YEAR = 2024
with tempfile.TemporaryDirectory() as tmp:
    inbox, out = Path(tmp) / "hop-thu", Path(tmp) / "phan-hoi"
    out.mkdir()
    write_samples(build_form(YEAR), inbox, seed=2024, flaws=True)
    entries = [e for e in consolidate([inbox], YEAR).ledger if wants_feedback(e)]
    zip_ms, openpyxl_ms, fallbacks, sizes = [], [], 0, []
    for i, e in enumerate(entries):
        start = time.perf_counter()
        copy = write_feedback(e, out / f"zip-{i}.xlsx", writer="zip")
        zip_ms.append((time.perf_counter() - start) * 1000)
        fallbacks += copy is None
        sizes.append((Path(e.result.path).stat().st_size, copy.stat().st_size if copy else 0))
        start = time.perf_counter()
        write_feedback(e, out / f"{i}.xlsx", writer="openpyxl")
        openpyxl_ms.append((time.perf_counter() - start) * 1000)
        sizes[-1] += ((out / f"{i}.xlsx").stat().st_size,)


def line(label: str, ms: list[float]) -> str:
    ms = sorted(ms)
    return (f"  {label:<22} median {ms[len(ms) // 2]:7.1f} ms   max {ms[-1]:7.1f} ms   "
            f"total {sum(ms) / 1000:6.2f} s")


print(f"{len(entries)} feedback copies of the demo's returns ({YEAR}); {fallbacks} left by the ZIP writer to openpyxl")
print(line("ZIP writer", zip_ms))
print(line("openpyxl writer", openpyxl_ms))
kb = [sum(s[k] for s in sizes) / len(sizes) / 1024 for k in range(3)]
print(f"  mean size: original {kb[0]:.0f} KB, ZIP copy {kb[1]:.0f} KB, openpyxl copy {kb[2]:.0f} KB")
own, _ = peak_mb()
print(f"  peak memory: {own:.0f} MB")
