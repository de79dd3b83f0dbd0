"""Year after year across the 2025 reform: prefilled N-1 figures, rebase, comparison with last year."""

from __future__ import annotations

import json

import openpyxl
import pandas as pd
from click.testing import CliRunner

from libstats.cli import main
from libstats.consolidation.dataset import load_dataset, write_dataset
from libstats.model.form import build_form
from libstats.model.provinces import components, province, provinces_for_year
from libstats.forms.samples import sample_values
from libstats.checks.check import check_file
from libstats.forms.template import TemplateOptions, template_filename, write_template, write_templates

from .conftest import sheet_rows

F2024, F2025 = build_form(2024), build_form(2025)


def _old(df: pd.DataFrame) -> dict[tuple[str, str, str], int]:
    rows = df[df["year"] == 2024]
    return {(r.province_code, r.indicator, r.dim): int(r.value) for r in rows.itertuples()}


def expected_2025(old: dict, new_code: str, indicator: str, dim: str) -> int:
    """What a 2025 province's 2024 figure must be: its old provinces summed, districts carried into communes."""
    dims = ["xa", "huyen"] if dim == "xa" else [dim]
    return sum(old[(c, indicator, d)] for c in components(new_code) for d in dims)


def test_2025_templates_prefill_exact_sums_of_the_merged_provinces_locked_with_a_note(dataset_2024, tmp_path):
    result = CliRunner().invoke(main, ["template", "--year", "2025", "--all-provinces", "--previous",
                                       str(dataset_2024), "--out", str(tmp_path), "-q"])
    assert result.exit_code == 0, result.output
    old = _old(load_dataset(dataset_2024))
    pairs_2024 = {(ind, dim) for _, ind, dim in old}
    unchanged = 0
    for p in provinces_for_year(2025):
        path = tmp_path / template_filename(F2025, p)
        values = check_file(path, year=2025).values
        for r in F2025.rows:
            if (r.indicator, r.dim) not in pairs_2024:
                assert values.get(r.p.id) is None, (p.name, r.id)  # a row new in 2025 has no 2024 figure to carry
                continue
            assert values[r.p.id] == expected_2025(old, p.code, r.indicator, r.dim), (p.name, r.id)
        if len(components(p.code)) == 1:
            unchanged += 1
            assert components(p.code) == (p.code,)
    assert unchanged == 11
    for code in ("01", "08", "24"):  # whole, merged from two, merged with a reused code: as a user opens them
        wb = openpyxl.load_workbook(tmp_path / template_filename(F2025, province(2025, code)))
        for r in F2025.rows:
            c = wb[r.p.sheet][r.p.cell]
            if (r.indicator, r.dim) not in pairs_2024:
                assert c.value is None, (code, r.id)  # a row new in 2025 has no 2024 figure to carry
                continue
            assert c.value == expected_2025(old, code, r.indicator, r.dim)
            assert c.protection.locked and c.comment is not None and "năm 2024" in c.comment.text
        assert wb["2.2 Số liệu"][F2025.fields["the_cap_moi_tinh_n"].cell].protection.locked is False  # N stays open


def test_rebase_gives_the_same_sums_and_leaves_national_totals_unchanged(dataset_2024, tmp_path):
    out = tmp_path / "rebased.csv"
    result = CliRunner().invoke(main, ["rebase", str(dataset_2024), "--to", "2025", "-o", str(out)])
    assert result.exit_code == 0, result.output
    before, after = load_dataset(dataset_2024), load_dataset(out)
    assert after["province_code"].nunique() == 34 and set(after["code_list"]) == {"2025"}
    old = _old(before)
    for r in after[after["year"] == 2024].itertuples():
        assert r.value == expected_2025(old, r.province_code, r.indicator, r.dim)
    for year in (2023, 2024):
        b = before[(before["year"] == year) & (before["dim"] == "tong")].groupby("indicator")["value"].sum()
        a = after[(after["year"] == year) & (after["dim"] == "tong")].groupby("indicator")["value"].sum()
        pd.testing.assert_series_equal(a, b)
    assert "huyen" not in set(after["dim"])
    # a rebased row keeps the field id of the cell its figures were read from (districts: the commune's)
    ids = {(r.indicator, r.dim, r.year): r.field_id for r in before.itertuples()}
    assert after["field_id"].notna().all() and (after["field_id"] != "").all()
    assert all(r.field_id == ids[(r.indicator, r.dim, r.year)] for r in after.itertuples())
    assert set(after["field_id"]) < set(before["field_id"])


def test_reused_codes_never_mix(dataset_2024):
    old = _old(load_dataset(dataset_2024))
    df = load_dataset(dataset_2024)
    from libstats.consolidation.rollover import rebase_frame
    new = rebase_frame(df)
    got = new[(new["province_code"] == "24") & (new["indicator"] == "von_tl") & (new["dim"] == "tinh")
              & (new["year"] == 2024)]["value"].item()
    assert got == old[("24", "von_tl", "tinh")] + old[("27", "von_tl", "tinh")]  # Bắc Giang + Bắc Ninh
    assert province(2025, "24").name == "Bắc Ninh" and province(2024, "24").name == "Bắc Giang"
    lao_cai = new[(new["province_code"] == "15") & (new["indicator"] == "so_thu_vien") & (new["dim"] == "tinh")
                  & (new["year"] == 2024)]["value"].item()
    assert lao_cai == 2  # Lào Cai (10) and Yên Bái (15) each had one provincial library


def test_a_merged_province_with_a_missing_part_is_left_open_never_a_partial_sum(dataset_2024, tmp_path):
    df = load_dataset(dataset_2024)
    partial = write_dataset(df[df["province_code"] != "02"], tmp_path / "partial.csv")  # Hà Giang missing
    from libstats.consolidation.rollover import previous_year_prefill
    prefill = previous_year_prefill(F2025, load_dataset(partial, report_year=2024))
    opts = prefill(province(2025, "08"))  # Tuyên Quang = Hà Giang + Tuyên Quang
    assert opts.values == {} and opts.locked == frozenset()
    assert prefill(province(2025, "04")).values  # Cao Bằng is whole


def test_2025_consolidation_compares_with_2024_on_34_provinces(dataset_2024, tmp_path):
    inbox = tmp_path / "inbox"
    from libstats.consolidation.rollover import previous_year_prefill
    prefill = previous_year_prefill(F2025, load_dataset(dataset_2024))

    def filled(p) -> TemplateOptions:
        values = {**sample_values(F2025, p, seed=2), **prefill(p).values}
        for r in F2025.rows:  # keep the swing rule quiet: this test is about N-1
            values[r.gc.id] = "Sáp nhập tỉnh từ 01/7/2025."
        if p.code == "37":  # Ninh Bình corrects its 2024 provincial-library cards
            values["the_cap_moi_tinh_p"] += 10
            values["the_cap_moi_tong_p"] += 10
        return TemplateOptions(values=values)

    write_templates(F2025, list(provinces_for_year(2025)), inbox, prefill=filled)
    out = tmp_path / "tong-hop-2025.xlsx"
    result = CliRunner().invoke(main, ["consolidate", str(inbox), "--year", "2025", "--previous", str(dataset_2024),
                                       "-o", str(out), "-q"])
    assert result.exit_code == 0, result.output
    diffs = [r for r in sheet_rows(out, "Đối chiếu năm trước")[3:] if isinstance(r[5], int)]  # under the notes
    assert {(r[0], r[2], r[5]) for r in diffs} == {("Ninh Bình", "Cấp tỉnh", 10), ("Ninh Bình", "Tổng cộng", 10)}
    nat = sheet_rows(out, "Toàn quốc")[3:]
    row = next(r for r in nat
               if r[0] == "Tổng số tài nguyên thông tin (vốn tài liệu)" and r[1] == "Tổng cộng")
    old = load_dataset(dataset_2024)
    assert row[4] == old[(old["year"] == 2024) & (old["indicator"] == "von_tl") & (old["dim"] == "tong")]["value"].sum()
    assert row[8] == 34
    # the 2024 district figures carried into the commune level: their own line under each "Cấp xã" row
    rows = nat
    carried = [(rows[i - 1], r) for i, r in enumerate(rows) if r[1] == "trong đó: thư viện cấp huyện cũ"]
    by_label = {(r.label, r.indicator) for r in F2024.rows if r.dim == "huyen"}
    assert len(carried) >= len(by_label) and all(above[1] == "Cấp xã" and above[0] == r[0] for above, r in carried)
    y2024 = old[old["year"] == 2024]
    for label, ind in by_label:
        above, line = next((a, r) for a, r in carried if r[0] == label)
        huyen = y2024[(y2024["indicator"] == ind) & (y2024["dim"] == "huyen")]["value"].sum()
        xa = y2024[(y2024["indicator"] == ind) & (y2024["dim"] == "xa")]["value"].sum()
        assert line[3] is None and line[4] == huyen and line[8] == 34 and above[4] == huyen + xa
    # the charts are by this year's levels only (the carried part is inside "Cấp xã"): tests/test_summary.py
    assert not [r for r in sheet_rows(out, "Biểu đồ") if r[0] == "trong đó: thư viện cấp huyện cũ"]
    checked = CliRunner().invoke(main, ["check", str(inbox / template_filename(F2025, province(2025, "37"))),
                                        "--previous", str(dataset_2024), "--json"])
    b01 = [f for f in json.loads(checked.output)[0]["findings"] if f["code"] == "B01"]
    assert {f["cell"] for f in b01} == {F2025.fields[f"the_cap_moi_{d}_p"].cell for d in ("tinh", "tong")}
    assert checked.exit_code == 0 and json.loads(checked.output)[0]["province"] == "2025:37"


def test_overview_notes_the_reform(dataset_2024, tmp_path):
    inbox = tmp_path / "in"
    p = province(2025, "01")
    write_template(F2025, inbox / "a.xlsx", TemplateOptions(province=p, values=sample_values(F2025, p)))
    out = tmp_path / "s.xlsx"
    assert CliRunner().invoke(main, ["consolidate", str(inbox), "--year", "2025", "-o", str(out), "-q"]).exit_code == 0
    texts = [c for row in sheet_rows(out, "Tổng quan") for c in row if c]
    assert any("không còn cấp huyện" in str(t) and "cộng vào cấp xã" in str(t) for t in texts)
    assert any("34 tỉnh" in str(t) for t in texts)
