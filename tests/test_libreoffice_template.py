"""The template as a LibreOffice user meets it: it renders, and a filled round trip keeps names and formulas."""

from __future__ import annotations

import subprocess

import openpyxl
import pytest

from libstats.model.layout import TABLE_COLUMNS, cell_name
from libstats.model.rules import build_rules
from libstats.model.provinces import province
from libstats.forms.template import sender_values
from libstats.model.layout import CHECK_SHEET, CHECK_COUNT_CELLS, check_result_cell


pytestmark = pytest.mark.libreoffice


def filled_values(form) -> dict:
    """A filled return with a few planted problems: a wrong total, an unexplained swing, a broken relation."""
    values = {}
    for i, r in enumerate(form.rows):
        values[r.n.id] = 1000 + 10 * i
        values[r.p.id] = 1000 + 9 * i
    by_key = {(r.indicator, r.dim): r for r in form.rows}
    for ind in {r.indicator for r in form.rows if r.is_total}:
        parts = [r for r in form.rows if r.indicator == ind and not r.is_total]
        total = by_key[(ind, "tong")]
        values[total.n.id] = sum(values[r.n.id] for r in parts)
        values[total.p.id] = sum(values[r.p.id] for r in parts)
    values[by_key[("the_cap_moi", "tong")].n.id] += 7  # total ≠ sum of levels
    values[by_key[("luot_tl", "tinh")].n.id] = 5000  # +393 % with no explanation
    values[by_key[("luot_tl", "xa")].n.id] = 4000  # explained swing
    values[by_key[("luot_tl", "xa")].gc.id] = "Mở thêm 12 điểm luân chuyển"
    values[by_key[("so_tv_moi", "tu_nhan")].n.id] = 99999  # more new than existing
    values["n1_danh_gia_chung"] = "Năm 2024, hệ thống thư viện công cộng tiếp tục được củng cố."
    values["bia_email"] = "thuvien@example.vn"
    return values


def test_generated_workbook_renders_to_pdf_with_vietnamese_text(hanoi_2024, tmp_path, lo):
    pdf = lo.convert(hanoi_2024, "pdf", tmp_path)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "BÁO CÁO" in text and "Tổng kết công tác thư viện năm 2024" in text
    assert "Số thẻ thư viện cấp mới trong năm" in text and "KIỂM TRA TỰ ĐỘNG" in text
    pages = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    assert int(next(line.split()[-1] for line in pages.splitlines() if line.startswith("Pages"))) >= 10


def test_round_trip_keeps_names_validations_values_and_the_check_sheet_answers(hanoi_2024, form2024, tmp_path, lo):
    values = filled_values(form2024)
    rules = build_rules(form2024)
    out = tmp_path / "filled.xlsx"
    cells = [(CHECK_SHEET, check_result_cell(i)) for i in range(len(rules))]
    cells += [(CHECK_SHEET, c) for c in CHECK_COUNT_CELLS]
    result = lo.fill(hanoi_2024, out, values, read_cells=cells)
    live = [c["string"] for c in result["cells"][:-2]]
    errors, warnings = (c["value"] for c in result["cells"][-2:])
    assert errors == sum(s.startswith("Lỗi") for s in live) > 0
    assert warnings == sum(s.startswith("Cảnh báo") for s in live) > 0
    fixed = {"bia_tinh": "Hà Nội", **sender_values(form2024, province(2024, "01"))}  # prefilled on this form
    expected = [r.status({**fixed, **values}) for r in rules]
    assert live == expected
    assert any(s.startswith("Lỗi: tổng cộng") for s in live)
    assert "Cảnh báo: cần giải thích" in live and "Lỗi: không thỏa mãn" in live

    wb = openpyxl.load_workbook(out)
    for f in form2024.fields.values():
        (sheet, ref), = list(wb.defined_names[f.id].destinations)
        assert (sheet, ref.replace("$", "")) == (f.sheet, f.cell)
        if f.id in values:
            assert wb[sheet][f.cell].value == values[f.id]
    ws = wb["2.2 Số liệu"]
    assert ws.protection.sheet
    kinds = {dv.type for dv in ws.data_validations.dataValidation}
    assert "custom" in kinds  # a count or "x" (không thống kê): issue 9
    cached = openpyxl.load_workbook(out, data_only=True)["2.2 Số liệu"]
    row = form2024.fields["luot_tl_tinh_n"].row
    assert cached[cell_name(row, TABLE_COLUMNS["diff"])].value == 5000 - values["luot_tl_tinh_p"]
    pct = cached[cell_name(row, TABLE_COLUMNS["pct"])].value
    assert pct == pytest.approx((5000 - values["luot_tl_tinh_p"]) / values["luot_tl_tinh_p"] * 100)
