"""The collection's pages through an HTTP client: a province's rounds, the Ministry's actions, downloads."""

from __future__ import annotations

import io
import logging
import re

import openpyxl
import pytest
from starlette.testclient import TestClient

from libstats.collection.web import create_app

from . import corpus as c
from .collecting import S22, cell, collection, corrected_with_warning, csrf, with_mistakes


@pytest.fixture
def site(tmp_path, tmp_path_factory):
    col, links = collection(tmp_path, tmp_path_factory)
    return col, links, TestClient(create_app(col.root))


def upload(client, link, path, name=None):
    token = csrf(client.get(link).text)
    with open(path, "rb") as fh:
        return client.post(f"{link}/gui", data={"csrf": token}, files={"tep": (name or path.name, fh)})


def test_a_province_uploads_sees_findings_at_cells_downloads_feedback_and_corrects(site, tmp_path):
    col, links, client = site
    page = client.get(links["01"])
    assert page.status_code == 200 and "Thành phố Hà Nội" in page.text and "Chưa gửi" in page.text
    form = client.get(f"{links['01']}/mau")
    assert form.status_code == 200 and form.content == col.form_path(c.HANOI).read_bytes()
    r = upload(client, links["01"], with_mistakes(tmp_path / "bao-cao.xlsx"))
    assert r.status_code == 200 and "Không chấp nhận" in r.text and "lần 1" in r.text
    assert f'<td data-label="Ô" class="cell">{cell("bo_sung_xa_n")}</td>' in r.text
    assert f'<td data-label="Ô" class="cell">{cell("the_cap_moi_tong_n")}</td>' in r.text
    assert S22 in r.text
    fb = client.get(str(r.url) + "/phan-hoi")
    wb = openpyxl.load_workbook(io.BytesIO(fb.content))
    assert fb.status_code == 200 and wb.sheetnames[0] == "Phản hồi"
    r = upload(client, links["01"], corrected_with_warning(tmp_path / "bao-cao-sua.xlsx", tmp_path))
    assert "Chấp nhận (có cảnh báo)" in r.text and "lần 2" in r.text
    page = client.get(links["01"]).text
    assert "Chấp nhận có cảnh báo" in page and page.count("Xem kết quả") == 2


def test_the_ministry_reviews_a_warning_approves_reopens_and_consolidates(site, tmp_path):
    col, links, client = site
    upload(client, links["01"], corrected_with_warning(tmp_path / "a.xlsx", tmp_path))
    page = client.get(links["BO"]).text
    assert "Tỷ lệ báo cáo</dt><dd>1,6%" in page and "Chấp nhận có cảnh báo" in page
    r = client.post(f"{links['BO']}/xem", data={"csrf": csrf(page), "tep": "1", "stt": "0", "ghi_chu": ""})
    assert "Hãy ghi chú" in r.text
    stt = str([f.code for f in col.register.file(1).findings].index("S04"))
    r = client.post(f"{links['BO']}/xem", data={"csrf": csrf(r.text), "tep": "1", "stt": stt,
                                                "ghi_chu": "đã xem: tỉnh giải thích qua điện thoại"})
    assert "Đã đánh dấu" in r.text and "tỉnh giải thích qua điện thoại" in r.text
    assert "Không còn cảnh báo nào cần xem" in r.text
    # the page showed file 1; a newer upload since then is never approved unseen
    upload(client, links["01"], c.filled(tmp_path / "b.xlsx"))
    r = client.post(f"{links['BO']}/duyet", data={"csrf": csrf(r.text), "tinh": c.HANOI.key, "tep": "1"})
    assert "dữ liệu đã thay đổi" in r.text and not col.register.approvals()
    shown = str(col.register.files()[-1].id)
    assert f'name="tep" value="{shown}"' in r.text
    r = client.post(f"{links['BO']}/duyet", data={"csrf": csrf(r.text), "tinh": c.HANOI.key, "tep": shown})
    assert "Đã duyệt báo cáo" in r.text and '<span class="status approved">Đã duyệt</span>' in r.text
    assert "Đã duyệt" in client.get(links["01"]).text
    r = client.post(f"{links['BO']}/tong-hop", data={"csrf": csrf(r.text)})
    assert "Đã chạy tổng hợp" in r.text
    wb = client.get(f"{links['BO']}/tai/tong-hop")
    data = client.get(f"{links['BO']}/tai/du-lieu")
    assert wb.content[:2] == b"PK" and "Hà Nội" in data.content.decode("utf-8-sig")
    r = client.post(f"{links['BO']}/mo-lai", data={"csrf": csrf(r.text), "tinh": c.HANOI.key})
    assert "Đã mở lại" in r.text


def test_a_file_dropped_in_the_inbox_appears_on_the_pages(site, tmp_path):
    col, links, client = site
    c.filled(col.inbox / "ha-noi-email.xlsx")
    page = client.get(links["01"]).text
    assert "ha-noi-email.xlsx" in page and "Chấp nhận" in page
    assert "Đã gửi</dt><dd>1" in client.get(links["BO"]).text


def test_pages_carry_no_script_and_protective_headers(site):
    col, links, client = site
    for link in (links["01"], links["BO"], "/"):
        r = client.get(link)
        assert "<script" not in r.text and 'name="viewport"' in r.text
        assert r.headers["content-security-policy"].startswith("default-src 'self'; script-src 'none'")
        assert r.headers["referrer-policy"] == "no-referrer" and r.headers["cache-control"] == "no-store"


def test_the_ministry_accepts_a_correction_and_the_province_sees_it(site, tmp_path):
    col, links, client = site
    r = upload(client, links["01"], c.with_values(tmp_path / "a.xlsx", the_cap_moi_tinh_pc=859329))
    assert '<span class="code">C02</span>' in r.text and "số đúng là 859.329" in r.text
    page = client.get(links["BO"]).text
    assert "→ số đính chính: <strong>859.329</strong>" in page
    d = col.register.corrections()[0]
    r = client.post(f"{links['BO']}/dinh-chinh", data={"csrf": csrf(page), "de_nghi": str(d["id"]),
                                                      "quyet_dinh": "chap-nhan", "ghi_chu": "theo công văn số 12"})
    assert "Đã ghi quyết định" in r.text and "Đã chấp nhận</span> theo công văn số 12" in r.text
    assert "Bộ đã chấp nhận" in client.get(links["01"]).text
    assert col.register.corrections()[0]["decision"] == "accepted"


def test_the_running_server_checks_uploads_in_its_long_lived_workers(tmp_path, tmp_path_factory):
    col, links = collection(tmp_path, tmp_path_factory)
    app = create_app(col.root)
    with TestClient(app) as client:  # the server's life: its pool starts with it and stops with it
        pool = app.state.workers
        pids = pool.pids()
        assert pids
        r = upload(client, links["01"], with_mistakes(tmp_path / "a.xlsx"))
        assert "Không chấp nhận" in r.text and f'class="cell">{cell("bo_sung_xa_n")}</td>' in r.text
        r = upload(client, links["01"], c.filled(tmp_path / "b.xlsx"))
        assert "Chấp nhận" in r.text and "lần 2" in r.text
        assert pool.pids() == pids  # the same workers checked both
    assert pool.pids() == []


def test_the_ministry_checks_again_a_file_whose_check_failed(site, tmp_path, monkeypatch):
    import libstats.checks.batch

    col, links, client = site
    with monkeypatch.context() as m:
        m.setattr(libstats.checks.batch, "check_many", lambda *a, **k: (_ for _ in ()).throw(OSError("no fork")))
        r = upload(client, links["01"], c.filled(tmp_path / "a.xlsx"))
    assert "Không chấp nhận" in r.text and "F09" in r.text
    assert "Kiểm tra lại tệp" not in r.text  # the province's page has no such button
    page = client.get(f"{links['BO']}/tep/1").text
    assert "Kiểm tra lại tệp" in page
    r = client.post(f"{links['BO']}/kiem-tra-lai", data={"csrf": csrf(page), "tep": "1"})
    assert r.status_code == 200 and "Đã kiểm tra lại tệp" in r.text
    rec = col.register.file(1)
    assert (rec.verdict, rec.round) == ("accepted", 1)
    assert "Kiểm tra lại tệp" not in client.get(f"{links['BO']}/tep/1").text


def test_errors_are_vietnamese_pages_and_a_clients_error_leaves_nothing_in_the_log(site, caplog):
    col, links, client = site
    with caplog.at_level(logging.INFO):
        for path in (f"{links['01']}/tep/9223372036854775808", f"{links['01']}/tep/9223372036854775807",
                     f"{links['BO']}/tep/18446744073709551616/phan-hoi", "/khong-co-trang-nay", "/static/khong.css"):
            r = client.get(path)
            assert r.status_code == 404 and '<html lang="vi">' in r.text and "Internal" not in r.text, path
        r = client.get(f"{links['01']}/gui")
        assert r.status_code == 405 and "không nhận thao tác" in r.text
        page = client.get(links["BO"]).text
        r = client.post(f"{links['BO']}/dinh-chinh", data={"csrf": csrf(page), "de_nghi": "9223372036854775808"})
        assert "dữ liệu đã thay đổi" in r.text
    assert [rec for rec in caplog.records if rec.levelno >= logging.WARNING] == []


def test_a_server_error_is_a_vietnamese_page_with_a_reference_logged_on_one_line(site, caplog):
    col, links, client = site
    for part in col.root.glob("register.sqlite*"):  # the register is gone from under the running server
        part.unlink()
    with caplog.at_level(logging.INFO):
        r = client.get(links["01"])
    assert r.status_code == 500 and "Lỗi máy chủ" in r.text and "Internal Server Error" not in r.text
    ref = re.search(r'Mã tham chiếu: <strong class="code">([0-9A-F]{8})</strong>', r.text)[1]
    [line] = [rec for rec in caplog.records if rec.levelno >= logging.WARNING]
    assert ref in line.getMessage() and line.exc_info is None and "\n" not in line.getMessage()
    assert links["01"].split("/")[-1] not in line.getMessage()  # the secret of the link is never logged


def _outlier_round(col, tmp_path) -> None:
    """Ten provinces' returns dropped in the inbox; Hà Nội's visits 40 times the others' (B02)."""
    for i, p in enumerate(col.provinces[:10]):
        v = c.good_values(p)
        if i == 0:
            v.update({k: x * 40 for k, x in v.items() if k.startswith("luot_tai_tv_") and k.endswith("_n")
                      and isinstance(x, int)})
        c.filled(col.inbox / f"{p.code}.xlsx", v, p=p)


def test_a_cross_province_warning_is_reviewed_on_the_ministrys_page_and_counts_as_reviewed(site, tmp_path):
    from libstats.collection.collect import review_collection

    col, links, client = site
    _outlier_round(col, tmp_path)
    page = client.get(links["BO"]).text
    cards = [card for card in page.split('<div class="warning-card">')[1:] if '<span class="code">B02</span>' in card]
    assert cards and all("khác thường so với các tỉnh khác" in card for card in cards)
    stt = re.search(r'name="stt" value="(\d+)"', cards[0])[1]
    tep = re.search(r'name="tep" value="(\d+)"', cards[0])[1]
    r = client.post(f"{links['BO']}/xem", data={"csrf": csrf(page), "tep": tep, "stt": stt,
                                                "ghi_chu": "tỉnh mở thêm thư viện lưu động"})
    assert "Đã đánh dấu" in r.text and "tỉnh mở thêm thư viện lưu động" in r.text
    assert r.text.count('<span class="code">B02</span>') == len(cards) - 1
    rv = review_collection(col)
    [hn] = [e for e in rv.ledger if e.status == "chosen" and e.result.province == c.HANOI]
    reviewed = [f for f, note in hn.reviewed if f.code == "B02" and note == "tỉnh mở thêm thư viện lưu động"]
    assert len(reviewed) == 1 and reviewed[0] in hn.added and reviewed[0] not in hn.findings  # not open again
