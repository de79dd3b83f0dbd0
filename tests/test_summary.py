"""The summary workbook as the Ministry reads it (issue 18 item 7): units, "Loại hình khác" one page wide,
explanations ordered by what needs attention, one line where there is nothing to show, rates as computed values,
charts by this year's levels only."""

from __future__ import annotations

import openpyxl
import pytest

from libstats.consolidation.consolidate import consolidate
from libstats.consolidation.dataset import load_dataset, write_dataset
from libstats.consolidation.rollover import previous_year_prefill
from libstats.forms.samples import sample_values
from libstats.forms.template import TemplateOptions, template_filename, write_template
from libstats.model.form import build_form
from libstats.model.provinces import province
from libstats.outputs.summary import SHEETS, write_summary

from .conftest import sheet_rows
from .workbooks import cached_rows as _cached

F2024, F2025 = build_form(2024), build_form(2025)
SAME = "Thay đổi do sắp xếp lại mạng lưới trong năm."


def _other(form, indicator: str, dim: str):
    return next(r for r in form.rows if r.indicator == indicator and r.dim == dim)


@pytest.fixture(scope="module")
def y2024(tmp_path_factory):
    """Three 2024 returns: Hà Nội's community-library visits tripled with no explanation (an R04 swing), Quảng
    Ninh's two rows explained with the same sentence, Đà Nẵng's one row with another."""
    tmp = tmp_path_factory.mktemp("s2024")
    swing, big, small = _other(F2024, "luot_phuc_vu", "cong_dong"), _other(F2024, "so_thu_vien", "tu_nhan"), \
        _other(F2024, "luot_phuc_vu", "khac")
    for code in ("01", "22", "48"):
        p = province(2024, code)
        values = sample_values(F2024, p)
        for r in F2024.rows:
            values[r.gc.id] = None
        if code == "01":
            values[swing.p.id], values[swing.n.id] = 1000, 3000
        if code == "22":
            values[big.p.id], values[big.n.id], values[big.gc.id] = 10, 25, SAME  # +150 %
            values[small.p.id], values[small.n.id], values[small.gc.id] = 100, 101, SAME
        if code == "48":
            values[small.p.id], values[small.n.id], values[small.gc.id] = 100, 160, "Mở thêm thư viện trường học."
        write_template(F2024, tmp / "in" / template_filename(F2024, p), TemplateOptions(province=p, values=values))
    con = consolidate([tmp / "in"], 2024)
    assert con.reporting == {"01", "22", "48"}
    return write_summary(con, tmp / "tong-hop.xlsx"), con


def test_every_province_sheet_names_its_unit(y2024):
    out, con = y2024
    for h in F2024.spec.headlines:
        rows = sheet_rows(out, f"Tỉnh - {h.short_label}")
        assert rows[1][0] == f"Đơn vị tính: {F2024.spec.indicators[h.sum[0]].unit}"


def test_other_types_are_split_into_sheets_one_page_wide_each_row_once(y2024):
    out, _ = y2024
    types = [r for r in F2024.rows if r.dim in {t.id for t in F2024.spec.types}]
    wb = openpyxl.load_workbook(out, read_only=False)
    sheets = [ws for ws in wb.worksheets if ws.title.startswith(SHEETS["types"])]
    seen = []
    for ws in sheets:
        header = [c.value for c in ws[3]][2:]
        assert len(header) <= 10  # ten figures at most: one A4 landscape page wide without shrinking much
        assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth in (None, 1)  # 1: the default
        assert ws.page_setup.fitToHeight == 0 and ws.page_setup.orientation == "landscape" and not ws.col_breaks.brk
        seen += header
    assert len(sheets) > 1
    assert sorted(seen) == sorted(f"{r.dim_label}: {r.label} ({r.unit}) — năm {y}" for r in types
                                  for y in (2024, 2023))  # every figure once, with its unit


def test_explanations_unexplained_swing_first_then_by_size_identical_texts_collapsed(y2024):
    out, _ = y2024
    rows = [r for r in _cached(out, SHEETS["explanations"])[3:] if r[0]]
    swing = _other(F2024, "luot_phuc_vu", "cong_dong")
    first = rows[0]
    assert first[0] == "Hà Nội" and first[1] == swing.label and first[6].startswith("CHƯA GIẢI THÍCH")
    assert first[5] == pytest.approx(200.0)  # tripled
    assert [r[6] for r in rows[1:]] == [SAME, "Mở thêm thư viện trường học."]  # +150 % before +60 %
    collapsed = rows[1]
    assert collapsed[7] == 2 and collapsed[0] == "Quảng Ninh" and "và 1 số liệu khác" in collapsed[1]
    assert (collapsed[3], collapsed[4], collapsed[5]) == (25, 10, pytest.approx(150.0))
    assert rows[2][7] == 1 and rows[2][5] == pytest.approx(60.0)


def test_rates_are_formulas_over_their_row_with_the_exact_value_stored(y2024):
    out, _ = y2024
    formulas, values = sheet_rows(out, SHEETS["national"]), _cached(out, SHEETS["national"])
    checked = 0
    for i, (f, v) in enumerate(zip(formulas[3:], values[3:], strict=True), start=4):
        if v[6] is None:
            continue
        assert f[6] == f"=(D{i}-E{i})/E{i}*100"
        assert v[6] == pytest.approx((v[3] - v[4]) / v[4] * 100, rel=1e-12)  # exact, not rounded
        checked += 1
    unrounded = [v[6] for v in values[3:] if v[6] is not None and round(v[6], 1) != v[6]]
    assert checked > 20 and unrounded


def test_per_inhabitant_is_one_line_when_no_province_has_a_population(y2024):
    out, _ = y2024  # the shipped population data has no 2024 figure
    rows = [r for r in sheet_rows(out, SHEETS["per_inhabitant"]) if any(v is not None for v in r)]
    assert len(rows) == 3 and rows[2][0].startswith("Chưa tính được các chỉ tiêu bình quân theo dân số")


def test_no_data_sheet_by_default_and_the_dataset_rows_when_asked(y2024, tmp_path):
    out, con = y2024
    assert SHEETS["data"] not in openpyxl.load_workbook(out, read_only=True).sheetnames
    full = write_summary(con, tmp_path / "full.xlsx", data_sheet=True)
    data = sheet_rows(full, SHEETS["data"])
    assert list(data[2]) == list(con.tidy.columns) and len(data) == 3 + len(con.tidy)
    for sheet in (SHEETS["explanations"], SHEETS["national"], "Tỉnh - Thẻ cấp mới"):  # streamed, same content
        assert sheet_rows(full, sheet) == sheet_rows(out, sheet)


@pytest.fixture(scope="module")
def y2025(tmp_path_factory, returns_2024):
    """2025 returns of Hà Nội (its 2024 figures prefilled from last year's dataset) and Tuyên Quang (whose old
    provinces sent nothing in 2024), consolidated with --previous."""
    tmp = tmp_path_factory.mktemp("s2025")
    last = write_dataset(consolidate([returns_2024["01"]], 2024).tidy, tmp / "y2024" / "t_du-lieu.csv")
    prefill = previous_year_prefill(F2025, load_dataset(last))
    for code in ("01", "08"):
        p = province(2025, code)
        values = {**sample_values(F2025, p, seed=2), **prefill(p).values}
        write_template(F2025, tmp / "in" / template_filename(F2025, p), TemplateOptions(province=p, values=values))
    con = consolidate([tmp / "in"], 2025, previous=last)
    assert con.reporting == {"01", "08"}
    return write_summary(con, tmp / "tong-hop-2025.xlsx", previous=last)


def test_previous_says_there_is_nothing_to_reconcile_and_names_the_unchecked_provinces(y2025):
    rows = sheet_rows(y2025, SHEETS["previous"])
    assert rows[1][0].startswith("Không có chênh lệch: số liệu năm 2024 của 1 tỉnh, thành phố khớp")
    assert rows[2][0].startswith("Chưa đối chiếu được số liệu năm 2024 của 1 tỉnh") and "Tuyên Quang" in rows[2][0]
    assert "Hà Nội" not in rows[2][0] and len([r for r in rows if any(r)]) == 3


def test_charts_by_this_years_levels_only(y2025):
    rows = sheet_rows(y2025, SHEETS["charts"])
    labels = {r[0] for r in rows if r[0]}
    assert "Cấp xã" in labels and "Cấp tỉnh" in labels
    assert not any("cấp huyện" in str(label).lower() for label in labels)
    nat = sheet_rows(y2025, SHEETS["national"])  # the carried part is still shown, on the national sheet
    assert any(r[1] == "trong đó: thư viện cấp huyện cũ" for r in nat)
