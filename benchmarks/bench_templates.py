"""Time writing the province forms: ms per form in process (plain, and prefilled with sample values, other
values in every run, as distinct provinces' returns are), wall and CPU time; then all provinces with
``write_templates`` in one process and in two forked workers, each run in a fresh process as
``libstats template --all-provinces`` runs it (one forked worker per core by default; the time excludes starting
Python and building the form). Three runs of each; the
machine's load first (wall times mean little on a busy machine; CPU times less so).

Run: python benchmarks/bench_templates.py [number of provinces in process, default 20]
"""

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from libstats.model.form import build_form
from libstats.model.provinces import provinces_for_year
from libstats.forms.samples import sample_values
from libstats.forms.template import TemplateOptions, write_template, write_templates

RUNS = 3


def all_provinces(year: int, jobs: int) -> None:
    """Write every province's form of ``year`` (in a fresh process); print seconds and megabytes."""
    form = build_form(year)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        paths = write_templates(form, list(provinces_for_year(year)), Path(tmp), jobs=jobs)
        took = time.perf_counter() - start
        print(took, len(paths), sum(p.stat().st_size for p in paths) / 2**20)


if len(sys.argv) > 1 and sys.argv[1] == "--all":
    all_provinces(int(sys.argv[2]), int(sys.argv[3]))
    sys.exit()
COUNT = int(sys.argv[1]) if len(sys.argv) > 1 else 20

print(subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
for year in (2024, 2025):
    form = build_form(year)
    provinces = list(provinces_for_year(year))
    some = provinces[:COUNT]
    filled = {p.code: sample_values(form, p) for p in some}
    first = next(f.id for f in form.fields.values() if f.kind == "number")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        for kind in ("plain", "prefilled"):
            runs = []
            for run in range(RUNS):
                values = {p.code: {**filled[p.code], first: filled[p.code][first] + run} if kind == "prefilled"
                          else {} for p in some}
                start, cpu = time.perf_counter(), time.process_time()
                for p in some:
                    write_template(form, out / "f.xlsx", TemplateOptions(province=p, values=values[p.code]))
                runs.append(((time.perf_counter() - start) / len(some) * 1000,
                             (time.process_time() - cpu) / len(some) * 1000))
            print(f"{year} {kind:9} in process: " + ", ".join(f"{ms:.1f}" for ms, _ in runs) + " ms per form (CPU "
                  + ", ".join(f"{ms:.1f}" for _, ms in runs) + f"; {len(some)} forms a run)")
    for jobs in (1, 2):
        runs = [subprocess.run([sys.executable, __file__, "--all", str(year), str(jobs)], capture_output=True,
                               text=True, check=True).stdout.split() for _ in range(RUNS)]
        print(f"{year} all {runs[0][1]} with write_templates, jobs={jobs}, fresh process: "
              + ", ".join(f"{float(r[0]):.2f}" for r in runs) + f" s ({float(runs[0][2]):.1f} MB)")
print(subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
