"""Check 63 filled returns (target: under 2 s, within 2x of reading the same cells with python-calamine alone).

Run: python benchmarks/bench_check.py
"""

import tempfile
from pathlib import Path

from python_calamine import CalamineWorkbook

from common import make_returns, peak_mb, timed
from libstats.batch import check_many
from libstats.form import build_form

YEAR = 2024
form = build_form(YEAR)
times: dict[str, float] = {}
with tempfile.TemporaryDirectory() as tmp:
    paths = make_returns(YEAR, Path(tmp))
    files = [(p, p.name) for p in paths]
    with timed("libstats check (isolated workers, 2 jobs)", times):
        results = check_many(files, year=YEAR)
    with timed("libstats check (in process)", times):
        check_many(files, year=YEAR, isolate=False)
    from libstats.xlsx import open_xlsx, read_cells
    by_sheet: dict[str, set[str]] = {}
    for f in form.fields.values():
        by_sheet.setdefault(f.sheet, set()).add(f.cell)
    with timed("libstats reader alone, same cells", times):
        for p in paths:
            read_cells(open_xlsx(p.read_bytes()), by_sheet)
    wanted = [(f.sheet, f.row, f.col) for f in form.fields.values()]
    with timed("python-calamine alone, same cells", times):
        for p in paths:
            wb = CalamineWorkbook.from_path(str(p))
            sheets = {}
            for sheet, row, col in wanted:
                if sheet not in sheets:
                    sheets[sheet] = wb.get_sheet_by_name(sheet).to_python()
                rows = sheets[sheet]
                _ = rows[row][col] if row < len(rows) and col < len(rows[row]) else None
    assert all(r.errors == 0 for r in results)
print(f"{len(paths)} filled returns of {YEAR}, {len(form.fields)} fields each")
for label, secs in times.items():
    print(f"  {label:<45} {secs:6.2f} s")
own, kids = peak_mb()
print(f"  peak memory: parent {own:.0f} MB, largest worker {kids:.0f} MB")
