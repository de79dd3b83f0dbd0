"""The inbox review: every entry gets a fate, libstats' own outputs never pass for returns, a statistician's
slips (wrong year, outputs inside the inbox, the wrong 'previous' file) stop before anything is written."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import pickle
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from libstats.cli import main
from libstats.consolidation.consolidate import consolidate
from libstats.consolidation.dataset import write_dataset
from libstats.outputs.feedback import write_feedbacks
from libstats.model.provinces import province
from libstats.consolidation.review import review_inbox
from libstats.outputs.summary import write_summary

from . import corpus as c

HUE = province(2024, "46")


def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def inbox(tmp_path) -> Path:
    box = tmp_path / "hop-thu"
    box.mkdir()
    c.filled(box / "bao-cao-thu-vien-2024_01_ha-noi.xlsx")
    c.filled(box / "bao-cao-thu-vien-2024_46_hue.xlsx", p=HUE, values=c.good_values(HUE))
    return box


def test_a_feedback_copy_sent_back_unchanged_is_set_aside_and_never_outranks_the_return(inbox, tmp_path):
    bad = c.filled(tmp_path / "lan-1.xlsx", {**c.good_values(), "the_cap_moi_tong_n": 1},  # a first attempt, rejected
                   generated_at=dt.datetime(2024, 12, 1, 8, 0, tzinfo=dt.UTC))
    first = review_inbox([bad], 2024)
    [fb] = write_feedbacks(first.ledger, tmp_path / "phan-hoi")
    shutil.copy(fb, inbox / fb.name)  # the statistician drops the feedback copy into the inbox by mistake
    rv = review_inbox([inbox], 2024)
    fates = {e.result.display: e.fate for e in rv.ledger}
    assert fates == {fb.name: "set_aside", "bao-cao-thu-vien-2024_01_ha-noi.xlsx": "accepted",
                     "bao-cao-thu-vien-2024_46_hue.xlsx": "accepted"}
    assert [f.code for e in rv.ledger if e.result.display == fb.name for f in e.findings] == ["F11"]
    # once the province fixes the copy and saves it, it is a return again (and the newer one)
    wb = openpyxl.load_workbook(fb)
    wb["2.2 Số liệu"][c.FORM.fields["the_cap_moi_tong_n"].cell] = c.good_values()["the_cap_moi_tong_n"]
    wb.save(inbox / fb.name)
    rv = review_inbox([inbox], 2024)
    fates = {e.result.display: e.fate for e in rv.ledger}
    assert fates[fb.name] == "accepted" and fates["bao-cao-thu-vien-2024_01_ha-noi.xlsx"] == "superseded"


def test_the_feedback_copy_keeps_the_saved_time_and_is_a_plain_xlsx(tmp_path):
    src = c.filled(tmp_path / "a.xlsx")
    xlsm = tmp_path / "a.xlsm"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(xlsm, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "[Content_Types].xml":
                data = data.replace(b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
                                    b"application/vnd.ms-excel.sheet.macroEnabled.main+xml")
            zout.writestr(info, data)
        zout.writestr("xl/vbaProject.bin", b"\0" * 64)
    rv = review_inbox([xlsm], 2024)
    [fb] = write_feedbacks(rv.ledger, tmp_path / "fb")
    assert fb.suffix == ".xlsx"
    with zipfile.ZipFile(fb) as z:
        assert "xl/vbaProject.bin" not in z.namelist()
        assert b"macroEnabled" not in z.read("[Content_Types].xml")
    assert review_inbox([fb], 2024).ledger[0].result.saved == rv.ledger[0].result.saved != ""


def test_every_file_gets_its_own_feedback_copy_under_a_safe_name(tmp_path):
    box = tmp_path / "hop-thu"
    for folder in ("a", "b", "c"):
        (box / folder).mkdir(parents=True)
        c.with_values(box / folder / "bao-cao.xlsx", the_cap_moi_tong_n=1)
    c.with_values(box / "x\x1b[31mđỏ\x07.xlsx", the_cap_moi_tong_n=1)  # control characters, an escape sequence
    c.with_values(box / ("t" * 200 + "ệ.xlsx"), the_cap_moi_tong_n=1)  # 206 bytes: a longer copy name won't fit
    out = CliRunner().invoke(main, ["check", str(box), "--year", "2024", "--json", "--feedback",
                                    str(tmp_path / "fb")])
    assert out.exit_code == 1, out.output
    data = json.loads(out.output)
    assert len(data) == 5 and all(d["feedback"] for d in data)
    assert len({d["feedback"] for d in data}) == 5 and len(list((tmp_path / "fb").iterdir())) == 5
    assert all("\x1b" not in Path(d["feedback"]).name and len(Path(d["feedback"]).name.encode()) < 255 for d in data)
    text = CliRunner().invoke(main, ["check", str(box), "--year", "2024"]).output
    assert "\x1b" not in text and "\x07" not in text and "\\x1b[31mđỏ\\x07.xlsx" in text


def test_every_entry_of_the_inbox_has_a_fate(inbox, tmp_path):
    c.filled(inbox / ".an-ban.xlsx")  # a hidden file is listed, not dropped
    (inbox / "~$bao-cao.xlsx").write_bytes(b"\0" * 165)  # Excel's lock file
    outside = c.filled(tmp_path / "ngoai.xlsx", p=province(2024, "04"), values=c.good_values(province(2024, "04")))
    (inbox / "lien-ket.xlsx").symlink_to(outside)
    os.mkfifo(inbox / "ong.xlsx")
    rv = review_inbox([inbox], 2024)
    fates = {e.result.display: (e.fate, [f.code for f in e.findings][:1]) for e in rv.ledger}
    assert fates[".an-ban.xlsx"][0] in ("accepted", "superseded")
    assert fates["~$bao-cao.xlsx"] == ("set_aside", ["F12"])
    assert fates["lien-ket.xlsx"] == ("rejected", ["F13"]) and fates["ong.xlsx"] == ("rejected", ["F13"])
    assert "04" not in rv.reporting  # the linked file outside the inbox was never read


def test_a_summary_and_a_dataset_in_the_inbox_are_set_aside(inbox, tmp_path):
    con = consolidate([inbox], 2024)
    write_summary(con, inbox / "tong-hop.xlsx")
    write_dataset(con.tidy, inbox / "tong-hop_du-lieu.csv")
    rv = review_inbox([inbox], 2024)
    assert {e.result.display for e in rv.ledger if e.fate == "set_aside"} == {
        "tong-hop.xlsx", "tong-hop_du-lieu.csv", "datapackage.json"}
    assert rv.reporting == {"01", "46"}


def test_a_wrong_year_stops_before_anything_is_written(inbox, tmp_path):
    runner = CliRunner()
    good = runner.invoke(main, ["consolidate", str(inbox), "--year", "2024", "-o", str(tmp_path / "out" / "t.xlsx")])
    assert good.exit_code == 0, good.output
    before = _digest(tmp_path / "out")
    res = runner.invoke(main, ["consolidate", str(inbox), "--year", "2025", "-o", str(tmp_path / "out" / "t.xlsx")])
    assert res.exit_code == 1 and "năm 2024" in res.output and "--year 2024" in res.output
    assert _digest(tmp_path / "out") == before
    res = runner.invoke(main, ["check", str(inbox), "--year", "2025", "--feedback", str(tmp_path / "fb")])
    assert res.exit_code == 1 and "năm 2024" in res.output and not (tmp_path / "fb").exists()


def test_no_accepted_province_writes_nothing_and_fails(tmp_path):
    box = tmp_path / "hop-thu"
    box.mkdir()
    c.with_values(box / "a.xlsx", the_cap_moi_tong_n=1)
    out = tmp_path / "out"
    out.mkdir()
    (out / "t.xlsx").write_bytes(b"the good summary of yesterday")
    res = CliRunner().invoke(main, ["consolidate", str(box), "--year", "2024", "-o", str(out / "t.xlsx")])
    assert res.exit_code == 1 and "không ghi bảng tổng hợp" in res.output
    assert (out / "t.xlsx").read_bytes() == b"the good summary of yesterday" and len(list(out.iterdir())) == 1


def test_outputs_over_or_inside_the_inputs_are_refused(inbox, tmp_path):
    runner = CliRunner()
    before = _digest(inbox)
    target = inbox / "bao-cao-thu-vien-2024_01_ha-noi.xlsx"
    for args in (["consolidate", str(inbox), "--year", "2024", "-o", str(target)],
                 ["consolidate", str(inbox), "--year", "2024", "-o", str(inbox / "sub" / "t.xlsx")],
                 ["consolidate", str(inbox), "--year", "2024", "-o", str(tmp_path / "t.xlsx"), "--feedback",
                  str(inbox / "phan-hoi")],
                 ["check", str(inbox), "--year", "2024", "--feedback", str(inbox)]):
        res = runner.invoke(main, args)
        assert res.exit_code == 1 and "không được ghi đè hoặc ghi vào trong dữ liệu đầu vào" in res.output, args
    assert _digest(inbox) == before


def test_outputs_named_as_another_kind_of_file_are_refused_before_any_check(inbox, tmp_path):
    """A summary named "bao-cao.docx" would replace the report draft of that name (and the other way round)."""
    (tmp_path / "out").mkdir()
    draft = tmp_path / "out" / "bao-cao-2024.docx"
    draft.write_bytes(b"the Ministry's edited draft")
    res = CliRunner().invoke(main, ["consolidate", str(inbox), "--year", "2024", "-o", str(draft)])
    assert res.exit_code == 1 and "bảng tổng hợp là tệp .xlsx, tên tệp phải có đuôi .xlsx" in res.output
    assert draft.read_bytes() == b"the Ministry's edited draft" and sorted(draft.parent.iterdir()) == [draft]


def test_a_dataset_of_the_same_year_is_not_taken_as_last_years(inbox, tmp_path):
    con = consolidate([inbox], 2024)
    data = write_dataset(con.tidy, tmp_path / "du-lieu-2024.csv")
    res = CliRunner().invoke(main, ["consolidate", str(inbox), "--year", "2024", "-o", str(tmp_path / "t.xlsx"),
                                    "--previous", str(data)])
    assert res.exit_code == 1 and "là bộ dữ liệu năm 2024; cần bộ dữ liệu năm 2023" in res.output
    assert not (tmp_path / "t.xlsx").exists()


# Run in a fresh interpreter, so that a worker's memory limit starts from a known address space: a worker forked
# from a test process that has built and freed a lot reuses that freed heap without growing its address space.
# openpyxl is imported before the pool (importing it maps numpy's libraries too, a large part of a small limit),
# so the limit is spent on the workbook only.
_FEEDBACK_IN_A_FRESH_PROCESS = """
import json, pickle, sys
from pathlib import Path
import openpyxl
from libstats.checks.batch import WorkerLimits
from libstats.outputs.feedback import write_feedbacks
entries = pickle.loads(Path(sys.argv[1]).read_bytes())
made = write_feedbacks(entries, Path(sys.argv[2]), WorkerLimits(memory_mb=int(sys.argv[3])))
print(json.dumps([p and str(p) for p in made]))
"""


def test_a_workbook_too_big_for_the_feedback_writer_costs_one_worker_not_the_run(tmp_path):
    from libstats.model.layout import LISTS_SHEET

    src = c.filled(tmp_path / "a.xlsx")
    # 200,000 number cells: a few MB of sheet XML, which the ZIP writer copies as it is, and 200,000 cell objects for
    # openpyxl, which loads the whole sheet: several times the 30 MB limit for openpyxl, a fraction of it for the ZIP
    # writer (measured in the fresh interpreter below: 8 MB makes the ZIP copy fail, 120 MB lets openpyxl fit)
    cols = [chr(x) for x in range(ord("B"), ord("V"))]
    rows = "".join(f'<row r="{r}">' + "".join(f'<c r="{k}{r}"><v>1</v></c>' for k in cols) + "</row>"
                   for r in range(100, 10_100))
    big = c.edit_part(src, tmp_path / "big.xlsx", c.sheet_part(src, LISTS_SHEET),
                      lambda xml: xml.replace("</sheetData>", rows + "</sheetData>"))
    # a comment in the styles: a shape the ZIP writer leaves to openpyxl, which must load the whole sheet
    odd = c.edit_part(big, tmp_path / "odd.xlsx", "xl/styles.xml", lambda xml: xml.replace("<fonts", "<!-- --><fonts"))
    rv = review_inbox([src, big, odd], 2024)
    assert [e.fate for e in rv.ledger][1] in ("accepted", "superseded")  # the figures read fine
    (tmp_path / "ledger.pkl").write_bytes(pickle.dumps(list(rv.ledger)))
    # openpyxl runs out of its worker's memory, however fast the machine (the time limit only guards against a
    # hang); the run goes on
    run = subprocess.run([sys.executable, "-c", _FEEDBACK_IN_A_FRESH_PROCESS, str(tmp_path / "ledger.pkl"),
                          str(tmp_path / "fb"), "30"], capture_output=True, text=True, check=True)
    made = json.loads(run.stdout)
    assert made[0] is not None and made[2] is None
    assert made[1] is not None  # the ZIP writer copies the big sheet as it is, within the same limits
    with zipfile.ZipFile(made[1]) as z:
        assert c.sheet_part(made[1], LISTS_SHEET) in z.namelist()  # the big sheet is in the copy
        assert z.read(c.sheet_part(made[1], LISTS_SHEET)).count(b"<v>1</v>") >= 200_000


def test_last_years_dataset_is_never_written_over(inbox, tmp_path):
    con = consolidate([inbox], 2024)
    last = write_dataset(con.tidy, tmp_path / "tong-hop-2024_du-lieu.csv")
    before = last.read_bytes()
    # this year's command with last year's -o left as it was: its dataset would land on --previous
    res = CliRunner().invoke(main, ["consolidate", str(inbox), "--year", "2025", "-o",
                                    str(tmp_path / "tong-hop-2024.xlsx"), "--previous", str(last)])
    assert res.exit_code == 1 and "không được ghi đè" in res.output and last.read_bytes() == before
