"""Write the locked workbook a province fills in, from a laid-out form (XlsxWriter, through its public API).

Every input cell has a defined name equal to its field id, is unlocked and validated; everything else is
locked and every sheet protected. Formulas get the cached results that libstats itself computes, so a
spreadsheet program that does not recalculate on load (LibreOffice) still shows the right answers.

``_Cells`` writes the cells every sheet is made of (texts, inputs with their names and validations, the page
set-up); one function per kind of sheet lays its cells out (``_cover``, ``_narrative``, ``_tables``, ...).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
import math
import multiprocessing as mp
import numbers
import os
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet, convert_cell_args

from libstats.atomic import atomic_path, refuse_replacing
from libstats.model.coerce import NOT_COUNTED
from libstats.model.findings import fmt_number
from libstats.model.form import PROVINCE_FIELD, Field, Form, LaidSheet
from libstats.model.layout import (CHECK_COUNT_CELLS, CHECK_FIRST_ROW, CHECK_RESULT_COL, CHECK_SHEET, COVER_TITLE_CELL,
                     DEFINITIONS_SHEET, INSTRUCTIONS_SHEET, LISTS_SHEET, META_PREFIX, META_SHEET,
                     PROVINCE_LIST_NAME, TABLE_COLUMNS, cell_name, check_result_cell, split_address, wrapped_lines)
from libstats.model.provinces import Province, province, provinces_for_year, sender, slug
from libstats.model.rules import OK, build_rules, pct_change
from libstats.model.spec import EXCEL_LIMITS, italic_spans

__all__ = ["TemplateOptions", "write_template", "sender_values", "write_templates", "select_provinces",
           "template_filename", "validation", "xlsx_writer", "TextSafeWorksheet", "DEFAULT_PASSWORD", "FONT"]

DEFAULT_PASSWORD = "libstats"  # a guard against accidents, not security (legacy 16-bit hash); keep it ASCII
FONT = "Times New Roman"
INPUT_FILL, LOCKED_FILL, HEAD_FILL = "#FFF5CC", "#EDEDED", "#D9E2F3"
HINT_FONT = {"italic": True, "font_color": "#595959", "font_size": 10}  # libstats' hints, never the Ministry's words


@dataclass(frozen=True)
class TemplateOptions:
    province: Province | None = None  # None: the blank generic form with a province dropdown
    password: str = DEFAULT_PASSWORD
    values: dict[str, object] = field(default_factory=dict)  # prefilled inputs (samples, last year's figures)
    locked: frozenset[str] = frozenset()  # prefilled fields the province may not change
    notes: dict[str, str] = field(default_factory=dict)  # cell comments, e.g. where a prefilled figure came from
    generated_at: dt.datetime | None = None
    spec_version: str | None = None  # override the version stamped in the metadata (tests of old templates)


def _prefilled(form: Form) -> dict[str, Field]:
    """Cover fields the spec marks as prefilled, by what they hold ("sender.name")."""
    return {it.item.prefill: it.field for sheet in form.sheets for it in sheet.items
            if it.field is not None and it.item.prefill}


def sender_values(form: Form, p: Province) -> dict[str, str]:
    """The cover inputs prefilled from data for ``p`` (department name, document symbol), by field id."""
    who = sender(p, form.year)
    return {f.id: getattr(who, what.split(".", 1)[1]) for what, f in _prefilled(form).items()}


def template_filename(form: Form, province: Province | None) -> str:
    stem = form.spec.file_stem.replace("{year}", str(form.year))
    return f"{stem}_{province.code}_{slug(province.name)}.xlsx" if province else f"{stem}_mau-chung.xlsx"


def validation(f: Field, form: Form) -> dict:
    """The data validation of input ``f`` (XlsxWriter's options), its messages within Excel's limits."""
    v = _validation_of(f, form)
    for key, limit in (("input_title", "validation_title"), ("error_title", "validation_title"),
                       ("input_message", "validation_message"), ("error_message", "validation_message")):
        if len(v.get(key, "")) > EXCEL_LIMITS[limit]:  # XlsxWriter would only warn and drop it
            raise ValueError(f"{f.id}: {key} has {len(v[key])} characters; Excel allows {EXCEL_LIMITS[limit]}")
    return v


def _literal(n) -> str:
    """A whole number as the shortest formula literal that reads as it (1000000000 as 1E9): a validation's formula
    is prepared by XlsxWriter at a cost per character."""
    digits = str(n)
    if not isinstance(n, int) or not digits.endswith("0"):
        return digits
    stem = digits.rstrip("0")
    short = f"{stem}E{len(digits) - len(stem)}"
    return short if len(short) < len(digits) else digits


def _number_validation(f: Field, form: Form) -> dict:
    """A figure of the field's type (a whole count, or a decimal), or "x" for không thống kê. The message points to
    the row's unit column rather than naming the unit: the inputs of a column then share one validation.

    A custom formula, because Excel's whole-number validation refuses "x". IF, not OR: OR would pass on the
    #VALUE! of INT("x"), and so refuse the very "x" it is meant to allow."""
    c, top = f.cell, _literal(form.spec.max_count)
    whole = f",{c}=INT({c})" if f.type == "count" else ""
    head = f"Năm {form.year}" if f.column == "n" else f"Năm {form.year - 1}"
    what = "số nguyên" if f.type == "count" else "số"
    example = "12500" if f.type == "count" else "1234,5"
    return {"validate": "custom", "value": f'=IF(ISNUMBER({c}),AND({c}>=0{whole},{c}<={top}),{c}="{NOT_COUNTED}")',
            "input_title": head, "input_message": f"Nhập {what} từ 0 trở lên, theo đơn vị ở cột Đơn vị tính; không "
            "ghi đơn vị. Ghi 0 nếu không có; ghi x nếu không thống kê (không có số liệu).",
            "error_title": "Số liệu không hợp lệ",
            "error_message": f"Chỉ nhập {what} từ 0 trở lên (ví dụ {example}), hoặc x nếu không thống kê; "
            "không ghi chữ hoặc đơn vị."}


def _validation_of(f: Field, form: Form) -> dict:
    year = form.year
    if f.column == "pc":  # a correction of last year's figure: the same rule, its own explanation
        return {**_number_validation(f, form), "input_title": f"Đính chính năm {year - 1}",
                "input_message": f"Chỉ điền khi số năm {year - 1} bên trái sai: nhập số đúng, theo đơn vị ở cột "
                "Đơn vị tính. Để trống nếu không đính chính. Bộ sẽ xem xét đề nghị này."}
    if f.kind == "number":
        return _number_validation(f, form)
    if f.type == "date":
        return {"validate": "date", "criteria": "between", "minimum": dt.date(2000, 1, 1),
                "maximum": dt.date(2100, 12, 31), "input_title": "Ngày báo cáo",
                "input_message": "Nhập ngày theo dạng ngày/tháng/năm, ví dụ 05/12/2024.",
                "error_title": "Ngày không hợp lệ", "error_message": "Hãy nhập một ngày hợp lệ (ngày/tháng/năm)."}
    if f.kind == "province":
        return {"validate": "list", "source": "=" + PROVINCE_LIST_NAME, "input_title": "Tỉnh, thành phố",
                "input_message": "Chọn tỉnh, thành phố báo cáo trong danh sách.",
                "error_title": "Không có trong danh sách",
                "error_message": "Hãy chọn tỉnh, thành phố trong danh sách thả xuống."}
    title = "Giải thích" if f.kind == "explanation" else "Nội dung báo cáo"
    return {"validate": "length", "criteria": "<=", "value": f.max_chars, "input_title": title,
            "input_message": f"Nhập nội dung (tối đa {fmt_number(f.max_chars)} ký tự).",
            "error_title": "Nội dung quá dài",
            "error_message": f"Nội dung dài hơn {fmt_number(f.max_chars)} ký tự cho phép."}


@lru_cache(maxsize=8192)
def _rule(f: Field, form: Form) -> tuple:
    """The validation of ``f`` with its own cell left out: fields with the same rule in a column share one. Only a
    whole reference is its cell: E9 is not the cell of E9 in the number 1E9, nor E1 that of E10."""
    own = re.compile(rf"(?<![A-Za-z0-9_$.]){f.cell}(?![0-9])")
    return tuple(sorted((k, own.sub("\0", v) if isinstance(v, str) else v) for k, v in validation(f, form).items()))


def _height(cells: list[tuple[str, float]], minimum: float = 16) -> float:
    """The height (points) of a row whose ``cells`` (text, column width) wrap, at least ``minimum``."""
    return max(minimum, 16 * max(wrapped_lines(t, w) for t, w in cells))


def _fit(ws, row: int, cells: list[tuple[str, float]], minimum: float = 16) -> None:
    ws.set_row(row, _height(cells, minimum))


PART_TITLE_HEIGHT, TABLE_HEAD_HEIGHT, ROW_HEIGHT = 36, 45, 15  # points; ROW_HEIGHT: the sheets' default
A4_LANDSCAPE = (841.89, 595.28)  # points
MARGINS = dict(left=0.6, right=0.4, top=0.6, bottom=0.6)  # inches, every sheet (``_Cells.page``)
KEEP_ROWS = 5  # a table starts where its title, header and this many of its rows (or all, if fewer) fit


def table_page_breaks(tables: list[tuple[int, int]], heights: dict[int, float], widths: tuple[float, ...],
                      repeated: int = 2) -> list[int]:
    """The rows before which a table sheet starts a new printed page, so that no table's title and header
    are left at the foot of a page away from its rows. ``tables``: (title row, last row) of each table (the
    header is the row under the title); ``heights``: rows not ``ROW_HEIGHT`` points tall; ``widths``: the
    columns (printed fit to the page's width); rows ``0..repeated-1`` are printed again on every page.

    A table starts on a new page when its title, its header and its first ``KEEP_ROWS`` rows (a shorter table:
    all of them) do not fit what is left of this one. The page holds what Excel fits in it:
    columns of w characters are 7w + 5 pixels there; LibreOffice, with wider fonts, shrinks the page more
    and so fits at least as many rows (a break comes early, never late)."""
    def height(row: int) -> float:
        return heights.get(row, ROW_HEIGHT)

    page_w, page_h = A4_LANDSCAPE
    scale = min(1.0, (page_w - 72 * (MARGINS["left"] + MARGINS["right"])) / sum((w * 7 + 5) * 0.75 for w in widths))
    capacity = 0.95 * (page_h - 72 * (MARGINS["top"] + MARGINS["bottom"])) / scale - sum(
        height(r) for r in range(repeated))  # 5% kept for the footer and rounding
    starts = {title: last for title, last in tables}
    breaks, used = [], 0.0
    for row in range(repeated, max((last for _, last in tables), default=0) + 1):
        if row in starts and used > 0:
            keep = sum(height(r) for r in range(row, min(starts[row], row + 1 + KEEP_ROWS) + 1))
            if used + keep > capacity:
                breaks.append(row)
                used = 0.0
        if used + height(row) > capacity:  # the program breaks the page here by itself
            used = 0.0
        used += height(row)
    return breaks


def _plain_number(field_id: str, value):
    """A prefilled number as Python's int or float (numpy's, Decimal), so that it is written as a number; a value
    that is no finite number is refused."""
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, Decimal)):
        return value
    if not math.isfinite(value):
        raise ValueError(f"giá trị điền sẵn của {field_id} không phải là một số hữu hạn: {value}")
    return int(value) if isinstance(value, numbers.Integral) else float(value)


class _Formats:
    """The workbook's cell formats, one per set of properties (the form's font, top-aligned, wrapped, unless
    told otherwise)."""

    def __init__(self, wb: xlsxwriter.Workbook):
        self._wb, self._made, self._calls = wb, {}, {}

    def __call__(self, **kw) -> Format:
        call = tuple(kw.items())  # the same few dozen calls, thousands of times a form
        made = self._calls.get(call)
        if made is None:
            key = tuple(sorted({"font_name": FONT, "font_size": 12, "valign": "top", "text_wrap": True, **kw}.items()))
            made = self._made.get(key)
            if made is None:
                made = self._made[key] = self._wb.add_format(dict(key))
            self._calls[call] = made
        return made


class _Cells:
    """The cells every sheet of a form is made of: texts in the form's formats, the input cells (their value,
    lock, defined name and validation), the page set-up; and what libstats computes of the inputs (the derived
    figures and the checks' results), which the formulas carry as their cached values."""

    def __init__(self, wb: xlsxwriter.Workbook, form: Form, opts: TemplateOptions):
        self.wb, self.form, self.opts, self.fmt = wb, form, opts, _Formats(wb)
        self.values = {k: _plain_number(k, v) for k, v in opts.values.items()}
        self._validated: dict[tuple, list[Field]] = {}  # (sheet, column, rule) -> its fields: validations()
        if opts.province is not None:
            self.values[PROVINCE_FIELD] = opts.province.name
            for key, value in sender_values(form, opts.province).items():  # unless the caller gives them
                self.values.setdefault(key, value)

    def sheet(self, name: str, build: Callable[..., object], *args) -> Worksheet:
        """Add sheet ``name``, made by ``build(self, ws, *args)``, then the validations of its inputs."""
        ws = self.wb.add_worksheet(name)
        build(self, ws, *args)
        self.validations(ws)
        return ws

    def text(self, ws, row: int, col: int, text: str, **fmt):
        ws.write_string(row, col, text, self.fmt(**fmt))

    def locked(self, f: Field) -> bool:
        return f.id in self.opts.locked or (f.kind == "province" and self.opts.province is not None)

    def input(self, ws, f: Field):
        """The input cell of ``f``: its value, locked or not, named after the field, validated if unlocked."""
        value = self.values.get(f.id)
        locked = self.locked(f)
        style = dict(border=1, locked=locked, bg_color=LOCKED_FILL if locked else INPUT_FILL)
        if f.kind == "number":
            style["num_format"] = "#,##0"
        if f.type == "date":
            style["num_format"] = "dd/mm/yyyy"
        fmt = self.fmt(**style)  # _Formats remembers it by these properties
        if value is None:
            ws.write_blank(f.row, f.col, None, fmt)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            ws.write_number(f.row, f.col, value, fmt)
        elif isinstance(value, dt.date):
            ws.write_datetime(f.row, f.col, dt.datetime.combine(value, dt.time()), fmt)
        else:
            ws.write_string(f.row, f.col, str(value), fmt)
        if not locked:
            self._validated.setdefault((ws.name, f.col, _rule(f, self.form)), []).append(f)
        if f.id in self.opts.notes:
            ws.write_comment(f.row, f.col, self.opts.notes[f.id], {"x_scale": 2, "y_scale": 1.2})
        self.wb.define_name(f.id, "=" + f.ref)

    def validations(self, ws):
        """The validations of the inputs of sheet ``ws``, one per rule and column, over all the cells it applies
        to. Its formula refers to the topmost cell, the first of its ranges and their top-left corner, so that
        Excel and LibreOffice move it alike to every other cell. (One validation per cell repeated every message: a
        third of the form's bytes.)"""
        for key in [key for key in self._validated if key[0] == ws.name]:
            fields = sorted(self._validated.pop(key), key=lambda f: f.row)
            ranges, start = [], fields[0]
            for prev, f in zip(fields, [*fields[1:], None], strict=True):
                if f is None or f.row != prev.row + 1:
                    ranges.append(start.cell if prev is start else f"{start.cell}:{prev.cell}")
                    start = f
            first = fields[0]
            ws.data_validation(first.row, first.col, first.row, first.col,
                               {**validation(first, self.form), "multi_range": " ".join(ranges)})

    def rich(self, spans: list, fmt: dict) -> list:
        """XlsxWriter's rich-string arguments of ``spans`` ((text, italic) pairs) in format ``fmt``."""
        return [x for piece, italic in spans
                for x in (self.fmt(**{**fmt, "italic": italic or fmt.get("italic", False)}), piece)]

    def labelled(self, ws, row: int, col: int, text: str, hint: str, spans: list | None = None, **fmt):
        """The Ministry's words, then libstats' own hint on a new line in small grey italics, so an officer
        sees at a glance which words are the outline's and which are the tool's."""
        parts = self.rich(spans or [(text, False)], fmt)
        if hint:
            parts[-1] += "\n"
            parts += [self.fmt(**HINT_FONT), f"({hint})"]
        if len(parts) == 2:
            return self.text(ws, row, col, text, **fmt)
        ws.write_rich_string(row, col, *parts, self.fmt(**fmt))

    def outline_text(self, ws, it, fmt: dict) -> None:
        """A merged heading keeps the outline's italic words (written over the merged range's first cell)."""
        spans = italic_spans(it.item.text_for(self.form.year), self.form.year)
        if any(italic for _, italic in spans):
            ws.write_rich_string(it.row, 0, *self.rich(spans, fmt), self.fmt(**fmt))

    def page(self, ws, landscape: bool, repeat_to: int | None = None):
        ws.set_paper(9)
        ws.set_landscape() if landscape else ws.set_portrait()
        ws.fit_to_pages(1, 0)
        ws.set_margins(**MARGINS)
        ws.set_footer("&L&8" + self.form.title.replace("&", "&&") + "&R&8Trang &P/&N")
        if repeat_to is not None:
            ws.repeat_rows(0, repeat_to)
        ws.protect(self.opts.password, {"format_rows": True, "format_columns": True})

    def part_header(self, ws, sheet: LaidSheet, last_col: int):
        ws.merge_range(0, 0, 0, last_col, sheet.part.upper(), self.fmt(bold=True, align="center"))
        ws.merge_range(1, 0, 1, last_col, sheet.part_title, self.fmt(bold=True, align="center", font_size=13))
        ws.set_row(1, PART_TITLE_HEIGHT)

    def derived_values(self, r) -> tuple:
        """The change and the rate (%) of row ``r`` as libstats computes them ("" when there are none)."""
        vn, vp = self.values.get(r.n.id), self.values.get(r.p.id)
        both = all(isinstance(v, (int, float)) for v in (vn, vp))
        pct = pct_change(vn, vp)
        return (vn - vp) if both else "", pct if pct is not None else ""

    def results(self) -> tuple[list[str], dict[str, int]]:
        """The check sheet's results as libstats computes them: each rule's status, and the counts of errors and
        of warnings (the cached values of its formulas)."""
        statuses = [r.status(self.values) for r in build_rules(self.form)]
        return statuses, {prefix: sum(s.startswith(prefix) for s in statuses) for _, prefix in COUNTS}

    def stamp(self) -> str:
        spec, p = self.form.spec, self.opts.province
        where = f"mã tỉnh {p.code} (danh mục {p.code_list})" if p else "mẫu chung"
        return f"Mẫu {spec.id}, phiên bản {self.opts.spec_version or spec.version}, năm {self.form.year}, {where}."


# -- the sheets -----------------------------------------------------------------------------------------------

def _cover(c: _Cells, ws, sheet: LaidSheet):
    form, p = c.form, c.opts.province
    ws.set_column(0, 0, 38)
    ws.set_column(1, 1, 62)
    center = dict(align="center", bold=True)
    c.text(ws, 0, 0, f"UBND {p.full_name.upper()}" if p else "UBND TỈNH/THÀNH PHỐ ……………", **center)
    _sender_header(c, ws, center)
    c.text(ws, 0, 1, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", **center)
    c.text(ws, 1, 1, "Độc lập - Tự do - Hạnh phúc", **center, underline=1)
    place = sender(p, form.year).place if p else "……………"
    c.text(ws, 2, 1, f"{place}, ngày …… tháng …… năm ……", align="center", italic=True)
    ws.merge_range(3, 0, 3, 1, "BÁO CÁO", c.fmt(bold=True, align="center", font_size=16))
    ws.set_row(3, 24)
    title_row = split_address(COVER_TITLE_CELL)[0]
    ws.merge_range(title_row, 0, title_row, 1, form.title, c.fmt(bold=True, align="center", font_size=14))
    ws.set_row(title_row, 40)
    ws.merge_range(6, 0, 6, 1, f"Kính gửi: {form.receiving_unit}", c.fmt(align="center", italic=True))
    hints = {it.field.id: it.item.hint for it in sheet.items}
    for f in (form.fields[PROVINCE_FIELD], *(it.field for it in sheet.items)):
        c.labelled(ws, f.row, 0, f.label, hints.get(f.id, ""), bold=True, border=1)
        c.input(ws, f)
        ws.set_row(f.row, max(22, 16 * wrapped_lines(f.label + "\n" + hints.get(f.id, ""), 38)
                              if hints.get(f.id) else 22))
    last = max(it.row for it in sheet.items) + 2
    c.text(ws, last, 1, "THỦ TRƯỞNG CƠ QUAN, ĐƠN VỊ", **center)
    c.text(ws, last + 1, 1, "(Ký tên, đóng dấu)", align="center", italic=True)
    ws.merge_range(last + 6, 0, last + 6, 1, "Ô màu vàng là ô cần nhập. Xem hướng dẫn ở trang “Hướng dẫn”; "
                   "kết quả kiểm tra ở trang “Kiểm tra”.", c.fmt(italic=True, font_size=10))
    ws.merge_range(last + 7, 0, last + 7, 1, c.stamp(), c.fmt(font_size=9, font_color="#666666"))
    c.page(ws, landscape=False)


def _sender_header(c: _Cells, ws, center: dict) -> None:
    """The department's name and the document symbol under the province, following the cover's inputs
    (prefilled from data, corrected by the province) so the header always says what the inputs say."""
    pre = _prefilled(c.form)
    name, symbol = pre.get("sender.name"), pre.get("sender.symbol")
    if name is None or symbol is None:  # a spec without these inputs: the usual department
        c.text(ws, 1, 0, "SỞ VĂN HÓA, THỂ THAO VÀ DU LỊCH", **center)
        c.text(ws, 2, 0, "Số:        /BC-SVHTTDL", align="center")
        return
    typed = str(c.values.get(name.id) or "")
    ws.write_formula(1, 0, f'=IF(LEN({name.id})=0,"SỞ ……………",UPPER({name.id}))', c.fmt(**center),
                     typed.upper() if typed else "SỞ ……………")
    ws.write_formula(2, 0, f'="Số:        /"&{symbol.id}', c.fmt(align="center"),
                     f"Số:        /{c.values.get(symbol.id) or ''}")


def _narrative(c: _Cells, ws, sheet: LaidSheet):
    year = c.form.year
    ws.set_column(0, 0, 50)
    ws.set_column(1, 1, 95)
    c.part_header(ws, sheet, 1)
    head = c.fmt(bold=True, border=1, bg_color=HEAD_FILL, align="center")
    ws.write_string(3, 0, "Nội dung theo đề cương", head)
    ws.write_string(3, 1, "Nội dung báo cáo (nhập vào ô màu vàng)", head)
    for it in sheet.items:
        kind, bold = it.item.kind, it.item.level in (1, 2)
        if kind == "heading":
            ws.merge_range(it.row, 0, it.row, 1, it.text, c.fmt(bold=True, italic=it.item.level == 3))
            c.outline_text(ws, it, dict(bold=True, italic=it.item.level == 3))
            ws.set_row(it.row, 32 if len(it.text) > 120 else 20)
        elif kind == "narrative":
            label = it.text + (f"\n{it.item.hint}" if it.item.hint else "")
            c.labelled(ws, it.row, 0, it.text, it.item.hint, border=1, bold=bold or it.item.level == 3,
                       spans=italic_spans(it.item.text_for(year), year))
            c.input(ws, it.field)
            # Tall enough for the label and for the whole of any text already in the cell (a prefilled or
            # regenerated return): nothing written is hidden on screen or on paper. Not capped at Excel's
            # 409 points: LibreOffice shows and prints taller rows (fit to the page width, they fit a page).
            text = str(c.values.get(it.field.id) or "")
            ws.set_row(it.row, max(110, 15 * wrapped_lines(label, 50) + 6, 15 * wrapped_lines(text, 95) + 6))
        elif kind == "signature":
            c.text(ws, it.row, 1, it.text, bold=True, align="center")
            c.text(ws, it.row + 1, 1, it.item.note, italic=True, align="center")
        else:
            c.text(ws, it.row, 0, it.text)
    c.page(ws, landscape=False, repeat_to=0)


TABLE_WIDTHS = (5, 44, 22, 11, 15, 15, 14, 10, 42, 17)


def _tables(c: _Cells, ws, sheet: LaidSheet):
    col, year = TABLE_COLUMNS, c.form.year
    for i, width in enumerate(TABLE_WIDTHS):
        ws.set_column(i, i, width)
    c.part_header(ws, sheet, 9)
    head = c.fmt(bold=True, border=1, bg_color=HEAD_FILL, align="center", valign="vcenter")
    headers = ("STT", "Chỉ tiêu", "Cấp / loại hình", "Đơn vị tính", f"Năm {year}", f"Năm {year - 1}",
               "Tăng (+) / giảm (−)", "Tỷ lệ (%)",
               f"Giải thích (bắt buộc khi thay đổi quá {c.form.spec.swing_threshold_pct:g}%)",
               f"Số đúng năm {year - 1} (chỉ điền khi đính chính)")
    for table in sheet.tables:
        ws.merge_range(table.title_row, 0, table.title_row, 9, table.title, c.fmt(bold=True))
        for i, h in enumerate(headers):
            ws.write_string(table.title_row + 1, i, h, head)
        ws.set_row(table.title_row + 1, TABLE_HEAD_HEIGHT)
        for i, r in enumerate(table.rows, start=1):
            style = dict(border=1, bold=r.is_total)
            ws.write_number(r.row, col["stt"], i, c.fmt(**style, align="center"))
            c.text(ws, r.row, col["label"], r.label, **style)
            c.text(ws, r.row, col["dim"], r.dim_label, **style)
            c.text(ws, r.row, col["unit"], r.unit, **style, align="center")
            for f in (r.n, r.p, r.gc, r.pc):
                c.input(ws, f)
            _derived(c, ws, r)
    heights = {1: PART_TITLE_HEIGHT, **{t.title_row + 1: TABLE_HEAD_HEIGHT for t in sheet.tables}}
    ws.set_h_pagebreaks(table_page_breaks([(t.title_row, t.rows[-1].row if t.rows else t.title_row + 1)
                                           for t in sheet.tables], heights, TABLE_WIDTHS))
    c.page(ws, landscape=True, repeat_to=1)


def _derived(c: _Cells, ws, r):
    """The change and the rate (%) of row ``r``: formulas, with the values libstats computes as their results. The
    rate is the change over N−1 (the change cell holds N − (N−1), the same number), as ``pct_change`` computes."""
    locked = dict(border=1, bg_color=LOCKED_FILL, bold=r.is_total)
    diff, pct = c.derived_values(r)
    change, rate = _derived_formulas(r.row)
    ws.write_formula(r.row, TABLE_COLUMNS["diff"], change, c.fmt(**locked, num_format="+#,##0;-#,##0;0"), diff)
    ws.write_formula(r.row, TABLE_COLUMNS["pct"], rate, c.fmt(**locked, num_format="+0.0;-0.0;0.0"), pct)


@lru_cache(maxsize=4096)
def _derived_formulas(row: int) -> tuple[str, str]:
    """The change and rate formulas of table row ``row`` (the same in every province's form)."""
    n, p = cell_name(row, TABLE_COLUMNS["n"]), cell_name(row, TABLE_COLUMNS["p"])
    d = cell_name(row, TABLE_COLUMNS["diff"])
    both = f"{n}:{p}" if TABLE_COLUMNS["p"] == TABLE_COLUMNS["n"] + 1 else f"{n},{p}"  # COUNT: the numbers of both
    return f'=IF(COUNT({both})=2,{n}-{p},"")', f'=IF(AND(ISNUMBER({d}),{p}<>0),{d}/{p}*100,"")'


def _steps(form: Form) -> list[str]:
    """The instructions' numbered steps."""
    def names(kind: str) -> str:
        return ", ".join(f"“{s.name}”" for s in form.sheets if s.spec.kind == kind)

    return [
        "Chỉ nhập vào các ô màu vàng. Các ô khác đã được khóa để giữ nguyên mẫu; không chèn, xóa dòng, cột "
        "hoặc trang, không đổi tên trang.",
        f"Trang {names('cover')}: ghi cơ quan báo cáo, người phụ trách, điện thoại, thư điện tử và ngày báo "
        "cáo.",
        f"Các trang theo đề cương ({names('narrative')}): ghi nội dung báo cáo vào ô bên phải mỗi mục. Có thể "
        "xuống dòng trong ô bằng Alt+Enter (Excel) hoặc Ctrl+Enter (LibreOffice).",
        f"Trang {names('table')}: ghi số liệu năm {form.year} và năm {form.year - 1} bằng số "
        "nguyên, không ghi đơn vị, không dùng chữ. Ghi 0 nếu không có; ghi x nếu không thống kê (ô ghi x "
        "không có số liệu, không tính là 0). Cột tăng/giảm và tỷ lệ (%) tự tính.",  # [values] issue 9
        f"Khi số liệu thay đổi quá {form.spec.swing_threshold_pct:g}% so với năm trước, ghi lý do ở cột "
        "“Giải thích”. Dòng “Tổng cộng” phải bằng tổng các cấp.",
        f"Trang “{CHECK_SHEET}” tự động cho biết ô nào còn trống, tổng nào chưa khớp, thay đổi nào cần giải thích. "
        "“Đạt” là đã đúng; “Lỗi” phải sửa trước khi gửi; “Cảnh báo” cần xem lại hoặc giải thích.",
        f"Ý nghĩa và đơn vị tính của từng chỉ tiêu xem ở trang “{DEFINITIONS_SHEET}”.",
        "Lưu tệp dạng .xlsx (Excel Workbook), giữ nguyên tên tệp, gửi kèm văn bản báo cáo có chữ ký, dấu. "
        "Nếu nhận được tệp phản hồi, sửa theo danh sách ở trang “Phản hồi” rồi gửi lại cả tệp.",
    ]


def _instructions(c: _Cells, ws):
    form = c.form
    ws.set_column(0, 0, 4)
    ws.set_column(1, 1, 120)
    c.text(ws, 0, 1, f"HƯỚNG DẪN ĐIỀN MẪU: {form.title.upper()}", bold=True, font_size=13)
    ws.set_row(0, 36)
    steps = _steps(form)
    for i, step in enumerate(steps, start=2):
        ws.write_number(i, 0, i - 1, c.fmt(align="center"))
        c.text(ws, i, 1, step)
        _fit(ws, i, [(step, 120)])
    row = len(steps) + 3
    c.text(ws, row, 1, "Các trang của mẫu", bold=True)
    for sheet in form.sheets:
        row += 1
        inputs = sum(1 for f in form.fields.values() if f.sheet == sheet.name)
        line = f"• {sheet.name}: {sheet.part_title or 'thông tin chung'} ({inputs} ô nhập)"
        c.text(ws, row, 1, line)
        _fit(ws, row, [(line, 120)])
    c.page(ws, landscape=False)


def _definitions(c: _Cells, ws):
    spec = c.form.spec
    for col, width in enumerate((38, 14, 90)):
        ws.set_column(col, col, width)
    head = c.fmt(bold=True, border=1, bg_color=HEAD_FILL)
    ws.merge_range(0, 0, 0, 2, "ĐỊNH NGHĨA CÁC CHỈ TIÊU VÀ LOẠI HÌNH", c.fmt(bold=True, font_size=13))
    for col, h in enumerate(("Chỉ tiêu", "Đơn vị tính", "Định nghĩa, cách tính")):
        ws.write_string(2, col, h, head)
    row = 3
    for ind in spec.indicators.values():
        for col, text in enumerate((ind.label, ind.unit, ind.definition)):
            c.text(ws, row, col, text, border=1)
        _fit(ws, row, [(ind.label, 38), (ind.definition, 90)])
        row += 1
    row += 1
    for col, h in enumerate(("Cấp, loại hình", "", "Định nghĩa")):
        ws.write_string(row, col, h, head)
    for d in (*(lv for lv in spec.levels if lv.exists_in(c.form.year)), *spec.types):
        row += 1
        c.text(ws, row, 0, d.label, border=1)
        c.text(ws, row, 1, "", border=1)
        text = getattr(d, "definition", "") or f"Thư viện công cộng {d.label.lower()}."
        c.text(ws, row, 2, text, border=1)
        _fit(ws, row, [(d.label, 38), (text, 90)])
    c.page(ws, landscape=False, repeat_to=0)


COUNTS = (("Số lỗi phải sửa trước khi gửi:", "Lỗi"), ("Số cảnh báo cần xem lại hoặc giải thích:", "Cảnh báo"))


@lru_cache(maxsize=8)
def _check_lines(form: Form) -> tuple[tuple[str, str, str, float, str], ...]:
    """What the check sheet's line of each rule holds that depends on the form alone, made once per form rather
    than once per province: the link to the rule's cell and its text, the rule's description, the row's height
    and the formula."""
    lines = []
    for rule in build_rules(form):
        target, describe = rule.target(), rule.describe()
        lines.append((f"internal:'{target.sheet}'!{target.cell}", f"{target.sheet} · {target.cell}", describe,
                      _height([(describe, 78)]), rule.formula()))
    return tuple(lines)


def _check_sheet(c: _Cells, ws):
    for col, width in enumerate((5, 24, 70, 46)):
        ws.set_column(col, col, width)
    lines = _check_lines(c.form)
    statuses, counts = c.results()
    first, last = CHECK_FIRST_ROW, CHECK_FIRST_ROW + len(lines) - 1
    ws.merge_range(0, 0, 0, 3, "KIỂM TRA TỰ ĐỘNG (cập nhật ngay khi nhập số liệu, không cần macro)",
                   c.fmt(bold=True, font_size=13))
    rng = f"{check_result_cell(0)}:{check_result_cell(len(lines) - 1)}"
    for (label, prefix), count_cell in zip(COUNTS, CHECK_COUNT_CELLS, strict=True):
        i, col = split_address(count_cell)
        c.text(ws, i, col - 1, label, bold=True, align="right")
        ws.write_formula(i, col, f'=COUNTIF({rng},"{prefix}*")', c.fmt(bold=True, border=1, align="left"),
                         counts[prefix])
    head = c.fmt(bold=True, border=1, bg_color=HEAD_FILL, align="center")
    for col, h in enumerate(("STT", "Vị trí (bấm để đến ô)", "Nội dung kiểm tra", "Kết quả")):
        ws.write_string(first - 1, col, h, head)
    number, link = c.fmt(border=1, align="center"), c.fmt(border=1, font_color="blue", underline=1)
    text, result = c.fmt(border=1), c.fmt(border=1, text_wrap=True)
    for i, (url, where, describe, height, formula) in enumerate(lines):
        row = first + i
        ws.write_number(row, 0, i + 1, number)
        ws.write_url(row, 1, url, link, string=where)
        ws.write_string(row, 2, describe, text)
        ws.set_row(row, height)
        ws.write_formula(row, CHECK_RESULT_COL, formula, result, statuses[i])
    ws.freeze_panes(first, 0)
    ws.autofilter(first - 1, 0, last, CHECK_RESULT_COL)
    c.page(ws, landscape=False, repeat_to=first - 1)
    for prefix, color in (("Lỗi", "#F8CBAD"), ("Cảnh báo", "#FFE699"), (OK, "#C6EFCE")):  # results coloured
        ws.conditional_format(rng, {"type": "text", "criteria": "begins with", "value": prefix,
                                    "format": c.wb.add_format({"bg_color": color})})


def _lists(c: _Cells, ws):
    names = [p.name for p in provinces_for_year(c.form.year)]
    for i, name in enumerate(names):
        ws.write_string(i, 0, name)
    c.wb.define_name(PROVINCE_LIST_NAME, f"='{LISTS_SHEET}'!$A$1:$A${len(names)}")
    ws.protect(c.opts.password)
    ws.hide()


def _metadata(c: _Cells, ws) -> None:
    spec, p = c.form.spec, c.opts.province
    meta = {
        "form": spec.id, "version": c.opts.spec_version or spec.version, "spec_sha256": spec.sha256,
        "year": str(c.form.year), "code_list": c.form.code_list,
        "province": p.key if p else "",
        "generated": (c.opts.generated_at or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    for key, value in meta.items():
        c.wb.set_custom_property(META_PREFIX + key, value, "text")
    for i, (key, value) in enumerate(meta.items()):
        ws.write_string(i, 0, META_PREFIX + key)
        ws.write_string(i, 1, value)
    ws.protect(c.opts.password)
    ws.very_hidden()


# -- the workbook ---------------------------------------------------------------------------------------------

def _markup(string: str) -> bool:
    """A text XlsxWriter would take for rich text it rendered itself and write unescaped into the workbook."""
    return isinstance(string, str) and string.startswith("<r>") and string.endswith("</r>")


class TextSafeWorksheet(Worksheet):
    """XlsxWriter's worksheet (subclassed as its documentation shows) that writes a text shaped like "<r>…</r>"
    as what it is: XlsxWriter stores such a shared string raw, so a province's narrative "<r>…</r>" would break
    the workbook or inject markup into it. The text is written as rich text of two runs in the cell's format
    (which XlsxWriter escapes); every reader gives back the same text."""

    @convert_cell_args
    def write_string(self, row, col, string, cell_format=None):
        if not _markup(string):
            return super().write_string(row, col, string, cell_format)
        string = string[:self.xls_strmax]
        run = cell_format or Format()
        return self.write_rich_string(row, col, string[0], run, string[1:], *([cell_format] if cell_format else []))

    @convert_cell_args
    def write(self, row, col, *args):
        if args and _markup(args[0]):
            return self.write_string(row, col, *args[:2])
        return super().write(row, col, *args)


class _Workbook(xlsxwriter.Workbook):
    def add_worksheet(self, name=None, worksheet_class=None):
        return super().add_worksheet(name, worksheet_class or TextSafeWorksheet)


def xlsx_writer(path: Path, **options) -> xlsxwriter.Workbook:
    """An XlsxWriter workbook written in memory, that never turns a text into a formula, a link or a number, and
    writes texts shaped like XlsxWriter's rich-text markup safely (``TextSafeWorksheet``)."""
    return _Workbook(str(path), {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
                                 "strings_to_numbers": False, **options})


def write_template(form: Form, path: str | os.PathLike, opts: TemplateOptions | None = None) -> Path:
    """Write the workbook for ``form`` to ``path`` atomically (a temporary file renamed into place)."""
    opts = opts or TemplateOptions()
    if opts.province is not None and opts.province not in provinces_for_year(form.year):
        raise ValueError(f"tỉnh {opts.province.name} (mã {opts.province.code}, danh mục {opts.province.code_list}) "
                         f"không có trong danh mục tỉnh của năm {form.year}")
    with atomic_path(path) as tmp:
        wb = xlsx_writer(tmp)
        created = opts.generated_at or dt.datetime.now(dt.UTC)
        wb.set_properties({"title": form.title, "subject": form.spec.id, "author": "libstats",
                           "company": form.receiving_unit, "created": created.replace(tzinfo=None)})
        c = _Cells(wb, form, opts)
        for sheet in form.sheets:
            if sheet.spec.kind == "cover":
                c.sheet(sheet.name, _cover, sheet)
                c.sheet(INSTRUCTIONS_SHEET, _instructions)
                c.sheet(DEFINITIONS_SHEET, _definitions)
            else:
                c.sheet(sheet.name, _tables if sheet.spec.kind == "table" else _narrative, sheet)
        c.sheet(CHECK_SHEET, _check_sheet)
        c.sheet(LISTS_SHEET, _lists)
        c.sheet(META_SHEET, _metadata)
        wb.close()
    return Path(path)


def select_provinces(year: int, codes: Iterable[str], all_provinces: bool) -> list[Province | None]:
    """The provinces asked for; [None] (the generic form) when none is. ValueError names an unknown code."""
    if all_provinces:
        return list(provinces_for_year(year))
    chosen = [province(year, c) for c in codes]
    return chosen or [None]


def write_templates(form: Form, provinces: list[Province | None], out_dir: Path, *,
                    password: str = DEFAULT_PASSWORD, prefill: Callable[[Province | None], TemplateOptions]
                    | None = None, progress: Callable[[Iterable], Iterable] = lambda it: it,
                    jobs: int = os.cpu_count() or 1, overwrite: bool = False) -> list[Path]:
    """Write one workbook per province into ``out_dir``; returns the paths in province order. ``jobs`` forked
    processes share the work (one per core by default, as ``write_samples``; ``jobs=1``: this process alone).
    A file of the same name already there is never replaced without ``overwrite`` (it may be a filled return)."""
    if not password.isascii() or not password:
        raise ValueError("mật khẩu bảo vệ phải là chữ ASCII, không dấu (LibreOffice không nhận mật khẩu có dấu)")
    if not overwrite:
        refuse_replacing(Path(out_dir), [Path(out_dir) / template_filename(form, p) for p in provinces])
    return forked_map(_make, (form, out_dir, password, prefill, dt.datetime.now(dt.UTC)), provinces, progress, jobs)


def forked_map(fn: Callable, job: tuple, items: list, progress: Callable[[Iterable], Iterable], jobs: int) -> list:
    """``fn(job, item)`` over ``items`` in order; with many items in ``jobs`` forked processes, which inherit the
    job (a module global, not pickled: one forked run at a time)."""
    if jobs <= 1 or len(items) < 8:
        return [fn(job, x) for x in progress(items)]
    global _FORKED
    with _FORKING:
        _FORKED = (fn, job)
        ticks = iter(progress(items))
        with mp.get_context("fork").Pool(jobs) as pool:
            rest = pool.imap(_forked_call, items)
            return [next(rest) for _ in ticks]


_FORKED: tuple = ()  # (fn, job) of the forked run under way
_FORKING = threading.RLock()  # (a job that itself forks, in the same thread, would not wait for itself)


def _forked_call(item):
    fn, job = _FORKED
    return fn(job, item)


def _make(job: tuple, p: Province | None) -> Path:
    form, out_dir, password, prefill, stamp = job
    opts = prefill(p) if prefill else TemplateOptions()
    opts = replace(opts, province=p, password=password, generated_at=opts.generated_at or stamp)
    return write_template(form, out_dir / template_filename(form, p), opts)
