"""Feedback workbooks: a copy of the province's own file with a first sheet listing the findings.

The province's data is untouched (the original file is never opened for writing; only a copy is changed),
and every finding links to the cell it is about.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import openpyxl
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.hyperlink import Hyperlink

from .atomic import atomic_path
from .result import CheckResult
from .findings import Severity

__all__ = ["write_feedback", "feedback_filename", "FEEDBACK_SHEET"]

FEEDBACK_SHEET = "Phản hồi"
_FILL = {Severity.ERROR: "F8CBAD", Severity.WARNING: "FFE699", Severity.INFO: "DDEBF7"}


def feedback_filename(res: CheckResult) -> str:
    stem = Path(res.display).stem.replace("/", "_")
    return f"{stem}_phan-hoi.xlsx"


def write_feedback(res: CheckResult, out_dir: Path) -> Path | None:
    """Write the feedback copy for one checked file; None when the file could not be opened as a workbook."""
    data = Path(res.path).read_bytes()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about extensions it does not keep (not our data)
            wb = openpyxl.load_workbook(io.BytesIO(data), keep_vba=res.kind == "xlsm", keep_links=True)
    except Exception:  # noqa: BLE001 - an unreadable file gets its findings on screen and in the ledger only
        return None
    if FEEDBACK_SHEET in wb.sheetnames:
        del wb[FEEDBACK_SHEET]
    ws = wb.create_sheet(FEEDBACK_SHEET, 0)
    wb.active = 0
    for sheet in wb.worksheets[1:]:
        sheet.sheet_view.tabSelected = False
    ws["A1"] = f"KẾT QUẢ KIỂM TRA TỆP: {Path(res.display).name}"
    ws["A1"].font = Font(name="Times New Roman", bold=True, size=13)
    ws["A2"] = f"Kết luận: {res.verdict.label}. Lỗi: {res.errors}; cảnh báo: {res.warnings}."
    ws["A3"] = ("Hãy sửa các lỗi ở đúng ô được chỉ ra (bấm vào vị trí để đến ô), xem lại các cảnh báo, "
                "rồi gửi lại tệp. Trang này có thể để nguyên khi gửi lại.")
    headers = ("STT", "Mức độ", "Mã", "Vị trí (bấm để đến ô)", "Nội dung")
    for col, h in enumerate(headers, start=1):
        c = ws.cell(row=5, column=col, value=h)
        c.font = Font(name="Times New Roman", bold=True)
    order = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}
    for i, f in enumerate(sorted(res.findings, key=lambda f: order[f.severity]), start=1):
        row = 5 + i
        ws.cell(row=row, column=1, value=i)
        ws.cell(row=row, column=2, value=f.severity.label).fill = PatternFill("solid", fgColor=_FILL[f.severity])
        ws.cell(row=row, column=3, value=f.code)
        where = ws.cell(row=row, column=4, value=f"{f.sheet} · {f.cell}" if f.cell else f.sheet)
        if f.sheet in wb.sheetnames and f.cell:
            where.hyperlink = Hyperlink(ref=where.coordinate, location=f"'{f.sheet}'!{f.cell}", display=where.value)
            where.font = Font(name="Times New Roman", color="0000FF", underline="single")
        msg = ws.cell(row=row, column=5, value=f.message)
        msg.data_type = "s"
        msg.alignment = Alignment(wrap_text=True, vertical="top")
        ws.row_dimensions[row].height = 15 * (len(f.message) // 95 + 1)
    for col, width in zip("ABCDE", (5, 14, 7, 30, 90), strict=True):
        ws.column_dimensions[col].width = width
    for row in ws.iter_rows(min_row=2):
        for c in row:
            if c.value is not None and c.font.name != "Times New Roman":
                c.font = Font(name="Times New Roman", bold=c.font.bold, color=c.font.color, underline=c.font.underline)
    ws.freeze_panes = "A6"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "5:5"
    out = out_dir / feedback_filename(res)
    with atomic_path(out) as tmp:
        wb.save(tmp)
    return out
