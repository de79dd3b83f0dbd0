"""The collection register and folder: pick-up, uploads, rounds, status and rates, approval lock, reviews."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import json
import shutil

import pytest
from click.testing import CliRunner

from libstats.cli import main
from libstats.model.findings import fmt_number
from libstats.collection.collect import (MINISTRY, approve, collection_status, feedback_workbook, init_collection,
                                         issue_links, open_collection, pick_up, receive_upload, reopen, review_warning,
                                         reviewed_warnings, run_consolidation)
from libstats.model.provinces import province
from libstats.collection.register import REGISTER_NAME

from . import corpus as c
from .collecting import DEADLINE, YEAR, cell, collection, corrected_with_warning, with_mistakes

HANOI, HA_GIANG = c.HANOI, province(YEAR, "02")


@pytest.fixture
def col(tmp_path, tmp_path_factory):
    return collection(tmp_path, tmp_path_factory)[0]


def _upload(col, p, path, name=None):
    with open(path, "rb") as fh:
        return receive_upload(col, p, fh, name or path.name)


def _state(col, p, **kw):
    return next(s for s in collection_status(col, **kw).provinces if s.province == p)


def test_a_file_dropped_in_the_inbox_is_picked_up_once(col, tmp_path):
    c.filled(col.inbox / "Ha Noi gui qua email.xlsx")
    (col.inbox / "~$lock.xlsx").write_bytes(b"x")
    st = _state(col, HANOI)
    assert (st.status, st.rounds, st.used.channel, st.used.sent_name) == ("accepted", 1, "inbox",
                                                                          "Ha Noi gui qua email.xlsx")
    assert pick_up(col) == []  # known files are not checked again
    assert len(col.register.files()) == 1
    # a folder of attachments dropped in: its files are checked and recorded under their place in the inbox
    (col.inbox / "thu-dien-tu").mkdir()
    c.filled(col.inbox / "thu-dien-tu" / "Hai Phong.xlsx", p=province(YEAR, "31"))
    (col.inbox / ".an").mkdir()
    c.filled(col.inbox / ".an" / "x.xlsx")
    st = _state(col, province(YEAR, "31"))
    assert (st.status, st.used.stored, st.used.sent_name) == ("accepted", "thu-dien-tu/Hai Phong.xlsx",
                                                              "thu-dien-tu/Hai Phong.xlsx")
    assert len(col.register.files()) == 2 and pick_up(col) == []
    from libstats.collection.collect import review_collection

    ledger = {e.result.display: e for e in review_collection(col).ledger}
    assert ledger["thu-dien-tu/Hai Phong.xlsx"].status == "chosen"  # the register's file, matched by its place
    # a hidden folder's copy (a sync tool's old version) is listed, never counted: Hà Nội once
    assert ledger[".an/x.xlsx"].fate == "set_aside" and "không có trong sổ đăng ký" in ledger[".an/x.xlsx"].reason
    assert [e.result.display for e in ledger.values() if e.used and e.result.province.code == "01"] == [
        "Ha Noi gui qua email.xlsx"]


def test_rounds_statuses_and_the_latest_file_decides(col, tmp_path):
    assert _state(col, HANOI).status == "missing"
    first = _upload(col, HANOI, with_mistakes(tmp_path / "a.xlsx"))
    assert (first.round, first.verdict, first.channel) == (1, "rejected", "upload")
    assert {(f.code, f.cell) for f in first.findings} >= {("V03", cell("bo_sung_xa_n")),
                                                          ("R02", cell("the_cap_moi_tong_n"))}
    made = feedback_workbook(col, first)
    assert made.is_file() and feedback_workbook(col, col.register.file(first.id)) == made
    assert _state(col, HANOI).status == "rejected"
    second = _upload(col, HANOI, c.filled(tmp_path / "b.xlsx"))
    st = _state(col, HANOI)
    assert (second.round, st.status, st.rounds, st.used.id) == (2, "accepted", 2, second.id)


def test_an_upload_is_stored_under_a_name_libstats_chooses_and_nothing_is_overwritten(col, tmp_path):
    src = c.filled(tmp_path / "a.xlsx")
    recs = [_upload(col, HANOI, src, "../../evil/../register.sqlite") for _ in range(2)]
    stored = sorted(p.name for p in col.inbox.iterdir())
    assert stored == sorted(r.stored for r in recs) and len(set(stored)) == 2
    assert all(n.startswith("01_ha-noi_") and n.endswith(".bin") for n in stored)
    assert all((col.inbox / n).read_bytes() == src.read_bytes() for n in stored)
    assert recs[0].sent_name == "../../evil/../register.sqlite"  # shown as sent, never a path
    assert (col.root / REGISTER_NAME).stat().st_size > 0


def test_a_file_of_another_province_sent_through_a_link_is_refused_with_C01(col, tmp_path):
    rec = _upload(col, HA_GIANG, c.filled(tmp_path / "hn.xlsx"))
    assert rec.province == HA_GIANG.key and rec.verdict == "rejected"
    assert [f.code for f in rec.findings if f.severity == "error"] == ["C01"]
    assert "Hà Nội" in rec.findings[-1].message and "Hà Giang" in rec.findings[-1].message
    assert _state(col, HANOI).status == "missing"


def test_status_counts_and_rates_against_the_deadline(col, tmp_path):
    _upload(col, HANOI, c.filled(tmp_path / "a.xlsx"))
    _upload(col, HA_GIANG, with_mistakes(tmp_path / "b.xlsx"))
    future = dataclasses.replace(col, deadline=dt.date.today() + dt.timedelta(days=30))
    st = collection_status(future)
    assert (st.expected, len(st.received), len(st.accepted), len(st.missing), len(st.late)) == (63, 2, 1, 62, 0)
    assert st.reporting_rate == pytest.approx(1 / 63) and st.on_time_rate == pytest.approx(1 / 63)
    past = collection_status(col)  # the deadline (2025) has passed: the accepted file came late, the rest are late
    assert (past.on_time_rate, len(past.late)) == (0.0, 63)
    d = past.as_dict()
    assert d["provinces"][0] | {"last_received": None} == {
        "code": "01", "key": "2004:01", "name": "Hà Nội", "status": "accepted", "label": "Chấp nhận", "rounds": 1,
        "last_received": None, "file": d["provinces"][0]["file"], "on_time": False, "open_warnings": 0,
        "corrections": {"pending": 0, "accepted": 0, "refused": 0}}


def test_an_approved_return_is_locked_until_reopened(col, tmp_path):
    good = _upload(col, HANOI, c.filled(tmp_path / "a.xlsx"))
    with pytest.raises(ValueError, match="chưa có báo cáo"):
        approve(col, HA_GIANG.key)
    approve(col, HANOI.key, "đã kiểm tra")
    later = _upload(col, HANOI, with_mistakes(tmp_path / "b.xlsx"))
    st = _state(col, HANOI)
    assert (st.status, st.used.id, st.rounds, st.last.id) == ("approved", good.id, 2, later.id)
    assert (col.inbox / later.stored).is_file()  # kept, not used
    with pytest.raises(ValueError, match="đã được duyệt"):
        approve(col, HANOI.key)
    reopen(col, HANOI.key, "tỉnh xin sửa")
    assert _state(col, HANOI).status == "rejected"
    assert [e["action"] for e in col.register.events(HANOI.key)][-2:] == ["approve", "reopen"]


def test_two_approvals_at_once_one_wins_the_other_is_told(col, tmp_path, monkeypatch):
    """Two Ministry tabs approve the same province at the same moment: both saw it unapproved."""
    _upload(col, HANOI, c.filled(tmp_path / "a.xlsx"))
    monkeypatch.setattr(type(col.register), "approvals", lambda self: {})  # the read each request made before
    approve(col, HANOI.key, "tab 1")
    with pytest.raises(ValueError, match="đã được duyệt"):  # never a database error (a 500 on the page)
        approve(col, HANOI.key, "tab 2")
    assert [e["action"] for e in col.register.events(HANOI.key)].count("approve") == 1


def test_a_reviewed_warning_does_not_come_back_and_is_listed(col, tmp_path):
    rec = _upload(col, HANOI, corrected_with_warning(tmp_path / "w.xlsx", tmp_path))
    st = _state(col, HANOI)
    assert st.status == "warnings" and [f.code for f in st.open_warnings] == ["S04"]
    with pytest.raises(ValueError, match="ghi chú"):
        review_warning(col, rec.id, rec.findings.index(st.open_warnings[0]), "  ")
    review_warning(col, rec.id, rec.findings.index(st.open_warnings[0]), "đã xem: tỉnh giải thích qua điện thoại")
    assert _state(col, HANOI).status == "accepted"
    _upload(col, HANOI, corrected_with_warning(tmp_path / "w2.xlsx", tmp_path))  # the same warning again
    assert _state(col, HANOI).open_warnings == []
    listed = reviewed_warnings(col.root)
    assert [(r["province"], r["code"], r["note"]) for r in listed] == [
        (HANOI.key, "S04", "đã xem: tỉnh giải thích qua điện thoại")]
    assert reviewed_warnings(tmp_path) == []


def test_consolidation_uses_the_files_that_count(col, tmp_path):
    _upload(col, HANOI, c.filled(tmp_path / "a.xlsx"))
    _upload(col, HA_GIANG, with_mistakes(tmp_path / "b.xlsx"))
    summary, data = run_consolidation(col)
    assert summary.is_file() and data.is_file()
    text = data.read_text(encoding="utf-8-sig")
    assert "Hà Nội" in text and "Hà Giang" not in text


def test_cli_links_status_and_secrets_stored_hashed(col, tmp_path):
    runner = CliRunner()
    out = runner.invoke(main, ["links", str(col.root)])
    assert out.exit_code == 0, out.output
    rows = list(csv.reader(io.StringIO(out.output)))
    assert rows[0] == ["code", "name", "link"] and len(rows) == 1 + 63 + 1
    assert rows[1][:2] == ["01", "Hà Nội"] and rows[-1][0] == "BO" and rows[-1][2].startswith("/bo/")
    secret = rows[1][2].removeprefix("/t/")
    assert len(secret) >= 43
    assert secret.encode() not in (col.root / REGISTER_NAME).read_bytes()
    other = secret[:-1] + ("B" if secret.endswith("A") else "A")
    assert col.register.scope_of(secret) == HANOI.key and col.register.scope_of(other) is None
    assert col.register.scope_of(rows[-1][2].removeprefix("/bo/")) == MINISTRY
    shutil.copy(c.filled(tmp_path / "a.xlsx"), col.inbox / "hn.xlsx")
    out = runner.invoke(main, ["status", str(col.root), "--json"])
    d = json.loads(out.output)
    assert (d["expected"], d["received"], d["accepted"], d["missing"]) == (63, 1, 1, 62)
    out = runner.invoke(main, ["status", str(col.root)])
    assert "Tỷ lệ báo cáo 1,6%; tỷ lệ đúng hạn 0,0%" in out.output
    assert "01  Hà Nội               Chấp nhận" in out.output
    out = runner.invoke(main, ["status", str(tmp_path / "nothing")])
    assert out.exit_code == 1 and "chưa có sổ đăng ký" in out.output


def test_init_makes_inbox_forms_and_register_and_refuses_a_second_time(tmp_path):
    out = CliRunner().invoke(main, ["collect", "init", str(tmp_path / "c"), "--year", "2025", "--deadline",
                                    "2026-03-15", "-q"])
    assert out.exit_code == 0, out.output
    assert "hạn gửi 15/03/2026" in out.output
    col = open_collection(tmp_path / "c")
    assert col.deadline == dt.date(2026, 3, 15)
    assert (tmp_path / "c" / REGISTER_NAME).is_file() and col.inbox.is_dir()
    assert len(list(col.forms.glob("*.xlsx"))) == 34
    assert col.form_path(col.provinces[0]).is_file()
    with pytest.raises(ValueError, match="đã có sổ đăng ký"):
        init_collection(tmp_path / "c", 2025, DEADLINE)
    with pytest.raises(ValueError, match="chưa có sổ đăng ký"):
        open_collection(tmp_path)


def test_serve_refuses_a_public_address_without_allow_public(col):
    out = CliRunner().invoke(main, ["serve", str(col.root), "--host", "0.0.0.0"])
    assert out.exit_code == 2 and "--allow-public" in out.output


def test_upload_bytes_are_kept_exactly(col):
    data = io.BytesIO(b"%PDF-1.4 not a workbook")
    rec = receive_upload(col, HANOI, data, "bao-cao.pdf")
    assert (col.inbox / rec.stored).read_bytes() == b"%PDF-1.4 not a workbook"
    assert [f.code for f in rec.findings] == ["F01"]


def _previous_dataset(path):
    from libstats.consolidation.dataset import tidy_frame, write_dataset

    f = c.FORM.fields["the_cap_moi_tinh_p"]
    return write_dataset(tidy_frame([{
        "province_code": "01", "code_list": "2004", "province_name": "Hà Nội", "region": "Đồng bằng sông Hồng",
        "section": f.section, "table": "hieu_qua", "indicator": "the_cap_moi", "dim": "tinh", "dim_label": "Cấp tỉnh",
        "unit": f.unit, "year": YEAR - 1, "value": c.good_values()["the_cap_moi_tinh_p"], "source_file": "2023.xlsx",
        "sheet": f.sheet, "cell": "E15", "field_id": "the_cap_moi_tinh_n"}]), path)


def test_a_correction_of_last_years_figure_is_a_finding_and_once_accepted_changes_n1_everywhere(col, tmp_path):
    from libstats.collection.collect import (accepted_corrections, apply_corrections, corrected_previous,
                                             decide_correction)
    from libstats.consolidation.consolidate import consolidate, national_table
    from libstats.consolidation.dataset import load_dataset

    old = c.good_values()["the_cap_moi_tinh_p"]
    rec = _upload(col, HANOI, c.with_values(tmp_path / "a.xlsx", the_cap_moi_tinh_pc=859329))
    pc = c.FORM.fields["the_cap_moi_tinh_pc"]
    found = [f for f in rec.findings if f.code == "C02"]
    assert [(f.sheet, f.cell, f.severity) for f in found] == [(pc.sheet, pc.cell, "warning")]
    assert f"đã ghi là {fmt_number(old)}, số đúng là 859.329" in found[0].message
    st = _state(col, HANOI)
    assert st.status == "accepted" and [d["decision"] for d in st.corrections] == [None]  # C02 is decided apart
    previous = _previous_dataset(tmp_path / "du-lieu-2023.csv")
    national = lambda con: national_table(con).set_index(["indicator", "dim"]).loc[("the_cap_moi", "tinh")]  # noqa
    con = consolidate([col.inbox / rec.stored], YEAR)
    assert national(con)["p"] == old
    assert accepted_corrections(col) == []
    decide_correction(col, st.corrections[0]["id"], True, "Sở gửi công văn đính chính")
    fixed = apply_corrections(con.tidy, accepted_corrections(col))
    row = fixed[fixed["field_id"] == "the_cap_moi_tinh_p"].iloc[0]
    assert (row["value"], row["sheet"], row["cell"]) == (859329, pc.sheet, pc.cell)
    con2 = consolidate([col.inbox / rec.stored], YEAR)
    con2.tidy = fixed
    assert national(con2)["p"] == 859329 and national(con2)["n"] == national(con)["n"]
    _, data = run_consolidation(col)
    d = load_dataset(data)
    assert d[d["field_id"] == "the_cap_moi_tinh_p"]["value"].tolist() == [859329]
    out = load_dataset(corrected_previous(col, previous))
    assert out["value"].tolist() == [859329] and out["corrected_from"].tolist() == [old]
    assert out["correction_source"].tolist() == [f"{rec.stored} · {pc.sheet}!{pc.cell}"]
    assert load_dataset(previous)["value"].tolist() == [old]  # the input is never changed


def test_a_refused_correction_changes_nothing(col, tmp_path):
    from libstats.collection.collect import accepted_corrections, decide_correction

    _upload(col, HANOI, c.with_values(tmp_path / "a.xlsx", the_cap_moi_tinh_pc=1))
    d = _state(col, HANOI).corrections[0]
    decide_correction(col, d["id"], False, "không có căn cứ")
    assert accepted_corrections(col) == [] and _state(col, HANOI).corrections[0]["decision"] == "refused"
    with pytest.raises(ValueError):
        decide_correction(col, 999, True)


def test_libstats_own_output_sent_through_a_link_never_counts_as_the_return(col, tmp_path):
    good = _upload(col, HANOI, c.filled(tmp_path / "a.xlsx"))
    assert _state(col, HANOI).used.id == good.id
    fb = feedback_workbook(col, _upload(col, HANOI, with_mistakes(tmp_path / "b.xlsx")))  # sent back unedited
    rec = _upload(col, HANOI, fb)
    assert rec.verdict == "rejected" and [f.code for f in rec.findings] == ["F11"]
    st = _state(col, HANOI)
    assert st.used is None or st.used.id != rec.id


def test_corrections_are_not_written_onto_another_code_lists_dataset(col, tmp_path):
    from libstats.collection.collect import corrected_previous
    from libstats.consolidation.dataset import tidy_frame, write_dataset

    f = c.FORM.fields["the_cap_moi_tinh_p"]
    other = write_dataset(tidy_frame([{
        "province_code": "15", "code_list": "2025", "province_name": "Lào Cai", "region": "", "section": f.section,
        "table": "hieu_qua", "kind": "figure", "indicator": "the_cap_moi", "dim": "tinh", "dim_label": "Cấp tỉnh",
        "unit": f.unit, "year": YEAR - 1, "value": 5, "source_file": "x.xlsx", "sheet": f.sheet, "cell": "E15",
        "field_id": "the_cap_moi_tinh_n"}]), tmp_path / "du-lieu.csv")
    with pytest.raises(ValueError, match="danh mục"):
        corrected_previous(col, other)


def test_a_link_for_an_unknown_province_code_is_refused(col):
    with pytest.raises(ValueError, match="không có tỉnh mã 99"):
        issue_links(col, ["99"])


def _age(col, file_id):
    from libstats.collection.collect import STALE_AFTER
    from libstats.collection.register import now_utc

    with col.register.db() as con:
        con.execute("UPDATE files SET received = ? WHERE id = ?", ((now_utc() - STALE_AFTER * 2).isoformat(), file_id))


def test_rounds_follow_the_order_files_were_received_when_a_check_ends_late(col, tmp_path):
    shutil.copy(c.filled(tmp_path / "a.xlsx"), col.inbox / "01_cut.xlsx")
    cut = col.register.receive("01_cut.xlsx", "a.xlsx", "upload", HANOI.key)  # received; the server then died
    retry = _upload(col, HANOI, with_mistakes(tmp_path / "b.xlsx"))
    assert retry.round == 1  # the cut-off file has no verdict yet: not a round
    _age(col, cut)
    [late] = pick_up(col)
    assert (late.id, late.round, late.verdict) == (cut, 1, "accepted")
    assert col.register.file(retry.id).round == 2 and _state(col, HANOI).last.id == retry.id


def test_a_row_whose_file_never_arrived_is_a_failed_reception_never_a_round(col, tmp_path):
    ok = _upload(col, HANOI, c.filled(tmp_path / "a.xlsx"))
    lost = col.register.receive("01_lost.xlsx", "b.xlsx", "upload", HANOI.key)  # as an older libstats did
    _age(col, lost)
    st = _state(col, HANOI)
    assert (st.status, st.rounds, st.used.id, st.last.id) == ("accepted", 1, ok.id, ok.id)
    assert col.register.file(lost) is None and col.register.failed_receptions() == 1
    assert all("No such file" not in f.message for r in col.register.files() for f in r.findings)


def test_a_file_being_received_is_never_picked_up_as_one_dropped_by_hand(col, tmp_path):
    import threading

    good = c.filled(tmp_path / "a.xlsx")
    picked, threads = [], []

    def place():  # the upload's file is now in the inbox, its row not yet added: a page is opened meanwhile
        shutil.copy(good, col.inbox / "01_being-received.xlsx")
        t = threading.Thread(target=lambda: picked.append(pick_up(col)))
        t.start()
        t.join(2)  # it waits for the register, whose transaction this upload holds
        threads.append(t)

    fid = col.register.receive("01_being-received.xlsx", "a.xlsx", "upload", HANOI.key, place)
    threads[0].join()
    assert fid is not None and picked == [[]]  # the pick-up found the file already recorded: nothing to claim
    assert col.register.files() == [] and len(col.register.known()) == 1  # one row, still to be checked
