"""Figures per inhabitant: the summary shows each province's figure ÷ its population, ranked, blank where the
population is unknown (never invented); outliers (B02) on the per-inhabitant ratios too."""

from __future__ import annotations

import shutil

import pytest

from libstats.checks import batch
from libstats.model import population
from libstats.checks.check import check_file
from libstats.consolidation.consolidate import consolidate
from libstats.model.form import build_form
from libstats.model.provinces import province
from libstats.forms.samples import sample_values
from libstats.outputs.summary import SHEETS, write_summary

from . import corpus as c
from .conftest import RETURNS_SEED
from .conftest import sheet_rows

YEAR = 2024
FORM = build_form(YEAR)
PEOPLE = {"01": 8_500_000, "22": 1_400_000}  # 52 (Bình Định) from the shipped data; 79 unknown


@pytest.fixture
def table(monkeypatch):
    data = {("2004", code, y): n + (y - YEAR) * 1000 for code, n in PEOPLE.items() for y in (YEAR - 1, YEAR)}
    monkeypatch.setattr(population, "population_table", lambda: data)
    return data


def test_summary_per_inhabitant_is_figure_over_population_ranked_blank_when_unknown(returns_2024, tmp_path, table):
    box = tmp_path / "inbox"
    box.mkdir()
    for code in ("01", "22", "79"):
        shutil.copy(returns_2024[code], box / returns_2024[code].name)
    con = consolidate([box], YEAR)
    out = write_summary(con, tmp_path / "tong-hop.xlsx")
    rows = sheet_rows(out, SHEETS["per_inhabitant"])
    values = {code: sample_values(FORM, province(YEAR, code), seed=RETURNS_SEED) for code in ("01", "22", "79")}
    assert len(FORM.spec.per_inhabitant) == 3
    for ratio in FORM.spec.per_inhabitant:
        start = next(i for i, r in enumerate(rows) if r[0] and str(r[0]).startswith(ratio.label))
        block = {r[0]: r for r in rows[start + 2:start + 2 + len(con.expected)]}
        for code in ("01", "22"):
            v = values[code]
            figure = sum(v[f"{ind}_{ratio.dim}_n"] for ind in ratio.sum)
            before = sum(v[f"{ind}_{ratio.dim}_p"] for ind in ratio.sum)
            _, _, status, fig, people, ratio_n, ratio_p, rank = block[code]
            assert (fig, people, status) == (figure, table[("2004", code, YEAR)], None)
            assert ratio_n == pytest.approx(figure * ratio.per / table[("2004", code, YEAR)])
            assert ratio_p == pytest.approx(before * ratio.per / table[("2004", code, YEAR - 1)])
        ranks = sorted((block[c][5], block[c][7]) for c in ("01", "22"))
        assert [r for _, r in ranks] == [2, 1]  # the highest ratio ranks first
        unknown = block["79"]  # reported, population unknown: blank, never invented
        assert unknown[2] == f"chưa có số dân năm {YEAR}" and unknown[3] is not None and unknown[4:8] == (None,) * 4
        assert block["02"][2] == "chưa báo cáo" and block["02"][3] is None


def test_outliers_on_per_inhabitant_ratios_only_where_population_is_known(tmp_path, monkeypatch):
    codes = ["01", "02", "04", "06", "08", "10", "11", "12", "14"]
    data = {("2004", code, YEAR): 1_000_000 for code in codes}
    monkeypatch.setattr(population, "population_table", lambda: data)
    results = []
    for code in codes:
        p = province(YEAR, code)
        results.append(check_file(c.filled(tmp_path / f"{code}.xlsx", p=p, values=c.good_values(p)), year=YEAR))
    ratio = next(r for r in FORM.spec.per_inhabitant if r.sum == ("the_cap_moi",))
    # a province's cards per 1.000 inhabitants far above the others' (its population read as a tenth)
    data[("2004", "01", YEAR)] = 20_000
    found = batch.outlier_findings(results, FORM)
    labels = [f.message for f in found.get(0, []) if ratio.label in f.message]
    assert len(labels) == 1 and "cao gấp" in labels[0] and "mức thường gặp ở các tỉnh" in labels[0]
    assert all(ratio.label not in f.message for i, fs in found.items() if i != 0 for f in fs)
    del data[("2004", "01", YEAR)]  # unknown population: no per-inhabitant finding at all
    found = batch.outlier_findings(results, FORM)
    assert not any(ratio.label in f.message for fs in found.values() for f in fs)
