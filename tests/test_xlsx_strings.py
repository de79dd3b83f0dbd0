"""Shared strings asked for over several reads of one workbook (metadata, cover, fields: in any order, up to any
index) are read as the full parser reads them, and the part is cut apart only up to the last string asked for."""

from __future__ import annotations

import pytest

from libstats.intake.xlsx import XlsxError, _shared_strings, open_xlsx, read_cells

from . import corpus as c


@pytest.fixture(scope="module")
def book(tmp_path_factory) -> bytes:
    return c.filled(tmp_path_factory.mktemp("strings") / "ok.xlsx").read_bytes()


def _string_cells(data: bytes) -> dict[str, set[str]]:
    """Every cell of the workbook that holds a shared string, by sheet (read with the full parser)."""
    wb = open_xlsx(data, fast=False)
    wanted = {s.name: {f"{col}{row}" for col in "ABCDEFGH" for row in range(1, 80)} for s in wb.sheets}
    return {sheet: {a for (s, a), cell in read_cells(wb, wanted).items() if s == sheet and isinstance(cell.value, str)}
            for sheet in wanted}


@pytest.mark.parametrize("order", ["forward", "backward", "last first", "one by one"])
def test_strings_read_in_several_calls_equal_the_full_parser(book, order):
    by_sheet = {s: cells for s, cells in _string_cells(book).items() if cells}
    sheets = sorted(by_sheet)
    if order == "backward":
        sheets.reverse()
    calls = [{s: by_sheet[s]} for s in sheets]
    if order == "last first":
        calls = [{sheets[-1]: by_sheet[sheets[-1]]}, {sheets[0]: {min(by_sheet[sheets[0]])}}, by_sheet]
    if order == "one by one":
        calls = [{s: {a}} for s in sheets for a in sorted(by_sheet[s])]
    fast, full = open_xlsx(book), open_xlsx(book, fast=False)
    assert sum(len(v) for v in by_sheet.values()) > 50
    expected = read_cells(full, by_sheet)  # the full parser, once
    for call in calls:
        assert read_cells(fast, call) == {k: v for k, v in expected.items() if k[1] in call.get(k[0], ())}
    assert fast.strings == full.strings and len(fast.strings) > 50
    part, plain, items, cut = fast.sst
    assert plain and cut == max(fast.strings) + 1  # cut no further than the last string asked for
    assert len(items) == cut or len(items) == part.count(b"<si>")


def test_a_string_index_past_the_part_refuses_and_the_strings_before_it_are_still_read(book):
    wb, full = open_xlsx(book), open_xlsx(book, fast=False)
    with pytest.raises(XlsxError, match="chuỗi số 1000000"):
        _shared_strings(wb, {10**6, 0})
    part, _, items, cut = wb.sst
    assert len(items) == part.count(b"<si>") < cut  # cut to the end of the part, once
    by_sheet = {s: cells for s, cells in _string_cells(book).items() if cells}
    assert read_cells(wb, by_sheet) == read_cells(full, by_sheet)
    assert wb.sst[2] is items  # never cut again
