"""Time and peak memory of the checker on each hostile file (tests/hostile.py), each in its own process.

Run: python benchmarks/bench_hostile.py   (builds the corpus in a temporary folder, ~1 minute)
Each case is checked by a fresh Python process; its peak resident memory is read with
resource.getrusage(RUSAGE_CHILDREN) after it ends (one wrapper process per case, so the figure is that case's).
"""

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.hostile import CASES, SEVEN_MILLION  # noqa: E402

CHILD = """
import json, resource, subprocess, sys
code = "from libstats.checks.check import check_file; r = check_file(sys.argv[1], year=2024); " \\
       "print(json.dumps([r.verdict.value, sorted({f.code for f in r.findings})]))"
p = subprocess.run([sys.executable, "-c", "import json, sys; " + code, sys.argv[1]], capture_output=True, text=True)
print(json.dumps([p.stdout.strip(), resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, p.returncode]))
"""

rows = []
with tempfile.TemporaryDirectory() as tmp:
    for name, kind, maker, fate in [*CASES, SEVEN_MILLION]:
        folder = Path(tmp) / name
        folder.mkdir()
        path = maker(folder)
        start = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True, check=True)
        secs = time.perf_counter() - start
        result, kb, rc = json.loads(out.stdout)
        verdict, codes = json.loads(result) if result else ("crashed", [])
        ok = verdict == fate.verdict.value and set(fate.codes) <= set(codes)
        rows.append((name, kind, path.stat().st_size, secs, kb / 1024, verdict, codes, ok))
        path.unlink()

print(f"{'case':<34} {'kind':<7} {'file MB':>8} {'time s':>7} {'peak MB':>8}  verdict (codes)")
for name, kind, size, secs, mb, verdict, codes, ok in rows:
    mark = "" if ok else "   <-- NOT THE EXPECTED FATE"
    print(f"{name:<34} {kind:<7} {size / 2**20:8.1f} {secs:7.2f} {mb:8.0f}  {verdict} ({', '.join(codes)}){mark}")
slow = max(rows, key=lambda r: r[3])
big = max(rows, key=lambda r: r[4])
print(f"longest: {slow[0]} {slow[3]:.2f} s (a fresh process, imports included); largest: {big[0]} {big[4]:.0f} MB")
