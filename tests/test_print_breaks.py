"""Issue 10: a table's title and header are never left at the foot of a printed page away from its rows."""

from __future__ import annotations

import openpyxl

from libstats.model.form import build_form
from libstats.forms.template import (KEEP_ROWS, PART_TITLE_HEIGHT, ROW_HEIGHT, TABLE_HEAD_HEIGHT, TemplateOptions,
                               table_page_breaks, write_template)

WIDTHS = (5, 44, 22, 11, 15, 15, 14, 10, 42, 17)  # the table sheets' columns


def _breaks(*tables: tuple[int, int]) -> list[int]:
    heights = {1: PART_TITLE_HEIGHT, **{title + 1: TABLE_HEAD_HEIGHT for title, _ in tables}}
    return table_page_breaks(list(tables), heights, WIDTHS)


def _second_table_after(rows: int, second_rows: int = 10) -> tuple[tuple[int, int], tuple[int, int]]:
    """A first table of ``rows`` rows at row 4 (title), a blank row, then a second table."""
    first = (4, 5 + rows)
    title = first[1] + 2
    return first, (title, title + 1 + second_rows)


def test_a_table_that_would_start_at_the_foot_of_a_page_starts_the_next_page():
    # A4 landscape fit to the columns' width holds about 41 rows of 15 points under the repeated part title.
    first, second = _second_table_after(33)  # ends ~600 points down: no room for a title, header and 5 rows
    assert _breaks(first, second) == [second[0]]
    first, second = _second_table_after(18)  # ends ~375 points down: the second table starts on the same page
    assert _breaks(first, second) == []


def test_every_table_start_keeps_its_title_header_and_first_rows_on_one_page():
    """Whatever the length of the table above, the second table's title, header and first rows share a page
    (checked by laying the rows out page by page again here, from the breaks given)."""
    for rows in range(1, 130):
        first, second = _second_table_after(rows, second_rows=3)
        breaks = _breaks(first, second)
        assert set(breaks) <= {second[0]}
        page_of = _pages(max(second[1], first[1]) + 1, breaks, {1: PART_TITLE_HEIGHT, first[0] + 1: 45,
                                                                  second[0] + 1: 45})
        keep = range(second[0], min(second[1], second[0] + 1 + KEEP_ROWS) + 1)
        assert len({page_of[r] for r in keep}) == 1, rows


def _pages(end: int, breaks: list[int], heights: dict[int, float]) -> dict[int, int]:
    """Each row's page, as a program fills pages of the smallest height libstats assumes (Excel's)."""
    from libstats.forms.template import A4_LANDSCAPE, MARGINS
    scale = min(1.0, (A4_LANDSCAPE[0] - 72 * (MARGINS["left"] + MARGINS["right"])) / sum(
        (w * 7 + 5) * 0.75 for w in WIDTHS))
    capacity = 0.95 * (A4_LANDSCAPE[1] - 72 * (MARGINS["top"] + MARGINS["bottom"])) / scale - (
        ROW_HEIGHT + PART_TITLE_HEIGHT)
    page, used, out = 0, 0.0, {}
    for row in range(2, end):
        h = heights.get(row, ROW_HEIGHT)
        if row in breaks or used + h > capacity:
            page, used = page + 1, 0.0
        used += h
        out[row] = page
    return out


def test_the_first_table_and_short_sheets_get_no_break():
    assert _breaks((4, 60)) == []  # a long first table: nothing above it to leave behind
    assert _breaks((4, 10), (12, 20)) == []


def test_the_form_writes_the_breaks_it_computes(tmp_path, monkeypatch):
    """The table sheets carry the computed breaks (a break "after row N", 1-based, is before row N, 0-based);
    then, with every table but the first said to need a new page, those breaks are written."""
    import libstats.forms.template as template

    for year in (2024, 2025):
        form = build_form(year)
        wb = openpyxl.load_workbook(write_template(form, tmp_path / f"{year}.xlsx", TemplateOptions()))
        for sheet in form.sheets:
            if sheet.tables:
                expected = _breaks(*[(t.title_row, t.rows[-1].row) for t in sheet.tables])
                assert [b.id for b in wb[sheet.name].row_breaks.brk] == expected
    monkeypatch.setattr(template, "table_page_breaks", lambda tables, *_: [title for title, _ in tables[1:]])
    monkeypatch.setattr(template, "_SHEETS", template._SheetCache())  # not the sheets made before the patch
    form = build_form(2025)
    wb = openpyxl.load_workbook(write_template(form, tmp_path / "forced.xlsx", TemplateOptions()))
    for sheet in form.sheets:
        if sheet.tables:
            assert [b.id for b in wb[sheet.name].row_breaks.brk] == [t.title_row for t in sheet.tables[1:]]
