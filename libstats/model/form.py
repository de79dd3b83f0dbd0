"""Lay a spec out for one report year: every input field with its sheet and cell, every table row.

This is the single description of the workbook that the generator writes, the reader reads, the rules check
and the consolidator tidies, on the grid that ``layout.py`` fixes. Nothing else computes a field's address.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, cached_property

from libstats.model.provinces import code_list_for_year, receiving_unit
from libstats.model.spec import Item, Level, SheetSpec, Spec, default_spec, render
from libstats.model.layout import COVER_FIRST_ROW, NARRATIVE_FIRST_ROW, TABLE_COLUMNS, cell_name, col_name

__all__ = ["Field", "TableRow", "Table", "LaidItem", "LaidSheet", "Form", "build_form", "PROVINCE_FIELD"]

PROVINCE_FIELD = "bia_tinh"


@dataclass(frozen=True)
class Field:
    id: str
    sheet: str
    row: int  # 0-based
    col: int  # 0-based
    kind: str  # "narrative", "field", "province", "number", "explanation"
    label: str
    section: str  # the outline section the value belongs to ("2.2", "I", "bìa"...)
    when_empty: str = "none"
    type: str = "text"
    max_chars: int = 0
    indicator: str | None = None
    dim: str | None = None
    column: str | None = None  # "n" (year N), "p" (year N-1), "gc" (explanation), "pc" (corrected N-1)
    unit: str = ""

    @cached_property
    def cell(self) -> str:
        return cell_name(self.row, self.col)

    @cached_property
    def ref(self) -> str:
        """Absolute reference, as in a defined name: 'Sheet name'!$E$5."""
        return f"'{self.sheet}'!${col_name(self.col)}${self.row + 1}"


@dataclass(frozen=True)
class TableRow:
    id: str  # e.g. "the_cap_moi_tinh"
    table: str
    indicator: str
    dim: str
    label: str
    dim_label: str
    unit: str
    row: int
    n: Field
    p: Field
    gc: Field
    is_total: bool = False
    pc: Field | None = None  # the corrected N-1 figure, typed only to correct last year's (collect.py)


@dataclass(frozen=True)
class Table:
    id: str
    title: str
    section: str
    sheet: str
    title_row: int
    rows: tuple[TableRow, ...]
    warn_if_unchanged: bool = False


@dataclass(frozen=True)
class LaidItem:
    item: Item
    row: int
    text: str
    field: Field | None = None


@dataclass(frozen=True)
class LaidSheet:
    spec: SheetSpec
    name: str
    part: str
    part_title: str
    items: tuple[LaidItem, ...]
    tables: tuple[Table, ...]


@dataclass(frozen=True, eq=False)  # identity hash: one Form per (spec, year), cached
class Form:
    spec: Spec
    year: int
    code_list: str
    receiving_unit: str
    levels: tuple[Level, ...]
    sheets: tuple[LaidSheet, ...]
    fields: dict[str, Field]
    tables: tuple[Table, ...]

    @property
    def title(self) -> str:
        return render(self.spec.title, self.year)

    @property
    def rows(self) -> tuple[TableRow, ...]:
        return tuple(r for t in self.tables for r in t.rows)

    def fields_of(self, kind: str) -> list[Field]:
        return [f for f in self.fields.values() if f.kind == kind]


def _section_of(sheet: SheetSpec) -> str:
    return sheet.name.split(" ", 1)[0].rstrip(".")


def _lay_cover(spec: Spec, sheet: SheetSpec, year: int) -> tuple[list[LaidItem], list[Field]]:
    laid, fields = [], []
    province = Field(PROVINCE_FIELD, sheet.name, COVER_FIRST_ROW - 1, 1, "province", "Tỉnh, thành phố", "bìa",
                     when_empty="error", type="province")
    fields.append(province)
    for i, item in enumerate(sheet.items):
        row = COVER_FIRST_ROW + i
        f = Field(item.id, sheet.name, row, 1, "field", render(item.text, year), "bìa",
                  when_empty=spec.when_empty["field"], type=item.type, max_chars=500)
        fields.append(f)
        laid.append(LaidItem(item, row, f.label, f))
    return laid, fields


def _lay_narrative(spec: Spec, sheet: SheetSpec, year: int) -> tuple[list[LaidItem], list[Field]]:
    laid, fields = [], []
    row = NARRATIVE_FIRST_ROW
    for item in (it for it in sheet.items if it.exists_in(year)):
        text = render(item.text_for(year), year)
        f = None
        if item.kind == "narrative":
            f = Field(item.id, sheet.name, row, 1, "narrative", text, _section_of(sheet),
                      when_empty=spec.when_empty["narrative"], max_chars=spec.narrative_max_chars)
            fields.append(f)
        laid.append(LaidItem(item, row, text, f))
        row += 2 if item.kind == "signature" else 1
    return laid, fields


def _table_rows(spec: Spec, item: Item, levels: tuple[Level, ...]):
    for rs in item.rows:
        ind = spec.indicators[rs.indicator]
        dims = [*(lv.id for lv in levels), spec.total.id] if rs.by == "level" else [rs.dim]
        for dim in dims:
            yield rs, ind, dim


def _lay_tables(spec: Spec, sheet: SheetSpec, year: int, levels) -> tuple[list[LaidItem], list[Field], list[Table]]:
    laid, fields, tables = [], [], []
    c = TABLE_COLUMNS
    row = NARRATIVE_FIRST_ROW
    for item in (it for it in sheet.items if it.exists_in(year)):
        title = render(item.text_for(year), year)
        title_row = row
        laid.append(LaidItem(item, row, title))
        row += 2  # title, header
        rows = []
        for rs, ind, dim in _table_rows(spec, item, levels):
            rid = f"{ind.id}_{dim}"
            label = render(rs.label or ind.label, year)
            full = f"{label} ({spec.dim_label(dim)})"
            unit = rs.unit or ind.unit
            common = dict(sheet=sheet.name, row=row, section=item.section or _section_of(sheet), indicator=ind.id,
                          dim=dim, unit=unit)
            n = Field(f"{rid}_n", col=c["n"], kind="number", column="n", label=f"{full} — năm {year}",
                      when_empty=spec.when_empty["year"], type=ind.type, **common)  # type: the number rule
            p = Field(f"{rid}_p", col=c["p"], kind="number", column="p", label=f"{full} — năm {year - 1}",
                      when_empty=spec.when_empty["previous_year"], type=ind.type, **common)
            gc = Field(f"{rid}_gc", col=c["gc"], kind="explanation", column="gc", label=f"{full} — giải thích",
                       max_chars=1000, **common)
            pc = Field(f"{rid}_pc", col=c["pc"], kind="number", column="pc",
                       label=f"{full} — số đúng năm {year - 1} (đính chính)", type=ind.type, **common)
            fields += [n, p, gc, pc]
            rows.append(TableRow(rid, item.id, ind.id, dim, label, spec.dim_label(dim), unit, row, n, p, gc,
                                 is_total=dim == spec.total.id, pc=pc))
            row += 1
        tables.append(Table(item.id, title, item.section, sheet.name, title_row, tuple(rows), item.warn_if_unchanged))
        row += 1
    return laid, fields, tables


@cache
def _build(spec: Spec, year: int) -> Form:
    levels = tuple(lv for lv in spec.levels if lv.exists_in(year))
    sheets, fields, tables = [], {}, []
    for sh in spec.sheets:
        sheet_tables: list[Table] = []
        if sh.kind == "cover":
            laid, fs = _lay_cover(spec, sh, year)
        elif sh.kind == "table":
            laid, fs, sheet_tables = _lay_tables(spec, sh, year, levels)
        else:
            laid, fs = _lay_narrative(spec, sh, year)
        for f in fs:
            if f.id in fields:
                raise ValueError(f"field id {f.id!r} is laid out twice (sheet {sh.name!r})")
            fields[f.id] = f
        tables += sheet_tables
        sheets.append(LaidSheet(sh, sh.name, render(sh.part, year), render(sh.part_title, year), tuple(laid),
                                tuple(sheet_tables)))
    return Form(spec, year, code_list_for_year(year), receiving_unit(year), levels, tuple(sheets), fields,
                tuple(tables))


def build_form(year: int, spec: Spec | None = None) -> Form:
    """The workbook layout of ``spec`` (default: the shipped spec) for report year ``year``."""
    if not 2000 <= year <= 2100:
        raise ValueError(f"năm báo cáo {year} không hợp lệ")
    return _build(spec or default_spec(), year)
