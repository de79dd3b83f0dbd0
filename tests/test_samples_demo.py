"""Samples and the demo: the flaws give exactly their documented findings; the demo's figures add up."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from python_calamine import CalamineWorkbook

from libstats.checks.check import check_file
from libstats.cli import main
from libstats.consolidation.consolidate import consolidate
from libstats.consolidation.dataset import figures
from libstats.model.form import build_form
from libstats.model.provinces import provinces_for_year, size, successor_code
from libstats.forms.samples import write_samples
from libstats.forms.samples import FLAWS, sample_values
from libstats.outputs.summary import write_summary

from .conftest import sheet_rows

SAMPLES = Path(__file__).resolve().parents[1] / "samples"


@pytest.fixture(scope="module")
def demo(demo_2024):
    """The demo command run once for 2024 (shared with the other files that read it) and what it printed."""
    return demo_2024


def test_each_flaw_gives_exactly_its_documented_findings_and_clean_returns_none(demo):
    demo, _ = demo
    provinces = list(provinces_for_year(2024))
    codes: dict[str, set[str]] = {}
    for e in demo.consolidation.ledger:
        key = e.result.province.code if e.result.province else e.result.display
        codes.setdefault(key, set()).update(f.code for f in e.findings if f.code != "B02")
    for flaw in FLAWS:
        p = provinces[flaw.position]
        key = p.code if flaw.id != "corrupt" else next(k for k in codes if p.code + "_" in k)
        assert codes.pop(key) == set(flaw.codes), flaw.id
    assert all(not c for c in codes.values()), {k: c for k, c in codes.items() if c}


def test_demo_national_figures_equal_the_sum_of_the_accepted_returns_read_independently(demo):
    demo, _ = demo
    form = build_form(2024)
    used = [e.result for e in demo.consolidation.ledger if e.used]
    cells = {r.indicator: r.n for r in form.rows if r.dim == "tong"}
    expected = {ind: 0 for ind in cells}
    for res in used:
        wb = CalamineWorkbook.from_path(res.path)  # another reader than libstats' own
        rows = wb.get_sheet_by_name("2.2 Số liệu").to_python()
        for ind, f in cells.items():
            value = rows[f.row][f.col]
            expected[ind] += int(value if isinstance(value, (int, float)) else str(value).replace(".", ""))
    got = {row[0]: row[3] for row in sheet_rows(demo.summary, "Toàn quốc")[3:] if row[1] == "Tổng cộng"}
    labels = {r.indicator: r.label for r in form.rows}
    for ind, total in expected.items():
        assert got[labels[ind]] == total, ind
    assert len(used) == 59


def test_sample_magnitudes_and_ratios_are_plausible():
    form = build_form(2024)
    for p in provinces_for_year(2024):
        v = sample_values(form, p)
        visits = v["luot_tai_tv_tinh_n"]
        assert 500 <= v["the_cap_moi_tinh_n"] <= 40_000
        assert 10 <= visits / v["the_cap_moi_tinh_n"] <= 80
        assert 1.4 <= v["luot_tl_tinh_n"] / visits <= 2.6
        for r in form.rows:
            n, prev = v[r.n.id], v[r.p.id]
            if prev >= 100:
                assert -0.15 <= (n - prev) / prev <= 0.30, (p.name, r.id)
    sizes = sorted(provinces_for_year(2024), key=lambda p: size(p)[1])
    assert sample_values(form, sizes[-1])["so_thu_vien_xa_n"] > sample_values(form, sizes[0])["so_thu_vien_xa_n"]


@pytest.fixture(scope="module")
def samples_2025(tmp_path_factory) -> Path:
    """The samples command's 2025 returns with flaws (default seed), written once for this module."""
    out = tmp_path_factory.mktemp("samples-2025")
    result = CliRunner().invoke(main, ["samples", "--year", "2025", "--out", str(out), "--flaws", "-q"])
    assert result.exit_code == 0, result.output
    return out


def test_samples_are_deterministic_for_a_seed(samples_2025, tmp_path):
    form = build_form(2025)
    again = write_samples(form, tmp_path, seed=2024, flaws=True)
    assert sorted(p.name for p in again) == sorted(p.name for p in samples_2025.glob("*.xlsx"))
    assert all(p.read_bytes() == (samples_2025 / p.name).read_bytes() for p in again)
    first = provinces_for_year(2025)[0]
    assert sample_values(form, first, seed=3) != sample_values(form, first, seed=4)


def test_committed_samples_are_what_the_command_makes(samples_2025):
    committed = sorted((SAMPLES / "2025").glob("*.xlsx"))
    assert len(committed) >= 30
    fresh = {p.name: p for p in samples_2025.glob("*.xlsx")}
    assert sorted(fresh) == [p.name for p in committed]
    for p in committed[:5]:
        assert check_file(p).values == check_file(fresh[p.name]).values


def test_demo_command_prints_the_paths_of_its_outputs(demo):
    res, output = demo
    out = res.summary.parent
    assert f"Bảng tổng hợp:   {out / 'tong-hop-2024.xlsx'}" in output and res.summary.exists()
    assert f"Bộ dữ liệu:      {out / 'tong-hop-2024_du-lieu.csv'}" in output and res.dataset.exists()
    assert (out / "datapackage.json").exists()
    assert f"Dự thảo báo cáo: {out / 'bao-cao-tong-ket-2024.docx'}" in output
    import docx

    paragraphs = [p.text for p in docx.Document(str(res.report)).paragraphs]
    assert "Tổng kết công tác thư viện năm 2024, phương hướng, nhiệm vụ trọng tâm năm 2025" in paragraphs
    assert len(list((out / "phan-hoi").glob("*.xlsx"))) >= 5
    assert len(list((out / "mau-bieu").glob("*.xlsx"))) == len(res.consolidation.expected) == 63


def test_check_consolidate_and_the_demo_give_the_same_verdicts_and_findings(demo):
    def view(entries):
        return {e["file"]: (e["fate"], e["verdict"], sorted((f["code"], f["sheet"], f["cell"]) for f in e["findings"]))
                for e in entries}

    res, _ = demo
    from_demo = view(e.as_dict() for e in res.consolidation.ledger)
    from_consolidate = view(e.as_dict() for e in consolidate([res.inbox], 2024).ledger)
    out = CliRunner().invoke(main, ["check", str(res.inbox), "--year", "2024", "--json"])
    from_check = view(json.loads(out.output))
    assert from_check == from_consolidate == from_demo
    assert {fate for fate, _, _ in from_check.values()} >= {"accepted", "accepted_with_warnings", "rejected"}
    # the resubmission's first file, refused on its own (R02), keeps its verdict; the L01 says what replaced it
    replaced = [(fate, verdict) for fate, verdict, found in from_check.values() if "L01" in {f[0] for f in found}]
    assert replaced and set(replaced) == {("rejected", "rejected")}


def test_the_guides_2025_walkthrough_with_previous_gives_only_the_b01_the_2024_flaws_explain(demo, samples_2025,
                                                                                               tmp_path):
    """2025 samples (the samples command's, with flaws) follow from the 2024 ones: their year-2024 column is 2024's
    returns summed through the merger, so --previous finds differences only where a 2024 sample was flawed on
    purpose."""
    res, _ = demo
    con = consolidate([samples_2025], 2025, previous=res.dataset)
    b01 = [(e.result.province.code, f.field) for e in con.ledger if e.result.province
           for f in e.findings if f.code == "B01"]
    old = list(provinces_for_year(2024))
    # 2024 flaws that change an accepted year-N figure: the swing (a figure tripled, accepted with a warning)
    changed = {successor_code(old[f.position].code): f for f in FLAWS if f.id == "swing"}
    assert {code for code, _ in b01} <= set(changed), b01
    assert len(b01) <= 2 * len(changed)  # the tripled figure and its total
    assert len(con.previous_diffs) == len(b01)
    # the rows new in this spec flow from the samples through the check into the dataset and the summary
    new = ["the_doi_moi", "bao_bo_sung", "sach_luan_chuyen", "tv_doc_lap", "tv_trong_ttvh", "tv_sap_xep"]
    figs = figures(con.tidy)
    tidy = figs[(figs["year"] == 2025) & figs["indicator"].isin(new)]
    assert set(tidy["indicator"]) == set(new) and tidy["value"].notna().all() and tidy["value"].sum() > 0
    summary = write_summary(con, tmp_path / "tong-hop-2025.xlsx")
    book = CalamineWorkbook.from_path(str(summary))  # every sheet's texts (openpyxl takes seconds for a summary)
    strings = {v for name in book.sheet_names for row in book.get_sheet_by_name(name).to_python() for v in row
               if isinstance(v, str)}
    labels = {con.form.spec.indicators[i].label for i in new}
    assert labels <= strings, labels - strings
