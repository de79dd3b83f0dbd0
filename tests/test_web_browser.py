"""A real browser (Debian's chromium driven by Playwright) through the whole collection: a province corrects
its return, the Ministry reviews a warning and approves. Screenshots go to $LIBSTATS_SCREENSHOTS when set."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from pathlib import Path

import openpyxl
import pytest

from libstats.collection.web import create_app

from . import corpus as c
from .collecting import cell, collection, corrected_with_warning, with_mistakes

CHROMIUM = "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists() and not os.environ.get("LIBSTATS_REQUIRE_BROWSER"),
                                reason="Debian's chromium is not installed")  # CI (.ci/run) requires it


@pytest.fixture
def server(tmp_path, tmp_path_factory):
    import uvicorn

    col, links = collection(tmp_path, tmp_path_factory)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(create_app(col.root), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield col, {k: f"http://127.0.0.1:{port}{v}" for k, v in links.items()}
    srv.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def browser():  # one chromium for the module's tests, each in its own page
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


def shot(page, tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=page.viewport_size["width"] > 600)
    if os.environ.get("LIBSTATS_SCREENSHOTS"):
        Path(os.environ["LIBSTATS_SCREENSHOTS"]).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(os.environ["LIBSTATS_SCREENSHOTS"]) / path.name)


@pytest.mark.parametrize("width", [1100, 390], ids=["desktop", "phone"])
def test_a_province_corrects_its_return_and_the_ministry_approves(server, browser, tmp_path, width):
    col, links = server
    page = browser.new_page(viewport={"width": width, "height": 900}, java_script_enabled=False, locale="vi-VN")
    page.goto(links["01"])
    assert page.locator("h1").inner_text() == "Thành phố Hà Nội"
    shot(page, tmp_path, f"{width}-1-tinh")
    page.set_input_files("#tep", str(with_mistakes(tmp_path / "bao-cao-ha-noi.xlsx")))
    page.get_by_role("button", name="Gửi và kiểm tra").click()
    assert "Không chấp nhận" in page.locator(".verdict").inner_text()
    rows = page.locator("table.findings tbody tr")
    cells = {rows.nth(i).locator("td.cell").inner_text() for i in range(rows.count())}
    assert {cell("bo_sung_xa_n"), cell("the_cap_moi_tong_n")} <= cells
    shot(page, tmp_path, f"{width}-2-loi")
    with page.expect_download() as dl:
        page.get_by_text("Tải tệp phản hồi").click()
    saved = tmp_path / dl.value.suggested_filename
    dl.value.save_as(saved)
    assert openpyxl.load_workbook(saved).sheetnames[0] == "Phản hồi"
    page.get_by_text("Trang của tỉnh").click()
    page.set_input_files("#tep", str(corrected_with_warning(tmp_path / "bao-cao-ha-noi-sua.xlsx", tmp_path)))
    page.get_by_role("button", name="Gửi và kiểm tra").click()
    assert page.locator(".verdict").inner_text().startswith("Chấp nhận")
    shot(page, tmp_path, f"{width}-3-chap-nhan")
    page.get_by_text("Trang của tỉnh").click()
    assert page.locator("table.rounds tbody tr").count() == 2
    shot(page, tmp_path, f"{width}-4-cac-lan")

    bo = browser.new_page(viewport={"width": width, "height": 900}, java_script_enabled=False, locale="vi-VN")
    bo.goto(links["BO"])
    row = bo.locator("#tinh-01")
    assert row.locator(".status").inner_text() == "Chấp nhận có cảnh báo"
    shot(bo, tmp_path, f"{width}-5-bo")
    card = bo.locator(".warning-card").first
    card.locator("textarea").fill("đã xem: tỉnh giải thích qua điện thoại")
    card.get_by_role("button", name="Đánh dấu đã xem").click()
    assert bo.locator("#tinh-01 .status").inner_text() == "Chấp nhận"
    bo.locator("#tinh-01").get_by_role("button", name="Duyệt").click()
    assert bo.locator("#tinh-01 .status").inner_text() == "Đã duyệt"
    assert "tỉnh giải thích qua điện thoại" in bo.locator("table.reviews").inner_text()
    shot(bo, tmp_path, f"{width}-6-da-duyet")
    page.reload()
    assert page.locator(".status").first.inner_text() == "Đã duyệt"
    assert c.HANOI.key in col.register.approvals()
