"""Write the locked workbook a province fills in, from a laid-out form (XlsxWriter).

Every input cell has a defined name equal to its field id, is unlocked and validated; everything else is
locked and every sheet protected. Formulas get the cached results that libstats itself computes, so a
spreadsheet program that does not recalculate on load (LibreOffice) still shows the right answers.
"""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal
import functools
import io
import math
import multiprocessing as mp
import numbers
import os
import pickle
import re
import threading
import weakref
from collections import OrderedDict, defaultdict, namedtuple
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.packager import Packager
from xlsxwriter.sharedstrings import SharedStrings
from xlsxwriter.utility import xl_col_to_name, xl_rowcol_to_cell, xl_rowcol_to_cell_fast
from xlsxwriter.worksheet import Worksheet
from xlsxwriter.xmlwriter import XMLwriter

from libstats.atomic import atomic_path
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
           "template_filename", "DEFAULT_PASSWORD", "FONT"]

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


class _Formats:
    """The workbook's cell formats, one per set of properties; ``key_of`` gives a format's properties back."""

    def __init__(self, wb: xlsxwriter.Workbook):
        self._wb, self._cache, self._calls, self.key_of = wb, {}, {}, {}

    def __call__(self, **kw) -> Format:
        call = tuple(kw.items())  # the same few dozen calls, thousands of times a form
        made = self._calls.get(call)
        if made is None:
            made = self._calls[call] = self.exact(tuple(sorted(
                {"font_name": FONT, "font_size": 12, "valign": "top", "text_wrap": True, **kw}.items())))
        return made

    def exact(self, key: tuple) -> Format:
        made = self._cache.get(key)
        if made is None:
            made = self._cache[key] = self._wb.add_format(dict(key))
            self.key_of[id(made)] = key
        return made


def _validation(f: Field, form: Form) -> dict:
    v = _validation_of(f, form)
    for key, limit in (("input_title", "validation_title"), ("error_title", "validation_title"),
                       ("input_message", "validation_message"), ("error_message", "validation_message")):
        if len(v.get(key, "")) > EXCEL_LIMITS[limit]:  # XlsxWriter would only warn and drop it
            raise ValueError(f"{f.id}: {key} has {len(v[key])} characters; Excel allows {EXCEL_LIMITS[limit]}")
    return v


def _number_validation(f: Field, form: Form) -> dict:
    """A figure of the field's type (a whole count, or a decimal), or "x" for không thống kê.

    A custom formula, because Excel's whole-number validation refuses "x". IF, not OR: OR would pass on the
    #VALUE! of INT("x"), and so refuse the very "x" it is meant to allow."""
    c, top = f.cell, form.spec.max_count
    whole = f",{c}=INT({c})" if f.type == "count" else ""
    head = f"Năm {form.year}" if f.column == "n" else f"Năm {form.year - 1}"
    what = "số nguyên" if f.type == "count" else "số"
    example = "12500" if f.type == "count" else "1234,5"
    return {"validate": "custom", "value": f'=IF(ISNUMBER({c}),AND({c}>=0{whole},{c}<={top}),{c}="{NOT_COUNTED}")',
            "input_title": head, "input_message": f"Đơn vị: {f.unit}. Nhập {what} từ 0 trở lên, không ghi đơn vị. "
            "Ghi 0 nếu không có; ghi x nếu không thống kê (không có số liệu).",
            "error_title": "Số liệu không hợp lệ",
            "error_message": f"Chỉ nhập {what} từ 0 trở lên (ví dụ {example}), hoặc x nếu không thống kê; "
            "không ghi chữ hoặc đơn vị."}


def _validation_of(f: Field, form: Form) -> dict:
    year = form.year
    if f.column == "pc":  # a correction of last year's figure: the same rule, its own explanation
        return {**_number_validation(f, form), "input_title": f"Đính chính năm {year - 1}",
                "input_message": f"Chỉ điền khi số năm {year - 1} bên trái sai: nhập số đúng ({f.unit}). "
                "Để trống nếu không đính chính. Bộ sẽ xem xét đề nghị này."}
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


_NAMES: dict[tuple[str, str], tuple] = {}  # (name, formula) -> the defined name XlsxWriter made of them


@lru_cache(maxsize=8192)
def _rule(f: Field, form: Form) -> tuple:
    """The validation of ``f`` with its own cell left out: fields with the same rule in a column share one."""
    return tuple(sorted((k, v.replace(f.cell, "\0") if isinstance(v, str) else v)
                        for k, v in _validation(f, form).items()))


@lru_cache(maxsize=256)
def _fields_on(form: Form, sheet: str) -> tuple[Field, ...]:
    return tuple(f for f in form.fields.values() if f.sheet == sheet)


def _fit(ws, row: int, cells: list[tuple[str, float]], minimum: float = 16) -> None:
    ws.set_row(row, max(minimum, 16 * max(wrapped_lines(t, w) for t, w in cells)))


PART_TITLE_HEIGHT, TABLE_HEAD_HEIGHT, ROW_HEIGHT = 36, 45, 15  # points; ROW_HEIGHT: the sheets' default
A4_LANDSCAPE = (841.89, 595.28)  # points
MARGINS = dict(left=0.6, right=0.4, top=0.6, bottom=0.6)  # inches, every sheet (``_Writer.page``)
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


class _Writer:
    def __init__(self, wb: xlsxwriter.Workbook, form: Form, opts: TemplateOptions):
        self.wb, self.form, self.opts, self.fmt = wb, form, opts, _Formats(wb)
        self.values = {k: _plain_number(k, v) for k, v in opts.values.items()}
        self._validated: dict[tuple, tuple] = {}  # (sheet, column, rule) -> (worksheet, [fields]): validations()
        if opts.province is not None:
            self.values[PROVINCE_FIELD] = opts.province.name
            for key, value in sender_values(form, opts.province).items():  # unless the caller gives them
                self.values.setdefault(key, value)

    def prefilled(self) -> dict[str, Field]:
        return _prefilled(self.form)

    def sheet(self, name: str, build: Callable[[Worksheet], object], key: tuple | None = (),
              late: dict | None = None) -> Worksheet:
        """Add sheet ``name``, made by ``build`` and the validations of its inputs. ``key``: what the sheet
        depends on besides the form and the password (None: too much to say, always built); ``late``: the values
        of its formulas written with a ``_Late`` value. A sheet made before with the same form, password and key is
        not built again: what building it did is done again (``_SheetCells``), the same workbook as building it
        would give."""
        ws = self.wb.add_worksheet(name)
        ws.formats, ws.late = self.fmt, late or {}
        key = None if key is None else (name, self.opts.password, *key)
        made = None if key is None else _SHEETS.get(self.form, key)
        if made is not None:
            made.replay(self.wb, ws)
            return ws
        before = {k: (v, copy.copy(v) if type(v) in _CONTAINERS else v) for k, v in vars(ws).items()}
        names, strings = len(self.wb.defined_names), ws.str_table
        ws.str_table = log = _StringLog(strings)
        try:
            build(ws)
            self.validations(ws)
        finally:
            ws.str_table = strings
        if key is not None and _SHEETS.asked_before(self.form, key):
            ws.record = _SheetCells.record(ws, before, log.added, self.wb.defined_names[names:], self.form, key)
        return ws

    def inputs_key(self, name: str, late: bool = False) -> tuple | None:
        """What the inputs of sheet ``name`` hold and whether they are locked (None when one has a note); with
        ``late``, not the blanks and numbers (filled in as the workbook is written: ``late_inputs``)."""
        fields = _fields_on(self.form, name)
        if any(f.id in self.opts.notes for f in fields):
            return None
        values = [self.values.get(f.id) for f in fields]
        return tuple((None if late and _late_number(v) else (type(v), repr(v)), self.locked(f))
                     for f, v in zip(fields, values, strict=True))

    def late_inputs(self, sheet: LaidSheet) -> dict:
        """The blank and numeric inputs of a table sheet, and the differences and rates computed from them."""
        late = {f.id: v for f in _fields_on(self.form, sheet.name) if _late_number(v := self.values.get(f.id))}
        for table in sheet.tables:
            for r in table.rows:
                late["diff", r.row], late["pct", r.row] = self.derived_values(r)
        return late

    # -- cells -------------------------------------------------------------------------------------------
    def text(self, ws, row: int, col: int, text: str, **fmt):
        ws.write_string(row, col, text, self.fmt(**fmt))

    def locked(self, f: Field) -> bool:
        return f.id in self.opts.locked or (f.kind == "province" and self.opts.province is not None)

    def input(self, ws, f: Field, late: bool = False):
        """The input cell of ``f``; with ``late``, a blank or number is filled in as the workbook is written."""
        value = self.values.get(f.id)
        locked = self.locked(f)
        style = dict(border=1, locked=locked, bg_color=LOCKED_FILL if locked else INPUT_FILL)
        if f.kind == "number":
            style["num_format"] = "#,##0"
        if f.type == "date":
            style["num_format"] = "dd/mm/yyyy"
        fmt = self.fmt(**style)
        if late and _late_number(value):
            if not ws._check_dimensions(f.row, f.col):
                ws.table[f.row][f.col] = _LateValue(f.id, fmt)
        elif value is None:
            ws.write_blank(f.row, f.col, None, fmt)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            ws.write_number(f.row, f.col, value, fmt)
        elif isinstance(value, dt.date):
            ws.write_datetime(f.row, f.col, dt.datetime.combine(value, dt.time()), fmt)
        else:
            ws.write_string(f.row, f.col, str(value), fmt)
        if not locked:
            self._validated.setdefault((ws.name, f.col, _rule(f, self.form)), (ws, []))[1].append(f)
        if f.id in self.opts.notes:
            ws.write_comment(f.row, f.col, self.opts.notes[f.id], {"x_scale": 2, "y_scale": 1.2})
        self.define(f.id, "=" + f.ref)

    def define(self, name: str, formula: str) -> None:
        """``wb.define_name``, its checks made once per name and formula."""
        known = _NAMES.get((name, formula))
        if known is None:
            before = len(self.wb.defined_names)
            self.wb.define_name(name, formula)
            if len(self.wb.defined_names) == before + 1 and len(_NAMES) < 65_536:
                _NAMES[name, formula] = tuple(self.wb.defined_names[-1])
        else:
            self.wb.defined_names.append(list(known))

    def validations(self, ws):
        """The validations of the inputs of sheet ``ws``, one per rule and column, over all the cells it applies
        to. Its formula refers to the topmost cell, the first of its ranges and their top-left corner, so that
        Excel and LibreOffice move it alike to every other cell. (One validation per cell repeated every message: a
        third of the form's bytes.)"""
        for key in [key for key in self._validated if key[0] == ws.name]:
            fields = self._validated.pop(key)[1]
            fields = sorted(fields, key=lambda f: f.row)
            ranges, start = [], fields[0]
            for prev, f in zip(fields, [*fields[1:], None], strict=True):
                if f is None or f.row != prev.row + 1:
                    ranges.append(start.cell if prev is start else f"{start.cell}:{prev.cell}")
                    start = f
            first = fields[0]
            ws.data_validation(first.row, first.col, first.row, first.col,
                               {**_validation(first, self.form), "multi_range": " ".join(ranges)})

    def labelled(self, ws, row: int, col: int, text: str, hint: str, spans: list | None = None, **fmt):
        """The Ministry's words, then libstats' own hint on a new line in small grey italics, so an officer
        sees at a glance which words are the outline's and which are the tool's."""
        spans = spans or [(text, False)]
        parts = [x for piece, italic in spans for x in (self.fmt(**{**fmt, "italic": italic or fmt.get("italic",
                                                                                                      False)}), piece)]
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
            ws.write_rich_string(it.row, 0, *[x for piece, italic in spans for x in (
                self.fmt(**{**fmt, "italic": italic or fmt.get("italic", False)}), piece)], self.fmt(**fmt))

    # -- page set-up -------------------------------------------------------------------------------------
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

    # -- sheets ------------------------------------------------------------------------------------------
    def cover(self, ws, sheet: LaidSheet):
        form, p = self.form, self.opts.province
        ws.set_column(0, 0, 38)
        ws.set_column(1, 1, 62)
        center = dict(align="center", bold=True)
        self.text(ws, 0, 0, f"UBND {p.full_name.upper()}" if p else "UBND TỈNH/THÀNH PHỐ ……………", **center)
        self.sender_header(ws, center)
        self.text(ws, 0, 1, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", **center)
        self.text(ws, 1, 1, "Độc lập - Tự do - Hạnh phúc", **center, underline=1)
        place = sender(p, form.year).place if p else "……………"
        self.text(ws, 2, 1, f"{place}, ngày …… tháng …… năm ……", align="center", italic=True)
        ws.merge_range(3, 0, 3, 1, "BÁO CÁO", self.fmt(bold=True, align="center", font_size=16))
        ws.set_row(3, 24)
        title_row = split_address(COVER_TITLE_CELL)[0]
        ws.merge_range(title_row, 0, title_row, 1, form.title, self.fmt(bold=True, align="center", font_size=14))
        ws.set_row(title_row, 40)
        ws.merge_range(6, 0, 6, 1, f"Kính gửi: {form.receiving_unit}", self.fmt(align="center", italic=True))
        hints = {it.field.id: it.item.hint for it in sheet.items}
        for f in (form.fields[PROVINCE_FIELD], *(it.field for it in sheet.items)):
            self.labelled(ws, f.row, 0, f.label, hints.get(f.id, ""), bold=True, border=1)
            self.input(ws, f)
            ws.set_row(f.row, max(22, 16 * wrapped_lines(f.label + "\n" + hints.get(f.id, ""), 38)
                                  if hints.get(f.id) else 22))
        last = max(it.row for it in sheet.items) + 2
        self.text(ws, last, 1, "THỦ TRƯỞNG CƠ QUAN, ĐƠN VỊ", **center)
        self.text(ws, last + 1, 1, "(Ký tên, đóng dấu)", align="center", italic=True)
        ws.merge_range(last + 6, 0, last + 6, 1, "Ô màu vàng là ô cần nhập. Xem hướng dẫn ở trang “Hướng dẫn”; "
                       "kết quả kiểm tra ở trang “Kiểm tra”.", self.fmt(italic=True, font_size=10))
        ws.merge_range(last + 7, 0, last + 7, 1, self.stamp(), self.fmt(font_size=9, font_color="#666666"))
        self.page(ws, landscape=False)

    def sender_header(self, ws, center: dict) -> None:
        """The department's name and the document symbol under the province, following the cover's inputs
        (prefilled from data, corrected by the province) so the header always says what the inputs say."""
        pre = self.prefilled()
        name, symbol = pre.get("sender.name"), pre.get("sender.symbol")
        if name is None or symbol is None:  # a spec without these inputs: the usual department
            self.text(ws, 1, 0, "SỞ VĂN HÓA, THỂ THAO VÀ DU LỊCH", **center)
            self.text(ws, 2, 0, "Số:        /BC-SVHTTDL", align="center")
            return
        typed = str(self.values.get(name.id) or "")
        ws.write_formula(1, 0, f'=IF(LEN({name.id})=0,"SỞ ……………",UPPER({name.id}))', self.fmt(**center),
                         typed.upper() if typed else "SỞ ……………")
        ws.write_formula(2, 0, f'="Số:        /"&{symbol.id}', self.fmt(align="center"),
                         f"Số:        /{self.values.get(symbol.id) or ''}")

    def stamp(self) -> str:
        spec, p = self.form.spec, self.opts.province
        where = f"mã tỉnh {p.code} (danh mục {p.code_list})" if p else "mẫu chung"
        return f"Mẫu {spec.id}, phiên bản {self.opts.spec_version or spec.version}, năm {self.form.year}, {where}."

    def narrative(self, ws, sheet: LaidSheet):
        ws.set_column(0, 0, 50)
        ws.set_column(1, 1, 95)
        self.part_header(ws, sheet, 1)
        head = self.fmt(bold=True, border=1, bg_color=HEAD_FILL, align="center")
        ws.write_string(3, 0, "Nội dung theo đề cương", head)
        ws.write_string(3, 1, "Nội dung báo cáo (nhập vào ô màu vàng)", head)
        for it in sheet.items:
            kind, bold = it.item.kind, it.item.level in (1, 2)
            if kind == "heading":
                ws.merge_range(it.row, 0, it.row, 1, it.text, self.fmt(bold=True, italic=it.item.level == 3))
                self.outline_text(ws, it, dict(bold=True, italic=it.item.level == 3))
                ws.set_row(it.row, 32 if len(it.text) > 120 else 20)
            elif kind == "narrative":
                label = it.text + (f"\n{it.item.hint}" if it.item.hint else "")
                self.labelled(ws, it.row, 0, it.text, it.item.hint, border=1, bold=bold or it.item.level == 3,
                              spans=italic_spans(it.item.text_for(self.form.year), self.form.year))
                self.input(ws, it.field)
                # Tall enough for the label and for the whole of any text already in the cell (a prefilled or
                # regenerated return): nothing written is hidden on screen or on paper. Not capped at Excel's
                # 409 points: LibreOffice shows and prints taller rows (fit to the page width, they fit a page).
                text = str(self.values.get(it.field.id) or "")
                ws.set_row(it.row, max(110, 15 * wrapped_lines(label, 50) + 6, 15 * wrapped_lines(text, 95) + 6))
            elif kind == "signature":
                self.text(ws, it.row, 1, it.text, bold=True, align="center")
                self.text(ws, it.row + 1, 1, it.item.note, italic=True, align="center")
            else:
                self.text(ws, it.row, 0, it.text)
        self.page(ws, landscape=False, repeat_to=0)

    def tables(self, ws, sheet: LaidSheet):
        c, year = TABLE_COLUMNS, self.form.year
        widths = (5, 44, 22, 11, 15, 15, 14, 10, 42, 17)
        for col, width in zip(range(10), widths, strict=True):
            ws.set_column(col, col, width)
        self.part_header(ws, sheet, 9)
        head = self.fmt(bold=True, border=1, bg_color=HEAD_FILL, align="center", valign="vcenter")
        headers = ("STT", "Chỉ tiêu", "Cấp / loại hình", "Đơn vị tính", f"Năm {year}", f"Năm {year - 1}",
                   "Tăng (+) / giảm (−)", "Tỷ lệ (%)",
                   f"Giải thích (bắt buộc khi thay đổi quá {self.form.spec.swing_threshold_pct:g}%)",
                   f"Số đúng năm {year - 1} (chỉ điền khi đính chính)")
        body = dict(border=1)
        for table in sheet.tables:
            ws.merge_range(table.title_row, 0, table.title_row, 9, table.title, self.fmt(bold=True))
            for col, h in enumerate(headers):
                ws.write_string(table.title_row + 1, col, h, head)
            ws.set_row(table.title_row + 1, TABLE_HEAD_HEIGHT)
            for i, r in enumerate(table.rows, start=1):
                style = dict(body, bold=r.is_total)
                ws.write_number(r.row, c["stt"], i, self.fmt(**style, align="center"))
                self.text(ws, r.row, c["label"], r.label, **style)
                self.text(ws, r.row, c["dim"], r.dim_label, **style)
                self.text(ws, r.row, c["unit"], r.unit, **style, align="center")
                for f in (r.n, r.p, r.gc, r.pc):
                    self.input(ws, f, late=True)
                self.derived(ws, r)
        heights = {1: PART_TITLE_HEIGHT, **{t.title_row + 1: TABLE_HEAD_HEIGHT for t in sheet.tables}}
        ws.set_h_pagebreaks(table_page_breaks([(t.title_row, t.rows[-1].row if t.rows else t.title_row + 1)
                                                for t in sheet.tables], heights, widths))
        self.page(ws, landscape=True, repeat_to=1)

    def derived_values(self, r) -> tuple:
        """The change and the rate (%) of row ``r`` as libstats computes them ("" when there are none)."""
        vn, vp = self.values.get(r.n.id), self.values.get(r.p.id)
        both = all(isinstance(v, (int, float)) for v in (vn, vp))
        pct = pct_change(vn, vp)
        return (vn - vp) if both else "", pct if pct is not None else ""

    def derived(self, ws, r):
        """The change and the rate (%) of row ``r``: formulas, their values filled in late (``late_inputs``)."""
        n, p = cell_name(r.row, TABLE_COLUMNS["n"]), cell_name(r.row, TABLE_COLUMNS["p"])
        locked = dict(border=1, bg_color=LOCKED_FILL, bold=r.is_total)
        diff = f'=IF(AND(ISNUMBER({n}),ISNUMBER({p})),{n}-{p},"")'
        ws.write_formula(r.row, TABLE_COLUMNS["diff"], diff,
                         self.fmt(**locked, num_format="+#,##0;-#,##0;0"), _Late(("diff", r.row)))
        pct_formula = f'=IF(AND(ISNUMBER({n}),ISNUMBER({p}),{p}<>0),({n}-{p})/{p}*100,"")'
        ws.write_formula(r.row, TABLE_COLUMNS["pct"], pct_formula,
                         self.fmt(**locked, num_format="+0.0;-0.0;0.0"), _Late(("pct", r.row)))

    def instructions(self, ws):
        form = self.form
        ws.set_column(0, 0, 4)
        ws.set_column(1, 1, 120)
        self.text(ws, 0, 1, f"HƯỚNG DẪN ĐIỀN MẪU: {form.title.upper()}", bold=True, font_size=13)
        ws.set_row(0, 36)
        def names(kind: str) -> str:
            return ", ".join(f"“{s.name}”" for s in form.sheets if s.spec.kind == kind)

        steps = [
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
        for i, step in enumerate(steps, start=2):
            ws.write_number(i, 0, i - 1, self.fmt(align="center"))
            self.text(ws, i, 1, step)
            _fit(ws, i, [(step, 120)])
        row = len(steps) + 3
        self.text(ws, row, 1, "Các trang của mẫu", bold=True)
        for sheet in form.sheets:
            row += 1
            inputs = sum(1 for f in form.fields.values() if f.sheet == sheet.name)
            line = f"• {sheet.name}: {sheet.part_title or 'thông tin chung'} ({inputs} ô nhập)"
            self.text(ws, row, 1, line)
            _fit(ws, row, [(line, 120)])
        self.page(ws, landscape=False)

    def definitions(self, ws):
        spec = self.form.spec
        for col, width in enumerate((38, 14, 90)):
            ws.set_column(col, col, width)
        head = self.fmt(bold=True, border=1, bg_color=HEAD_FILL)
        ws.merge_range(0, 0, 0, 2, "ĐỊNH NGHĨA CÁC CHỈ TIÊU VÀ LOẠI HÌNH", self.fmt(bold=True, font_size=13))
        for col, h in enumerate(("Chỉ tiêu", "Đơn vị tính", "Định nghĩa, cách tính")):
            ws.write_string(2, col, h, head)
        row = 3
        for ind in spec.indicators.values():
            for col, text in enumerate((ind.label, ind.unit, ind.definition)):
                self.text(ws, row, col, text, border=1)
            _fit(ws, row, [(ind.label, 38), (ind.definition, 90)])
            row += 1
        row += 1
        for col, h in enumerate(("Cấp, loại hình", "", "Định nghĩa")):
            ws.write_string(row, col, h, head)
        for d in (*(lv for lv in spec.levels if lv.exists_in(self.form.year)), *spec.types):
            row += 1
            self.text(ws, row, 0, d.label, border=1)
            self.text(ws, row, 1, "", border=1)
            text = getattr(d, "definition", "") or f"Thư viện công cộng {d.label.lower()}."
            self.text(ws, row, 2, text, border=1)
            _fit(ws, row, [(d.label, 38), (text, 90)])
        self.page(ws, landscape=False, repeat_to=0)

    COUNTS = (("Số lỗi phải sửa trước khi gửi:", "Lỗi"), ("Số cảnh báo cần xem lại hoặc giải thích:", "Cảnh báo"))

    def results(self) -> dict:
        """The check sheet's results as libstats computes them (each rule's status, the counts of errors and of
        warnings): the cached values of its formulas, filled in as the workbook is written (``_Late``)."""
        statuses = [r.status(self.values) for r in build_rules(self.form)]
        return {**dict(enumerate(statuses)), **{prefix: sum(s.startswith(prefix) for s in statuses)
                                                 for _, prefix in self.COUNTS}}

    def check_sheet(self, ws):
        for col, width in enumerate((5, 24, 70, 46)):
            ws.set_column(col, col, width)
        rules = build_rules(self.form)
        first, last = CHECK_FIRST_ROW, CHECK_FIRST_ROW + len(rules) - 1
        ws.merge_range(0, 0, 0, 3, "KIỂM TRA TỰ ĐỘNG (cập nhật ngay khi nhập số liệu, không cần macro)",
                       self.fmt(bold=True, font_size=13))
        rng = f"{check_result_cell(0)}:{check_result_cell(len(rules) - 1)}"
        for (label, prefix), count_cell in zip(self.COUNTS, CHECK_COUNT_CELLS, strict=True):
            i, col = split_address(count_cell)
            self.text(ws, i, col - 1, label, bold=True, align="right")
            ws.write_formula(i, col, f'=COUNTIF({rng},"{prefix}*")', self.fmt(bold=True, border=1, align="left"),
                             _Late(prefix))
        head = self.fmt(bold=True, border=1, bg_color=HEAD_FILL, align="center")
        for col, h in enumerate(("STT", "Vị trí (bấm để đến ô)", "Nội dung kiểm tra", "Kết quả")):
            ws.write_string(first - 1, col, h, head)
        for i, rule in enumerate(rules):
            row, target = first + i, rule.target()
            ws.write_number(row, 0, i + 1, self.fmt(border=1, align="center"))
            ws.write_url(row, 1, f"internal:'{target.sheet}'!{target.cell}", self.fmt(border=1, font_color="blue",
                         underline=1), string=f"{target.sheet} · {target.cell}")
            self.text(ws, row, 2, rule.describe(), border=1)
            _fit(ws, row, [(rule.describe(), 78)])
            ws.write_formula(row, CHECK_RESULT_COL, rule.formula(), self.fmt(border=1, text_wrap=True), _Late(i))
        ws.freeze_panes(first, 0)
        ws.autofilter(first - 1, 0, last, CHECK_RESULT_COL)
        self.page(ws, landscape=False, repeat_to=first - 1)

    def check_colors(self, ws):
        """The results coloured by what they say (conditional formats: the workbook's own list of them, so
        made for every form, after the sheet's cells)."""
        rng = f"{check_result_cell(0)}:{check_result_cell(len(build_rules(self.form)) - 1)}"
        for prefix, color in (("Lỗi", "#F8CBAD"), ("Cảnh báo", "#FFE699"), (OK, "#C6EFCE")):
            ws.conditional_format(rng, {"type": "text", "criteria": "begins with", "value": prefix,
                                        "format": self.wb.add_format({"bg_color": color})})

    def lists(self, ws):
        names = [p.name for p in provinces_for_year(self.form.year)]
        for i, name in enumerate(names):
            ws.write_string(i, 0, name)
        self.wb.define_name(PROVINCE_LIST_NAME, f"='{LISTS_SHEET}'!$A$1:$A${len(names)}")
        ws.protect(self.opts.password)
        ws.hide()

    def metadata(self, ws) -> dict[str, str]:
        spec, p = self.form.spec, self.opts.province
        meta = {
            "form": spec.id, "version": self.opts.spec_version or spec.version, "spec_sha256": spec.sha256,
            "year": str(self.form.year), "code_list": self.form.code_list,
            "province": p.key if p else "",
            "generated": (self.opts.generated_at or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        for key, value in meta.items():
            self.wb.set_custom_property(META_PREFIX + key, value, "text")
        for i, (key, value) in enumerate(meta.items()):
            ws.write_string(i, 0, META_PREFIX + key)
            ws.write_string(i, 1, value)
        ws.protect(self.opts.password)
        ws.very_hidden()
        return meta


@lru_cache(maxsize=65_536)  # a year's forms hold a few thousand distinct formulas
def _prepared(formula: str, expand_future_functions: bool) -> str:
    return Worksheet._prepare_formula(_NO_FUTURE, formula, expand_future_functions)


class _NoFuture:
    use_future_functions = False


_NO_FUTURE = _NoFuture()


class _InlineString(NamedTuple):
    string: str
    format: object


def _inline_xml(ref: str, string: str, style: int | None) -> str:
    """A cell holding ``string`` as an escaped inline string."""
    s = "" if style is None else f' s="{style}"'
    text = _short_inline_text(string) if len(string) <= 200 else _inline_text(string)
    return f'<c r="{ref}"{s} t="inlineStr"><is>{text}</is></c>'


def _inline_text(string: str) -> str:
    """The <t> element of ``string``, escaped as XlsxWriter escapes a shared string (_xHHHH_ for control
    characters, and for a literal _xHHHH_), keeping leading and trailing spaces."""
    string = Worksheet._escape_control_characters(string)
    space = ' xml:space="preserve"' if string[:1].isspace() or string[-1:].isspace() else ""
    return f'<t{space}>{string.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")}</t>'


class _Late(NamedTuple):
    """The cached value of a formula, given when the workbook is written: ``ws.late[key]``."""
    key: object


class _LateValue(NamedTuple):
    """A cell whose value, blank or a number (``_late_number``), is given when the workbook is written."""
    key: object
    format: Format


def _late_number(value) -> bool:
    return value is None or (type(value) in (int, float) and math.isfinite(value))


def _late_tail(formula: str | None, value) -> str:
    """The XML of a late cell after its reference and format (``_Late``, ``_LateValue``)."""
    if formula is not None:
        return _formula_tail(formula, value)
    return "/>" if value is None else f"><v>{value:.16G}</v></c>"


def _formula_tail(formula: str, value) -> str:
    """A formula cell's XML after its reference and format, as XlsxWriter writes it."""
    t = ""
    if isinstance(value, bool):
        value, t = int(value), ' t="b"'
    elif isinstance(value, str) and value:
        t = ' t="e"' if value in _ERROR_CODES else ' t="str"'
    return f"{t}><f>{_escaped(formula)}</f><v>{XMLwriter._escape_data(None, value)}</v></c>"


_LATE_PLACE = re.compile("\0([0-9]+)\0")
# XlsxWriter's cells are named tuples it tells apart by name (their classes' names differ between versions)
_USUAL_CELLS = {"Number", "Datetime", "String", "RichString", "Blank", "Formula"}
_Blank = namedtuple("Blank", "format")
_Number = namedtuple("Number", "number, format")
_Formula = namedtuple("Formula", "formula, format, value")
_ERROR_CODES = {"#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!"}
_escaped = lru_cache(maxsize=65_536)(functools.partial(XMLwriter._escape_data, None))  # a formula's XML text

_short_inline_text = lru_cache(maxsize=65_536)(_inline_text)  # a data sheet repeats its names and labels


class _Worksheet(Worksheet):
    """XlsxWriter's worksheet with two changes.

    Its formula preparation is remembered: each preparation runs some 400 regular expression substitutions, and
    the same few hundred formulas (validations, checks) recur in every sheet and every province's form. The result
    depends only on the formula and the flag; it is XlsxWriter's own.

    A text shaped like "<r>…</r>" is written as an escaped inline string: XlsxWriter takes a shared string of that
    shape for rich text it rendered itself and writes it raw, so a province's narrative "<r>…</r>" would break the
    workbook (or inject markup into it)."""

    def _prepare_formula(self, formula, expand_future_functions=False):
        return _prepared(formula, bool(expand_future_functions or self.use_future_functions))

    def _write_string(self, row, col, string, cell_format=None):
        if not (string.startswith("<r>") and string.endswith("</r>")):
            return super()._write_string(row, col, string, cell_format)
        if self._check_dimensions(row, col):
            return -1
        if len(string.encode("utf-16-le")) > 2 * self.xls_strmax:  # as XlsxWriter does: cut to what a cell holds
            string = string.encode("utf-16-le")[:2 * self.xls_strmax].decode("utf-16-le", "ignore")
        self.table[row][col] = _InlineString(string, cell_format)
        return 0

    def _write_sheet_data(self):
        self._remembered("_write_sheet_data")

    def _write_data_validations(self):
        self._remembered("_write_data_validations")

    def _write_hyperlinks(self):
        self._remembered("_write_hyperlinks")

    def _remembered(self, part: str) -> None:
        """Write ``part`` as remembered (``_SheetCells``), or as XlsxWriter does, noting it if the sheet is to be
        remembered."""
        replay, record = vars(self).get("replay"), vars(self).get("record")
        if replay is not None:
            self.fh.write(replay[0].fill(replay[0].part(self, part), self.late))
            return
        write = getattr(super(), part)
        if record is None:
            write()
            return
        fh, self.fh = self.fh, io.StringIO()
        try:
            write()
            xml = self.fh.getvalue()
        finally:
            self.fh = fh
        fh.write(record.fill(xml, self.late))
        record.keep(self, part, xml)

    def _write_cell(self, row, col, cell):
        """XlsxWriter's cell XML; the usual cells (a format, a number, shared string, blank or formula) written here
        as XlsxWriter writes them, in one step instead of its general attribute writer (half the time of a form).
        A formula's late value (``_Late``) is taken from ``self.late``, or, in a sheet being remembered, left as a
        place to fill in for each workbook (``_SheetCells.fill``)."""
        kind = type(cell)
        if kind is _InlineString:
            style = cell.format._get_xf_index() if cell.format else None
            self.fh.write(_inline_xml(xl_rowcol_to_cell(row, col), cell.string, style))
            return
        name = kind.__name__
        late = cell if kind is _LateValue else cell.value if name == "Formula" else None
        if type(late) in (_Late, _LateValue):
            formula = cell.formula if name == "Formula" else None
            record = vars(self).get("record")
            if record is not None:  # (no row or column formats in a remembered sheet: _NoFormats)
                record.late.append((formula, late.key))
                style = f' s="{cell.format._get_xf_index()}"' if cell.format else ""
                self.fh.write(f'<c r="{xl_rowcol_to_cell_fast(row, col)}"{style}\0{len(record.late) - 1}\0')
                return
            value = self.late[late.key]
            cell = (_Formula(formula, cell.format, value) if formula is not None
                    else _Blank(cell.format) if value is None else _Number(value, cell.format))
            name = type(cell).__name__
        if not cell.format or name not in _USUAL_CELLS or self.constant_memory:
            super()._write_cell(row, col, cell)
            return
        head = f'<c r="{xl_rowcol_to_cell_fast(row, col)}" s="{cell.format._get_xf_index()}"'
        if name == "String" or name == "RichString":
            self.fh.write(f'{head} t="s"><v>{cell.string}</v></c>')
        elif name == "Blank":
            self.fh.write(f"{head}/>")
        elif name == "Formula":
            self.fh.write(head + _formula_tail(cell.formula, cell.value))
        else:
            self.fh.write(f"{head}><v>{cell.number:.16G}</v></c>")


class BulkSheet(_Worksheet):
    """A worksheet whose last rows are many plain values (the summary's data sheet: every figure of every
    province, some 10,000 rows): written as XML in one pass when the workbook closes, with inline strings, instead
    of cell by cell through XlsxWriter's table (which took half the time of a 63-province summary)."""

    _bulk: tuple[int, list, list] | None = None

    def bulk_rows(self, first_row: int, rows: list[list], formats: list) -> int:
        """Rows of numbers, texts and None (a blank cell with its format), from ``first_row`` on; the row after."""
        if self._bulk is not None or (self.dim_rowmax is not None and self.dim_rowmax >= first_row):
            raise ValueError("bulk rows come last, once")
        self._bulk = (first_row, rows, formats)
        if rows:
            self._check_dimensions(first_row + len(rows) - 1, len(formats) - 1)
        return first_row + len(rows)

    def _write_rows(self):
        super()._write_rows()
        if not self._bulk:
            return
        first, rows, formats = self._bulk
        styles = [f._get_xf_index() if f else None for f in formats]
        letters = [xl_col_to_name(c) for c in range(len(formats))]
        out = []
        for r, values in enumerate(rows, start=first + 1):
            cells = []
            for letter, style, v in zip(letters, styles, values, strict=True):
                ref, s = f"{letter}{r}", "" if style is None else f' s="{style}"'
                if v is None or v == "":
                    cells.append(f'<c r="{ref}"{s}/>' if s else "")
                elif isinstance(v, numbers.Real) and not isinstance(v, bool):
                    cells.append(f"<c r=\"{ref}\"{s}><v>{float(v):.16G}</v></c>")
                else:
                    cells.append(_inline_xml(ref, str(v), style))
            out.append(f'<row r="{r}">{"".join(cells)}</row>')
        self.fh.write("".join(out))


class _StringLog:
    """The workbook's shared-string table, noting each string a sheet adds (and the index it gets)."""

    def __init__(self, table):
        self.table, self.added = table, []

    def _get_shared_string_index(self, string: str) -> int:
        index = self.table._get_shared_string_index(string)
        self.added.append((string, index))
        return index


class _NoFormats(pickle.Pickler):
    def reducer_override(self, obj):
        if isinstance(obj, Format):  # a format belongs to its workbook: such a sheet is not remembered
            raise TypeError("format in a sheet's settings")
        return NotImplemented


# settings that are the workbook's, not the sheet's; or what is remembered as XML (cells, rows, validations, links);
# or conditional formats and comments (numbered in the workbook)
_NOT_SETTINGS = {"table", "row_info", "set_rows", "validations", "hyperlinks", "str_table", "fh", "worksheet_meta",
                 "name", "index", "default_url_format", "workbook_add_format", "embedded_images", "formats", "late",
                 "record", "replay", "cond_formats", "comments"}  # (set_rows: row_info before XlsxWriter 3.3)
_REMEMBERED = ("_write_sheet_data", "_write_data_validations", "_write_hyperlinks")  # what reads table, row_info,
# validations, hyperlinks: the parts of the XML remembered instead of those settings
_CONTAINERS = (dict, list, set, defaultdict)  # a setting changed in place
_CELL_HEAD = re.compile(r'<c r="([A-Z]+[0-9]+)"(?: s="([0-9]+)")?( t="s"><v>([0-9]+)</v>)?')


class _SheetCells:
    """What building one sheet did, so that the next province's form gets the same sheet without building it:
    the strings it added to the workbook's shared-string table (in order), the names it defined, its settings
    (column widths, merged ranges, protection, page set-up: pickled) and, once its workbook is written, the XML of
    its cells, validations and links (``_REMEMBERED``), with the formats of its cells in the order the XML first
    uses them.

    Replayed in another workbook, the strings and formats get their indices there exactly as building the sheet
    would have given them (the sheets before it may differ), and the cells' XML is renumbered to match."""

    def __init__(self, strings: list, names: list, settings: bytes, form: Form, key: tuple):
        self.strings, self.names, self.settings = strings, names, settings
        self.form, self.key = weakref.ref(form), key
        self.xml: dict[str, str] = {}
        self.formats: list[tuple[tuple, int]] = []
        self.late: list[tuple[str | None, object]] = []  # (formula, key) of each late value's place in the XML

    def fill(self, xml: str, late: dict) -> str:
        """``xml`` with each late value's place filled in with its cell's XML for the value ``late`` gives."""
        if not self.late:
            return xml
        return _LATE_PLACE.sub(lambda m: _late_tail(self.late[int(m[1])][0], late[self.late[int(m[1])][1]]), xml)

    @classmethod
    def record(cls, ws: Worksheet, before: dict, strings: list, names: list, form: Form, key: tuple):
        changed = {k: v for k, v in vars(ws).items() if k not in _NOT_SETTINGS
                   and (k not in before or v is not before[k][0] or v != before[k][1])}
        if any(k in changed for k in ("cond_formats", "comments")) or any(n[1] != -1 for n in names):
            return None  # never so today; a sheet-scoped name or a comment would need more care
        out = io.BytesIO()
        try:
            _NoFormats(out, pickle.HIGHEST_PROTOCOL).dump(changed)
        except (TypeError, pickle.PicklingError):
            return None
        return cls(strings, [tuple(n) for n in names], out.getvalue(), form, key)

    def replay(self, wb: xlsxwriter.Workbook, ws: Worksheet) -> None:
        table = wb.str_table
        strings = {old: table._get_shared_string_index(s) for s, old in self.strings}
        wb.defined_names.extend(list(n) for n in self.names)
        vars(ws).update(pickle.loads(self.settings))
        ws.replay = (self, strings)

    def part(self, ws: Worksheet, part: str) -> str:
        """``part``'s XML in ``ws``'s workbook, which is being written (formats get their indices now)."""
        if part != "_write_sheet_data":
            return self.xml[part]
        strings = ws.replay[1]
        styles = {old: ws.formats.exact(key)._get_xf_index() for key, old in self.formats}
        if all(a == b for a, b in strings.items()) and all(a == b for a, b in styles.items()):
            return self.xml[part]

        def renumbered(m: re.Match) -> str:
            style = f' s="{styles[int(m[2])]}"' if m[2] else ""
            string = f' t="s"><v>{strings[int(m[4])]}</v>' if m[3] else ""
            return f'<c r="{m[1]}"{style}{string}'
        return _CELL_HEAD.sub(renumbered, self.xml[part])

    def keep(self, ws: Worksheet, part: str, xml: str) -> None:
        """Note ``part`` as the workbook wrote it; with the last, remember the sheet, if every cell's format is
        one of ``_Formats`` and its links are within the workbook."""
        self.xml[part] = xml
        if len(self.xml) < len(_REMEMBERED):
            return
        formats, seen = [], set()
        for row in sorted(ws.table):  # the order of XlsxWriter's _write_rows
            for col in sorted(ws.table[row]):
                f = ws.table[row][col].format
                if f is not None and id(f) not in seen:
                    seen.add(id(f))
                    formats.append(f)
        keys = [ws.formats.key_of.get(id(f)) for f in formats]
        form = self.form()
        if None in keys or form is None or ws.external_hyper_links:  # (row, column formats: refused by _NoFormats)
            return
        self.formats = [(k, f._get_xf_index()) for k, f in zip(keys, formats, strict=True)]
        _SHEETS.put(form, self.key, self)


class _SheetCache:
    """The sheets made lately, for the last eight forms (a form's sheets change with the password, prefilled values,
    statuses). A sheet is worth remembering once asked for a second time: a prefilled one seldom is."""

    def __init__(self, size: int = 48, forms: int = 8):
        self.size, self.forms, self.hits = size, forms, 0
        self._by_form: OrderedDict[Form, tuple[OrderedDict, OrderedDict]] = OrderedDict()  # sheets, asked
        self._lock = threading.Lock()  # (forms written in threads)

    def renew_lock(self):
        self._lock = threading.Lock()

    def _of(self, form: Form) -> tuple[OrderedDict, OrderedDict]:
        if form not in self._by_form:
            self._by_form[form] = OrderedDict(), OrderedDict()
            while len(self._by_form) > self.forms:
                self._by_form.popitem(last=False)
        self._by_form.move_to_end(form)
        return self._by_form[form]

    def get(self, form: Form, key: tuple) -> _SheetCells | None:
        with self._lock:
            sheets = self._of(form)[0]
            made = sheets.get(key)
            if made is not None:
                sheets.move_to_end(key)
                self.hits += 1
            return made

    def asked_before(self, form: Form, key: tuple) -> bool:
        """Whether sheet ``key`` of ``form`` was asked for before (and note that it is now)."""
        with self._lock:
            asked = self._of(form)[1]
            before = key in asked
            asked[key] = None
            asked.move_to_end(key)
            while len(asked) > 4 * self.size:
                asked.popitem(last=False)
            return before

    def put(self, form: Form, key: tuple, made: _SheetCells) -> None:
        with self._lock:
            sheets = self._of(form)[0]
            sheets[key] = made
            while len(sheets) > self.size:
                sheets.popitem(last=False)


_SHEETS = _SheetCache()
# in a forked child, a lock another thread of the parent held at the fork would stay held for ever
os.register_at_fork(after_in_child=lambda: _SHEETS.renew_lock())


class _Workbook(xlsxwriter.Workbook):
    """XlsxWriter's workbook, with the XML of each shared string and defined name remembered (a year's forms
    share most of their strings and all their names): XlsxWriter's own XML, made once."""

    def _get_packager(self):
        return _Packager()

    def _write_defined_name(self, defined_name):
        self.fh.write(_defined_name_xml(*defined_name))


class _Packager(Packager):
    def _write_shared_strings_file(self):  # XlsxWriter's, with _SharedStrings
        if not self.workbook.str_table.count:
            return
        sst = _SharedStrings()
        sst.string_table = self.workbook.str_table
        sst._set_xml_writer(self._filename("xl/sharedStrings.xml"))
        sst._assemble_xml_file()


class _SharedStrings(SharedStrings):
    def _write_si(self, string):
        self.fh.write(_si_xml(string) if len(string) <= 1000 else _made(SharedStrings._write_si, string))


def _made(write: Callable, *args) -> str:
    """The XML that XlsxWriter's ``write`` method makes of ``args``."""
    writer = SharedStrings()  # any of XlsxWriter's XML writers
    writer.fh = io.StringIO()
    write(writer, *args)
    return writer.fh.getvalue()


@lru_cache(maxsize=65_536)
def _si_xml(string: str) -> str:
    return _made(SharedStrings._write_si, string)


@lru_cache(maxsize=65_536)
def _defined_name_xml(*defined_name) -> str:
    return _made(xlsxwriter.Workbook._write_defined_name, list(defined_name))


def xlsx_writer(path: Path, **options) -> xlsxwriter.Workbook:
    """An XlsxWriter workbook written in memory, that never turns a text into a formula, a link or a number."""
    wb = _Workbook(str(path), {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
                                        "strings_to_numbers": False, **options})
    wb.worksheet_class = _Worksheet
    return wb


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
        w = _Writer(wb, form, opts)
        for sheet in form.sheets:
            if sheet.spec.kind == "cover":
                w.sheet(sheet.name, lambda ws, sheet=sheet: w.cover(ws, sheet), key=None)
                w.sheet(INSTRUCTIONS_SHEET, w.instructions)
                w.sheet(DEFINITIONS_SHEET, w.definitions)
            elif sheet.spec.kind == "table":
                w.sheet(sheet.name, lambda ws, sheet=sheet: w.tables(ws, sheet), w.inputs_key(sheet.name, late=True),
                        late=w.late_inputs(sheet))
            else:
                w.sheet(sheet.name, lambda ws, sheet=sheet: w.narrative(ws, sheet), w.inputs_key(sheet.name))
        w.check_colors(w.sheet(CHECK_SHEET, w.check_sheet, late=w.results()))
        w.sheet(LISTS_SHEET, w.lists)
        w.sheet(META_SHEET, w.metadata, key=None)
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
                       jobs: int = 1) -> list[Path]:
    """Write one workbook per province into ``out_dir``; returns the paths in province order. One process by
    default: a form takes some 15-25 ms once its first sheets are remembered, and forking two workers measured no
    faster for 34 or 63 forms on a busy 2-core machine (benchmarks/bench_templates.py); ``jobs`` > 1 shares the work
    among forked processes."""
    if not password.isascii() or not password:
        raise ValueError("mật khẩu bảo vệ phải là chữ ASCII, không dấu (LibreOffice không nhận mật khẩu có dấu)")
    return forked_map(_make, (form, out_dir, password, prefill, dt.datetime.now(dt.UTC)), provinces, progress, jobs)


def forked_map(fn: Callable, job: tuple, items: list, progress: Callable[[Iterable], Iterable], jobs: int) -> list:
    """``fn(job, item)`` over ``items`` in order; with many items in ``jobs`` forked processes, which inherit the
    job (a module global, not pickled: one forked run at a time) and what the first items, made here before
    forking, left remembered (the sheets a form's workbooks share: ``_SheetCache``)."""
    if jobs <= 1 or len(items) < 8:
        return [fn(job, x) for x in progress(items)]
    global _FORKED
    with _FORKING:
        _FORKED = (fn, job)
        ticks, warm = iter(progress(items)), 2  # a sheet is remembered the second time it is made
        made = [fn(job, x) for x, _ in zip(items[:warm], ticks, strict=False)]
        with mp.get_context("fork").Pool(jobs) as pool:
            rest = pool.imap(_forked_call, items[warm:])
            return made + [next(rest) for _ in ticks]


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
