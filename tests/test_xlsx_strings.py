"""Shared strings asked for over several reads of one workbook (metadata, cover, fields: in any order, up to any
index) are read as the full parser reads them, whether the part is plain (its items cut apart by the grammar) or
not (parsed as far as asked, and resumed)."""

from __future__ import annotations

import pytest

from libstats.intake.xlsx import XlsxError, open_xlsx, read_cells

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


def _not_plain(data: bytes) -> bytes:
    """The same workbook with a comment in its shared strings: the full parser reads them, in pieces."""
    import io
    import zipfile
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            part = zin.read(info)
            if info.filename == "xl/sharedStrings.xml":
                part = part.replace(b"<si>", b"<!-- x --><si>", 1)
            zout.writestr(info.filename, part)
    return out.getvalue()


@pytest.mark.parametrize("plain", [True, False])
@pytest.mark.parametrize("order", ["forward", "backward", "last first", "one by one"])
def test_strings_read_in_several_calls_equal_the_full_parser(book, order, plain):
    data = book if plain else _not_plain(book)
    by_sheet = {s: cells for s, cells in _string_cells(data).items() if cells}
    sheets = sorted(by_sheet)
    if order == "backward":
        sheets.reverse()
    calls = [{s: by_sheet[s]} for s in sheets]
    if order == "last first":
        calls = [{sheets[-1]: by_sheet[sheets[-1]]}, {sheets[0]: {min(by_sheet[sheets[0]])}}, by_sheet]
    if order == "one by one":
        calls = [{s: {a}} for s in sheets for a in sorted(by_sheet[s])]
    fast = open_xlsx(data)
    assert sum(len(v) for v in by_sheet.values()) > 50
    expected = read_cells(open_xlsx(data, fast=False), by_sheet)  # the full parser, once
    for call in calls:
        assert read_cells(fast, call) == {k: v for k, v in expected.items() if k[1] in call.get(k[0], ())}
    assert (fast.strings.plain is not None) == plain


@pytest.mark.parametrize("plain", [True, False])
def test_a_string_index_past_the_part_refuses_and_the_strings_before_it_are_still_read(book, plain):
    from tests.xmlcases import build, shared, sheet
    data = build(sheet('<row r="1"><c r="A1" t="s"><v>1</v></c><c r="B1" t="s"><v>7</v></c></row>'),
                 shared("<si><t>a</t></si>", "<si><t>b</t></si>" if plain else "<si><t>b</t><!-- --></si>"))
    wb = open_xlsx(data)
    with pytest.raises(XlsxError, match="chuỗi số 7"):
        read_cells(wb, {"S": {"A1", "B1"}})
    assert read_cells(wb, {"S": {"A1"}})[("S", "A1")].value == "b"
