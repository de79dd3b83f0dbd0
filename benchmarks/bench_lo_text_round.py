"""How many returns are accepted when officers type counts as Vietnamese text (issue 9), and whether every figure
consolidated is the one meant; and how many of the demo's sample returns are accepted.

Every province's blank form is filled through LibreOffice's API with each count typed as text in turn as
"5.731", "5,731", "5.731 thẻ", "5731" or a number (tests/vn_text.py), saved as .xlsx, then the inbox is
consolidated. To measure the code before a change, put that tree's libstats first on the path:
    git archive OLD libstats workbook_templates | tar -x -C /tmp/old
    mv /tmp/old/workbook_templates /tmp/old/libstats/
    PYTHONPATH=/tmp/old python benchmarks/bench_lo_text_round.py
Run: python benchmarks/bench_lo_text_round.py [PROVINCES]   (default: all 63 of 2024; needs soffice and python3-uno)
"""

import sys
import tempfile
import time
from pathlib import Path

sys.path.append(str(Path(__file__).resolve().parents[1]))  # the tests' LibreOffice driver and typing shapes

import libstats  # noqa: E402
from libstats.consolidation.consolidate import consolidate  # noqa: E402
from libstats.model.findings import Verdict  # noqa: E402
from libstats.model.form import build_form  # noqa: E402
from libstats.model.provinces import provinces_for_year  # noqa: E402
from libstats.forms.samples import sample_values, write_samples  # noqa: E402
from libstats.forms.template import TemplateOptions, template_filename, write_template  # noqa: E402
from tests.libreoffice import LibreOffice, lo_missing_reason, typed_values  # noqa: E402
from tests.vn_text import as_vietnamese_text  # noqa: E402

YEAR = 2024
form = build_form(YEAR)
provinces = list(provinces_for_year(YEAR))[: int(sys.argv[1]) if len(sys.argv) > 1 else None]
print(f"libstats from {Path(libstats.__file__).parent}")


def accepted(con) -> int:
    return sum(e.result.verdict != Verdict.REJECTED for e in con.ledger)


with tempfile.TemporaryDirectory() as tmp:
    tmp = Path(tmp)
    demo = tmp / "demo"
    write_samples(form, demo, seed=2024, flaws=True)
    con = consolidate([demo], YEAR)
    print(f"demo returns: {accepted(con)}/{len(con.ledger)} files accepted, {len(con.reporting)} provinces used")

    if lo_missing_reason():
        sys.exit(f"LibreOffice round skipped: {lo_missing_reason()}")
    lo = LibreOffice(tmp / "lo")
    inbox, meant = tmp / "inbox", {}
    inbox.mkdir()
    start = time.perf_counter()
    try:
        time.sleep(1)
        for i, p in enumerate(provinces):
            meant[p.code] = sample_values(form, p, seed=11)
            blank = write_template(form, tmp / f"blank-{p.code}.xlsx", TemplateOptions(province=p))
            lo.fill(blank, inbox / template_filename(form, p), typed_values(as_vietnamese_text(form, meant[p.code], i)))
    finally:
        lo.close()
    filled = time.perf_counter() - start
    con = consolidate([inbox], YEAR)
    read = {(r.province_code, r.field_id): r.value for r in con.tidy.itertuples()}
    numbers = [f.id for f in form.fields_of("number")]
    exact = sum(all(read.get((code, f)) == v.get(f) for f in numbers)  # a field the sample leaves empty: None
                for code, v in meant.items() if code in con.reporting)
    codes: dict[str, int] = {}
    for e in con.ledger:
        for f in e.result.findings:
            codes[f.code] = codes.get(f.code, 0) + 1
    print(f"LibreOffice-filled round, counts typed as Vietnamese text: {accepted(con)}/{len(provinces)} returns "
          f"accepted; {exact}/{len(provinces)} provinces consolidated with every figure as meant "
          f"(filled in {filled:.0f} s)")
    print("findings by code:", ", ".join(f"{k} {v}" for k, v in sorted(codes.items())))
