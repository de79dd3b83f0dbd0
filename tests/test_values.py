"""Issue 9 items 1 and 6: counts typed the Vietnamese way, the decimal rule, and "x" (không thống kê) carried as
not counted through the rules, the dataset, the national totals, the summary's counts and next year's prefill.
Issue 13: every rule's two Python faces, ``status()`` and ``findings()``, agree."""

from __future__ import annotations

import re
from pathlib import Path

import openpyxl
from openpyxl.utils import rows_from_range
import pandas as pd
import pytest

from libstats.checks.check import check_file
from libstats.model.coerce import coerce_count, coerce_decimal, coerce_number
from libstats.consolidation.consolidate import consolidate, headline_frame, national_table
from libstats.consolidation.dataset import figures, load_dataset, write_dataset
from libstats.model.findings import Severity, make
from libstats.model.form import build_form
from libstats.model.provinces import provinces_for_year
from libstats.consolidation.rollover import previous_year_prefill
from libstats.model.rules import NA, OK, Context, EmptyRule, SumRule, build_rules
from libstats.forms.samples import sample_values
from libstats.model.spec import SpecError, load_spec
from libstats.outputs.summary import SHEETS, write_summary
from libstats.forms.template import TemplateOptions, template_filename, validation, write_template

from . import corpus as c
from .workbooks import sheet_rows

FORM = c.FORM
UNITS = {"thẻ"}


@pytest.mark.parametrize("typed,value,shown", [
    ("5.731", 5731, "5.731"), ("20.060", 20060, "20.060"), ("32.713 thẻ", 32713, "32.713"), ("1,234", 1234, "1.234"),
    ("1.234.567", 1234567, "1.234.567"), ("1,234,567", 1234567, "1.234.567"), ("1 234", 1234, "1.234"),
    ("12.345,0", 12345, "12.345"), (" 537 ", 537, "537"),
])
def test_counts_typed_the_vietnamese_way_are_read_with_the_reading_shown(typed, value, shown):
    got = coerce_count(typed, UNITS)
    assert (got.value, got.code, got.shown) == (value, "V01", shown)
    finding = make(got.code, field="f", label="Số thẻ", detail=got.detail, value=got.shown)
    assert finding.severity == Severity.INFO and f"đọc là {shown}" in finding.message


@pytest.mark.parametrize("typed,code", [
    ("1,5", "V04"), ("12.5", "V04"), ("5.73", "V04"), ("1.2345", "V04"), ("1.234,5", "V04"), ("1,234.5", "V04"),
    ("1,23.456", "V05"), ("1.23,45", "V05"), ("12.34.567", "V05"), ("-5.731", "V03"), ("5.731 lượt", "V05"),
    ("0.500", "V04"), ("01.234", "V04"), ("0,500", "V04"), ("0.500.000", "V05"),  # a leading 0 groups nothing
])
def test_what_cannot_be_a_whole_count_is_refused_never_rounded(typed, code):
    got = coerce_count(typed, UNITS)
    assert (got.value, got.code, got.refused) == (None, code, True)
    if code == "V04":  # the message names the other likely reading: a thousands group typed short
        assert "ngăn cách hàng nghìn" in make(code, field="f", label="Số thẻ", detail=typed).message


@pytest.mark.parametrize("typed,value", [
    ("1.234,5", 1234.5), ("1,5", 1.5), ("12.5", 12.5), ("1,234.5", 1234.5), ("1.234.567", 1234567),
    ("1.234.567,25", 1234567.25), ("0,75", 0.75), (3.25, 3.25), (12, 12), ("x", "x"),
])
def test_the_decimal_rule_reads_the_last_mark_as_the_decimal_mark(typed, value):
    assert coerce_decimal(typed).value == value


@pytest.mark.parametrize("typed", ["1.234", "1,234", "20.060"])
def test_the_decimal_rule_refuses_one_group_of_three_and_names_both_readings(typed):
    got = coerce_decimal(typed)
    assert (got.value, got.code) == (None, "V02")
    whole, frac = typed.replace(",", ".").split(".")
    assert f"{int(whole + frac):,}".replace(",", ".") in got.shown and f"{whole},{frac}" in got.shown
    finding = make(got.code, field="f", label="Kinh phí", detail=got.detail, value=got.shown)
    assert finding.severity == Severity.ERROR and got.shown in finding.message and typed in finding.message


def test_x_is_not_counted_in_both_rules_and_coerce_number_follows_the_type():
    for rule in ("count", "decimal"):
        for typed in ("x", "X", " x "):
            got = coerce_number(typed, rule)
            assert (got.value, got.code, got.refused) == ("x", "V08", False)
    assert make("V08", field="f", label="L", detail="x").severity == Severity.INFO
    assert coerce_number("1.234", "count").value == 1234 and coerce_number("1.234", "decimal").code == "V02"


@pytest.mark.parametrize("typed,value", [
    ("1" + " " * 20_000 + "thẻ\nthẻ", None),  # took minutes when the number pattern backtracked over the spaces
    ("1" + " " * 20_000 + "\nthẻ", 1),  # the line's outer spaces are cleaned away: "1\nthẻ" is 1 thẻ, as before
    ("1" + " " * 10_000 + "x\n" + " " * 10_000 + "x", None),
    ("5.731" + "\n" * 20_000 + "a", None),
    ("1," * 10_000, None),
    ("+" + "1 " * 10_000 + "\n", None),
], ids=["spaces-break", "spaces-unit", "spaces-x", "breaks", "commas", "groups"])
def test_a_long_text_with_line_breaks_is_read_in_linear_time(typed, value):
    import signal

    def too_slow(*_):
        raise TimeoutError(f"coercing {len(typed):,} characters did not finish in 5 s")

    old = signal.signal(signal.SIGALRM, too_slow)
    signal.alarm(5)  # a bound on pathology, not a speed figure: the quadratic pattern took minutes
    try:
        for rule in ("count", "decimal"):
            got = coerce_number(typed, rule, UNITS)
            assert got.value == value and got.refused == (value is None)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


@pytest.mark.parametrize("typed", [
    "\u0665\u0667\u0663\u0661",  # Arabic-Indic ٥٧٣١
    "\u06f5\u06f7",  # extended Arabic-Indic (Persian)
    "\uff15\uff17\uff13\uff11",  # full-width ５７３１
    "5\uff17\uff13\uff11", "\u0665.731", "5.\u0667\u0663\u0661 thẻ", "\u0967\u0968",  # mixed; Devanagari
    "5_731",  # Python's float() takes it; a spreadsheet does not
])
def test_digits_typed_as_text_are_ascii_only(typed):
    for rule in ("count", "decimal"):
        got = coerce_number(typed, rule, UNITS)
        assert (got.value, got.code) == (None, "V05"), (typed, rule, got)


def test_dates_take_ascii_digits_only():
    from libstats.model.coerce import coerce_date
    assert coerce_date("05/07/2024").value.isoformat() == "2024-07-05"
    assert coerce_date("\u0660\u0665/07/2024").code == "V11"
    assert coerce_date("05/07/\uff12\uff10\uff12\uff14").code == "V11"


def _spec_with(tmp_path, edit):
    text = Path(c.FORM.spec.source).read_text(encoding="utf-8")
    path = tmp_path / "spec.toml"
    path.write_text(edit(text), encoding="utf-8")
    return load_spec(path)


def test_the_number_rule_is_the_indicator_type_in_the_spec(tmp_path):
    budget = 'id = "the_cap_moi"\n'
    spec = _spec_with(tmp_path, lambda t: t.replace(budget, budget + 'type = "decimal"\n', 1))
    form = build_form(2024, spec)
    assert form.fields["the_cap_moi_tinh_n"].type == "decimal" and form.fields["so_thu_vien_tinh_n"].type == "count"
    decimal, count = (validation(form.fields[f], form)["value"]
                      for f in ("the_cap_moi_tinh_n", "so_thu_vien_tinh_n"))
    assert "INT(" not in decimal and "INT(" in count and decimal.endswith('="x")')
    with pytest.raises(SpecError, match=r"indicators\[\d+\]\.type"):
        _spec_with(tmp_path, lambda t: t.replace(budget, budget + 'type = "money"\n', 1))
    # a return of that form: "1.234" in the decimal field is ambiguous there (V02), in a count field it is 1234
    values = {**c.good_values(), "the_cap_moi_tinh_n": "1.234", "so_thu_vien_tinh_n": "1.234"}
    path = write_template(form, tmp_path / "r.xlsx", TemplateOptions(province=c.HANOI, values=values))
    res = check_file(path, spec, 2024)
    found = {f.field: f.code for f in res.findings if f.code in ("V01", "V02")}
    assert found == {"the_cap_moi_tinh_n": "V02", "so_thu_vien_tinh_n": "V01"}
    assert res.values["so_thu_vien_tinh_n"] == 1234 and res.values["the_cap_moi_tinh_n"] is None


# -- the rules' two faces --------------------------------------------------------------------------------------

def _scenarios() -> dict[str, dict]:
    good = c.good_values()
    rows = {(r.indicator, r.dim): r for r in FORM.rows}
    tong, xa, tinh = rows[("luot_truy_cap", "tong")], rows[("luot_truy_cap", "xa")], rows[("luot_truy_cap", "tinh")]
    out = {"good": good, "empty": {}}
    out["x part, total over counted"] = dict(good, **{xa.n.id: "x", tong.n.id: good[tong.n.id] - good[xa.n.id]})
    out["x part, old total"] = dict(good, **{xa.n.id: "x", tong.n.id: good[tong.n.id] - good[xa.n.id] + 999})
    out["x total, parts counted"] = dict(good, **{tong.n.id: "x"})
    out["all x"] = {**good, **{r.n.id: "x" for r in FORM.rows}, **{r.p.id: "x" for r in FORM.rows}}
    out["wrong total"] = dict(good, **{tong.p.id: good[tong.p.id] + 7})
    out["empty total"] = {k: v for k, v in good.items() if k != tong.n.id}
    out["only the total"] = {k: v for k, v in good.items() if k in (tong.n.id, "bia_tinh")}
    out["swing"] = dict(good, **{tinh.n.id: good[tinh.p.id] * 5 + 100, tinh.gc.id: None})
    out["same as last year"] = {**good, **{r.n.id: good[r.p.id] for r in FORM.rows}}
    out["relation broken"] = dict(good, so_tv_moi_tu_nhan_n=10**6)
    out["text left"] = dict(good, **{xa.n.id: "abc"})
    return out


def _class(status: str) -> str | None:
    return "error" if status.startswith("Lỗi") else "warning" if status.startswith("Cảnh báo") else None


@pytest.mark.parametrize("name,values", list(_scenarios().items()), ids=list(_scenarios()))
def test_every_rule_status_and_findings_agree(name, values):
    for rule in build_rules(FORM):
        status = rule.status(values)
        found = list(rule.findings(Context(FORM, values, file="r.xlsx")))
        serious = {f.severity.value for f in found if f.severity != Severity.INFO}
        assert serious == ({_class(status)} - {None}), (name, rule.describe(), status, [f.message for f in found])
        assert (status.startswith(OK) or status == NA) == (not serious)
        counted_over = [f for f in found if f.code == "R06"]
        assert bool(counted_over) == (status.startswith(OK + " (không tính")), (name, status)


def test_a_total_over_what_was_counted_says_so_in_both_faces():
    values = _scenarios()["x part, total over counted"]
    rule = next(r for r in build_rules(FORM) if isinstance(r, SumRule) and r.total.id == "luot_truy_cap_tong_n")
    assert rule.status(values) == "Đạt (không tính 1 ô ghi x)"
    (f,) = rule.findings(Context(FORM, values, file="r.xlsx"))
    assert f.code == "R06" and "Cấp xã ghi x (không thống kê)" in f.message
    wrong = _scenarios()["x part, old total"]
    assert rule.status(wrong).endswith("(không tính 1 ô ghi x)") and rule.status(wrong).startswith("Lỗi")
    (f,) = rule.findings(Context(FORM, wrong, file="r.xlsx"))
    assert f.code == "R02" and "không tính ô Cấp xã ghi x" in f.message


def test_an_x_cell_is_filled_for_the_empty_cell_rule():
    rule = next(r for r in build_rules(FORM) if isinstance(r, EmptyRule) and len(r.fields) > 5
                and r.fields[0].kind == "number")
    values = {f.id: "x" for f in rule.fields}
    assert rule.status(values) == OK and list(rule.findings(Context(FORM, values))) == []
    formula = rule.formula()  # every cell counted once: as a number, or as "x" (không thống kê), by range
    counted = [(sheet, cell) for sheet, ref in re.findall(r"COUNTIF\('([^']+)'!([A-Z]+\d+:[A-Z]+\d+),\"x\"\)", formula)
               for row in rows_from_range(ref) for cell in row]
    assert sorted(counted) == sorted((f.sheet, f.cell) for f in rule.fields)  # each once, none else
    assert formula.count("COUNT(") == formula.count("COUNTIF(")  # each range also counted for its numbers


# -- through the pipeline -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def x_round(tmp_path_factory):
    """Three provinces: one did not count commune digital accesses (x) and sums its total over what it counted."""
    tmp = tmp_path_factory.mktemp("xround")
    inbox, meant = tmp / "inbox", {}
    for i, p in enumerate(provinces_for_year(2024)[:3]):
        v = sample_values(FORM, p, seed=5)
        if i == 0:
            v["luot_truy_cap_xa_n"] = v["luot_truy_cap_tinh_n"] = "x"
            v["luot_truy_cap_tong_n"] = v["luot_truy_cap_huyen_n"]
            v["luot_truy_cap_xa_p"] = "x"
            v["luot_truy_cap_tong_p"] = v["luot_truy_cap_tinh_p"] + v["luot_truy_cap_huyen_p"]
        meant[p.code] = v
        write_template(FORM, inbox / template_filename(FORM, p), TemplateOptions(province=p, values=v))
    return tmp, consolidate([inbox], 2024), meant


def test_x_is_carried_as_not_counted_into_the_dataset_and_back(x_round):
    tmp, con, meant = x_round
    first = provinces_for_year(2024)[0].code
    assert all(e.result.verdict.value != "rejected" for e in con.ledger)
    row = con.tidy[(con.tidy["province_code"] == first) & (con.tidy["field_id"] == "luot_truy_cap_xa_n")].iloc[0]
    assert pd.isna(row["value"]) and row["status"] == "x"
    assert set(con.tidy["status"]) == {"", "x"} and (con.tidy["status"] == "x").sum() == 3
    back = load_dataset(write_dataset(con.tidy, tmp / "du-lieu.csv"))  # the figure rows
    figs = figures(con.tidy)
    assert back["status"].tolist() == figs["status"].tolist()
    assert back["value"].isna().sum() == figs["value"].isna().sum()


def test_totals_sum_what_was_reported_and_count_the_provinces_with_figures(x_round):
    _, con, meant = x_round
    nat = national_table(con).set_index(["indicator", "dim"])
    xa = nat.loc[("luot_truy_cap", "xa")]
    assert xa["provinces_n"] == 2 and xa["n"] == sum(v["luot_truy_cap_xa_n"] for v in meant.values()
                                                     if v["luot_truy_cap_xa_n"] != "x")
    tong = nat.loc[("luot_truy_cap", "tong")]
    assert tong["provinces_n"] == 3 and tong["n"] == sum(v["luot_truy_cap_tong_n"] for v in meant.values())
    frame = headline_frame(con, "luot_truy_cap", "xa").set_index("province_code")
    first = provinces_for_year(2024)[0].code
    assert frame.loc[first, "status"] == "không thống kê (x)" and pd.isna(frame.loc[first, "n"])


def test_a_headline_with_an_x_part_sums_the_parts_counted():
    tidy = pd.DataFrame([
        {"province_code": "01", "code_list": "2004", "province_name": "A", "region": "R", "dim": "tong",
         "dim_label": "T", "year": 2024, "indicator": ind, "value": v, "status": s}
        for ind, v, s in (("luot_tai_tv", 100, ""), ("luot_ngoai_tv", pd.NA, "x"))])
    from libstats.consolidation.consolidate import _derive
    heads = [h for h in FORM.spec.headlines if set(h.sum) == {"luot_tai_tv", "luot_ngoai_tv"}]
    assert heads, "the spec sums visits at and outside the library"
    tidy["value"] = tidy["value"].astype("Int64")
    out = _derive(tidy, FORM.spec)
    got = out[out["indicator"] == heads[0].id].iloc[0]
    assert got["value"] == 100 and got["status"] == ""
    blank = tidy.assign(status="")
    got = _derive(blank, FORM.spec).query(f"indicator == '{heads[0].id}'").iloc[0]
    assert pd.isna(got["value"])  # a blank part: no figure, never a partial sum
    every = tidy.assign(value=pd.array([pd.NA, pd.NA], dtype="Int64"), status="x")
    got = _derive(every, FORM.spec).query(f"indicator == '{heads[0].id}'").iloc[0]
    assert pd.isna(got["value"]) and got["status"] == "x"


def test_x_last_year_is_prefilled_as_x_and_locked(x_round, tmp_path):
    tmp, con, _ = x_round
    dataset = write_dataset(con.tidy, tmp / "du-lieu-2024.csv")
    form = build_form(2025)
    p2025 = next(p for p in provinces_for_year(2025) if p.code == "01")  # Hà Nội keeps its code
    opts = previous_year_prefill(form, load_dataset(dataset))(p2025)
    assert opts.values["luot_truy_cap_tinh_p"] == "x" and "luot_truy_cap_tinh_p" in opts.locked
    assert "x (không thống kê)" in opts.notes["luot_truy_cap_tinh_p"]
    # 2025 communes = 2024 districts (counted) + communes (x): no whole figure, so the cell is left open
    assert "luot_truy_cap_xa_p" not in opts.values
    path = write_template(form, tmp_path / "mau.xlsx", TemplateOptions(province=p2025, values=opts.values,
                                                                      locked=opts.locked, notes=opts.notes))
    f = form.fields["luot_truy_cap_tinh_p"]
    cell = openpyxl.load_workbook(path)[f.sheet][f.cell]
    assert cell.value == "x" and cell.protection.locked
    assert check_file(path, year=2025).values["luot_truy_cap_tinh_p"] == "x"


def test_the_summary_counts_the_provinces_with_figures(x_round):
    tmp, con, _ = x_round
    path = write_summary(con, tmp / "tong-hop.xlsx", data_sheet=True)
    rows = sheet_rows(path, SHEETS["national"])
    header = rows[2]
    assert header[7] == "Số tỉnh có số liệu năm 2024" and header[8] == "Số tỉnh có số liệu năm 2023"
    xa = next(r for r in rows[3:] if r[0] == FORM.spec.indicators["luot_truy_cap"].label and r[1] == "Cấp xã")
    assert (xa[7], xa[8]) == (2, 2)
    data = sheet_rows(path, SHEETS["data"])
    head = list(data[2])  # title, blank, header
    assert "status" in head
    statuses = [r[head.index("status")] for r in data[3:]]
    assert statuses.count("x") == 3
