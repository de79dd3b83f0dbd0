"""`check` and `consolidate` on a collection folder follow its register; the summary's overview shows the
collection's status and the reviewed warnings; a failed check is recorded, never left "being checked"."""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner

from libstats.cli import main
from libstats.collection.collect import (approve, collection_status, decide_correction, pick_up, receive_upload,
                              review_warning)
from libstats.consolidation.dataset import load_dataset
from libstats.model.provinces import province
from libstats.outputs.summary import SHEETS

from . import corpus as c
from .conftest import sheet_rows
from .collecting import YEAR, collection, corrected_with_warning, with_mistakes

HANOI, HA_GIANG = c.HANOI, province(YEAR, "02")
NOTE = "đã xem: tỉnh giải thích qua điện thoại"


@pytest.fixture
def col(tmp_path, tmp_path_factory):
    return collection(tmp_path, tmp_path_factory)[0]


def _upload(col, p, path):
    with open(path, "rb") as fh:
        return receive_upload(col, p, fh, path.name)


def _reviewed_and_approved(col, tmp_path):
    """Hà Nội: a return with a warning, reviewed and approved, then a later return with mistakes (kept, not used);
    Hà Giang: a good return dropped in the inbox by hand (picked up by the command)."""
    rec = _upload(col, HANOI, corrected_with_warning(tmp_path / "w.xlsx", tmp_path))
    [warning] = [f for f in rec.findings if f.severity == "warning"]
    review_warning(col, rec.id, rec.findings.index(warning), NOTE)
    approve(col, HANOI.key, "đã kiểm tra")
    later = _upload(col, HANOI, with_mistakes(tmp_path / "later.xlsx"))
    shutil.copy(c.filled(tmp_path / "hg-src.xlsx", p=HA_GIANG), col.inbox / "ha-giang.xlsx")
    return rec, warning, later


def test_check_on_a_collection_folder_follows_the_register(col, tmp_path):
    rec, warning, later = _reviewed_and_approved(col, tmp_path)
    out = CliRunner().invoke(main, ["check", str(col.root), "--json", "-q"])
    assert out.exit_code == 1, out.output  # the later file has errors, as in any inbox
    got = {e["file"]: e for e in json.loads(out.output)}
    assert set(got) == {rec.stored, later.stored, "ha-giang.xlsx"}  # the inbox only, not forms/ or the register
    approved = got[rec.stored]
    assert (approved["fate"], approved["warnings"]) == ("accepted", 0)  # the reviewed warning does not come back
    assert [(f["code"], f["cell"], f["note"]) for f in approved["reviewed"]] == [(warning.code, warning.cell, NOTE)]
    assert got[later.stored]["fate"] == "rejected"  # its own verdict first; the L01 still says what replaced it
    assert any(f["code"] == "L01" and "đã duyệt" in f["message"] for f in got[later.stored]["findings"])
    assert got["ha-giang.xlsx"]["fate"] == "accepted"
    text = CliRunner().invoke(main, ["check", str(col.root), "--year", str(YEAR), "-q"]).output
    assert "Cảnh báo đã được Bộ xem xét" in text and NOTE in text
    wrong = CliRunner().invoke(main, ["check", str(col.root), "--year", str(YEAR + 1), "-q"])
    assert wrong.exit_code == 2 and f"đợt thu thập năm {YEAR}" in wrong.output


def test_check_on_a_plain_folder_works_as_before(col, tmp_path):
    _, _, later = _reviewed_and_approved(col, tmp_path)
    plain = tmp_path / "plain"
    shutil.copytree(col.inbox, plain)
    got = {e["file"]: e for e in json.loads(CliRunner().invoke(main, ["check", str(plain), "--json", "-q"]).output)}
    assert all(e["reviewed"] == [] for e in got.values())
    assert sum(e["warnings"] for e in got.values()) >= 1  # without the register the warning is shown again


def test_consolidate_on_a_collection_uses_the_register_and_shows_its_status(col, tmp_path):
    rec, warning, _ = _reviewed_and_approved(col, tmp_path)
    assert [r.stored for r in pick_up(col)] == ["ha-giang.xlsx"]  # so that the upload below is Hà Giang's latest
    hg = c.filled(tmp_path / "hg3-src.xlsx", p=HA_GIANG, values={**c.good_values(HA_GIANG),
                                                               "the_cap_moi_tinh_pc": 859329})
    corrected = _upload(col, HA_GIANG, hg)
    [fix] = [d for d in col.register.corrections() if d["file_id"] == corrected.id]
    decide_correction(col, fix["id"], True, "Sở gửi công văn đính chính")
    out_path = tmp_path / "out" / "tong-hop.xlsx"
    out = CliRunner().invoke(main, ["consolidate", str(col.root), "--year", str(YEAR), "-o", str(out_path), "-q"])
    assert out.exit_code == 0, out.output
    data = load_dataset(out_path.with_name("tong-hop_du-lieu.csv"))
    assert set(data["province_code"]) == {"01", "02"}
    assert set(data.loc[data["province_code"] == "01", "source_file"]) == {rec.stored}  # the approved file
    n1 = data[(data["province_code"] == "02") & (data["field_id"] == "the_cap_moi_tinh_p")].iloc[0]
    pc = c.FORM.fields["the_cap_moi_tinh_pc"]
    assert (n1["value"], n1["source_file"], n1["cell"]) == (859329, corrected.stored, pc.cell)
    cells = [str(v) for row in sheet_rows(out_path, SHEETS["overview"]) for v in row if v is not None]
    st = collection_status(col)
    assert (len(st.accepted), len(st.approved)) == (2, 1)
    assert f"{st.expected} / 2 / 2 / 1" in cells
    assert "Tỷ lệ báo cáo" in cells and f"{st.reporting_rate * 100:.1f}%".replace(".", ",") in cells
    assert "Tỷ lệ đúng hạn" in cells and "Hạn gửi báo cáo" in cells
    assert "Cảnh báo đã được Bộ xem xét (1)" in cells and NOTE in cells and warning.message in cells


def test_a_plain_consolidation_has_no_collection_rows(tmp_path):
    out_path = tmp_path / "out.xlsx"
    src = tmp_path / "in"
    src.mkdir()
    c.filled(src / "hn.xlsx")
    out = CliRunner().invoke(main, ["consolidate", str(src), "--year", str(YEAR), "-o", str(out_path), "-q"])
    assert out.exit_code == 0, out.output
    cells = [str(v) for row in sheet_rows(out_path, SHEETS["overview"]) for v in row if v is not None]
    assert "Tỷ lệ báo cáo" not in cells and not any(v.startswith("Cảnh báo đã được Bộ") for v in cells)


def test_a_failed_check_is_recorded_as_F09_and_can_be_checked_again(col, tmp_path, monkeypatch):
    import libstats.checks.batch
    from libstats.collection.collect import STALE_AFTER, recheck
    from libstats.collection.register import now_utc

    def broken(*args, **kwargs):
        raise OSError("fork failed")

    good = c.filled(tmp_path / "a.xlsx")
    with monkeypatch.context() as m:
        m.setattr(libstats.checks.batch, "check_many", broken)
        rec = _upload(col, HANOI, good)
    assert (rec.verdict, [f.code for f in rec.findings], rec.round) == ("rejected", ["F09"], 1)
    assert "lỗi khi kiểm tra: OSError" in rec.findings[0].message
    assert next(s for s in collection_status(col).provinces if s.province == HANOI).status == "rejected"
    again = recheck(col, rec.id)
    assert (again.id, again.verdict, again.round, again.province) == (rec.id, "accepted", 1, HANOI.key)
    with pytest.raises(ValueError, match="F09"):
        recheck(col, rec.id)
    # a check whose process stopped (the row was claimed, never recorded) is checked again by the next command
    stuck = col.register.receive("stuck.xlsx", "stuck.xlsx", "inbox", None)
    shutil.copy(good, col.inbox / "stuck.xlsx")
    assert [r.stored for r in pick_up(col)] == []  # still being checked by someone else: left alone
    with col.register.db() as con:
        con.execute("UPDATE files SET received = ? WHERE id = ?", ((now_utc() - STALE_AFTER * 2).isoformat(), stuck))
    [done] = pick_up(col)
    assert (done.id, done.verdict, done.province) == (stuck, "accepted", HANOI.key)
    assert pick_up(col) == []


def test_the_servers_worker_pool_is_reused_and_survives_a_crash_and_a_hang(tmp_path, monkeypatch):
    import os
    import time

    import libstats.checks.batch as batch

    real = batch.check_file

    def reader(path, spec, year, display, problem, *more):
        if display == "crash":
            os._exit(3)
        if display == "hang":
            time.sleep(30)
        return real(path, spec, year, display, problem, *more)

    monkeypatch.setattr(batch, "check_file", reader)
    good = c.filled(tmp_path / "a.xlsx")
    pool = batch.WorkerPool(limits=batch.WorkerLimits(seconds=3, jobs=1), year=YEAR)
    try:
        [pid] = pool.pids()
        assert pool.check(good, "a.xlsx", YEAR).verdict == "accepted"
        assert pool.check(good, "b.xlsx", YEAR).province == HANOI
        assert pool.pids() == [pid]  # no process started per check
        crashed = pool.check(good, "crash", YEAR)
        assert [f.code for f in crashed.findings] == ["F09"] and "mã 3" in crashed.findings[0].message
        hung = pool.check(good, "hang", YEAR)
        assert [f.code for f in hung.findings] == ["F09"] and "quá 3 giây" in hung.findings[0].message
        assert pool.check(good, "c.xlsx", YEAR).verdict == "accepted"  # a new worker took over
        assert len(pool.pids()) == 1 and pid not in pool.pids()
    finally:
        pool.close()
    assert pool.pids() == []
