"""Every case of the corpus gives its finding code at its cell; none crashes; a batch survives hostile files."""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from libstats.checks import batch
from libstats.checks.batch import WorkerLimits, check_many, collect_files
from libstats.checks.check import check_file
from libstats.cli import main
from libstats.outputs.feedback import FEEDBACK_SHEET, write_feedback
from libstats.consolidation.ledger import Entry
from libstats.model.findings import CATALOGUE, Verdict
from libstats.model.form import build_form
from libstats.model.provinces import province
from libstats.forms.template import TemplateOptions, write_template

from . import corpus as c

F = c.FORM.fields
S22 = "2.2 Số liệu"


def cell(fid: str) -> str:
    return F[fid].cell


def _vn(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def _find(res, code):
    return [f for f in res.findings if f.code == code]


# (name, maker(tmp) -> path, code, sheet, cell, verdict)
CASES = [
    ("good", lambda t: c.filled(t / "ok.xlsx"), None, None, None, Verdict.ACCEPTED),
    ("vn thousands", lambda t: c.with_values(t / "a.xlsx", luot_tl_tinh_n="1.234.567"), "V01", S22,
     cell("luot_tl_tinh_n"), Verdict.REJECTED),  # the total then disagrees: R02, as it should
    ("unit typed", lambda t: c.with_values(t / "b.xlsx", so_xe_o_to_n="2 xe", so_xe_o_to_p=2), "V01", S22,
     cell("so_xe_o_to_n"), None),
    ("vn one group", lambda t: c.with_values(t / "c.xlsx", the_cap_moi_xa_n=_vn(c.good_values()["the_cap_moi_xa_n"])),
     "V01", S22, cell("the_cap_moi_xa_n"), Verdict.ACCEPTED),  # "5.731" in a count is 5731 (issue 9)
    ("negative", lambda t: c.with_values(t / "d.xlsx", bo_sung_xa_n=-5), "V03", S22, cell("bo_sung_xa_n"),
     Verdict.REJECTED),
    ("fraction", lambda t: c.with_values(t / "e.xlsx", luot_tai_tv_xa_n="12,5"), "V04", S22,
     cell("luot_tai_tv_xa_n"), Verdict.REJECTED),
    ("text", lambda t: c.with_values(t / "f.xlsx", tl_so_tinh_n="chưa thống kê"), "V05", S22,
     cell("tl_so_tinh_n"), Verdict.REJECTED),
    ("zero word", lambda t: c.with_values(t / "g.xlsx", so_thu_vien_khac_n="không có", luot_phuc_vu_khac_n=0),
     "V07", "2.3 Số liệu", cell("so_thu_vien_khac_n"), None),
    ("not applicable", lambda t: c.with_values(t / "h.xlsx", luot_truy_cap_xa_n="x"), "V08", S22,
     cell("luot_truy_cap_xa_n"), None),
    ("error value", lambda t: c.put_cell_xml(c.filled(t / "i0.xlsx"), t / "i.xlsx", S22, cell("von_tl_xa_n"),
     f'<c r="{cell("von_tl_xa_n")}" t="e"><f>1/0</f><v>#DIV/0!</v></c>'), "V06", S22, cell("von_tl_xa_n"),
     Verdict.REJECTED),
    ("formula typed", lambda t: c.put_cell_xml(c.filled(t / "j0.xlsx"), t / "j.xlsx", S22, cell("so_xe_o_to_p"),
     f'<c r="{cell("so_xe_o_to_p")}"><f>1+1</f><v>2</v></c>'), "S08", S22, cell("so_xe_o_to_p"), None),
    ("unprotected", lambda t: c.unprotect(c.filled(t / "k0.xlsx"), t / "k.xlsx", S22), "S04", S22, "",
     Verdict.WARNINGS),
    ("name lost", lambda t: c.edit_names(c.filled(t / "l0.xlsx"), t / "l.xlsx",
     lambda x: c.drop_name(x, "von_tl_tinh_n")), "S01", S22, cell("von_tl_tinh_n"), Verdict.WARNINGS),
    ("name #REF!", lambda t: c.edit_names(c.filled(t / "m0.xlsx"), t / "m.xlsx",
     lambda x: c.set_name(x, "von_tl_tinh_n", "#REF!")), "S02", S22, cell("von_tl_tinh_n"), Verdict.REJECTED),
    ("name on range", lambda t: c.edit_names(c.filled(t / "n0.xlsx"), t / "n.xlsx",
     lambda x: c.set_name(x, "von_tl_tinh_n", "'2.2 Số liệu'!$E$40:$E$41")), "S03", S22, cell("von_tl_tinh_n"),
     Verdict.REJECTED),
    ("merged inputs", lambda t: c.merge_cells(c.filled(t / "mg0.xlsx"), t / "mg.xlsx", S22,
     f'{cell("the_cap_moi_tinh_n")}:{cell("the_cap_moi_huyen_n")}'), "S03", S22, cell("the_cap_moi_huyen_n"),
     Verdict.REJECTED),
    ("row inserted", lambda t: c.edit_names(c.filled(t / "o0.xlsx"), t / "o.xlsx",
     lambda x: c.set_name(x, "n1_danh_gia_chung", "'I. Đánh giá chung'!$B$6")), "S05", "I. Đánh giá chung", "B6",
     None),
    ("sheet renamed", lambda t: c.rename_sheet(c.filled(t / "p0.xlsx"), t / "p.xlsx", S22, "So lieu"), "S06",
     "So lieu", "", Verdict.WARNINGS),
    ("sheet deleted", lambda t: c.remove_sheet(c.filled(t / "q0.xlsx"), t / "q.xlsx", "2.3 Số liệu", True),
     "S02", "2.3 Số liệu", cell("so_thu_vien_tu_nhan_n"), Verdict.REJECTED),
    ("pasted copy", lambda t: c.strip_metadata(c.filled(t / "r0.xlsx"), t / "r.xlsx"), "I06", "Bìa", "A5",
     Verdict.WARNINGS),
    ("other report", lambda t: c.set_meta(c.filled(t / "s0.xlsx"), t / "s.xlsx", "form", "bao-cao-bao-tang"), "I01",
     "", "", Verdict.REJECTED),
    ("older version", lambda t: c.filled(t / "u.xlsx", spec_version="2023.1"), "I03", "", "", Verdict.WARNINGS),
    ("unknown version", lambda t: c.filled(t / "v.xlsx", spec_version="2099.9"), "I04", "", "", Verdict.REJECTED),
    ("wrong province", lambda t: c.filled(t / "bao-cao-thu-vien-2024_35_ha-nam.xlsx"), "I05", "Bìa", "B9",
     Verdict.WARNINGS),
    ("code list mismatch", lambda t: c.set_meta(c.filled(t / "w0.xlsx"), t / "w.xlsx", "province", "2025:01"),
     "I09", "", "", Verdict.REJECTED),
    ("empty required", lambda t: c.with_values(t / "x.xlsx", the_hieu_luc_huyen_n=None), "R01", S22,
     cell("the_hieu_luc_huyen_n"), Verdict.REJECTED),
    ("total wrong", lambda t: c.with_values(t / "y.xlsx", the_cap_moi_tong_n=1), "R02", S22,
     cell("the_cap_moi_tong_n"), Verdict.REJECTED),
    ("relation", lambda t: c.with_values(t / "z.xlsx", so_tv_moi_tu_nhan_n=50, so_thu_vien_tu_nhan_n=1), "R03",
     "2.3 Số liệu", cell("so_tv_moi_tu_nhan_n"), Verdict.REJECTED),
    ("copied last year", lambda t: c.with_values(t / "cp.xlsx", **{r.n.id: c.good_values()[r.p.id] for r in c.FORM.rows
                                                                   if r.table == "hieu_qua"}), "R05", S22,
     cell("the_cap_moi_tinh_n"), Verdict.WARNINGS),
    ("far cell", lambda t: c.add_far_cell(c.filled(t / "fa0.xlsx"), t / "fa.xlsx", S22), None, None, None,
     Verdict.ACCEPTED),
    ("number too large", lambda t: c.with_values(t / "big.xlsx", von_tl_tinh_n=2_000_000_000), "V10", S22,
     cell("von_tl_tinh_n"), Verdict.REJECTED),
    ("text too long", lambda t: c.with_values(t / "long.xlsx", n1_danh_gia_chung="Thư viện phục vụ tốt. " * 1000),
     "V09", "I. Đánh giá chung", cell("n1_danh_gia_chung"), Verdict.WARNINGS),
    ("impossible date", lambda t: c.with_values(t / "date.xlsx", bia_ngay="31/02/2025"), "V11", "Bìa",
     cell("bia_ngay"), Verdict.WARNINGS),
    ("formula without value", lambda t: c.put_cell_xml(c.filled(t / "fv0.xlsx"), t / "fv.xlsx", S22,
     cell("so_xe_o_to_p"), f'<c r="{cell("so_xe_o_to_p")}"><f>1+1</f></c>'), "S09", S22, cell("so_xe_o_to_p"),
     Verdict.REJECTED),
    ("sheet and its names deleted", lambda t: c.remove_sheet(c.filled(t / "sd0.xlsx"), t / "sd.xlsx", "2.3 Số liệu",
     False), "S07", "2.3 Số liệu", "", Verdict.REJECTED),
    ("year unreadable", lambda t: c.set_meta(c.filled(t / "yr0.xlsx"), t / "yr.xlsx", "year", "hai nghìn"), "I07",
     "", "", Verdict.REJECTED),
    ("empty file", lambda t: c.raw_file(t / "e.xlsx", b""), "F02", "", "", Verdict.REJECTED),
    ("not a spreadsheet", lambda t: c.raw_file(t / "n.xlsx", "Báo cáo".encode()), "F01",
     "", "", Verdict.REJECTED),
    ("truncated", lambda t: c.truncated(c.filled(t / "tr0.xlsx"), t / "tr.xlsx"), "F03", "", "", Verdict.REJECTED),
    ("encrypted", lambda t: c.encrypted(c.filled(t / "enc0.xlsx"), t / "enc.xlsx"), "F04", "", "", Verdict.REJECTED),
    ("html as xls", lambda t: c.html_as_xls(t / "h.xls"), "F05", "", "", Verdict.REJECTED),
    ("zip bomb", lambda t: c.zip_bomb(t / "bomb.xlsx"), "F06", "", "", Verdict.REJECTED),
]


MAKE = {case[0]: case[1] for case in CASES}


@pytest.mark.parametrize("name,maker,code,sheet,where,expected", CASES, ids=[case[0] for case in CASES])
def test_corpus_case_gives_its_finding_at_its_cell(tmp_path, name, maker, code, sheet, where, expected):
    path = maker(tmp_path)
    before = path.read_bytes()
    res = check_file(path, year=2024)
    assert path.read_bytes() == before  # inputs are never modified
    if code is None:
        assert res.findings == [], [f.message for f in res.findings]
    else:
        hits = _find(res, code)
        assert hits, f"{code} expected; got {[(f.code, f.cell) for f in res.findings]}"
        assert (hits[0].sheet, hits[0].cell) == (sheet, where)
        assert hits[0].message and hits[0].severity == (CATALOGUE[code].severity or hits[0].severity)
    if expected is not None:
        assert res.verdict == expected, [(f.code, f.message) for f in res.findings]


def test_values_read_are_the_values_written_and_located(tmp_path):
    values = c.good_values()
    res = check_file(c.filled(tmp_path / "ok.xlsx", values), year=2024)
    for fid, v in values.items():
        assert res.values[fid] == v, fid
    assert res.sources["the_cap_moi_tinh_n"] == (S22, F["the_cap_moi_tinh_n"].cell)
    assert res.province == c.HANOI


def test_typed_numbers_are_kept_with_an_info_finding(tmp_path):
    res = check_file(c.with_values(tmp_path / "a.xlsx", so_xe_o_to_n="2 xe", so_xe_o_to_p=" 2 "), year=2024)
    assert res.values["so_xe_o_to_n"] == 2 and res.values["so_xe_o_to_p"] == 2
    assert {f.code for f in res.findings} == {"V01"}


def test_formula_in_input_keeps_its_value(tmp_path):
    res = check_file(MAKE["formula typed"](tmp_path), year=2024)
    assert res.values["so_xe_o_to_p"] == 2


def test_renamed_sheet_and_moved_cell_are_still_read(tmp_path):
    values = c.good_values()
    res = check_file(MAKE["sheet renamed"](tmp_path), year=2024)
    assert res.values["luot_tl_tinh_n"] == values["luot_tl_tinh_n"]
    assert res.sources["luot_tl_tinh_n"][0] == "So lieu"


def test_pasted_copy_is_recovered_from_the_layout(tmp_path):
    res = check_file(MAKE["pasted copy"](tmp_path), year=2024)
    assert res.year == 2024 and res.province == c.HANOI
    assert res.values["luot_tl_tinh_n"] == c.good_values()["luot_tl_tinh_n"]
    assert {f.code for f in res.findings} >= {"I06", "S01"}


def test_generic_form_reads_the_province_chosen_with_any_tone_placement(tmp_path):
    form = c.FORM
    values = dict(c.good_values(province(2024, "17")), bia_tinh="Hòa Bình")
    path = write_template(form, tmp_path / "x.xlsx", TemplateOptions(values=values))
    res = check_file(path, year=2024)
    assert res.province == province(2024, "17") and res.province.name == "Hòa Bình"
    missing = check_file(write_template(form, tmp_path / "y.xlsx", TemplateOptions(values=c.good_values())), year=2024)
    assert [(f.code, f.cell) for f in missing.findings] == [("R01", "B9")] and missing.verdict == Verdict.REJECTED
    unknown = dict(c.good_values(), bia_tinh="Tỉnh Không Có")
    wrong = check_file(write_template(form, tmp_path / "z.xlsx", TemplateOptions(values=unknown)), year=2024)
    assert [(f.code, f.cell) for f in wrong.findings] == [("I08", "B9")] and wrong.verdict == Verdict.REJECTED


def test_wrong_year_is_rejected(tmp_path):
    form = build_form(2023)
    path = write_template(form, tmp_path / "old.xlsx", TemplateOptions(province=province(2023, "01")))
    res = check_file(path, year=2024)
    assert [f.code for f in res.findings] == ["I02"] and "năm 2023" in res.findings[0].message


def test_a_2024_code_is_never_taken_as_the_2025_province_of_that_code(tmp_path):
    yen_bai = province(2024, "15")
    path = c.filled(tmp_path / "yb.xlsx", p=yen_bai, values=c.good_values(yen_bai))
    res = check_file(path)
    assert res.province == yen_bai and res.province.code_list == "2004" and res.year == 2024
    assert res.province != province(2025, "15")


def _task(what: str) -> str:  # a worker's job for the tests below
    if what == "crash":
        os._exit(3)
    if what.startswith("sleep"):
        time.sleep(float(what[5:]))
    return what.upper()


def test_tasks_given_ahead_to_a_worker_that_crashes_are_done_by_another():
    out = batch.run_isolated(_task, [("a",), ("crash",), ("b",), ("c",)], lambda i, why: ("failed", why),
                             WorkerLimits(seconds=120, jobs=1), ahead=3)  # (a guard against a hang only)
    assert out[0] == "A" and out[1][0] == "failed" and "mã 3" in out[1][1] and out[2:] == ["B", "C"]


def test_workers_dying_on_tasks_given_ahead_never_stop_the_run():
    """Half the tasks kill their worker: the task after a finished one is often sent to a worker already dead."""
    tasks = [("crash",) if i % 2 else (f"t{i}",) for i in range(40)]
    out = batch.run_isolated(_task, tasks, lambda i, why: ("failed", why), WorkerLimits(seconds=120, jobs=2),
                             ahead=2)
    assert out[::2] == [f"T{i}" for i in range(0, 40, 2)]
    assert all(r[0] == "failed" and "mã 3" in r[1] for r in out[1::2])


def test_a_task_given_ahead_has_its_whole_time_limit_from_when_it_starts():
    # The second ends 3 s after it was given: past the 2.5 s limit if the limit ran from then. Each task has 1 s
    # beyond its 1.5 s for a loaded machine's delays (a slower machine only makes the wrong limit easier to see).
    out = batch.run_isolated(_task, [("sleep1.5",), ("sleep1.5",), ("sleep60",), ("d",)],
                             lambda i, why: ("failed", why), WorkerLimits(seconds=2.5, jobs=1), ahead=2)
    assert out[:2] == ["SLEEP1.5", "SLEEP1.5"]  # the second waited 1.5 s behind the first, and still had 2.5 s
    assert out[2][0] == "failed" and "quá 2,5 giây" in out[2][1] and out[3] == "D"


def test_batch_with_hostile_files_checks_all_the_others(tmp_path, monkeypatch):
    good = [c.filled(tmp_path / f"g{i}.xlsx") for i in range(3)]
    bomb = c.zip_bomb(tmp_path / "bomb.xlsx")
    crash = c.filled(tmp_path / "crash.xlsx")
    hang = c.filled(tmp_path / "hang.xlsx")
    real = batch.check_file

    def misbehave(path, *args, **kwargs):  # stands for a native reader that aborts or hangs on one file
        if "crash" in str(path):
            os.abort()
        if "hang" in str(path):
            time.sleep(60)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(batch, "check_file", misbehave)
    files = [(p, p.name) for p in [good[0], bomb, crash, good[1], hang, good[2]]]
    results = check_many(files, year=2024, limits=WorkerLimits(seconds=8, jobs=2))  # a good file: 0.1 s, idle
    verdicts = {r.display: r.verdict for r in results}
    assert [verdicts[g.name] for g in good] == [Verdict.ACCEPTED] * 3
    assert [f.code for f in results[1].findings] == ["F06"]
    assert [f.code for f in results[2].findings] == ["F09"] and "bất thường" in results[2].findings[0].message
    assert [f.code for f in results[4].findings] == ["F09"] and "8 giây" in results[4].findings[0].message


def test_outliers_are_warned_against_the_other_provinces(tmp_path):
    results = []
    for code in ["01", "02", "04", "06", "08", "10", "11", "12", "14"]:
        p = province(2024, code)
        res = check_file(c.filled(tmp_path / f"{code}.xlsx", p=p, values=c.good_values(p)), year=2024)
        results.append(res)
    big = results[0]
    big.values["luot_tl_tong_n"] = big.values["luot_tai_tv_tong_n"] * 40  # 40 items per visit
    found = batch.outlier_findings(results, build_form(2024))
    assert list(found) == [0] and [f.field for f in found[0]] == ["luot_tl_tong_n"]
    assert "cao gấp" in found[0][0].message and "mức thường gặp ở các tỉnh" in found[0][0].message


def test_cli_check_exit_codes_json_and_feedback(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    c.filled(inbox / "bao-cao-thu-vien-2024_01_ha-noi.xlsx")
    c.with_values(inbox / "bad.xlsx", the_cap_moi_tong_n=1)
    runner = CliRunner()
    ok = runner.invoke(main, ["check", str(inbox / "bao-cao-thu-vien-2024_01_ha-noi.xlsx"), "--year", "2024"])
    assert ok.exit_code == 0 and "Chấp nhận" in ok.output
    res = runner.invoke(main, ["check", str(inbox), "--year", "2024", "--json", "--feedback", str(tmp_path / "fb")])
    assert res.exit_code == 1
    data = json.loads(res.output)
    # both files are Hà Nội's: the ledger says which one counts, in check as in consolidate
    assert [d["verdict"] for d in data] == ["rejected", "accepted_with_warnings"]
    assert [d["fate"] for d in data] == ["rejected", "superseded"] and data[1]["findings"][0]["code"] == "L01"
    assert data[0]["findings"][0]["code"] == "R02" and data[0]["findings"][0]["cell"] == cell("the_cap_moi_tong_n")
    usage = runner.invoke(main, ["check", "--year", "2024"])
    assert usage.exit_code == 2
    fb = openpyxl.load_workbook(tmp_path / "fb" / "bad_phan-hoi.xlsx")
    ws = fb[FEEDBACK_SHEET]
    assert fb.sheetnames[0] == FEEDBACK_SHEET and ws["C6"].value == "R02"
    assert ws["D6"].hyperlink.location == f"'{S22}'!{cell('the_cap_moi_tong_n')}"
    assert fb[S22][cell("the_cap_moi_tong_n")].value == 1  # the province's own data, untouched
    assert "the_cap_moi_tong_n" in fb.defined_names


def test_collect_files_lists_every_entry_and_follows_no_link_out_of_the_inbox(tmp_path):
    (tmp_path / "a").mkdir()
    for name in ["a/x.xlsx", ".hidden.xlsx", "~$lock.xlsx", "b.xlsx"]:
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "out.xlsx").symlink_to(tmp_path / "b.xlsx")
    os.mkfifo(tmp_path / "pipe.xlsx")
    files = collect_files([tmp_path])
    assert [f.display for f in files] == [".hidden.xlsx", "a/x.xlsx", "b.xlsx", "out.xlsx", "pipe.xlsx", "~$lock.xlsx"]
    problems = {f.display: f.problem for f in files}
    assert "liên kết" in problems["out.xlsx"] and "FIFO" in problems["pipe.xlsx"] and not problems["b.xlsx"]
    named = collect_files([tmp_path / "pipe.xlsx"])  # a FIFO named on the command line is not opened either
    assert "FIFO" in named[0].problem


def test_xlsm_is_read_and_macros_noted(tmp_path):
    def edit(name, data):
        if name == "[Content_Types].xml":
            return data.replace(b"sheet.main+xml", b"sheet.macroEnabled.main+xml")
        return data
    path = c.rewrite(c.filled(tmp_path / "a.xlsx"), tmp_path / "b.xlsm", edit)
    res = check_file(path, year=2024)
    assert [f.code for f in res.findings] == ["F10"] and res.kind == "xlsm"
    assert res.values["the_cap_moi_tinh_n"] == c.good_values()["the_cap_moi_tinh_n"]


def test_xls_without_libreoffice_says_so(tmp_path, monkeypatch):
    from libstats.intake import formats as intake
    monkeypatch.setattr(intake.shutil, "which", lambda name: None)
    path = c.raw_file(tmp_path / "a.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 2048)
    res = check_file(path, year=2024)
    assert [f.code for f in res.findings] == ["F07"] and ".xls" in res.findings[0].message


def test_cells_without_addresses_are_read_by_the_full_parser(tmp_path):
    import re as re_mod
    src = c.filled(tmp_path / "a.xlsx")
    part = c.sheet_part(src, S22)
    path = c.edit_part(src, tmp_path / "b.xlsx", part, lambda x: re_mod.sub(r'<c r="[A-Z]+\d+"', "<c", x))
    res = check_file(path, year=2024)
    values = c.good_values()
    assert res.values["luot_tl_xa_n"] == values["luot_tl_xa_n"]
    assert res.values["so_xe_o_to_p"] == values["so_xe_o_to_p"]
    assert res.verdict == Verdict.ACCEPTED


def test_the_cells_scanned_are_bounded(tmp_path):
    from libstats.intake.xlsx import Limits, XlsxError, open_xlsx, read_cells
    wb = open_xlsx(c.filled(tmp_path / "a.xlsx").read_bytes(), Limits(max_cells=50))
    with pytest.raises(XlsxError) as err:
        read_cells(wb, {S22: {"E15"}})
    assert err.value.code == "F06"


def test_a_feedback_file_sent_back_after_fixing_is_read_like_the_original(tmp_path):
    saved = dt.datetime(2024, 12, 1, 8, 0, tzinfo=dt.UTC)  # the province saved it days before fixing it
    bad = c.filled(tmp_path / "bao-cao-thu-vien-2024_01_ha-noi.xlsx", {**c.good_values(), "the_cap_moi_tong_n": 1},
                   generated_at=saved)
    fb = write_feedback(Entry(check_file(bad, year=2024), "chosen"), tmp_path / "fb" / "bad_phan-hoi.xlsx")
    wb = openpyxl.load_workbook(fb)
    wb[S22][cell("the_cap_moi_tong_n")] = c.good_values()["the_cap_moi_tong_n"]  # the officer's fix
    wb.save(tmp_path / "fixed.xlsx")
    res = check_file(tmp_path / "fixed.xlsx", year=2024)
    assert res.verdict == Verdict.ACCEPTED, [(f.code, f.message) for f in res.findings]
    assert res.values == check_file(c.filled(tmp_path / "ok.xlsx"), year=2024).values


def test_only_the_fields_own_unit_may_follow_a_number(tmp_path):
    res = check_file(c.with_values(tmp_path / "a.xlsx", luot_tai_tv_xa_n="1500 thẻ"), year=2024)
    assert [(f.code, f.cell) for f in res.findings if f.code == "V05"] == [("V05", cell("luot_tai_tv_xa_n"))]


def test_prefixed_xml_is_read_by_the_full_parser(tmp_path):
    import re as re_mod
    src = c.filled(tmp_path / "a.xlsx")
    part = c.sheet_part(src, S22)

    def prefix(xml: str) -> str:  # the same sheet written with an 'x:' prefix on every element
        xml = xml.replace('xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"',
                          'xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"')
        return re_mod.sub(r"<(/?)([a-zA-Z]+)([\s>/])", r"<\1x:\2\3", xml)
    path = c.edit_part(src, tmp_path / "b.xlsx", part, prefix)
    assert "<x:sheetData" in zipfile_text(path, part)
    res = check_file(path, year=2024)
    assert res.values["luot_tl_xa_n"] == c.good_values()["luot_tl_xa_n"]
    assert res.verdict == Verdict.ACCEPTED, [(f.code, f.message) for f in res.findings]


def zipfile_text(path: Path, part: str) -> str:
    import zipfile
    with zipfile.ZipFile(path) as z:
        return z.read(part).decode()


def test_the_first_cell_of_a_merge_keeps_its_value_with_a_warning(tmp_path):
    rng = f'{cell("the_cap_moi_tinh_n")}:{cell("the_cap_moi_huyen_n")}'
    res = check_file(c.merge_cells(c.filled(tmp_path / "a.xlsx"), tmp_path / "b.xlsx", S22, rng), year=2024)
    assert [(f.code, f.cell) for f in res.findings if f.code in ("S03", "S10")] == [
        ("S10", cell("the_cap_moi_tinh_n")), ("S03", cell("the_cap_moi_huyen_n"))]
    assert res.values["the_cap_moi_tinh_n"] == c.good_values()["the_cap_moi_tinh_n"]
    assert "the_cap_moi_huyen_n" not in res.values


def test_fields_added_since_an_older_form_are_absent_not_read_by_position(tmp_path):
    old = c.filled(tmp_path / "old-src.xlsx", spec_version="2023.1")
    added = [f for f in c.FORM.fields.values() if f.column == "pc"]  # as if the older form had no correction column

    def drop(xml: str) -> str:
        for f in added:
            xml = c.drop_name(xml, f.id)
        return xml

    res = check_file(c.edit_names(old, tmp_path / "old.xlsx", drop), year=2024)
    assert [f.code for f in res.findings] == ["I03"] and res.verdict == Verdict.WARNINGS
    assert all(f.id not in res.values and f.id not in res.sources for f in added)
