"""Render the pictures in README and docs from real generated files: workbooks and the report draft
(needs LibreOffice and poppler-utils).

Run from the project root: python docs/images/render.py
"""

import subprocess
import tempfile
from pathlib import Path

from libstats.demo import run_demo

HERE = Path(__file__).parent
PICK = {  # picture name → (file, a text that starts the page)
    "form-cover": ("form", "BÁO CÁO"),
    "form-narrative": ("form", "2.1. Công tác quản lý nhà nước"),
    "form-table": ("form", "Bảng 1. Mạng lưới thư viện công cộng"),
    "form-check": ("form", "KIỂM TRA TỰ ĐỘNG"),
    "summary-overview": ("summary", "TỔNG HỢP BÁO CÁO CÔNG TÁC THƯ VIỆN"),
    "summary-national": ("summary", "SỐ LIỆU TOÀN QUỐC"),
    "summary-provinces": ("summary", "SỐ THẺ THƯ VIỆN CẤP MỚI THEO TỈNH"),
    "summary-charts": ("summary", "BIỂU ĐỒ"),
    "summary-contacts": ("summary", "DANH SÁCH LIÊN HỆ"),
    "summary-narratives": ("summary", "THUYẾT MINH CỦA CÁC TỈNH"),
    "report-first": ("report", "Dự thảo, tổng hợp tự động"),
    "report-figures": ("report", "Bảng 2. Hiệu quả hoạt động"),
    "feedback": ("feedback", "KẾT QUẢ KIỂM TRA TỆP"),
}


def pdf_of(xlsx: Path, out: Path) -> Path:
    subprocess.run(["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(out), str(xlsx)], check=True,
                   capture_output=True)
    return out / (xlsx.stem + ".pdf")


def page_with(pdf: Path, text: str) -> int:
    pages = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    for i, page in enumerate(pages.split("\f"), start=1):
        if text in page:
            return i
    raise LookupError(f"{text!r} not in {pdf}")


with tempfile.TemporaryDirectory() as tmp:
    tmp = Path(tmp)
    demo = run_demo(tmp / "demo", 2024, say=lambda s: None)
    files = {"form": demo.inbox / "bao-cao-thu-vien-2024_01_ha-noi.xlsx", "summary": demo.summary,
             "feedback": next(demo.feedback.glob("*06_bac-kan*")),
             "report": demo.report}
    pdfs = {k: pdf_of(v, tmp) for k, v in files.items()}
    for name, (kind, text) in PICK.items():
        n = page_with(pdfs[kind], text)
        subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", str(n), "-l", str(n), "-singlefile",
                        str(pdfs[kind]), str(HERE / name)], check=True)
        print(f"docs/images/{name}.png ← page {n} of the {kind}")
