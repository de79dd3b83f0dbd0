"""Feedback workbooks: a copy of the province's own file with a first sheet listing the findings.

The province's data is untouched (the original file is never opened for writing; only a copy is changed),
and every finding links to the cell it is about. The copy is always a plain .xlsx (macros of an .xlsm are
dropped, so Excel opens it), keeps the original's saved time, and is stamped as libstats' output: sent back
unchanged it is set aside, never taken as a newer return; once the province edits and saves it, it is one.
Copies are written in isolated workers (a huge or hostile workbook costs one worker, not the run).
"""

from __future__ import annotations

import io
import re
import unicodedata
import warnings
import zipfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from .atomic import atomic_path
from .batch import WorkerLimits, run_isolated
from .check import OUTPUT_PROPERTY, SAVED_PROPERTY
from .findings import Severity
from .ledger import Entry

__all__ = ["write_feedback", "write_feedbacks", "feedback_names", "FEEDBACK_SHEET"]

FEEDBACK_SHEET = "Phản hồi"
_FILL = {Severity.ERROR: "F8CBAD", Severity.WARNING: "FFE699", Severity.INFO: "DDEBF7"}
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f/\\:*?\"<>|]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_MAX_STEM_BYTES = 150  # file systems allow 255 bytes a name; room for the suffix and a counter


def _printable(text: str) -> str:
    """Text a cell can hold: control characters (which XML cannot carry) shown as \\xNN."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m[0]):02x}", text)


def _ref(sheet: str, cell: str) -> str:
    """A link target in the workbook: 'Sheet''s name'!E5 (an apostrophe in a sheet name doubled)."""
    return "'" + sheet.replace("'", "''") + "'!" + cell


def _safe_stem(display: str) -> str:
    stem = unicodedata.normalize("NFC", display)
    stem = stem[: -len(Path(stem).suffix)] if Path(stem).suffix else stem
    stem = _UNSAFE.sub("_", stem).strip(" ._") or "tep"
    while len(stem.encode("utf-8")) > _MAX_STEM_BYTES:
        stem = stem[:-1]
    return stem


def feedback_names(entries: Sequence[Entry]) -> list[str]:
    """A distinct, safe file name for each entry's feedback copy (control characters, separators and
    over-long names replaced; files of the same name in different folders never share a copy)."""
    names, seen = [], set()
    for e in entries:
        stem, n = _safe_stem(e.result.display), 1
        name = f"{stem}_phan-hoi.xlsx"
        while name.casefold() in seen:
            n += 1
            name = f"{stem}_phan-hoi-{n}.xlsx"
        seen.add(name.casefold())
        names.append(name)
    return names


def _wanted(e: Entry) -> bool:
    """A copy is made of every file that opened as a workbook and is not libstats' own output."""
    if e.fate == "set_aside" or e.result.kind in ("xls", "ods", "xml"):
        return False
    return not any(f.code.startswith("F") and f.severity == Severity.ERROR for f in e.result.findings)


def write_feedbacks(entries: Sequence[Entry], out_dir: Path, limits: WorkerLimits | None = None,
                    progress: Callable[[Iterable], Iterable] = lambda it: it) -> list[Path | None]:
    """The feedback copy of every entry that can have one (None for the others), in isolated workers."""
    names = feedback_names(entries)
    chosen = [i for i, e in enumerate(entries) if _wanted(e)]
    tasks = [(entries[i], out_dir / names[i]) for i in chosen]
    made = run_isolated(write_feedback, tasks, lambda i, why: None, limits or WorkerLimits(), progress) if tasks else []
    out: list[Path | None] = [None] * len(entries)
    for i, path in zip(chosen, made, strict=True):
        out[i] = path
    return out


def write_feedback(entry: Entry, out: Path) -> Path | None:
    """Write the feedback copy of one checked file to ``out``; None when the file does not open as a workbook."""
    import openpyxl
    from openpyxl.packaging.custom import StringProperty
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.worksheet.hyperlink import Hyperlink

    res = entry.result
    data = Path(res.path).read_bytes()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about extensions it does not keep (not our data)
            wb = openpyxl.load_workbook(io.BytesIO(data), keep_vba=False, keep_links=True)
    except Exception:  # noqa: BLE001 - an unreadable file gets its findings on screen and in the ledger only
        return None
    if FEEDBACK_SHEET in wb.sheetnames:
        del wb[FEEDBACK_SHEET]
    ws = wb.create_sheet(FEEDBACK_SHEET, 0)
    wb.active = 0
    for sheet in wb.worksheets[1:]:
        sheet.sheet_view.tabSelected = False
    font = "Times New Roman"
    ws["A1"] = f"KẾT QUẢ KIỂM TRA TỆP: {_printable(Path(res.display).name)}"
    ws["A1"].font = Font(name=font, bold=True, size=13)
    ws["A2"] = f"Kết luận: {entry.verdict.label}. Lỗi: {entry.errors}; cảnh báo: {entry.warnings}."
    ws["A3"] = ("Hãy sửa các lỗi ở đúng ô được chỉ ra (bấm vào vị trí để đến ô), xem lại các cảnh báo, "
                "rồi gửi lại tệp. Trang này có thể để nguyên khi gửi lại.")
    for cell in ("A1", "A2", "A3"):
        ws[cell].data_type = "s"
        if cell != "A1":
            ws[cell].font = Font(name=font, size=12)
    thin = Side(style="thin", color="808080")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    top = Alignment(vertical="top", wrap_text=True)
    for col, h in enumerate(("STT", "Mức độ", "Mã", "Vị trí (bấm để đến ô)", "Nội dung"), start=1):
        c = ws.cell(row=5, column=col, value=h)
        c.font, c.border, c.alignment = Font(name=font, bold=True), border, Alignment(vertical="center")
        c.fill = PatternFill("solid", fgColor="D9E2F3")
    order = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}
    for i, f in enumerate(sorted(entry.findings, key=lambda f: order[f.severity]), start=1):
        row = 5 + i
        where = _printable(f"{f.sheet} · {f.cell}" if f.cell else f.sheet)
        cells = [ws.cell(row=row, column=col, value=v) for col, v in
                 enumerate((i, f.severity.label, f.code, where, _printable(f.message)), start=1)]
        for c in cells:
            if isinstance(c.value, str):
                c.data_type = "s"  # a text from a file stays text, never a formula
            c.font, c.border, c.alignment = Font(name=font), border, top
        cells[1].fill = PatternFill("solid", fgColor=_FILL[f.severity])
        if f.sheet in wb.sheetnames and f.cell:
            cells[3].hyperlink = Hyperlink(ref=cells[3].coordinate, location=_ref(f.sheet, f.cell),
                                           display=where)
            cells[3].font = Font(name=font, color="0000FF", underline="single")
        ws.row_dimensions[row].height = 15.5 * max(len(f.message) // 95 + 1, len(where) // 28 + 1)
    for col, width in zip("ABCDE", (5, 14, 7, 30, 90), strict=True):
        ws.column_dimensions[col].width = width
    ws.freeze_panes = "A6"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "5:5"
    for name in (OUTPUT_PROPERTY, SAVED_PROPERTY):
        if name in wb.custom_doc_props.names:
            del wb.custom_doc_props[name]
    wb.custom_doc_props.append(StringProperty(name=OUTPUT_PROPERTY, value="feedback"))
    wb.custom_doc_props.append(StringProperty(name=SAVED_PROPERTY, value=res.saved or "-"))
    with atomic_path(out) as tmp:
        wb.save(tmp)
        _keep_saved_time(tmp, res.saved)
    return out


_MODIFIED = re.compile(rb"(<dcterms:modified\b[^>]*>)[^<]*(</dcterms:modified>)")


def _keep_saved_time(path: Path, saved: str) -> None:
    """Put the original file's saved time back into the copy's core properties (openpyxl stamps 'now')."""
    with zipfile.ZipFile(path) as z:
        parts = [(info, z.read(info)) for info in z.infolist()]
    raw = saved.encode("ascii", "replace")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for info, data in parts:
            if info.filename == "docProps/core.xml":
                # the tag and its namespace declarations kept; only the time is put back (or the element dropped)
                data = _MODIFIED.sub(lambda m: m[1] + raw + m[2] if raw else b"", data, count=1)
            z.writestr(info, data)
