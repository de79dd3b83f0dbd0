"""Issue 9 items 1 and 6 as LibreOffice meets them: the number cells' validation allows "x" and refuses text;
a return with "x" cells checks the same in the live check sheet and in Python; a round of returns whose counts
were typed as Vietnamese text ("5.731", "1,234", "32.713 thẻ") consolidates to exactly the counts meant."""

from __future__ import annotations

import json
import subprocess

import openpyxl
import pytest

from libstats.checks.check import check_file
from libstats.consolidation.consolidate import consolidate, national_table
from libstats.model.findings import Verdict, fmt_number
from libstats.model.form import build_form
from libstats.model.layout import CHECK_SHEET, check_result_cell
from libstats.model.provinces import provinces_for_year
from libstats.model.rules import build_rules
from libstats.forms.samples import sample_values
from libstats.forms.template import TemplateOptions, template_filename, write_template

from .libreoffice import HERE, SYSTEM_PYTHON, typed_values
from .vn_text import as_vietnamese_text, one_group_shapes

pytestmark = pytest.mark.libreoffice
FORM = build_form(2024)


def _validity(lo, path, name: str, typed: list) -> dict:
    job, result = lo.workdir / "validity.json", lo.workdir / "validity-result.json"
    job.write_text(json.dumps({"input": str(path), "name": name, "typed": typed}, ensure_ascii=False), "utf-8")
    run = subprocess.run([SYSTEM_PYTHON, str(HERE / "lo" / "uno_validity.py"), lo.pipe, str(job), str(result)],
                         capture_output=True, text=True, timeout=1800, cwd=HERE / "lo")  # (a hang guard)
    assert run.returncode == 0, run.stderr
    return json.loads(result.read_text("utf-8"))


def test_number_cells_allow_x_and_refuse_text_in_libreoffice(lo, hanoi_2024):
    typed = ["x", "X", "abc", "5.731", 5, 0, 12500, -1, 1.5, 1_000_000_000, 1_000_000_001]  # the top: 1E9
    f = FORM.fields["the_cap_moi_xa_n"]
    [dv] = [dv for dv in openpyxl.load_workbook(hanoi_2024)[f.sheet].data_validations.dataValidation
            if f.cell in dv.sqref]
    top = str(dv.sqref).split()[0].split(":")[0]  # the top cell of its validation, where its formula points
    assert top != f.cell
    got = _validity(lo, hanoi_2024, f.id, typed)
    assert got["type"] == "CUSTOM"
    assert top in got["formula"] and f.cell not in got["formula"]  # so LibreOffice moved it to the typed cell
    assert dict(zip(map(str, typed), got["valid"], strict=True)) == {
        "x": True, "X": True, "abc": False, "5.731": False, "5": True, "0": True, "12500": True, "-1": False,
        "1.5": False, "1000000000": True, "1000000001": False}


def _with_x(values: dict) -> dict:
    """Commune-level digital accesses not counted (x) in year N, with the total over the levels counted; and the
    provincial library's digital accesses not counted in year N-1, its total left as the old sum (an error)."""
    v = dict(values)
    v["luot_truy_cap_xa_n"] = "x"
    v["luot_truy_cap_tong_n"] = v["luot_truy_cap_tinh_n"] + v["luot_truy_cap_huyen_n"]
    v["luot_truy_cap_tinh_p"] = "X"
    return v


def _typed_live(lo, form, p, values: dict, tmp_path):
    """``values`` typed into a blank form of ``p`` in LibreOffice: the check sheet's live lines, once they are
    asserted equal to the rules' ``status()`` of what libstats reads from the saved file, and what it read."""
    blank = write_template(form, tmp_path / "blank.xlsx", TemplateOptions(province=p))
    out = tmp_path / template_filename(form, p)
    rules = build_rules(form)
    result = lo.fill(blank, out, typed_values(values), read_cells=[(CHECK_SHEET, check_result_cell(i))
                                                                 for i in range(len(rules))])
    live = [c["string"] for c in result["cells"]]
    read = check_file(out, year=form.year)
    assert live == [r.status(read.values) for r in rules]
    return live, read


def test_x_cells_check_the_same_in_the_live_check_sheet_and_in_python(lo, form2024, tmp_path):
    p = provinces_for_year(2024)[0]
    live, read = _typed_live(lo, form2024, p, _with_x(sample_values(form2024, p, seed=3)), tmp_path)
    assert "Đạt (không tính 1 ô ghi x)" in live
    assert any(s.startswith("Lỗi: tổng cộng") and s.endswith("(không tính 1 ô ghi x)") for s in live)
    assert read.values["luot_truy_cap_xa_n"] == "x" and read.values["luot_truy_cap_tinh_p"] == "x"
    codes = [(f.code, f.field) for f in read.findings]
    assert ("V08", "luot_truy_cap_xa_n") in codes and ("R06", "luot_truy_cap_tong_n") in codes
    assert ("R02", "luot_truy_cap_tong_p") in codes and not any(c == "R01" for c, _ in codes)


def _by_range(values: dict) -> dict:
    """What the check sheet's ranges meet: every year-N figure copied from N-1 (the same-as-last-year rule compares
    two ranges cell by cell), a level "X" and a total "X" whose levels have figures, a level typed as a word, a
    relation's side "x", and the narratives of one sheet left blank but one in the middle of their run."""
    rows = {(r.indicator, r.dim): r for r in FORM.rows}
    v = {**values, **{r.n.id: values[r.p.id] for r in FORM.rows}}
    v[rows[("so_thu_vien", "huyen")].n.id] = "X"  # its total: the levels counted
    v[rows[("so_thu_vien", "tong")].n.id] = v[rows[("so_thu_vien", "tinh")].n.id] + v[rows[("so_thu_vien", "xa")].n.id]
    v[rows[("tv_doc_lap", "tong")].n.id] = "X"
    v[rows[("so_thu_vien", "xa")].p.id] = "abc"
    v[rows[("so_tv_moi", "tu_nhan")].n.id] = "x"
    narratives = [f for f in FORM.fields.values() if f.sheet == "2.2 Thư viện công cộng"]
    for f in narratives:
        v.pop(f.id, None)
    v[narratives[len(narratives) // 2].id] = "Một mục ở giữa được điền."
    return v


def test_ranges_check_the_same_in_the_live_check_sheet_and_in_python(lo, tmp_path):
    p = provinces_for_year(2024)[1]
    live, _ = _typed_live(lo, FORM, p, _by_range(sample_values(FORM, p, seed=7)), tmp_path)
    blanks = sum(1 for f in FORM.fields.values() if f.sheet == "2.2 Thư viện công cộng") - 1
    assert "Cảnh báo: giống hệt năm trước" in live and f"Cảnh báo: còn {blanks} ô trống" in live
    assert any(s.startswith("Lỗi: tổng cộng ghi x nhưng các cấp có số liệu ") for s in live)
    assert "Đạt (không tính 1 ô ghi x)" in live and "Cảnh báo: còn 1 ô trống" in live  # "X" filled, "abc" empty


@pytest.fixture(scope="module")
def text_round(lo, tmp_path_factory):
    """Two provinces whose officers typed every count as Vietnamese text in LibreOffice (each return holds every
    shape: dot, comma, with a unit; see vn_text)."""
    tmp = tmp_path_factory.mktemp("vntext")
    inbox, meant, typed = tmp / "inbox", {}, {}
    inbox.mkdir()
    for i, p in enumerate(provinces_for_year(2024)[::32]):
        meant[p.code] = sample_values(FORM, p, seed=11)
        typed[p.code] = as_vietnamese_text(FORM, meant[p.code], offset=i)
        blank = write_template(FORM, tmp / f"blank-{p.code}.xlsx", TemplateOptions(province=p))
        lo.fill(blank, inbox / template_filename(FORM, p), typed_values(typed[p.code]))
    return inbox, meant, typed


def test_counts_typed_as_vietnamese_text_consolidate_to_the_counts_meant(text_round):
    inbox, meant, typed = text_round
    assert set().union(*map(one_group_shapes, typed.values())) == {"dot", "comma", "unit"}
    con = consolidate([inbox], 2024)
    for e in con.ledger:
        assert e.result.verdict != Verdict.REJECTED, [(f.code, f.cell, f.message) for f in e.result.findings]
        infos = [f for f in e.result.findings if f.code == "V01"]  # each reading is shown to the officer
        assert infos and all(f"đọc là {fmt_number(e.result.values[f.field])}" in f.message for f in infos)
    assert con.reporting == set(meant)
    read = {(r.province_code, r.field_id): r.value for r in con.tidy.itertuples()}
    for code, values in meant.items():
        for f in (f for r in FORM.rows for f in (r.n, r.p)):  # the figures (a correction column stays empty)
            assert read[(code, f.id)] == values[f.id], (code, f.id, typed[code][f.id])
    nat = national_table(con).set_index(["indicator", "dim"])
    assert nat.loc[("the_cap_moi", "tong"), "n"] == sum(v["the_cap_moi_tong_n"] for v in meant.values())
