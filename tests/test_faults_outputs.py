"""When things break, nothing is lost and the user reads why, in Vietnamese: output faults (disk full, read-only,
vanished) end cleanly with the previous outputs intact; a file unreadable at consolidation time is a finding, never
an exception; corrections never vanish; a file's fate is its own verdict first; one publish function for the
command, the collection's page and the demo (the same comparison with last year)."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
from importlib import resources
from pathlib import Path

import pandas as pd
import pytest
import xlsxwriter
from click.testing import CliRunner
from starlette.testclient import TestClient
from xlsxwriter.exceptions import FileCreateError

from libstats.cli import main
from libstats.collection.collect import PREVIOUS_DIR, keep_previous, previous_dataset, receive_upload
from libstats.collection.web import create_app
from libstats.consolidation.dataset import load_dataset, tidy_frame, write_dataset
from libstats.model.provinces import province
from libstats.outputs.summary import SHEETS

from . import corpus as c
from .collecting import YEAR, collection, csrf
from .conftest import sheet_rows
from .hostile import CASES

HA_GIANG = province(YEAR, "02")
LAST_YEAR = c.good_values()["the_cap_moi_tinh_p"] - 1000  # what Hà Nội reported last year: this year's N−1 differs


def _previous(path: Path, year: int = YEAR - 1) -> Path:
    f = c.FORM.fields["the_cap_moi_tinh_p"]
    return write_dataset(tidy_frame([{
        "province_code": "01", "code_list": "2004", "province_name": "Hà Nội", "region": "Đồng bằng sông Hồng",
        "section": f.section, "table": "hieu_qua", "kind": "figure", "indicator": "the_cap_moi", "dim": "tinh",
        "dim_label": "Cấp tỉnh", "unit": f.unit, "year": year, "value": LAST_YEAR, "source_file": "2023.xlsx",
        "sheet": f.sheet, "cell": "E15", "field_id": "the_cap_moi_tinh_n"}]), path)


def _upload(col, p, path):
    with open(path, "rb") as fh:
        return receive_upload(col, p, fh, path.name)


def _snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (hidden ones too) and its hash."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _consolidate(*args: str):
    return CliRunner().invoke(main, ["consolidate", *args, "--year", str(YEAR), "-q"])


@pytest.fixture
def inbox(tmp_path) -> Path:
    box = tmp_path / "inbox"
    box.mkdir()
    c.filled(box / "ha-noi.xlsx")
    c.filled(box / "ha-giang.xlsx", p=HA_GIANG)
    return box


@pytest.fixture
def published(inbox, tmp_path) -> tuple[Path, dict[str, str]]:
    """A first consolidation written whole: the outputs a faulty second run must leave as they are."""
    out = tmp_path / "out"
    done = _consolidate(str(inbox), "-o", str(out / "tong-hop.xlsx"))
    assert done.exit_code == 0, done.output
    return out, _snapshot(out)


def _clean_failure(result, named: str, reason: str) -> None:
    assert result.exit_code == 1, result.output
    assert named in result.output and reason in result.output and "giữ nguyên" in result.output
    assert "Traceback" not in result.output and "Errno" not in result.output and "No such" not in result.output
    assert "No space" not in result.output and result.exception is None or isinstance(result.exception, SystemExit)


# output faults (issue 19, item 8) --------------------------------------------------------------------------------
def test_a_full_disk_while_the_summary_is_written_ends_cleanly_with_the_previous_outputs_intact(inbox, published,
                                                                                                 monkeypatch):
    out, before = published

    def full(self):
        Path(self.filename).write_bytes(b"PK\x03\x04 half a workbook")  # what a full disk leaves
        raise FileCreateError(OSError(errno.ENOSPC, "No space left on device"))

    monkeypatch.setattr(xlsxwriter.Workbook, "close", full)
    result = _consolidate(str(inbox), "-o", str(out / "tong-hop.xlsx"))
    _clean_failure(result, "tong-hop.xlsx", "ổ đĩa đã đầy")
    assert _snapshot(out) == before  # no partial or temporary file; the previous outputs as they were


def test_a_full_disk_while_the_dataset_is_written_leaves_the_previous_summary_and_dataset(inbox, published,
                                                                                         monkeypatch):
    out, before = published

    def full(self, path, *args, **kwargs):
        Path(path).write_text("province_code,code_list\n01,", encoding="utf-8")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_csv", full)
    result = _consolidate(str(inbox), "-o", str(out / "tong-hop.xlsx"))
    _clean_failure(result, "tong-hop_du-lieu.csv", "ổ đĩa đã đầy")
    assert _snapshot(out) == before


def test_an_output_folder_that_is_a_file_or_vanished_is_a_message_naming_it(inbox, published, tmp_path, monkeypatch):
    out, _ = published
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    result = _consolidate(str(inbox), "-o", str(blocker / "tong-hop.xlsx"))  # read-only as root: a path under a file
    _clean_failure(result, "not-a-folder", "không phải thư mục")
    assert blocker.read_text() == "x"
    close = xlsxwriter.Workbook.close

    def vanish(self):
        shutil.rmtree(out)  # the drive pulled out while the summary was being made
        return close(self)

    monkeypatch.setattr(xlsxwriter.Workbook, "close", vanish)
    result = _consolidate(str(inbox), "-o", str(out / "tong-hop.xlsx"))
    _clean_failure(result, "tong-hop.xlsx", "thư mục ghi không còn")
    assert not out.exists()


# one publish function (issue 20, item 2) ---------------------------------------------------------------------------
def _site(tmp_path, tmp_path_factory):
    col, links = collection(tmp_path, tmp_path_factory)
    return col, links, TestClient(create_app(col.root))


def _press(client, links) -> str:
    page = client.get(links["BO"]).text
    r = client.post(f"{links['BO']}/tong-hop", data={"csrf": csrf(page)})
    assert r.status_code == 200
    return r.text


def test_the_ministrys_page_compares_with_last_year_exactly_as_the_command(tmp_path, tmp_path_factory):
    col, links, client = _site(tmp_path, tmp_path_factory)
    kept = keep_previous(col.root, YEAR, _previous(tmp_path / "tong-hop-2023_du-lieu.csv"))
    assert previous_dataset(col) == kept == col.root / PREVIOUS_DIR / "tong-hop-2023_du-lieu.csv"
    _upload(col, c.HANOI, c.filled(tmp_path / "a.xlsx"))
    assert "Đã chạy tổng hợp" in _press(client, links)
    cli = _consolidate(str(col.root), "-o", str(tmp_path / "cli" / "tong-hop.xlsx"))
    assert cli.exit_code == 0, cli.output
    page = sheet_rows(col.summary / f"tong-hop-{YEAR}.xlsx", SHEETS["previous"])
    command = sheet_rows(tmp_path / "cli" / "tong-hop.xlsx", SHEETS["previous"])
    assert page == command and any(LAST_YEAR in row for row in page)  # Hà Nội's N−1 differs from last year's


def test_collect_init_previous_keeps_last_years_dataset_in_the_folder_and_refuses_a_wrong_one(tmp_path):
    # a 2025 collection (34 forms to write, not 63) with the 2024 dataset
    prev = _previous(tmp_path / "du-lieu-2024.csv", YEAR)
    wrong = CliRunner().invoke(main, ["collect", "init", str(tmp_path / "x"), "--year", str(YEAR + 2),
                                      "--deadline", "2027-03-15", "--previous", str(prev), "-q"])
    assert wrong.exit_code == 1 and "cần bộ dữ liệu năm 2025" in wrong.output and not (tmp_path / "x").exists()
    ok = CliRunner().invoke(main, ["collect", "init", str(tmp_path / "c"), "--year", str(YEAR + 1),
                                   "--deadline", "2026-03-15", "--previous", str(prev), "-q"])
    assert ok.exit_code == 0, ok.output
    kept = tmp_path / "c" / PREVIOUS_DIR / prev.name
    assert kept.read_bytes() == prev.read_bytes() and (kept.parent / "datapackage.json").is_file()


def test_the_ministrys_button_says_in_vietnamese_when_nothing_is_accepted_or_the_disk_is_full(tmp_path,
                                                                                            tmp_path_factory,
                                                                                            monkeypatch):
    col, links, client = _site(tmp_path, tmp_path_factory)
    assert "Chưa có báo cáo nào được chấp nhận" in _press(client, links)
    _upload(col, c.HANOI, c.filled(tmp_path / "a.xlsx"))
    assert "Đã chạy tổng hợp" in _press(client, links)
    before = _snapshot(col.summary)

    def full(self):
        raise FileCreateError(OSError(errno.ENOSPC, "No space left on device"))

    monkeypatch.setattr(xlsxwriter.Workbook, "close", full)
    assert "Không ghi được bảng tổng hợp" in _press(client, links)
    assert _snapshot(col.summary) == before


def test_rebase_uses_the_spec_it_is_given(tmp_path):
    spec = tmp_path / "dac-ta.toml"
    shipped = resources.files("libstats.workbook_templates").joinpath("bao-cao-thu-vien.toml").read_text("utf-8")
    spec.write_text(shipped.replace('version = "2024.2"', 'version = "9.2024.2"', 1), encoding="utf-8")
    result = CliRunner().invoke(main, ["rebase", str(_previous(tmp_path / "d.csv")), "--to", "2025", "-o",
                                       str(tmp_path / "out" / "d34.csv"), "--spec", str(spec)])
    assert result.exit_code == 0, result.output
    described = json.loads((tmp_path / "out" / "datapackage.json").read_text("utf-8"))
    assert described["resources"][0]["libstats"]["spec"]["version"].startswith("9.")


# a file unreadable at consolidation time (issue 19, item 6) ----------------------------------------------------------
def test_a_return_that_cannot_be_read_at_consolidation_time_is_a_finding_never_an_exception(tmp_path,
                                                                                            tmp_path_factory):
    col, links, client = _site(tmp_path, tmp_path_factory)
    rec = _upload(col, c.HANOI, c.filled(tmp_path / "a.xlsx"))
    _upload(col, HA_GIANG, c.filled(tmp_path / "b.xlsx", p=HA_GIANG))
    assert rec.verdict == "accepted"
    stored = col.inbox / rec.stored
    stored.write_bytes(stored.read_bytes()[:2000])  # the disk lost its end since the upload was checked
    check = CliRunner().invoke(main, ["check", str(col.root), "--json", "-q"])
    got = {e["file"]: e for e in json.loads(check.output)}
    assert check.exit_code == 1 and got[rec.stored]["fate"] == "rejected"  # the new check's failure is shown
    assert "F03" in [f["code"] for f in got[rec.stored]["findings"]]
    result = _consolidate(str(col.root), "-o", str(tmp_path / "out" / "tong-hop.xlsx"))
    assert result.exit_code == 0 and result.exception is None, result.output
    ledger = sheet_rows(tmp_path / "out" / "tong-hop.xlsx", SHEETS["ledger"])
    assert any(rec.stored in row and "Không chấp nhận" in row for row in ledger)
    assert "Đã chạy tổng hợp" in _press(client, links)


# corrections never vanish (issue 19, item 12) ------------------------------------------------------------------------
def test_a_correction_in_a_plain_inbox_is_a_finding_a_dataset_row_and_a_line_of_the_summary(tmp_path):
    box = tmp_path / "inbox"
    box.mkdir()
    old = c.good_values()["the_cap_moi_tinh_p"]
    c.with_values(box / "ha-noi.xlsx", the_cap_moi_tinh_pc=859329)
    pc = c.FORM.fields["the_cap_moi_tinh_pc"]
    check = CliRunner().invoke(main, ["check", str(box), "--year", str(YEAR), "--json", "-q"])
    [entry] = json.loads(check.output)
    [found] = [f for f in entry["findings"] if f["code"] == "C02"]
    assert (found["sheet"], found["cell"], found["severity"], entry["fate"]) == (
        pc.sheet, pc.cell, "warning", "accepted_with_warnings")
    result = _consolidate(str(box), "-o", str(tmp_path / "out" / "tong-hop.xlsx"))
    assert result.exit_code == 0, result.output
    data = load_dataset(tmp_path / "out" / "tong-hop_du-lieu.csv", texts=True)
    [row] = data[data["kind"] == "correction"].to_dict("records")
    assert (row["value"], row["status"], row["cell"], row["year"]) == (859329, "requested", pc.cell, YEAR - 1)
    figure = data[data["field_id"] == "the_cap_moi_tinh_p"]
    assert figure["value"].tolist() == [old]  # requested, not applied
    lines = sheet_rows(tmp_path / "out" / "tong-hop.xlsx", SHEETS["findings"])
    assert any("C02" in r and pc.cell in r for r in lines)


# a file's fate is its own verdict first (issue 19, item 13) -----------------------------------------------------------
def test_a_file_rejected_for_lying_stays_rejected_when_a_later_file_of_its_province_came(tmp_path):
    box = tmp_path / "inbox"
    box.mkdir()
    make = {name: maker for name, _, maker, _ in CASES}["hidden-copy"]
    lying = make(tmp_path)
    shutil.copy(lying, box / "1-lan-dau.xlsx")
    later = c.filled(box / "2-lan-sau.xlsx")
    os.utime(box / "1-lan-dau.xlsx", (1_700_000_000, 1_700_000_000))
    os.utime(later, (1_800_000_000, 1_800_000_000))
    check = CliRunner().invoke(main, ["check", str(box), "--year", str(YEAR), "--json", "-q"])
    got = {e["file"]: e for e in json.loads(check.output)}
    assert got["1-lan-dau.xlsx"]["fate"] == "rejected" and got["2-lan-sau.xlsx"]["fate"] == "accepted"
    assert {"S11", "L01"} <= {f["code"] for f in got["1-lan-dau.xlsx"]["findings"]}


@pytest.mark.libreoffice
def test_an_ods_return_is_converted_once_and_the_consolidation_reads_what_the_check_read(lo, tmp_path,
                                                                                        tmp_path_factory,
                                                                                        monkeypatch):
    col, links, client = _site(tmp_path, tmp_path_factory)
    ods = lo.convert(c.filled(tmp_path / "ha-noi.xlsx"), "ods", tmp_path)
    rec = _upload(col, c.HANOI, ods)
    assert rec.verdict != "rejected" and "F08" in [f.code for f in rec.findings]
    kept = col.conversions / f"{rec.sha256}.xlsx"
    assert kept.is_file() and list(col.conversions.iterdir()) == [kept]  # beside the original, nothing half-written
    monkeypatch.setenv("PATH", str(tmp_path / "no-libreoffice-here"))  # converting again would now fail (F07)
    result = _consolidate(str(col.root), "-o", str(tmp_path / "out" / "tong-hop.xlsx"))
    assert result.exit_code == 0, result.output
    data = load_dataset(tmp_path / "out" / "tong-hop_du-lieu.csv")
    assert data.loc[data["field_id"] == "the_cap_moi_tong_n", "value"].tolist() == [
        c.good_values()["the_cap_moi_tong_n"]]
    kept.unlink()  # the kept conversion lost as well: a finding at consolidation, never an exception
    check = CliRunner().invoke(main, ["check", str(col.root), "--json", "-q"])
    [entry] = json.loads(check.output)
    assert entry["fate"] == "rejected" and "F07" in [f["code"] for f in entry["findings"]]
    assert "Chưa có báo cáo nào được chấp nhận" in _press(client, links)


def test_in_a_collection_the_correction_row_carries_the_ministrys_decision_and_a_lying_file_its_verdict(
        tmp_path, tmp_path_factory):
    from libstats.collection.collect import collection_status, decide_correction, run_consolidation

    col, _, _ = _site(tmp_path, tmp_path_factory)
    lying = _upload(col, c.HANOI, {name: maker for name, _, maker, _ in CASES}["hidden-copy"](tmp_path))
    _upload(col, c.HANOI, c.with_values(tmp_path / "a.xlsx", the_cap_moi_tinh_pc=859329))
    [st] = [s for s in collection_status(col).provinces if s.province == c.HANOI]
    decide_correction(col, st.corrections[0]["id"], True, "Sở gửi công văn")
    _, data = run_consolidation(col)
    rows = load_dataset(data, texts=True)
    assert rows.loc[rows["kind"] == "correction", ["value", "status"]].values.tolist() == [[859329, "accepted"]]
    assert rows.loc[rows["field_id"] == "the_cap_moi_tinh_p", "value"].tolist() == [859329]  # applied
    check = CliRunner().invoke(main, ["check", str(col.root), "--json", "-q"])
    got = {e["file"]: e for e in json.loads(check.output)}
    assert got[lying.stored]["fate"] == "rejected" and "S11" in [f["code"] for f in got[lying.stored]["findings"]]


def test_a_failed_consolidation_changes_no_status_count(tmp_path, tmp_path_factory, monkeypatch):
    from libstats.collection.collect import collection_status

    col, links, client = _site(tmp_path, tmp_path_factory)
    _upload(col, c.HANOI, c.filled(tmp_path / "a.xlsx"))
    _upload(col, HA_GIANG, c.filled(tmp_path / "b.xlsx", p=HA_GIANG))
    before = collection_status(col).as_dict()

    def full(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_csv", full)
    assert "Không ghi được bảng tổng hợp" in _press(client, links)
    after = collection_status(col).as_dict()
    assert after == before and after["accepted"] == 2 and len(col.register.files()) == 2
    assert sorted(p.name for p in col.inbox.iterdir()) == sorted(r.stored for r in col.register.files())
    assert not col.summary.exists() or list(col.summary.iterdir()) == []  # no stray or temporary file


def test_a_bad_last_years_dataset_in_the_collection_is_a_vietnamese_result_on_the_page(tmp_path, tmp_path_factory):
    col, links, client = _site(tmp_path, tmp_path_factory)
    _upload(col, c.HANOI, c.filled(tmp_path / "a.xlsx"))
    (col.root / PREVIOUS_DIR).mkdir()
    (col.root / PREVIOUS_DIR / "du-lieu.csv").write_text("không phải bộ dữ liệu\n", encoding="utf-8")
    assert "bộ dữ liệu năm trước trong thư mục previous/" in _press(client, links)
    assert not col.summary.exists() or list(col.summary.iterdir()) == []


def test_a_feedback_folder_that_cannot_be_made_is_said_before_any_output_is_replaced(inbox, published, tmp_path):
    out, before = published
    blocker = tmp_path / "phan-hoi"
    blocker.write_text("x")
    result = _consolidate(str(inbox), "-o", str(out / "tong-hop.xlsx"), "--feedback", str(blocker / "tinh"))
    _clean_failure(result, "phan-hoi", "không phải thư mục")
    assert _snapshot(out) == before


def test_a_staging_folder_left_by_a_killed_run_is_removed_by_the_next(inbox, published):
    out, before = published
    left = out / ".tong-hop.tmp-killed"
    left.mkdir()
    (left / "tong-hop.xlsx").write_bytes(b"PK half")
    os.utime(left, (1_700_000_000, 1_700_000_000))  # hours ago
    result = _consolidate(str(inbox), "-o", str(out / "tong-hop.xlsx"))
    assert result.exit_code == 0, result.output
    assert sorted(_snapshot(out)) == sorted(before)  # the same outputs, nothing hidden left beside them


def test_a_fault_of_libstats_itself_is_a_vietnamese_message_and_a_file_with_the_traceback(tmp_path, monkeypatch):
    """A bug (here: a KeyError planted in the report's entry point) never ends a command with a bare traceback."""
    import tempfile

    from libstats.outputs import report as report_mod

    def broken(*args, **kwargs):
        raise KeyError("province_code")

    monkeypatch.setattr(report_mod, "build_report", broken)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    data = write_dataset(tidy_frame([]), tmp_path / "d.csv")
    run = CliRunner().invoke(main, ["report", str(data), "-o", str(tmp_path / "r.docx")])
    assert run.exit_code == 1 and "Traceback" not in run.output
    assert "Lỗi: lỗi của chính libstats, không phải của dữ liệu (KeyError: 'province_code')" in run.output
    kept = list(tmp_path.glob("libstats-loi-*.txt"))
    assert len(kept) == 1 and str(kept[0]) in run.output
    assert "Traceback" in kept[0].read_text(encoding="utf-8") and "broken" in kept[0].read_text(encoding="utf-8")
