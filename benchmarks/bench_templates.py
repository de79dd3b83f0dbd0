"""Time generating all per-province templates (target: 63 in under 5 s on 2 cores).

Run: python benchmarks/bench_templates.py
"""

import tempfile
import time
from pathlib import Path

from libstats.form import build_form
from libstats.template import write_templates
from libstats.provinces import provinces_for_year

for year in (2024, 2026):
    form = build_form(year)
    provinces = list(provinces_for_year(year))
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        paths = write_templates(form, provinces, Path(tmp))
        took = time.perf_counter() - start
        size = sum(p.stat().st_size for p in paths) / 2**20
    print(f"{year}: {len(paths)} templates in {took:.2f} s ({took / len(paths) * 1000:.0f} ms each, {size:.1f} MB)")
