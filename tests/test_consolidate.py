"""Consolidation end to end: every national figure equals the one computed here independently."""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner
from python_calamine import CalamineWorkbook

from libstats.outputs import summary as summary_mod
from libstats.cli import main
from libstats.consolidation.consolidate import consolidate
from libstats.consolidation.dataset import load_dataset
from libstats.model.form import build_form
from libstats.model.provinces import province, provinces_for_year
from libstats.forms.samples import sample_values
from libstats.outputs.summary import SHEETS
from libstats.forms.template import TemplateOptions, template_filename, write_template

from .conftest import RETURNS_SAVED, RETURNS_SEED
from .conftest import sheet_rows
from .workbooks import cached_rows as _cached

YEAR = 2024
FORM = build_form(YEAR)
T0 = RETURNS_SAVED


def known_values() -> dict[str, dict]:
    return {p.code: sample_values(FORM, p, seed=RETURNS_SEED) for p in provinces_for_year(YEAR)}


@pytest.fixture(scope="module")
def inbox(tmp_path_factory, returns_2024) -> tuple[Path, dict[str, dict]]:
    """Returns of every province but Hà Giang (02), one rejected (Cao Bằng, 04), Hà Nội sent twice."""
    box = tmp_path_factory.mktemp("inbox")
    values = known_values()
    for code, path in returns_2024.items():
        if code not in {"02", "04"}:
            shutil.copy(path, box / path.name)
    bad = dict(values["04"], the_cap_moi_tong_n=1)  # total ≠ sum: rejected
    write_template(FORM, box / template_filename(FORM, province(YEAR, "04")),
                   TemplateOptions(province=province(YEAR, "04"), values=bad, generated_at=T0))
    hanoi = province(YEAR, "01")
    first = dict(values["01"], the_cap_moi_tinh_n=values["01"]["the_cap_moi_tinh_n"] - 100,
                 the_cap_moi_tong_n=values["01"]["the_cap_moi_tong_n"] - 100)
    write_template(FORM, box / "lan-1" / "ha-noi-gui-lan-1.xlsx",
                   TemplateOptions(province=hanoi, values=first, generated_at=T0 - dt.timedelta(days=3)))
    shutil.copy(box / template_filename(FORM, province(YEAR, "22")), box / "quang-ninh-ban-sao.xlsx")
    return box, values


def _hashes(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def run(inbox, tmp_path_factory):
    box, values = inbox
    before = _hashes(box)
    out = tmp_path_factory.mktemp("out") / "tong-hop-2024.xlsx"
    result = CliRunner().invoke(main, ["consolidate", str(box), "--year", "2024", "-o", str(out), "-q"])
    assert result.exit_code == 0, result.output
    assert _hashes(box) == before  # the inbox is untouched
    return out, values, result.output


def _expected_national(values: dict[str, dict], used: set[str]) -> dict[tuple[str, str], tuple[int, int]]:
    out = {}
    for r in FORM.rows:
        out[(r.indicator, r.dim)] = (sum(values[c][r.n.id] for c in used), sum(values[c][r.p.id] for c in used))
    return out


USED = {p.code for p in provinces_for_year(YEAR)} - {"02", "04"}


def test_every_national_figure_change_and_percent_equals_the_independent_sum(run):
    out, values, _ = run
    expected = _expected_national(values, USED)
    sheet = _cached(out, summary_mod.SHEETS["national"])
    rows = sheet[3:]
    labels = {(r.label, r.dim_label): (r.indicator, r.dim) for r in FORM.rows}
    checked = 0
    for label, dim_label, _unit, n, p, diff, pct, cov_n, cov_p, note in rows:
        key = labels.get((label, dim_label))
        if key is None:
            continue
        en, ep = expected[key]
        assert (n, p) == (en, ep), key
        assert diff == en - ep
        assert pct == (pytest.approx((en - ep) / ep * 100, rel=1e-12) if ep else None)  # its stored result
        assert cov_n == len(USED) and cov_p == len(USED) and note is None
        checked += 1
    assert checked == len(FORM.rows)
    # the national totals say what they leave out (the National Library): the spec's label and note
    texts = [c for r in sheet for c in r if isinstance(c, str)]
    assert FORM.spec.national_note and FORM.spec.national_note in texts
    assert FORM.spec.national_label.upper() in sheet[0][0]
    texts = [c for r in sheet_rows(out, summary_mod.SHEETS["overview"]) for c in r if isinstance(c, str)]
    assert any(FORM.spec.national_label in t for t in texts) and not any("TOÀN QUỐC" in t for t in texts)
    assert not any("tính vào" in t for t in texts) and any(FORM.spec.national_note in t for t in texts)


def test_province_rows_missing_marked_regions_and_national_total(run):
    out, values, _ = run
    rows = sheet_rows(out, "Tỉnh - Thẻ cấp mới")[3:]
    by_code = {r[0]: r for r in rows if r[0]}
    assert by_code["02"][2] == "chưa báo cáo" and by_code["02"][3] is None  # never zero
    assert by_code["04"][2] == "chưa báo cáo"
    assert by_code["01"][3] == values["01"]["the_cap_moi_tong_n"]  # the later of Hà Nội's two files
    national = next(r for r in rows if r[1] == FORM.spec.national_label)
    assert national[3] == sum(values[c]["the_cap_moi_tong_n"] for c in USED)
    assert national[2] == f"{len(USED)}/63 tỉnh"
    regions = [r for r in rows if r[1] and str(r[1]).startswith("Cộng ")]
    assert len(regions) == 6 and sum(r[3] for r in regions) == national[3]
    for code, r in by_code.items():
        if code in USED:
            n, p = values[code]["the_cap_moi_tong_n"], values[code]["the_cap_moi_tong_p"]
            assert (r[3], r[4], r[5]) == (n, p, n - p)
    ranks = sorted(r[7] for code, r in by_code.items() if code in USED)
    assert ranks[0] == 1 and len(ranks) == len(USED)


def test_ledger_has_every_file_once_with_its_fate(run, inbox):
    out, _, output = run
    box, _ = inbox
    rows = [r for r in sheet_rows(out, summary_mod.SHEETS["ledger"])[3:] if r[0]]
    assert sorted(r[0] for r in rows) == sorted(str(p.relative_to(box)) for p in box.rglob("*.xlsx"))
    fate = {r[0]: (r[3], r[4]) for r in rows}
    assert fate["lan-1/ha-noi-gui-lan-1.xlsx"] == ("Đã được thay thế", "bao-cao-thu-vien-2024_01_ha-noi.xlsx")
    assert fate[template_filename(FORM, province(YEAR, "04"))][0] == "Không chấp nhận"
    dup = [k for k in fate if "quang-ninh" in k]
    assert sorted(fate[k][0] for k in dup) == ["Chấp nhận", "Đã được thay thế"]
    assert any("trùng lặp" in fate[k][1] for k in dup)
    assert "Chưa báo cáo hoặc chưa được chấp nhận: Hà Giang, Cao Bằng" in output


def test_superseded_file_lists_the_cells_that_differ(run):
    out, values, _ = run
    l02 = [r for r in sheet_rows(out, summary_mod.SHEETS["findings"])[3:] if r[3] == "L02"]
    cells = {(r[5], r[6]) for r in l02 if r[0] == "lan-1/ha-noi-gui-lan-1.xlsx"}
    assert cells == {("2.2 Số liệu", FORM.fields["the_cap_moi_tinh_n"].cell),
                     ("2.2 Số liệu", FORM.fields["the_cap_moi_tong_n"].cell)}
    messages = " ".join(r[7] for r in l02 if r[0] == "lan-1/ha-noi-gui-lan-1.xlsx")
    assert FORM.fields["the_cap_moi_tinh_n"].label in messages and "the_cap_moi" not in messages  # as the form says


def test_dataset_traces_every_figure_to_its_cell_and_the_same_inbox_gives_the_same_figures(run, inbox, tmp_path):
    out, values, _ = run
    df = load_dataset(out.with_name("tong-hop-2024_du-lieu.csv"))
    assert set(df["province_code"]) == USED and set(df["code_list"]) == {"2004"}
    row = df[(df["province_code"] == "01") & (df["field_id"] == "luot_tl_xa_n")].iloc[0]
    assert (row["value"], row["sheet"], row["cell"], row["year"]) == (
        values["01"]["luot_tl_xa_n"], "2.2 Số liệu", FORM.fields["luot_tl_xa_n"].cell, 2024)
    assert row["source_file"] == "bao-cao-thu-vien-2024_01_ha-noi.xlsx"
    assert out.with_name("tong-hop-2024_du-lieu.csv").read_bytes()[:3] == b"\xef\xbb\xbf"
    again = consolidate([inbox[0]], YEAR)
    full = load_dataset(out.with_name("tong-hop-2024_du-lieu.csv"), texts=True)
    cols = ["province_code", "field_id", "kind", "value", "text", "source_file", "cell"]
    pd.testing.assert_frame_equal(again.tidy[cols].sort_values(cols[:2]).reset_index(drop=True),
                                  full[cols].sort_values(cols[:2]).reset_index(drop=True), check_dtype=False)
    assert len(df) < len(full) and set(df["kind"]) == {"figure"}
    # the summary's data sheet, when asked for, holds the same rows as the dataset
    assert SHEETS["data"] not in openpyxl.load_workbook(out, read_only=True).sheetnames
    with_data = summary_mod.write_summary(again, tmp_path / "with-data.xlsx", data_sheet=True)
    sheet = CalamineWorkbook.from_path(str(with_data)).get_sheet_by_name(SHEETS["data"]).to_python()
    assert sheet[2] == list(full.columns)
    assert [[_plain(v) for v in row] for row in sheet[3:]] == [[_plain(v) for v in row] for row in
                                                                full.astype(object).values.tolist()]


def _plain(v) -> str:
    """A cell as text, whoever read it: blank, a whole number, or the text."""
    if isinstance(v, str):
        return v
    if v is None or pd.isna(v):
        return ""
    return str(int(v)) if isinstance(v, (int, float)) and float(v).is_integer() else str(v)


def test_narratives_are_gathered_whole_and_text_stays_text(tmp_path):
    p = province(YEAR, "01")
    # a text shaped like XlsxWriter's own rich text ("<r>…</r>"), which it would write raw: escaped, in the form
    # written with it, in the summary's narratives and in its data sheet
    markup = "<r><t>chèn</t></r><x></r>"
    values = dict(sample_values(FORM, p), n2_de_xuat="=1+1 là đề xuất, không phải công thức", n222_mo_hinh=markup)
    write_template(FORM, tmp_path / "in" / "a.xlsx", TemplateOptions(province=p, values=values))
    out = tmp_path / "s.xlsx"
    result = CliRunner().invoke(main, ["consolidate", str(tmp_path / "in"), "--year", "2024", "-o", str(out), "-q"])
    assert result.exit_code == 0, result.output
    def written_under(sheet: str, label: str):  # the bullet's row, then one row per province: name, text
        rows = sheet_rows(out, sheet, cells=True)
        at = next(i for i, r in enumerate(rows) if r[0].value == label)
        return rows[at + 1][0].value, rows[at + 1][1]

    name, cell = written_under("TM Phần 2. Phương hướng", "IV. ĐỀ XUẤT, KIẾN NGHỊ")
    assert name == "Hà Nội"
    assert cell.value == "=1+1 là đề xuất, không phải công thức" and cell.data_type == "s"
    assert written_under("TM 2.2 Thư viện công cộng", "- Mô hình tổ chức của các thư viện.")[1].value == markup
    data = sheet_rows(summary_mod.write_summary(consolidate([tmp_path / "in"], YEAR), tmp_path / "d.xlsx",
                                                data_sheet=True), SHEETS["data"])
    assert [r for r in data if "n222_mo_hinh" in r][0][list(data[2]).index("text")] == markup


def test_an_interrupted_run_leaves_no_half_written_summary(inbox, tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(summary_mod, "explanation_lines", broken)
    out = tmp_path / "s.xlsx"
    with pytest.raises(KeyboardInterrupt):
        summary_mod.write_summary(consolidate([inbox[0] / "lan-1"], YEAR), out)
    assert list(tmp_path.iterdir()) == []


def test_two_provinces_are_never_merged_a_misnamed_file_counts_for_its_own_province(tmp_path):
    ha_nam = province(YEAR, "35")
    write_template(FORM, tmp_path / "in" / "bao-cao-thu-vien-2024_01_ha-noi.xlsx",
                   TemplateOptions(province=ha_nam, values=sample_values(FORM, ha_nam)))
    con = consolidate([tmp_path / "in"], YEAR)
    assert con.reporting == {"35"}
    assert "I05" in [f.code for f in con.ledger[0].result.findings]


def test_a_change_between_different_sets_of_provinces_is_not_published(tmp_path):
    from libstats.consolidation.consolidate import national_table, province_table

    for code in ("01", "22"):
        p = province(YEAR, code)
        values = sample_values(FORM, p)
        if code == "22":  # Quảng Ninh left one year N-1 figure empty: a warning, the return is accepted
            values["luot_tl_tinh_p"] = None
            values["luot_tl_tong_p"] = None
        write_template(FORM, tmp_path / f"{code}.xlsx", TemplateOptions(province=p, values=values))
    con = consolidate([tmp_path], YEAR)
    nat = national_table(con).set_index(["indicator", "dim"])
    row = nat.loc[("luot_tl", "tinh")]
    assert row["provinces_n"] == 2 and row["provinces_p"] == 1
    assert pd.isna(row["diff"]) and pd.isna(row["pct"]) and "khác nhau" in row["note"]
    assert not pd.isna(nat.loc[("luot_tl", "xa")]["diff"])
    national = province_table(con, "luot_tl", "tong").iloc[-1]
    assert pd.isna(national["diff"]) and "Không tính tăng/giảm" in national["status"]


def test_not_applicable_figures_stay_blank_never_zero(tmp_path):
    p = province(YEAR, "01")
    values = sample_values(FORM, p)
    for r in FORM.rows:
        if r.table == "loai_hinh_khac":
            values[r.n.id] = "x"
    write_template(FORM, tmp_path / "in" / "a.xlsx", TemplateOptions(province=p, values=values))
    out = tmp_path / "s.xlsx"
    result = CliRunner().invoke(main, ["consolidate", str(tmp_path / "in"), "--year", "2024", "-o", str(out), "-q"])
    assert result.exit_code == 0, result.output
    rows = [r for k in range(1, 4) for r in sheet_rows(out, f"{summary_mod.SHEETS['types']} ({k})")[2:]]
    header = [h for r in rows if r[0] == "Mã" for h in r]
    hanoi = [v for r in rows if r[0] == "01" for v in r]
    total = [v for r in rows if r[1] == FORM.spec.national_label for v in r]

    def col(r, year):
        return header.index(f"{r.dim_label}: {r.label} ({r.unit}) — năm {year}")

    bus = next(r for r in FORM.rows if r.n.id == "so_xe_o_to_n")
    assert hanoi[col(bus, YEAR)] == values["so_xe_o_to_n"] and hanoi[col(bus, YEAR - 1)] == values["so_xe_o_to_p"]
    other = [r for r in FORM.rows if r.table == "loai_hinh_khac"]
    assert len(other) == 11
    for r in other:
        assert hanoi[col(r, YEAR)] is None and total[col(r, YEAR)] is None  # never 0
        assert hanoi[col(r, YEAR - 1)] == values[r.p.id]


def test_the_provinces_explanations_are_gathered_beside_their_figures(run):
    out, values, _ = run
    rows = [r for r in sheet_rows(out, summary_mod.SHEETS["explanations"])[3:] if r[0]]
    written = [values[c][r.gc.id] for c in USED for r in FORM.rows if values[c].get(r.gc.id)]
    assert sum(r[7] for r in rows) == len(written) > 0  # each text once, with its count
    assert sorted(r[6] for r in rows) == sorted(set(written)) and all(r[8] for r in rows)


@pytest.mark.parametrize("text", ["Ngắn.", "dòng một\ndòng hai", " ".join(f"từ{i}" for i in range(3000)),
                                  "\n".join(["đoạn " * 40] * 60), "x" * 5000 + " y"],
                         ids=["short", "two-lines", "3000-words", "60-paragraphs", "one-word-longer-than-a-row"])
def test_a_narrative_is_cut_at_spaces_into_rows_that_each_fit_and_rejoin_to_the_text(text):
    from libstats.model.layout import wrapped_lines

    pieces = summary_mod._chunks(text, 92, 20)
    assert " ".join(pieces) == text
    assert all(wrapped_lines(p, 92 * 0.9) <= 20 for p in pieces if " " in p)  # a single word cannot be cut
    assert (len(pieces) == 1) == (wrapped_lines(text, 92 * 0.9) <= 20)
